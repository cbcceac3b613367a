// The ResNet18 trunk (GroupNorm and BatchNorm), SpatialSoftmax and crop averaging against
// torchvision / PyTorch in float64 (tests/reference/make_vision_fixture.py). Weights and inputs
// come from the same closed-form formulas as the script.
#include <gtest/gtest.h>

#include <cmath>

#include "mimic/mimic.hpp"
#include "support/compare.hpp"
#include "support/h5_fixture.hpp"

namespace mimic {
namespace {

std::string fixture() { return std::string(MIMIC_TEST_DATA_DIR) + "/golden_vision.h5"; }

int64_t salt(const std::string& name) {
  int64_t s = 0;
  for (size_t k = 0; k < name.size(); ++k)
    s += int64_t(static_cast<unsigned char>(name[k])) * int64_t(k + 1);
  return s % 1000;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Mirrors formula_value() of the fixture script.
std::vector<double> formula_value(const std::string& name, const Shape& shape) {
  std::vector<double> v(static_cast<size_t>(shape.numel()));
  for (size_t j = 0; j < v.size(); ++j) {
    const double h = std::sin(0.37 * double(j) + 0.001 * double(salt(name)) + 0.5) * 43758.5453;
    const double s = std::sqrt(3.0) * (2.0 * (h - std::floor(h)) - 1.0);
    if (ends_with(name, "weight") && shape.rank == 4)
      v[j] = std::sqrt(2.0 / double(shape[0] * shape[2] * shape[3])) * s;
    else if (ends_with(name, "weight") && shape.rank == 2)
      v[j] = s / std::sqrt(double(shape[1]));
    else if (ends_with(name, "weight"))
      v[j] = 1.0 + 0.1 * s;
    else if (ends_with(name, "temperature"))
      v[j] = 0.7;
    else
      v[j] = 0.1 * s;
  }
  return v;
}

template <class T>
void set_formula_weights(nn::ParamStore<T>& store) {
  for (const auto& e : store.entries())
    if (e.trainable || ends_with(e.name, "temperature")) {
      const std::vector<double> v = formula_value(e.name, e.shape);
      Tensor<T> t = store.value(store.find(e.name));
      for (int64_t j = 0; j < t.numel(); ++j) t[j] = T(v[size_t(j)]);
    }
}

template <class T>
Tensor<T> image_input(const Shape& shape) {
  Tensor<T> t = Tensor<T>::empty(shape);
  for (int64_t j = 0; j < t.numel(); ++j) t[j] = T(0.5 + 0.5 * std::sin(0.011 * double(j) + 0.3));
  return t;
}

template <class T>
Tensor<T> output_weights(const Shape& shape) {
  Tensor<T> t = Tensor<T>::empty(shape);
  for (int64_t j = 0; j < t.numel(); ++j) t[j] = T(std::cos(0.05 * double(j)));
  return t;
}

template <class T>
void check_trunk(nn::NormKind norm, double tol, double grad_tol) {
  testing::H5Fixture f(fixture());
  const std::string group = norm == nn::NormKind::kGroup ? "/group" : "/batch";
  nn::ParamStore<T> store;
  nn::ResNet18Trunk<T> trunk(store, "", 3, norm);
  store.allocate();
  store.initialize(1);  // running statistics start at 0 and 1, as PyTorch's
  set_formula_weights(store);
  int64_t trainable = 0;
  for (const auto& e : store.entries()) trainable += e.trainable ? e.shape.numel() : 0;
  EXPECT_EQ(trainable, f.attr_int(group, "parameters"));
  if (norm == nn::NormKind::kGroup) {
    EXPECT_EQ(store.count(), 11176512);
  }

  Tape<T> tape;
  Var<T> x = tape.leaf(image_input<T>(Shape{2, 3, 84, 84}));
  Var<T> y = trunk(store, x, true);
  ASSERT_EQ(y.shape(), (Shape{2, 512, 3, 3}));
  EXPECT_EQ(nn::ResNet18Trunk<T>::output_shape(84, 84), (Shape{512, 3, 3}));
  tape.backward(ops::sum(ops::mul(y, tape.constant(output_weights<T>(y.shape())))));
  EXPECT_LE(testing::relative_error(y.value().to_vector(), f.read<double>(group + "/y")), tol);
  // The input gradient passes the stem's max pool, whose argmax can flip between near-equal
  // values in float; it is checked in double only (against float32-stored values).
  if (norm == nn::NormKind::kGroup && std::is_same_v<T, double>) {
    EXPECT_LE(testing::relative_error(x.grad().to_vector(), f.read<double>(group + "/x_grad")),
              1e-6);
  }
  int checked = 0;
  for (const auto& e : store.entries()) {
    if (!e.trainable) continue;
    const Tensor<T> g = store.grad(store.find(e.name));
    double dot = 0, sq = 0;
    for (int64_t j = 0; j < g.numel(); ++j) {
      dot += double(g[j]) * std::cos(0.013 * double(j) + 0.1);
      sq += double(g[j]) * double(g[j]);
    }
    const std::vector<double> want = f.read<double>(group + "/grad_checks/" + e.name);
    const double scale = std::sqrt(want[1] * double(g.numel()));  // bounds |dot|
    EXPECT_LE(std::abs(dot - want[0]), grad_tol * scale + 1e-30) << e.name;
    EXPECT_LE(std::abs(sq - want[1]), 2 * grad_tol * want[1] + 1e-30) << e.name;
    ++checked;
  }
  EXPECT_EQ(checked, 60);  // conv1, bn1 (2), 8 blocks x 6, 3 downsamples x 3
  if (norm == nn::NormKind::kBatch) {
    auto running = [&](const std::string& name) {
      return store.value(store.find(name)).to_vector();
    };
    EXPECT_LE(testing::relative_error(running("bn1.running_mean"),
                                      f.read<double>(group + "/bn1_running_mean")),
              tol);
    EXPECT_LE(testing::relative_error(running("bn1.running_var"),
                                      f.read<double>(group + "/bn1_running_var")),
              tol);
    EXPECT_LE(testing::relative_error(running("layer4.1.bn2.running_var"),
                                      f.read<double>(group + "/last_running_var")),
              tol);
    Tape<T> eval_tape;
    Var<T> e = trunk(store, eval_tape.constant(image_input<T>(Shape{2, 3, 84, 84})), false);
    EXPECT_LE(testing::relative_error(e.value().to_vector(), f.read<double>(group + "/y_eval")),
              tol);
  }
}

TEST(GoldenVision, ResNet18GroupNormDouble) {
  check_trunk<double>(nn::NormKind::kGroup, 1e-9, 1e-9);
}
// Gradients in float get a wider bound than the output: some ReLU inputs of layer3 lie within
// 1e-6 of zero, so the summation order (thread count, GEMM blocking) can flip one of them, and a
// flipped ReLU moves a whole gradient element upstream (up to 0.5% of a weight gradient's norm).
// The double runs check the gradients to 1e-9.
TEST(GoldenVision, ResNet18GroupNormFloat) { check_trunk<float>(nn::NormKind::kGroup, 2e-4, 2e-2); }
TEST(GoldenVision, ResNet18BatchNormDouble) {
  check_trunk<double>(nn::NormKind::kBatch, 1e-9, 1e-9);
}

template <class T>
Tensor<T> load(const testing::H5Fixture& f, const std::string& name) {
  Shape s;
  const std::vector<T> v = f.read<T>(name, &s);
  return Tensor<T>::from_vector(s, v);
}

TEST(GoldenVision, SpatialSoftmax) {
  testing::H5Fixture f(fixture());
  nn::ParamStore<double> store;
  nn::SpatialSoftmaxOptions opt;
  opt.num_kp = 4;
  opt.temperature = 0.7;
  opt.learnable_temperature = true;
  nn::SpatialSoftmax<double> ss(store, "", Shape{8, 5, 6}, opt);
  store.allocate();
  store.initialize(3);
  set_formula_weights(store);
  Tape<double> tape;
  Var<double> x = tape.leaf(load<double>(f, "/spatial_softmax/x"));
  Var<double> y = ss(store, x, nullptr, true);
  ASSERT_EQ(y.shape(), (Shape{2, 8}));
  EXPECT_EQ(ss.output_dim(), 8);
  tape.backward(ops::sum(ops::mul(y, tape.constant(output_weights<double>(y.shape())))));
  const double tol = 1e-11;
  EXPECT_LE(testing::relative_error(y.value().to_vector(), f.read<double>("/spatial_softmax/y")),
            tol);
  EXPECT_LE(
      testing::relative_error(x.grad().to_vector(), f.read<double>("/spatial_softmax/x_grad")),
      tol);
  EXPECT_LE(testing::relative_error(store.grad(store.find("nets.weight")).to_vector(),
                                    f.read<double>("/spatial_softmax/weight_grad")),
            tol);
  // The softmax ignores a shift of its logits, so the bias gradient is zero up to rounding.
  const std::vector<double> bias_grad = store.grad(store.find("nets.bias")).to_vector();
  const std::vector<double> want_bias_grad = f.read<double>("/spatial_softmax/bias_grad");
  for (size_t i = 0; i < bias_grad.size(); ++i) {
    EXPECT_NEAR(bias_grad[i], 0.0, 1e-12);
    EXPECT_NEAR(want_bias_grad[i], 0.0, 1e-12);
  }
  EXPECT_LE(testing::relative_error(store.grad(store.find("temperature")).to_vector(),
                                    f.read<double>("/spatial_softmax/temperature_grad")),
            tol);
}

TEST(GoldenVision, SpatialSoftmaxKeypointNoiseOnlyInTraining) {
  nn::ParamStore<double> store;
  nn::SpatialSoftmaxOptions opt;
  opt.num_kp = 3;
  opt.noise_std = 0.5;
  nn::SpatialSoftmax<double> ss(store, "", Shape{4, 3, 3}, opt);
  store.allocate();
  store.initialize(4);
  Tape<double> tape;
  const Tensor<double> x = image_input<double>(Shape{200, 4, 3, 3});
  PhiloxStream rng{7, 0};
  const auto clean = ss(store, tape.constant(x), nullptr, false).value().to_vector();
  const auto noisy = ss(store, tape.constant(x), &rng, true).value().to_vector();
  EXPECT_EQ(rng.offset, 1200u);
  double sq = 0;
  for (size_t i = 0; i < clean.size(); ++i) sq += (noisy[i] - clean[i]) * (noisy[i] - clean[i]);
  const double std_dev = std::sqrt(sq / double(clean.size()));
  EXPECT_GT(std_dev, 0.46);  // 1200 draws: the sample std is within 0.5 +- 0.01 (1 sigma)
  EXPECT_LT(std_dev, 0.54);
  EXPECT_THROW(ss(store, tape.constant(x), nullptr, true), ValueError);
}

TEST(GoldenVision, CropRandomizer) {
  testing::H5Fixture f(fixture());
  const std::vector<double> off = f.read<double>("/crop/offsets");
  std::vector<int64_t> offsets(off.begin(), off.end());
  Tape<double> tape;
  Var<double> x = tape.leaf(image_input<double>(Shape{2, 3, 10, 9}));
  nn::CropRandomizer crop(6, 5, 3);
  Var<double> crops = ops::crop2d(x, 6, 5, 3, offsets);
  EXPECT_LE(testing::relative_error(crops.value().to_vector(), f.read<double>("/crop/crops")),
            1e-15);  // the input formula may round differently under FMA contraction
  Var<double> features = crop.forward_out(ops::reshape(crops, Shape{6, 90}));
  ASSERT_EQ(features.shape(), (Shape{2, 90}));
  tape.backward(ops::sum(ops::mul(features, tape.constant(output_weights<double>(Shape{2, 90})))));
  EXPECT_LE(testing::relative_error(features.value().to_vector(), f.read<double>("/crop/features")),
            1e-15);
  EXPECT_LE(testing::relative_error(x.grad().to_vector(), f.read<double>("/crop/x_grad")), 1e-15);
  // Evaluation: the centre crop, repeated per crop slot.
  nn::CropRandomizer one(6, 5, 1);
  Var<double> center = one.forward_in(tape.constant(x.value()), nullptr, false);
  EXPECT_LE(testing::relative_error(center.value().to_vector(), f.read<double>("/crop/center")),
            1e-15);
  // Training: random corners inside the image, reproducible from the stream.
  PhiloxStream a{11, 0}, b{11, 0};
  const auto oa = crop.offsets(2, 10, 9, &a, true), ob = crop.offsets(2, 10, 9, &b, true);
  EXPECT_EQ(oa, ob);
  for (size_t i = 0; i < oa.size(); ++i) {
    EXPECT_GE(oa[i], 0);
    EXPECT_LT(oa[i], i % 2 == 0 ? 4 : 4);  // robomimic never picks the last corner
  }
  EXPECT_EQ(crop.forward_in(x, &a, true).shape(), (Shape{6, 3, 6, 5}));
  EXPECT_THROW(crop.forward_in(x, nullptr, true), ValueError);
}

}  // namespace
}  // namespace mimic
