#pragma once
#include <cstdint>
#include <initializer_list>
#include <string>

#include "mimic/core/error.hpp"
#include "mimic/core/hd.hpp"

namespace mimic {

inline constexpr int kMaxRank = 6;

// A fixed-capacity, heap-free list of dimensions (rank 0 to 6). Tensors are always row-major and
// contiguous, so a Shape fully describes the layout.
struct Shape {
  int rank = 0;
  int64_t dims[kMaxRank] = {0, 0, 0, 0, 0, 0};

  Shape() = default;
  Shape(std::initializer_list<int64_t> list) {
    if (list.size() > static_cast<size_t>(kMaxRank))
      throw ShapeError("Shape: rank " + std::to_string(list.size()) + " exceeds the maximum of 6");
    for (int64_t d : list) {
      if (d < 0) throw ShapeError("Shape: negative dimension " + std::to_string(d));
      dims[rank++] = d;
    }
  }
  template <class It>
  static Shape from_range(It first, It last) {
    Shape s;
    for (; first != last; ++first) {
      if (s.rank == kMaxRank) throw ShapeError("Shape: rank exceeds the maximum of 6");
      if (*first < 0) throw ShapeError("Shape: negative dimension " + std::to_string(*first));
      s.dims[s.rank++] = static_cast<int64_t>(*first);
    }
    return s;
  }

  MIMIC_HD int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
  MIMIC_HD int64_t operator[](int i) const { return dims[i]; }
  MIMIC_HD int64_t& operator[](int i) { return dims[i]; }
  // Dimension with Python-style negative indexing.
  int64_t dim(int i) const { return dims[axis(i)]; }
  // Normalizes a possibly negative axis; throws if out of range.
  int axis(int i) const {
    int a = i < 0 ? i + rank : i;
    if (a < 0 || a >= rank)
      throw ShapeError("axis " + std::to_string(i) + " is out of range for shape " + str());
    return a;
  }
  // Product of dims in [begin, end).
  int64_t prod(int begin, int end) const {
    int64_t n = 1;
    for (int i = begin; i < end; ++i) n *= dims[i];
    return n;
  }
  MIMIC_HD bool operator==(const Shape& o) const {
    if (rank != o.rank) return false;
    for (int i = 0; i < rank; ++i)
      if (dims[i] != o.dims[i]) return false;
    return true;
  }
  MIMIC_HD bool operator!=(const Shape& o) const { return !(*this == o); }

  Shape with(int i, int64_t d) const {
    Shape s = *this;
    s.dims[axis(i)] = d;
    return s;
  }
  void push_back(int64_t d) {
    if (rank == kMaxRank) throw ShapeError("Shape: rank exceeds the maximum of 6");
    dims[rank++] = d;
  }

  std::string str() const {
    std::string s = "[";
    for (int i = 0; i < rank; ++i) {
      if (i) s += ", ";
      s += std::to_string(dims[i]);
    }
    return s + "]";
  }
};

// Row-major strides of a shape (elements, not bytes).
struct Strides {
  int64_t s[kMaxRank] = {0, 0, 0, 0, 0, 0};
  MIMIC_HD int64_t operator[](int i) const { return s[i]; }
};
inline Strides contiguous_strides(const Shape& shape) {
  Strides st;
  int64_t acc = 1;
  for (int i = shape.rank - 1; i >= 0; --i) {
    st.s[i] = acc;
    acc *= shape.dims[i];
  }
  return st;
}

}  // namespace mimic
