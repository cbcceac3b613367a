#pragma once
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <type_traits>
#include <vector>

#include "mimic/backend/kernels.hpp"
#include "mimic/core/arena.hpp"
#include "mimic/core/buffer_pool.hpp"
#include "mimic/core/error.hpp"
#include "mimic/core/hd.hpp"
#include "mimic/core/tensor.hpp"

namespace mimic {

template <class T, class D>
class Tape;

namespace detail {
// x + 1: seeds an accumulating loss gradient (a namespace-scope functor so CUDA can launch it).
struct AddOne {
  template <class T>
  MIMIC_HD T operator()(T x) const {
    return x + T(1);
  }
};
}  // namespace detail

// A handle to a value recorded on a tape: the tape and the index of its slot. Cheap to copy.
template <class T, class D = Cpu>
struct Var {
  Tape<T, D>* tape = nullptr;
  int32_t id = -1;

  bool defined() const { return tape != nullptr && id >= 0; }
  Tensor<T, D> value() const { return tape->value(*this); }
  // The gradient after backward(); undefined if none reached this value.
  Tensor<T, D> grad() const { return tape->grad(*this); }
  Shape shape() const { return tape->shape(*this); }  // by value: slots may move
  int rank() const { return shape().rank; }
  int64_t dim(int i) const { return shape().dim(i); }
  int64_t numel() const { return shape().numel(); }
  bool requires_grad() const { return tape->requires_grad(*this); }
};

// One recorded operation: which slots it read and wrote, the tensors it saved for backward, and
// up to 96 bytes of plain-old-data attributes (strides, eps, seeds, ...). The backward function is
// a plain function pointer, so recording a node allocates nothing.
template <class T, class D>
struct Node {
  using BackwardFn = void (*)(Tape<T, D>&, const Node&);
  BackwardFn backward = nullptr;
  const char* name = "";
  int32_t out = -1;
  int32_t inputs_begin = 0, n_inputs = 0;
  int32_t saved_begin = 0, n_saved = 0;
  alignas(16) unsigned char payload[96];

  template <class P>
  void put(const P& p) {
    static_assert(std::is_trivially_copyable_v<P> && sizeof(P) <= sizeof(payload),
                  "node attributes must be trivially copyable and at most 96 bytes");
    std::memcpy(payload, &p, sizeof(P));
  }
  template <class P>
  P get() const {
    P p;
    std::memcpy(&p, payload, sizeof(P));
    return p;
  }
};

// Where a backward function writes an input's gradient. When `accumulate` is false the tensor is
// fresh memory (garbage) and must be overwritten; otherwise the new gradient is added to it.
template <class T, class D>
struct GradTarget {
  Tensor<T, D> tensor;
  bool accumulate = false;
  explicit operator bool() const { return tensor.defined(); }
};

// The tape: a flat Wengert list of nodes in execution order plus the slots (values and gradients)
// they refer to. All intermediate memory comes from the tape's arena; reset() rewinds it, keeping
// the memory and the vectors' capacity, so a repeated step allocates nothing after the first.
template <class T, class D = Cpu>
class Tape {
 public:
  using VarT = Var<T, D>;
  using TensorT = Tensor<T, D>;
  using NodeT = Node<T, D>;

