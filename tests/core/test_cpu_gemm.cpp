// The CPU GEMM against a direct triple loop, including the matrix-vector products that are split
// across threads (m == 1 or n == 1 with a long output), every transpose combination, padded
// leading dimensions, alpha and beta; and the threaded zeroing of large buffers.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "mimic/mimic.hpp"

namespace mimic {
namespace {

struct GemmCase {
  int64_t m, n, k;
};

void expect_gemm_matches_loop(const GemmCase& s, bool ta, bool tb, double alpha, double beta) {
  const int64_t pad = 3;
  const int64_t a_rows = ta ? s.k : s.m, a_cols = ta ? s.m : s.k;
  const int64_t b_rows = tb ? s.n : s.k, b_cols = tb ? s.k : s.n;
  const int64_t lda = a_cols + pad, ldb = b_cols + pad, ldc = s.n + pad;
  std::vector<double> a(a_rows * lda), b(b_rows * ldb), c(s.m * ldc), expect;
  for (size_t i = 0; i < a.size(); ++i) a[i] = philox_uniform<double>(1, i) - 0.5;
  for (size_t i = 0; i < b.size(); ++i) b[i] = philox_uniform<double>(2, i) - 0.5;
  for (size_t i = 0; i < c.size(); ++i) c[i] = philox_uniform<double>(3, i) - 0.5;
  expect = c;
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j) {
      double dot = 0;
      for (int64_t p = 0; p < s.k; ++p)
        dot += (ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
      expect[i * ldc + j] = alpha * dot + beta * expect[i * ldc + j];
    }
  cpu::Gemm::gemm(ta, tb, s.m, s.n, s.k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = 0; j < s.n; ++j)
      ASSERT_NEAR(c[i * ldc + j], expect[i * ldc + j], 1e-11)
          << "m=" << s.m << " n=" << s.n << " k=" << s.k << " ta=" << ta << " tb=" << tb << " at ("
          << i << ", " << j << ")";
  // The padding between rows is never written.
  for (int64_t i = 0; i < s.m; ++i)
    for (int64_t j = s.n; j < ldc; ++j)
      ASSERT_EQ(c[i * ldc + j], philox_uniform<double>(3, i * ldc + j) - 0.5);
}

TEST(CpuGemm, MatrixVectorProductsSplitAcrossThreadsMatchLoop) {
  // 1 x 1600 x 400 is an LSTM gate product at batch 1; 1000 and 333 leave partial 16-blocks.
  const GemmCase cases[] = {{1, 1600, 400}, {1, 1000, 333}, {777, 1, 300},
                            {1, 70, 1000},  {5, 7, 11},     {1, 3, 2}};
  for (const auto& s : cases)
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        expect_gemm_matches_loop(s, ta, tb, 1.0, 0.0);
        expect_gemm_matches_loop(s, ta, tb, 0.5, 1.0);
        expect_gemm_matches_loop(s, ta, tb, -2.0, 0.25);
      }
}

// Few output columns (n <= 16, a batch-1 convolution) go to the register-blocked thin product:
// every column count, both layouts of A, row counts that leave partial 4- and 16-row blocks, and
// a float case against the double loop.
TEST(CpuGemm, ThinProductsMatchLoop) {
  for (int64_t n = 1; n <= 16; ++n)
    for (const GemmCase& s : {GemmCase{203, n, 331}, GemmCase{64, n, 1024}})
      for (bool ta : {false, true}) {
        expect_gemm_matches_loop(s, ta, false, 1.0, 0.0);
        expect_gemm_matches_loop(s, ta, false, -0.5, 0.75);
      }
  const int64_t m = 150, n = 16, k = 2000;
  std::vector<float> a(m * k), b(k * n), c(m * n);
  for (size_t i = 0; i < a.size(); ++i) a[i] = philox_uniform<float>(4, i) - 0.5f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = philox_uniform<float>(5, i) - 0.5f;
  cpu::Gemm::gemm(false, false, m, n, k, 1.f, a.data(), k, b.data(), n, 0.f, c.data(), n);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double dot = 0, mag = 0;
      for (int64_t p = 0; p < k; ++p) {
        dot += double(a[i * k + p]) * double(b[p * n + j]);
        mag += std::abs(double(a[i * k + p]) * double(b[p * n + j]));
      }
      ASSERT_NEAR(c[i * n + j], dot, 1e-5 * mag) << "(" << i << ", " << j << ")";
    }
}

// beta == 0 never reads C (it may hold NaN), also on the path that zeroes a large contiguous C
// on all threads before accumulating into it.
TEST(CpuGemm, BetaZeroOverwritesLargeContiguousOutput) {
  const int64_t m = 600, n = 500, k = 7;
  for (bool ta : {false, true})
    for (double alpha : {1.0, -0.5}) {
      std::vector<double> a(m * k), b(k * n), c(m * n, std::numeric_limits<double>::quiet_NaN());
      for (size_t i = 0; i < a.size(); ++i) a[i] = philox_uniform<double>(4, i) - 0.5;
      for (size_t i = 0; i < b.size(); ++i) b[i] = philox_uniform<double>(5, i) - 0.5;
      cpu::Gemm::gemm(ta, false, m, n, k, alpha, a.data(), ta ? m : k, b.data(), n, 0.0, c.data(),
                      n);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double dot = 0;
          for (int64_t p = 0; p < k; ++p) dot += (ta ? a[p * m + i] : a[i * k + p]) * b[p * n + j];
          ASSERT_NEAR(c[i * n + j], alpha * dot, 1e-12) << "ta=" << ta << " at " << i << ", " << j;
        }
    }
}

// Large buffers are zeroed by several threads in blocks: every byte, odd sizes included, and
// nothing past the end.
TEST(CpuMemory, ZeroBytesClearsLargeBuffersExactly) {
  for (size_t bytes : {size_t(5 << 20) + 13, size_t(4 << 20), size_t(100)}) {
    std::vector<unsigned char> buf(bytes + 64, 0xab);
    cpu::Memory::zero_bytes(buf.data(), bytes);
    for (size_t i = 0; i < bytes; ++i) ASSERT_EQ(buf[i], 0) << bytes << " at " << i;
    for (size_t i = bytes; i < buf.size(); ++i) ASSERT_EQ(buf[i], 0xab) << bytes << " at " << i;
  }
}

}  // namespace
}  // namespace mimic
