// A small ConditionalUnet1D given PyTorch's weights (loaded by state-dict name) gives PyTorch's
// output and parameter gradients (tests/reference/make_unet_fixture.py).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "mimic/mimic.hpp"
#include "support/compare.hpp"
#include "support/h5_fixture.hpp"

namespace mimic {
namespace {

template <class T>
void check_unet(double tol) {
  testing::H5Fixture f(std::string(MIMIC_TEST_DATA_DIR) + "/golden_unet.h5");
  nn::UnetConfig cfg;
  cfg.input_dim = f.attr_int("/", "input_dim");
  cfg.global_cond_dim = f.attr_int("/", "global_cond_dim");
  cfg.diffusion_step_embed_dim = f.attr_int("/", "dsed");
  cfg.kernel_size = f.attr_int("/", "k");
  cfg.n_groups = f.attr_int("/", "groups");
  cfg.down_dims = f.attr_ints("/", "down_dims");
  nn::ParamStore<T> store;
  nn::ConditionalUnet1D<T> unet(store, cfg);
  store.allocate();
  ASSERT_EQ(store.count(), f.attr_int("/", "num_parameters"));
  for (const auto& e : store.entries()) {
    Shape s;
    auto values = f.read<T>("/params/" + e.name, &s);
    ASSERT_EQ(s, e.shape) << e.name;
    store.value(store.find(e.name)).copy_from(Tensor<T>::from_vector(s, values));
  }
  auto load = [&](const std::string& name) {
    Shape s;
    auto v = f.read<T>(name, &s);
    return Tensor<T>::from_vector(s, v);
  };
  Tape<T> tape;
  auto y = unet(store, tape.constant(load("/sample")), tape.constant(load("/timesteps")),
                tape.constant(load("/global_cond")));
  tape.backward(ops::sum(y * tape.constant(load("/weights"))));
  EXPECT_LE(testing::relative_error(y.value().to_vector(), f.read<double>("/y")), tol) << "output";
  for (const auto& e : store.entries())
    EXPECT_LE(testing::relative_error(store.grad(store.find(e.name)).to_vector(),
                                      f.read<double>("/grads/" + e.name)),
              tol)
        << e.name;
}

TEST(Golden, ConditionalUnet1DFloat) { check_unet<float>(1e-5); }
TEST(Golden, ConditionalUnet1DDouble) { check_unet<double>(1e-10); }

}  // namespace
}  // namespace mimic

namespace mimic {
namespace {

nn::UnetConfig small_unet_config() {
  nn::UnetConfig cfg;
  cfg.input_dim = 2;
  cfg.global_cond_dim = 6;
  cfg.diffusion_step_embed_dim = 16;
  cfg.down_dims = {8, 16, 32};
  cfg.kernel_size = 5;
  cfg.n_groups = 4;
  return cfg;
}

// The fixture script's safetensors file (PyTorch state-dict names) gives PyTorch's output.
TEST(Safetensors, PyTorchWeightsLoadIntoUnet) {
  testing::H5Fixture f(std::string(MIMIC_TEST_DATA_DIR) + "/golden_unet.h5");
  nn::ParamStore<float> store;
  nn::ConditionalUnet1D<float> unet(store, small_unet_config());
  store.allocate();
  nn::load_safetensors(store, std::string(MIMIC_TEST_DATA_DIR) + "/golden_unet.safetensors");
  auto load = [&](const std::string& name) {
    Shape s;
    auto v = f.read<float>(name, &s);
    return Tensor<float>::from_vector(s, v);
  };
  Tape<float> tape;
  auto y = unet(store, tape.constant(load("/sample")), tape.constant(load("/timesteps")),
                tape.constant(load("/global_cond")));
  EXPECT_LE(testing::relative_error(y.value().to_vector(), f.read<double>("/y")), 1e-5);
}

TEST(Safetensors, RoundTripAndBadFiles) {
  const std::string dir = ::testing::TempDir();
  nn::ParamStore<float> a;
  nn::ConditionalUnet1D<float> ua(a, small_unet_config());
  a.allocate();
  a.initialize(3);
  nn::save_safetensors(a, dir + "/rt.safetensors", {{"algo", "diffusion_policy"}});
  nn::ParamStore<double> b;
  nn::ConditionalUnet1D<double> ub(b, small_unet_config());
  b.allocate();
  nn::load_safetensors(b, dir + "/rt.safetensors");
  const auto va = a.values().to_vector();
  const auto vb = b.values().to_vector();
  for (size_t i = 0; i < va.size(); ++i) ASSERT_EQ(double(va[i]), vb[i]);
  EXPECT_EQ(nn::read_safetensors(dir + "/rt.safetensors").metadata.at("algo"), "diffusion_policy");

  auto expect_io_error = [&](const std::string& path, const std::string& needle) {
    try {
      nn::load_safetensors(b, path);
      FAIL() << "expected IoError for " << path;
    } catch (const IoError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  };
  // Truncated: half the file.
  {
    std::ifstream in(dir + "/rt.safetensors", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(dir + "/half.safetensors", std::ios::binary)
        .write(bytes.data(), std::streamsize(bytes.size() / 2));
    std::string bad = bytes;
    bad[8] = '#';  // replaces the header's opening brace
    std::ofstream(dir + "/badjson.safetensors", std::ios::binary)
        .write(bad.data(), std::streamsize(bad.size()));
  }
  expect_io_error(dir + "/half.safetensors", "");
  expect_io_error(dir + "/badjson.safetensors", "header");
  expect_io_error(dir + "/missing.safetensors", "cannot open");
  // Shape mismatch: a UNet with other widths.
  nn::UnetConfig other = small_unet_config();
  other.down_dims = {8, 16, 64};
  nn::ParamStore<float> c;
  nn::ConditionalUnet1D<float> uc(c, other);
  c.allocate();
  nn::save_safetensors(c, dir + "/other.safetensors");
  expect_io_error(dir + "/other.safetensors", "expected");
}

}  // namespace
}  // namespace mimic
