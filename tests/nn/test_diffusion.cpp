// Noise schedules and DDPM / DDIM sampling against a float64 reference of the formulas
// (tests/reference/make_diffusion_fixtures.py).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "mimic/mimic.hpp"

namespace mimic {
namespace {

nlohmann::json fixture() {
  std::ifstream in(std::string(MIMIC_TEST_DATA_DIR) + "/golden_diffusion.json");
  if (!in) throw IoError("golden_diffusion.json: cannot open");
  return nlohmann::json::parse(in);
}

void expect_close(const std::vector<double>& a, const std::vector<double>& b, double tol,
                  const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], tol) << what << " [" << i << "]";
}

TEST(Diffusion, BetaTables) {
  const auto f = fixture();
  for (const char* name : {"linear", "scaled_linear", "squaredcos_cap_v2"}) {
    auto b = diffusion::make_betas(diffusion::beta_schedule_from_name(name), 100);
    expect_close(b, f[name]["betas"].get<std::vector<double>>(), 1e-12, name);
    expect_close(diffusion::alphas_cumprod(b), f[name]["alphas_cumprod"].get<std::vector<double>>(),
                 1e-12, name);
  }
  EXPECT_THROW(diffusion::beta_schedule_from_name("cosine"), ValueError);
}

// eps(x, t) = 0.3 x + 0.002 t, as in the reference script.
template <class T>
Tensor<T> model(const Tensor<T>& x, int64_t t) {
  auto out = Tensor<T>::empty(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) out[i] = T(0.3) * x[i] + T(0.002 * t);
  return out;
}

template <class T>
void run_sampler(diffusion::SamplerKind kind, int64_t steps, const std::string& key, double tol) {
  const auto f = fixture();
  diffusion::SchedulerConfig cfg;  // DP: 100 steps, squaredcos_cap_v2, clip, epsilon
  diffusion::Scheduler<T> sched(kind, cfg);
  sched.set_timesteps(steps);
  const auto x0 = f["x_init"].get<std::vector<double>>();
  auto x = Tensor<T>::empty({2, 3});
  for (int i = 0; i < 6; ++i) x[i] = T(x0[i]);
  const auto& traj = f[key];
  int k = 0;
  for (int64_t t : sched.timesteps()) {
    auto noise = Tensor<T>::empty({2, 3});
    for (int i = 0; i < 6; ++i) noise[i] = T(f["noises"][k][i].get<double>());
    auto next = Tensor<T>::empty({2, 3});
    sched.step(model(x, t), t, x, next, noise);
    x = next;
    const std::vector<T> values = x.to_vector();
    std::vector<double> got(values.begin(), values.end());
    expect_close(got, traj[k].get<std::vector<double>>(), tol, key + " step " + std::to_string(k));
    ++k;
  }
  EXPECT_EQ(k, steps);
}

TEST(Diffusion, DdpmTrajectory) {
  run_sampler<double>(diffusion::SamplerKind::kDdpm, 100, "ddpm_trajectory", 1e-10);
  run_sampler<float>(diffusion::SamplerKind::kDdpm, 100, "ddpm_trajectory", 1e-5);
}
TEST(Diffusion, DdimTrajectory) {
  run_sampler<double>(diffusion::SamplerKind::kDdim, 10, "ddim10_trajectory", 1e-10);
  run_sampler<float>(diffusion::SamplerKind::kDdim, 10, "ddim10_trajectory", 1e-6);
}