  explicit Tape(size_t arena_block_bytes = size_t(1) << 20)
      : arena_(arena_block_bytes), scratch_(arena_block_bytes) {}
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // --- making values -------------------------------------------------------------------------
  // A value that needs no gradient (inputs, targets).
  VarT constant(const TensorT& value) { return add_slot(value, TensorT(), false, false); }
  // A leaf whose gradient is wanted; the gradient is allocated from the arena when first reached.
  VarT leaf(const TensorT& value) { return add_slot(value, TensorT(), true, false); }
  // A parameter: its gradient is accumulated into `grad`, memory owned by the caller (the model's
  // flat gradient buffer). Gradients add up across backward calls until the caller zeroes them.
  VarT parameter(const TensorT& value, const TensorT& grad) {
    if (grad.defined() && grad.shape() != value.shape())
      throw ShapeError("Tape::parameter: gradient shape " + grad.shape().str() +
                       " does not match value shape " + value.shape().str());
    return add_slot(value, grad, grad.defined(), true);
  }
  // Uninitialized memory from the arena, valid until reset().
  TensorT alloc(const Shape& shape) {
    return TensorT::view(arena_.template allocate_array<T>(shape.numel()), shape);
  }
  TensorT zeros(const Shape& shape) {
    TensorT t = alloc(shape);
    t.zero();
    return t;
  }
  template <class U>
  Tensor<U, D> alloc_as(const Shape& shape) {
    return Tensor<U, D>::view(arena_.template allocate_array<U>(shape.numel()), shape);
  }
  // Temporary memory for the op (forward or backward) running now: a separate arena rewound when
  // the enclosing ScratchScope ends (every backward function runs inside one), so buffers such
  // as im2col matrices are reused from op to op instead of piling up until reset().
  TensorT scratch(const Shape& shape) {
    return TensorT::view(scratch_.template allocate_array<T>(shape.numel()), shape);
  }
  class ScratchScope {
   public:
    explicit ScratchScope(Tape& t) : tape_(t), mark_(t.scratch_.mark()) {}
    ~ScratchScope() { tape_.scratch_.rewind(mark_); }
    ScratchScope(const ScratchScope&) = delete;
    ScratchScope& operator=(const ScratchScope&) = delete;

   private:
    Tape& tape_;
    typename Arena<D>::Mark mark_;
  };
  [[nodiscard]] ScratchScope scratch_scope() { return ScratchScope(*this); }

  // --- recording (used by ops) ---------------------------------------------------------------
  bool recording() const { return recording_; }
  // True when an op with these inputs must record a node.
  bool needs_grad(std::initializer_list<VarT> inputs) const {
    if (!recording_) return false;
    for (const VarT& v : inputs)
      if (slots_[v.id].requires_grad) return true;
    return false;
  }
  template <class Range>
  bool needs_grad_range(const Range& inputs) const {
    if (!recording_) return false;
    for (const VarT& v : inputs)
      if (slots_[v.id].requires_grad) return true;
    return false;
  }
  // Wraps an op's result. It requires grad when `requires_grad` (normally needs_grad(inputs)).
  VarT output(const TensorT& value, bool requires_grad) {
    return add_slot(value, TensorT(), requires_grad, false);
  }
  // Records a node for `out`; returns it so the op can store attributes.
  template <class InputRange, class SavedRange>
  NodeT& record(const char* name, typename NodeT::BackwardFn fn, VarT out, const InputRange& inputs,
                const SavedRange& saved) {
    NodeT n;
    n.backward = fn;
    n.name = name;
    n.out = out.id;
    n.inputs_begin = static_cast<int32_t>(links_.size());
    for (const VarT& v : inputs) links_.push_back(v.id);
    n.n_inputs = static_cast<int32_t>(links_.size()) - n.inputs_begin;
    n.saved_begin = static_cast<int32_t>(links_.size());
    for (const TensorT& t : saved) links_.push_back(add_slot(t, TensorT(), false, false).id);
    n.n_saved = static_cast<int32_t>(links_.size()) - n.saved_begin;
    nodes_.push_back(n);
    return nodes_.back();
  }
  NodeT& record(const char* name, typename NodeT::BackwardFn fn, VarT out,
                std::initializer_list<VarT> inputs, std::initializer_list<TensorT> saved = {}) {
    return record<std::initializer_list<VarT>, std::initializer_list<TensorT>>(name, fn, out,
                                                                               inputs, saved);
  }

  // --- used by backward functions ------------------------------------------------------------
  VarT input(const NodeT& n, int i) { return VarT{this, links_[n.inputs_begin + i]}; }
  const TensorT& saved(const NodeT& n, int i) const {
    return slots_[links_[n.saved_begin + i]].value;
  }
  const TensorT& out_value(const NodeT& n) const { return slots_[n.out].value; }
  const TensorT& out_grad(const NodeT& n) const { return slots_[n.out].grad; }
  // The gradient buffer of input i, or an undefined target if that input needs no gradient.
  GradTarget<T, D> grad_target(const NodeT& n, int i) {
    return grad_target(links_[n.inputs_begin + i]);
  }
  GradTarget<T, D> grad_target(int32_t id) {
    Slot& s = slots_[id];
    if (!s.requires_grad) return {};
    if (!s.grad.defined()) {
      // Pooled, so that it can be handed on once the node producing this value has run.
      s.grad =
          TensorT::view(static_cast<T*>(grad_pool_.acquire(size_t(s.value.numel()) * sizeof(T))),
                        s.value.shape());
      s.pooled_grad = true;
      s.has_grad = true;
      return {s.grad, false};
    }
    bool acc = s.has_grad || s.external_grad;
    s.has_grad = true;
    return {s.grad, acc};
  }

