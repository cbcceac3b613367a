// The kernel contract (backend/contract.hpp): the op enum and its name table agree, the CPU
// backend lists every op, and a supports table cannot claim an op its backend lacks (or hide one
// it has). The checks are compile-time; the tests repeat them with names in the messages.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "mimic/backend/cpu/kernels.hpp"
#include "mimic/backend/probe.hpp"

namespace mimic {
namespace {

using CpuKernels = Kernels<Cpu>;

static_assert(kernel_probes_complete<CpuKernels>(), "an op of KernelOp has no probe");
static_assert(kernel_table_mismatch<CpuKernels>() == kKernelOpCount,
              "Kernels<Cpu>::supports disagrees with its members at the op of this index");

// A backend with only the memory family: its honest table passes, a table that also claims
// gemm is caught at gemm, and one that hides fill is caught at fill.
struct MemoryOnly : cpu::Memory {
  static constexpr bool supports(KernelOp op) { return op <= KernelOp::from_host; }
};
struct ClaimsGemm : cpu::Memory {
  static constexpr bool supports(KernelOp op) { return op <= KernelOp::gemm; }
};
struct HidesFill : cpu::Memory {
  static constexpr bool supports(KernelOp op) {
    return op <= KernelOp::from_host && op != KernelOp::fill;
  }
};
static_assert(kernel_table_mismatch<MemoryOnly>() == kKernelOpCount);
static_assert(kernel_table_mismatch<ClaimsGemm>() == size_t(KernelOp::gemm));
static_assert(kernel_table_mismatch<HidesFill>() == size_t(KernelOp::fill));

TEST(BackendContract, NamesAreUniqueIdentifiers) {
  std::set<std::string> names;
  for (size_t i = 0; i < kKernelOpCount; ++i) {
    const std::string_view name = kernel_op_name(kernel_op(i));
    ASSERT_FALSE(name.empty()) << "op " << i;
    for (char ch : name)
      EXPECT_TRUE((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_') << name;
    EXPECT_TRUE(names.insert(std::string(name)).second) << "duplicate name " << name;
  }
  EXPECT_EQ(names.size(), kKernelOpCount);
  EXPECT_EQ(kernel_op_name(KernelOp::conv2d_forward), "conv2d_forward");
  EXPECT_EQ(kernel_op_name(KernelOp::count), "?");
}

TEST(BackendContract, CpuProvidesAndListsEveryOp) {
  for (size_t i = 0; i < kKernelOpCount; ++i) {
    const KernelOp op = kernel_op(i);
    EXPECT_TRUE(CpuKernels::supports(op)) << kernel_op_name(op);
    EXPECT_EQ(kernel_probe<CpuKernels>(op), 1) << "Kernels<Cpu> lacks " << kernel_op_name(op);
  }
}

// The CPU plans convolutions as before the contract existed: Winograd on stride-1 3x3 kernels
// with at least 4x4 outputs (the tile with fewer multiplies, 2x2 on a tie), im2col elsewhere;
// forcing an algorithm the geometry cannot run throws.
TEST(BackendContract, CpuConv2dPlan) {
  //                          n  c   h   w kh kw ho  wo sh sw ph pw dh dw
  const Conv2dGeometry g21{4, 64, 21, 21, 3, 3, 21, 21, 1, 1, 1, 1, 1, 1};
  const Conv2dGeometry g6{4, 64, 6, 6, 3, 3, 6, 6, 1, 1, 1, 1, 1, 1};
  const Conv2dGeometry g3{4, 64, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1};
  const Conv2dGeometry strided{4, 64, 21, 21, 3, 3, 11, 11, 2, 2, 1, 1, 1, 1};
  EXPECT_EQ(CpuKernels::conv2d_plan(g21, 64, 1, Conv2dAlgorithm::automatic).variant, 4);
  EXPECT_EQ(CpuKernels::conv2d_plan(g6, 64, 1, Conv2dAlgorithm::automatic).variant, 2);
  EXPECT_EQ(CpuKernels::conv2d_plan(g3, 64, 1, Conv2dAlgorithm::automatic).variant, 0);
  // Forced on 3x3 outputs: one 4x4 tile (36 multiplies) beats four 2x2 tiles (64).
  EXPECT_EQ(CpuKernels::conv2d_plan(g3, 64, 1, Conv2dAlgorithm::winograd).variant, 4);
  EXPECT_EQ(CpuKernels::conv2d_plan(g21, 64, 1, Conv2dAlgorithm::winograd_2x2).variant, 2);
  EXPECT_EQ(CpuKernels::conv2d_plan(g21, 64, 2, Conv2dAlgorithm::automatic).variant, 0);
  const Conv2dPlan im2col = CpuKernels::conv2d_plan(strided, 32, 1, Conv2dAlgorithm::automatic);
  EXPECT_EQ(im2col.variant, 0);
  EXPECT_EQ(im2col.saved_numel, 64 * 9 * 4 * 11 * 11);  // col [C*KH*KW, N*Ho*Wo]
  EXPECT_THROW(CpuKernels::conv2d_plan(strided, 32, 1, Conv2dAlgorithm::winograd_4x4), ValueError);
}

}  // namespace
}  // namespace mimic
