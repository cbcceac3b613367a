#pragma once
// Relative error used by the golden tests: max|a - b| / max|b| (b the reference).
#include <algorithm>
#include <cmath>
#include <vector>

namespace mimic::testing {

template <class A, class B>
double relative_error(const std::vector<A>& a, const std::vector<B>& b) {
  if (a.size() != b.size()) return 1e30;
  double diff = 0, scale = 1e-30;
  for (size_t i = 0; i < b.size(); ++i) {
    diff = std::max(diff, std::abs(double(a[i]) - double(b[i])));
    scale = std::max(scale, std::abs(double(b[i])));
  }
  return diff / scale;
}

}  // namespace mimic::testing