  // --- backward ------------------------------------------------------------------------------
  // Back-propagates from a scalar (numel 1) through every recorded node, newest first.
  void backward(VarT loss) {
    const Slot& s = slots_.at(loss.id);
    if (s.value.numel() != 1)
      throw ShapeError("backward: the loss must hold one element, got shape " +
                       s.value.shape().str());
    if (!s.requires_grad) throw ValueError("backward: the loss does not depend on any parameter");
    GradTarget<T, D> g = grad_target(loss.id);
    if (g.accumulate) {
      Kernels<D>::map(1, detail::AddOne{}, g.tensor.data(), g.tensor.data());
    } else {
      g.tensor.fill(T(1));
    }
    // Only nodes at or before the loss can contribute.
    for (int64_t i = static_cast<int64_t>(nodes_.size()) - 1; i >= 0; --i) {
      const NodeT& n = nodes_[i];
      if (n.out > loss.id) continue;
      const Slot& o = slots_[n.out];
      if (!o.has_grad) continue;  // nothing flowed into this node's output
      {
        ScratchScope scope(*this);
        n.backward(*this, n);
      }
      // Every consumer of n's output ran before n: its gradient is dead, so its buffer can serve
      // a later (older) node. Leaves and parameters are never node outputs and keep theirs.
      Slot& done = slots_[n.out];
      if (done.pooled_grad && n.out != loss.id) {
        grad_pool_.release(done.grad.data(), size_t(done.grad.numel()) * sizeof(T));
        done.grad = TensorT();
        done.pooled_grad = false;
      }
    }
  }

  // --- inspection ----------------------------------------------------------------------------
  TensorT value(VarT v) const { return slots_.at(v.id).value; }
  // The gradient of a leaf or parameter after backward(). Gradients of op outputs are handed back
  // to the pool as backward passes their producers, so they read as undefined afterwards.
  TensorT grad(VarT v) const {
    const Slot& s = slots_.at(v.id);
    return s.has_grad || s.external_grad ? s.grad : TensorT();
  }
  Shape shape(VarT v) const { return slots_.at(v.id).value.shape(); }
  bool requires_grad(VarT v) const { return slots_.at(v.id).requires_grad; }
  size_t num_nodes() const { return nodes_.size(); }
  const NodeT& node(size_t i) const { return nodes_[i]; }
  Arena<D>& arena() { return arena_; }

  // Forgets every value and node; keeps memory for the next step.
  void reset() {
    nodes_.clear();
    slots_.clear();
    links_.clear();
    arena_.reset();
    scratch_.reset();
    grad_pool_.reset();
  }

  // Turns recording off for its lifetime (inference, EMA updates, metrics).
  class NoGradGuard {
   public:
    explicit NoGradGuard(Tape& t) : tape_(t), prev_(t.recording_) { t.recording_ = false; }
    ~NoGradGuard() { tape_.recording_ = prev_; }
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

   private:
    Tape& tape_;
    bool prev_;
  };
  [[nodiscard]] NoGradGuard no_grad() { return NoGradGuard(*this); }

 private:
  struct Slot {
    TensorT value;
    TensorT grad;
    bool requires_grad = false;
    bool has_grad = false;       // a gradient has been written into `grad` during this backward
    bool external_grad = false;  // `grad` is caller memory that accumulates
    bool pooled_grad = false;    // `grad` comes from grad_pool_
  };
  VarT add_slot(const TensorT& value, const TensorT& grad, bool requires_grad, bool external) {
    Slot s;
    s.value = value;
    s.grad = grad;
    s.requires_grad = requires_grad;
    s.external_grad = external;
    slots_.push_back(s);
    return VarT{this, static_cast<int32_t>(slots_.size() - 1)};
  }

  Arena<D> arena_, scratch_;
  BufferPool<D> grad_pool_;
  std::vector<NodeT> nodes_;
  std::vector<Slot> slots_;
  std::vector<int32_t> links_;  // inputs and saved slots of all nodes, back to back
  bool recording_ = true;
};

}  // namespace mimic
