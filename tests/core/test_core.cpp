#include <gtest/gtest.h>

#include "mimic/mimic.hpp"

namespace mimic {
namespace {

TEST(Shape, NumelAxisAndString) {
  Shape s{2, 3, 4};
  EXPECT_EQ(s.numel(), 24);
  EXPECT_EQ(s.dim(-1), 4);
  EXPECT_EQ(s.str(), "[2, 3, 4]");
  EXPECT_THROW(s.axis(3), ShapeError);
  EXPECT_THROW((Shape{1, 2, 3, 4, 5, 6, 7}), ShapeError);
  EXPECT_EQ(Shape{}.numel(), 1);  // a scalar
}

TEST(Tensor, ViewsShareMemory) {
  auto t = Tensor<float>::from_list({2, 3}, {0, 1, 2, 3, 4, 5});
  auto r = t.reshape({3, -1});
  EXPECT_EQ(r.shape(), (Shape{3, 2}));
  r.at(2, 1) = 42.f;
  EXPECT_EQ(t.at(1, 2), 42.f);
  auto row = t.select(1);
  EXPECT_EQ(row.shape(), (Shape{3}));
  EXPECT_EQ(row[0], 3.f);
  auto s = t.slice(1, 2);
  EXPECT_EQ(s.data(), t.data() + 3);
  EXPECT_THROW(t.reshape({4, 2}), ShapeError);
  EXPECT_THROW(t.slice(1, 3), ShapeError);
  EXPECT_THROW(t.at(2, 0), ShapeError);
  // A view keeps the buffer alive after the original handle is gone.
  Tensor<float> keep;
  {
    auto tmp = Tensor<float>::full({4}, 7.f);
    keep = tmp.reshape({2, 2});
  }
  EXPECT_EQ(keep.at(1, 1), 7.f);
  auto c = t.clone();
  c.at(0, 0) = -1.f;
  EXPECT_EQ(t.at(0, 0), 0.f);
}

TEST(Tensor, DoubleAndRank6) {
  auto t = Tensor<double>::zeros({1, 2, 1, 3, 1, 2});
  EXPECT_EQ(t.numel(), 12);
  t.at(0, 1, 0, 2, 0, 1) = 1.5;
  EXPECT_EQ(t[11], 1.5);
}

TEST(Arena, RewindReusesMemory) {
  Arena<Cpu> arena(1024);
  void* a = arena.allocate(100);
  arena.allocate(2000);  // forces a second block
  EXPECT_GE(arena.capacity(), 2048u);
  arena.reset();
  EXPECT_EQ(arena.allocate(100), a);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a) % 64, 0u);
}

TEST(Philox, KnownAnswer) {
  // Random123's published known-answer test for Philox4x32-10 with zero counter and key.
  Philox4x32 r = philox4x32_10(0, 0);
  EXPECT_EQ(r.v[0], 0x6627e8d5u);
  EXPECT_EQ(r.v[1], 0xe169c58du);
  EXPECT_EQ(r.v[2], 0xbc57ac4cu);
  EXPECT_EQ(r.v[3], 0x9b00dbd8u);
}

TEST(Philox, UniformAndNormalMoments) {
  const int n = 200000;
  double su = 0, su2 = 0, sn = 0, sn2 = 0;
  for (int i = 0; i < n; ++i) {
    float u = philox_uniform<float>(7, i);
    ASSERT_GE(u, 0.f);
    ASSERT_LT(u, 1.f);
    su += u;
    su2 += double(u) * u;
    double z = philox_normal<double>(7, i);
    sn += z;
    sn2 += z * z;
  }
  EXPECT_NEAR(su / n, 0.5, 0.005);
  EXPECT_NEAR(su2 / n - (su / n) * (su / n), 1.0 / 12, 0.002);
  EXPECT_NEAR(sn / n, 0.0, 0.01);
  EXPECT_NEAR(sn2 / n, 1.0, 0.01);
  // Different seeds give different streams; the same seed gives the same stream.
  EXPECT_NE(philox_u32(1, 5), philox_u32(2, 5));
  EXPECT_EQ(philox_u32(1, 5), philox_u32(1, 5));
}