TEST(Diffusion, TimestepsAddNoiseAndErrors) {
  diffusion::SchedulerConfig cfg;
  diffusion::Scheduler<double> ddim(diffusion::SamplerKind::kDdim, cfg);
  ddim.set_timesteps(8);
  EXPECT_EQ(ddim.timesteps(), (std::vector<int64_t>{84, 72, 60, 48, 36, 24, 12, 0}));
  cfg.steps_offset = 1;
  diffusion::Scheduler<double> shifted(diffusion::SamplerKind::kDdim, cfg);
  shifted.set_timesteps(10);
  EXPECT_EQ(shifted.timesteps().front(), 91);
  EXPECT_THROW(ddim.set_timesteps(0), ValueError);
  auto x0 = Tensor<double>::from_list({2, 1}, {1.0, 1.0});
  auto z = Tensor<double>::from_list({2, 1}, {0.5, -0.5});
  auto xt = Tensor<double>::empty({2, 1});
  ddim.add_noise(x0, z, {0, 99}, xt);
  const auto& ac = ddim.alphas_cumprod();
  EXPECT_NEAR(xt[0], std::sqrt(ac[0]) + std::sqrt(1 - ac[0]) * 0.5, 1e-15);
  EXPECT_NEAR(xt[1], std::sqrt(ac[99]) - std::sqrt(1 - ac[99]) * 0.5, 1e-15);
  EXPECT_THROW(ddim.add_noise(x0, z, {0, 100}, xt), ValueError);
  EXPECT_THROW(ddim.add_noise(x0, z, {0}, xt), ShapeError);
  // DDPM draws its own noise from a Philox stream when none is given; same seed, same result.
  diffusion::Scheduler<double> ddpm(diffusion::SamplerKind::kDdpm, diffusion::SchedulerConfig{});
  auto a = Tensor<double>::empty({2, 1}), b = Tensor<double>::empty({2, 1});
  PhiloxStream r1{5, 0}, r2{5, 0};
  ddpm.step(x0, 50, z, a, Tensor<double>(), &r1);
  ddpm.step(x0, 50, z, b, Tensor<double>(), &r2);
  EXPECT_EQ(a.to_vector(), b.to_vector());
  EXPECT_THROW(ddpm.step(x0, 50, z, a, Tensor<double>()), ValueError);
}

// A sampling loop that draws all its noise up front (x_T, then one block per step that adds
// noise, as Diffusion Policy's graph-recorded chunk does) gives bit for bit the loop that draws
// at each step from the same stream, for DDPM and DDIM; the stand-in model is 0.3 * sample.
TEST(Diffusion, NoiseDrawnUpFrontEqualsNoiseDrawnAtEachStep) {
  for (const auto kind : {diffusion::SamplerKind::kDdpm, diffusion::SamplerKind::kDdim}) {
    diffusion::Scheduler<float> sched(kind, diffusion::SchedulerConfig{});
    sched.set_timesteps(kind == diffusion::SamplerKind::kDdpm ? 100 : 10);
    const bool ddpm = kind == diffusion::SamplerKind::kDdpm;
    EXPECT_EQ(sched.chunk_noise_blocks(), ddpm ? 100 : 1);  // x_T + the 99 steps with t > 0
    EXPECT_EQ(sched.step_draws_noise(0), false);
    EXPECT_EQ(sched.step_draws_noise(1), ddpm);
    const int64_t n = 3 * 16 * 2;
    const auto model = [&](const Tensor<float>& x) {
      auto out = Tensor<float>::empty(x.shape());
      for (int64_t i = 0; i < x.numel(); ++i) out[i] = 0.3f * x[i];
      return out;
    };
    // At each step, from the stream.
    PhiloxStream r1{17, 4};
    auto x = Tensor<float>::empty({3, 16, 2}), next = Tensor<float>::empty({3, 16, 2});
    Kernels<Cpu>::generate(n, diffusion::detail::NormalNoise<float>{r1.seed, r1.advance(n)},
                           x.data());
    for (int64_t t : sched.timesteps()) {
      sched.step(model(x), t, x, next, Tensor<float>(), &r1);
      std::swap(x, next);
    }
    // Up front, in one draw.
    PhiloxStream r2{17, 4};
    const int64_t blocks = sched.chunk_noise_blocks();
    auto noise = Tensor<float>::empty({blocks, 3, 16, 2});
    Kernels<Cpu>::generate(blocks * n,
                           diffusion::detail::NormalNoise<float>{r2.seed, r2.advance(blocks * n)},
                           noise.data());
    auto y = noise.select(0).clone(), ynext = Tensor<float>::empty({3, 16, 2});
    int64_t drawn = 1;
    for (int64_t t : sched.timesteps()) {
      const Tensor<float> z = sched.step_draws_noise(t) ? noise.select(drawn++) : Tensor<float>();
      sched.step(model(y), t, y, ynext, z);
      std::swap(y, ynext);
    }
    EXPECT_EQ(drawn, blocks);
    EXPECT_EQ(r1.offset, r2.offset);  // the stream ends where it would have
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(x[i], y[i]) << (ddpm ? "DDPM " : "DDIM ") << i;
  }
}

}  // namespace
}  // namespace mimic
