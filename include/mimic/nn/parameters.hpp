#pragma once
// All parameters of a model in one contiguous buffer, their gradients in another. Modules declare
// named parameters first, then allocate() lays them out; optimizers, clipping, EMA and
// checkpoints are single passes over the flat buffers.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "mimic/autograd/tape.hpp"
#include "mimic/core/error.hpp"
#include "mimic/core/host_memory.hpp"
#include "mimic/core/philox.hpp"
#include "mimic/core/tensor.hpp"

namespace mimic::nn {

// How a parameter starts out. kUniform draws from U(-a, a) (PyTorch's default for Linear and
// Conv layers is a = 1/sqrt(fan_in)); kNormal draws from N(0, a^2); kConstant fills with a.
struct Init {
  enum Kind { kConstant, kUniform, kNormal } kind = kConstant;
  double a = 0.0;
  static Init zeros() { return {kConstant, 0.0}; }
  static Init ones() { return {kConstant, 1.0}; }
  static Init uniform(double bound) { return {kUniform, bound}; }
  static Init normal(double std) { return {kNormal, std}; }
};

// Index of a parameter in its store.
struct ParamId {
  int32_t index = -1;
  bool defined() const { return index >= 0; }
};

template <class T, class D = Cpu>
class ParamStore {
 public:
  struct Entry {
    std::string name;  // PyTorch state-dict style, e.g. "down_modules.0.0.blocks.0.block.0.weight"
    Shape shape;
    int64_t offset = 0;  // in elements, 16-element aligned so every parameter starts on 64 bytes
    bool trainable = true;
    Init init;
  };

  ParamId declare(const std::string& name, const Shape& shape, Init init = {},
                  bool trainable = true) {
    if (allocated()) throw ValueError("ParamStore: cannot declare '" + name + "' after allocate()");
    if (index_.count(name)) throw ValueError("ParamStore: parameter '" + name + "' declared twice");
    Entry e{name, shape, total_, trainable, init};
    total_ += (shape.numel() + 15) / 16 * 16;
    index_[name] = static_cast<int32_t>(entries_.size());
    entries_.push_back(e);
    return ParamId{static_cast<int32_t>(entries_.size() - 1)};
  }
  // Lays out every declared parameter; values and gradients start at zero. On the CPU a network
  // whose training state (values, gradients and Adam's two moments) exceeds physical memory is
  // refused here, by its size, rather than killed by the OOM killer while it is initialized.
  void allocate() {
    if (allocated()) throw ValueError("ParamStore: allocate() called twice");
    if constexpr (is_cpu_v<D>) {
      const double training_bytes = 4.0 * double(total_) * sizeof(T);
      const uint64_t physical = physical_memory_bytes();
      if (physical > 0 && training_bytes > double(physical))
        throw ValueError("the network has " + std::to_string(total_) + " parameters, " +
                         gibibytes(training_bytes) +
                         " with gradients and optimizer state, more than this machine's " +
                         gibibytes(double(physical)) + " of memory");
    }
    values_ = Tensor<T, D>::zeros(Shape{total_});
    grads_ = Tensor<T, D>::zeros(Shape{total_});
  }
  bool allocated() const { return values_.defined(); }
  bool has_grads() const { return grads_.defined(); }
  // A store with the same layout whose values are `values` (a flat buffer laid out like this
  // store, for example EMA weights), shared rather than copied, and without gradients: for
  // running the same modules on other weights.
  ParamStore view_with_values(const Tensor<T, D>& values) const {
    if (!allocated() || values.numel() != values_.numel())
      throw ShapeError("ParamStore::view_with_values: a buffer of " +
                       std::to_string(values.numel()) + " values for a store of " +
                       std::to_string(total_));
    ParamStore v;
    v.entries_ = entries_;
    v.index_ = index_;
    v.total_ = total_;
    v.values_ = values;
    return v;
  }

  // Draws every parameter from its Init. Element j of a parameter at flat offset o uses Philox
  // element o + j of `seed`'s stream, so the result depends only on the seed and the layout.
  void initialize(uint64_t seed) const {
    if (!allocated()) throw ValueError("ParamStore: initialize() before allocate()");
    std::vector<T> host(static_cast<size_t>(values_.numel()), T(0));
    for (const Entry& e : entries_) {
      for (int64_t j = 0; j < e.shape.numel(); ++j) {
        const uint64_t i = static_cast<uint64_t>(e.offset + j);
        T v = T(e.init.a);
        if (e.init.kind == Init::kUniform)
          v = T((2.0 * philox_uniform<double>(seed, i) - 1.0) * e.init.a);
        else if (e.init.kind == Init::kNormal)
          v = T(philox_normal<double>(seed, i) * e.init.a);
        host[static_cast<size_t>(e.offset + j)] = v;
      }
    }
    Kernels<D>::from_host(values_.data(), host.data(), values_.bytes());
  }

  Tensor<T, D> value(ParamId id) const { return view(values_, id); }
  Tensor<T, D> grad(ParamId id) const { return view(grads_, id); }
  // The parameter as a tape leaf whose gradient accumulates into the flat gradient buffer (a
  // constant in a store without gradients).
  Var<T, D> on(Tape<T, D>& tape, ParamId id) const {
    const Entry& e = entries_.at(id.index);
    return e.trainable && has_grads() ? tape.parameter(value(id), grad(id))
                                      : tape.constant(value(id));
  }

  const std::vector<Entry>& entries() const { return entries_; }
  ParamId find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? ParamId{} : ParamId{it->second};
  }
  // Flat buffers (padding between parameters stays zero).
  const Tensor<T, D>& values() const { return values_; }
  const Tensor<T, D>& grads() const { return grads_; }
  void zero_grad() const { grads_.zero(); }
  // Number of parameter elements, padding excluded.
  int64_t count() const {
    int64_t n = 0;
    for (const Entry& e : entries_) n += e.shape.numel();
    return n;
  }

 private:
  Tensor<T, D> view(const Tensor<T, D>& flat, ParamId id) const {
    if (!allocated()) throw ValueError("ParamStore: allocate() has not been called");
    const Entry& e = entries_.at(id.index);
    return Tensor<T, D>::view(flat.data() + e.offset, e.shape);
  }

  std::vector<Entry> entries_;
  std::unordered_map<std::string, int32_t> index_;
  int64_t total_ = 0;
  Tensor<T, D> values_, grads_;
};

}  // namespace mimic::nn