// The run form (whole blocks, 16 at a time) gives the per-value stream for any start and length:
// starts inside a block, runs shorter than a block, runs across the 16-block batches.
TEST(Philox, RunsEqualTheStreamValueByValue) {
  std::vector<uint32_t> raw(2 * 300);
  std::vector<float> uf(300);
  std::vector<double> ud(300);
  for (uint64_t first : {uint64_t(0), uint64_t(1), uint64_t(3), uint64_t(62), uint64_t(1) << 33})
    for (int64_t n : {1, 2, 5, 63, 64, 65, 300}) {
      philox_u32_run(11, first, n, raw.data());
      for (int64_t j = 0; j < n; ++j)
        ASSERT_EQ(raw[j], philox_u32(11, first + j)) << first << " " << j;
      philox_uniform_run<float>(11, first, n, raw.data(), uf.data());
      for (int64_t j = 0; j < n; ++j) ASSERT_EQ(uf[j], philox_uniform<float>(11, first + j));
      philox_uniform_run<double>(11, first, n, raw.data(), ud.data());
      for (int64_t j = 0; j < n; ++j) ASSERT_EQ(ud[j], philox_uniform<double>(11, first + j));
    }
}

// The CPU launcher takes dropout's run path; it must keep exactly the per-element mask (which the
// CUDA backend computes) on both sides of a thread split and at an offset inside a block.
TEST(Philox, DropoutRunPathEqualsPerElementMask) {
  const int64_t n = 100003;
  auto x = Tensor<float>::empty({n}), acc = Tensor<float>::empty({n});
  for (int64_t i = 0; i < n; ++i) {
    x[i] = float(i % 97) - 40.f;
    acc[i] = float(i % 13);
  }
  const ops::detail::DropoutAttrs a{5, 4097, 0.3};
  auto y = Tensor<float>::empty({n}), z = Tensor<float>::empty({n});
  Kernels<Cpu>::generate(n, ops::detail::DropoutApply<float>{x.data(), a}, y.data());
  Kernels<Cpu>::generate(n, ops::detail::DropoutApplyAdd<float>{x.data(), acc.data(), a}, z.data());
  int64_t dropped = 0;
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(y[i], (ops::detail::DropoutApply<float>{x.data(), a}(i))) << i;
    ASSERT_EQ(z[i], (ops::detail::DropoutApplyAdd<float>{x.data(), acc.data(), a}(i))) << i;
    dropped += y[i] == 0.f && x[i] != 0.f;
  }
  EXPECT_NEAR(double(dropped) / n, 0.3 * 96 / 97, 0.01);
}

TEST(Tape, BackwardAccumulatesAndNoGrad) {
  Tape<double> tape;
  auto x = tape.leaf(Tensor<double>::from_list({3}, {1, 2, 3}));
  auto y = ops::sum(x * x + x);  // dy/dx = 2x + 1
  tape.backward(y);
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{3, 5, 7}));
  {
    auto guard = tape.no_grad();
    auto z = ops::sum(x * x);
    EXPECT_FALSE(z.requires_grad());
    EXPECT_THROW(tape.backward(z), ValueError);
  }
  auto w = tape.leaf(Tensor<double>::from_list({2}, {1, 2}));
  EXPECT_THROW(tape.backward(w), ShapeError);  // not a scalar
}

TEST(Tape, ParameterGradientsAccumulateIntoFlatBuffer) {
  nn::ParamStore<double> store;
  auto pw = store.declare("w", {2});
  auto pb = store.declare("b", {1});
  store.allocate();
  store.value(pw).copy_from(Tensor<double>::from_list({2}, {1, 2}));
  EXPECT_EQ(store.value(pb).data() - store.value(pw).data(), 16);  // 64-byte aligned layout
  Tape<double> tape;
  for (int step = 0; step < 2; ++step) {
    tape.reset();
    auto w = store.on(tape, pw);
    auto b = store.on(tape, pb);
    auto loss = ops::sum(w * 3.0) + ops::sum(b);
    tape.backward(loss);
  }
  EXPECT_EQ(store.grad(pw).to_vector(), (std::vector<double>{6, 6}));
  EXPECT_EQ(store.grad(pb).to_vector(), (std::vector<double>{2}));
  store.zero_grad();
  EXPECT_EQ(store.grad(pw).to_vector(), (std::vector<double>{0, 0}));
}

TEST(Errors, ShapeMismatchNamesOpAndShapes) {
  Tape<float> tape;
  auto a = tape.constant(Tensor<float>::zeros({2, 3}));
  auto b = tape.constant(Tensor<float>::zeros({4}));
  try {
    ops::add(a, b);
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("add"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[2, 3]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4]"), std::string::npos) << msg;
  }
  auto m = tape.constant(Tensor<float>::zeros({3, 5}));
  EXPECT_THROW(ops::matmul(m, m), ShapeError);
  EXPECT_THROW(ops::matmul(tape.constant(Tensor<float>::zeros({3})), m), ShapeError);
  EXPECT_THROW(ops::linear(m, tape.constant(Tensor<float>::zeros({4, 4}))), ShapeError);
  EXPECT_THROW(ops::sum(m, {2}), ShapeError);
}

}  // namespace
}  // namespace mimic
