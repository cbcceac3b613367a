// A small ConditionalUnet1D given PyTorch's weights (loaded by state-dict name) gives PyTorch's
// output and parameter gradients (tests/reference/make_unet_fixture.py).
#include <gtest/gtest.h>

#include <cmath>

#include "mimic/mimic.hpp"
#include "support/h5_fixture.hpp"

namespace mimic {
namespace {

template <class T>
double relative_error(const std::vector<T>& a, const std::vector<double>& b) {
  double diff = 0, scale = 1e-30;
  for (size_t i = 0; i < b.size(); ++i) {
    diff = std::max(diff, std::abs(double(a[i]) - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  return a.size() == b.size() ? diff / scale : 1e30;
}

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
  EXPECT_LE(relative_error(y.value().to_vector(), f.read<double>("/y")), tol) << "output";
  for (const auto& e : store.entries())
    EXPECT_LE(relative_error(store.grad(store.find(e.name)).to_vector(),
                             f.read<double>("/grads/" + e.name)),
              tol)
        << e.name;
}

TEST(Golden, ConditionalUnet1DFloat) { check_unet<float>(1e-5); }
TEST(Golden, ConditionalUnet1DDouble) { check_unet<double>(1e-10); }

}  // namespace
}  // namespace mimic
