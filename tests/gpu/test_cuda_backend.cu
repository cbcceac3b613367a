// Kernels<Cuda> and ops on Tape<float, Cuda> against the CPU, on odd sizes. Skips without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "mimic/backend/probe.hpp"
#include "mimic/cuda/kernels.cuh"
#include "mimic/mimic.hpp"
#include "support/compare.hpp"

namespace mimic {
namespace {

#define MIMIC_REQUIRE_GPU() \
  if (!cuda::cuda_available()) GTEST_SKIP() << "no CUDA device: GPU test skipped"

// Kernels<Cuda>'s supports table equals what it has: each op it lists is a callable member, and
// no member of the contract is left off the list (backend/probe.hpp). Compile-time, so it holds
// on machines without a GPU too.
static_assert(kernel_table_mismatch<Kernels<Cuda>>() == kKernelOpCount,
              "Kernels<Cuda>::supports disagrees with its members at the op of this index");

TEST(Cuda, SupportsTableMatchesMembers) {
  int listed = 0;
  for (size_t i = 0; i < kKernelOpCount; ++i) {
    const KernelOp op = kernel_op(i);
    EXPECT_EQ(Kernels<Cuda>::supports(op), kernel_probe<Kernels<Cuda>>(op) == 1)
        << kernel_op_name(op);
    listed += Kernels<Cuda>::supports(op);
  }
  EXPECT_GE(listed, 13);  // memory (7), gemm (2), map, generate, broadcast_map, sum_to, ...
}

std::vector<float> random_values(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = philox_uniform<float>(seed, i) * 2 - 1;
  return v;
}

template <class D>
using Graph = std::function<Var<float, D>(const std::vector<Var<float, D>>&)>;

// Runs the same graph on both devices; compares output and every input gradient.
void expect_devices_agree(const char* name, const std::vector<Shape>& shapes,
                          const Graph<Cpu>& cpu_fn, const Graph<Cuda>& gpu_fn) {
  Tape<float, Cpu> ct;
  Tape<float, Cuda> gt;
  std::vector<Var<float, Cpu>> cv;
  std::vector<Var<float, Cuda>> gv;
  for (size_t i = 0; i < shapes.size(); ++i) {
    auto values = random_values(shapes[i].numel(), 100 + i);
    cv.push_back(ct.leaf(Tensor<float, Cpu>::from_vector(shapes[i], values)));
    gv.push_back(gt.leaf(Tensor<float, Cuda>::from_vector(shapes[i], values)));
  }
  Var<float, Cpu> cy = cpu_fn(cv);
  Var<float, Cuda> gy = gpu_fn(gv);
  ASSERT_EQ(cy.shape(), gy.shape()) << name;
  EXPECT_LT(testing::relative_error(gy.value().to_vector(), cy.value().to_vector()), 1e-5)
      << name << " y";
  auto w = random_values(cy.numel(), 7);
  ct.backward(ops::sum(cy * ct.constant(Tensor<float, Cpu>::from_vector(cy.shape(), w))));
  gt.backward(ops::sum(gy * gt.constant(Tensor<float, Cuda>::from_vector(gy.shape(), w))));
  for (size_t i = 0; i < shapes.size(); ++i)
    EXPECT_LT(testing::relative_error(gv[i].grad().to_vector(), cv[i].grad().to_vector()), 1e-5)
        << name << " d input " << i;
}

#define BOTH(expr) [](const auto& v) { return expr; }, [](const auto& v) { return expr; }

TEST(Cuda, Unary) {
  MIMIC_REQUIRE_GPU();
  expect_devices_agree("mish", {{7, 33}}, BOTH(ops::mish(v[0])));
  expect_devices_agree("gelu", {{1}}, BOTH(ops::gelu(v[0])));
  expect_devices_agree("tanh_sigmoid", {{3, 5}}, BOTH(ops::tanh(v[0]) * ops::sigmoid(v[0])));
  expect_devices_agree("exp_softplus", {{33}}, BOTH(ops::exp(v[0]) + ops::softplus(v[0])));
}

TEST(Cuda, BinaryBroadcast) {
  MIMIC_REQUIRE_GPU();
  expect_devices_agree("add", {{7, 1, 5}, {3, 1}}, BOTH(v[0] + v[1]));
  expect_devices_agree("mul", {{1, 33}, {7, 1}}, BOTH(v[0] * v[1]));
  expect_devices_agree("div", {{7, 3}, {3}}, BOTH(v[0] / (ops::abs(v[1]) + 1.0)));
}

TEST(Cuda, MatmulLinear) {
  MIMIC_REQUIRE_GPU();
  expect_devices_agree("matmul", {{7, 33}, {33, 5}}, BOTH(ops::matmul(v[0], v[1])));
  expect_devices_agree("bmm", {{3, 1, 7}, {3, 7, 5}}, BOTH(ops::bmm(v[0], v[1])));
  expect_devices_agree("linear", {{1, 9}, {7, 9}, {7}}, BOTH(ops::linear(v[0], v[1], v[2])));
}

TEST(Cuda, Reductions) {
  MIMIC_REQUIRE_GPU();
  expect_devices_agree("sum", {{7, 3, 5}}, BOTH(ops::sum(v[0], {0, 2})));
  expect_devices_agree("mean", {{1, 33}}, BOTH(ops::mean(v[0], {1}, true)));
}

struct PhiloxProbe {
  uint64_t seed;
  MIMIC_HD float operator()(int64_t i) const {
    return philox_uniform<float>(seed, i) + philox_normal<float>(seed, 1000000 + i);
  }
};

TEST(Cuda, PhiloxMatchesHostBitForBit) {
  MIMIC_REQUIRE_GPU();
  const int64_t n = 4097;
  auto t = Tensor<float, Cuda>::empty({n});
  Kernels<Cuda>::generate(n, PhiloxProbe{1234}, t.data());
  auto device = t.to_vector();
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(device[i], PhiloxProbe{1234}(i)) << "element " << i;
}

}  // namespace
}  // namespace mimic
