#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "mimic/core/device.hpp"
#include "mimic/core/device_memory.hpp"
#include "mimic/core/error.hpp"
#include "mimic/core/shape.hpp"

namespace mimic {

// A dense row-major tensor of rank 0..6 on a device. A Tensor is a pointer plus a shape; it owns
// its memory only when made by empty/zeros/full/from_vector (shared ownership, so copies are
// cheap and views keep the buffer alive). Views (reshape, slice along dim 0, select) never copy.
// Tensors handed out by a Tape's arena own nothing and live until the tape is reset.
template <class T, class D = Cpu>
class Tensor {
 public:
  using value_type = T;
  using device_type = D;

  Tensor() = default;

  static Tensor empty(const Shape& shape) {
    Tensor t;
    t.shape_ = shape;
    size_t bytes = static_cast<size_t>(shape.numel()) * sizeof(T);
    void* raw = DeviceMemory<D>::allocate(bytes);
    t.owner_ = std::shared_ptr<void>(raw, [](void* p) { DeviceMemory<D>::deallocate(p); });
    t.data_ = static_cast<T*>(raw);
    return t;
  }
  static Tensor zeros(const Shape& shape) {
    Tensor t = empty(shape);
    DeviceMemory<D>::zero_bytes(t.data_, t.bytes());
    return t;
  }
  static Tensor full(const Shape& shape, T value) {
    Tensor t = empty(shape);
    t.fill(value);
    return t;
  }
  // Copies host values into a new tensor; the count must match the shape.
  static Tensor from_vector(const Shape& shape, const std::vector<T>& values) {
    if (static_cast<int64_t>(values.size()) != shape.numel())
      throw ShapeError("Tensor::from_vector: " + std::to_string(values.size()) +
                       " values do not fill shape " + shape.str());
    Tensor t = empty(shape);
    DeviceMemory<D>::from_host(t.data_, values.data(), t.bytes());
    return t;
  }
  static Tensor from_list(const Shape& shape, std::initializer_list<T> values) {
    return from_vector(shape, std::vector<T>(values));
  }
  // A non-owning view of memory that outlives it.
  static Tensor view(T* data, const Shape& shape) {
    Tensor t;
    t.data_ = data;
    t.shape_ = shape;
    return t;
  }

  bool defined() const { return data_ != nullptr; }
  T* data() const { return data_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank; }
  int64_t numel() const { return shape_.numel(); }
  int64_t dim(int i) const { return shape_.dim(i); }
  size_t bytes() const { return static_cast<size_t>(numel()) * sizeof(T); }

  // Same memory, new shape; one dimension may be -1 and is inferred.
  Tensor reshape(std::initializer_list<int64_t> dims) const {
    return reshape(infer_shape(dims.begin(), dims.end()));
  }
  Tensor reshape(const Shape& shape) const {
    if (shape.numel() != numel())
      throw ShapeError("reshape: cannot view shape " + shape_.str() + " as " + shape.str());
    Tensor t = *this;
    t.shape_ = shape;
    return t;
  }
  // Rows [begin, end) along dimension 0, as a view.
  Tensor slice(int64_t begin, int64_t end) const {
    if (shape_.rank == 0 || begin < 0 || end > shape_[0] || begin > end)
      throw ShapeError("slice: range [" + std::to_string(begin) + ", " + std::to_string(end) +
                       ") is out of bounds for shape " + shape_.str());
    Tensor t = *this;
    t.shape_.dims[0] = end - begin;
    t.data_ = data_ + begin * shape_.prod(1, shape_.rank);
    return t;
  }
  // Index i along dimension 0, dropping that dimension, as a view.
  Tensor select(int64_t i) const {
    Tensor t = slice(i, i + 1);
    Shape s;
    for (int k = 1; k < shape_.rank; ++k) s.push_back(shape_[k]);
    t.shape_ = s;
    return t;
  }

  void fill(T value) const { DeviceMemory<D>::fill(data_, numel(), value); }
  void zero() const { DeviceMemory<D>::zero_bytes(data_, bytes()); }
  void copy_from(const Tensor& src) const {
    if (src.numel() != numel())
      throw ShapeError("copy_from: source shape " + src.shape().str() +
                       " does not match destination " + shape_.str());
    DeviceMemory<D>::copy_bytes(data_, src.data_, bytes());
  }
  Tensor clone() const {
    Tensor t = empty(shape_);
    t.copy_from(*this);
    return t;
  }
  // Values copied to the host, in row-major order.
  std::vector<T> to_vector() const {
    std::vector<T> out(static_cast<size_t>(numel()));
    DeviceMemory<D>::to_host(out.data(), data_, bytes());
    return out;
  }

  // Element access on the host (CPU tensors only).
  template <class... I>
  T& at(I... idx) const {
    static_assert(is_cpu_v<D>, "Tensor::at is only available for CPU tensors");
    const int64_t ids[] = {static_cast<int64_t>(idx)...};
    constexpr int n = sizeof...(I);
    if (n != shape_.rank)
      throw ShapeError("at: " + std::to_string(n) + " indices for shape " + shape_.str());
    int64_t off = 0;
    for (int k = 0; k < n; ++k) {
      if (ids[k] < 0 || ids[k] >= shape_[k])
        throw ShapeError("at: index " + std::to_string(ids[k]) + " out of range in shape " +
                         shape_.str());
      off = off * shape_[k] + ids[k];
    }
    return data_[off];
  }
  T& operator[](int64_t flat) const {
    static_assert(is_cpu_v<D>, "Tensor::operator[] is only available for CPU tensors");
    return data_[flat];
  }

 private:
  template <class It>
  Shape infer_shape(It first, It last) const {
    Shape s;
    int infer = -1;
    int64_t known = 1;
    for (It it = first; it != last; ++it) {
      if (s.rank == kMaxRank) throw ShapeError("reshape: rank exceeds 6");
      if (*it == -1) {
        if (infer >= 0) throw ShapeError("reshape: more than one -1 dimension");
        infer = s.rank;
        s.dims[s.rank++] = 1;
      } else {
        if (*it < 0) throw ShapeError("reshape: negative dimension");
        known *= *it;
        s.dims[s.rank++] = *it;
      }
    }
    if (infer >= 0) {
      if (known == 0 || numel() % known != 0)
        throw ShapeError("reshape: cannot infer -1 viewing shape " + shape_.str());
      s.dims[infer] = numel() / known;
    }
    return s;
  }

  T* data_ = nullptr;
  Shape shape_;
  std::shared_ptr<void> owner_;
};

}  // namespace mimic
