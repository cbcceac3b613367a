// One stream per policy, pinned uploads and CUDA graphs (issue: the GPU backend, item 3): each
// policy queues its work on its own stream; uploads through pinned staging arrive in order and
// intact across half switches and growth; a Diffusion Policy chunk replayed from its graph gives
// the kernel-by-kernel chunk bit for bit (and the CPU's within float tolerance); a body that
// cannot be captured falls back to running eagerly, says why, and still computes the right thing;
// two policies trained on two host threads at once match the same training one after the other.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "mimic/cuda/kernels.cuh"
#include "mimic/policy/bc/bc.hpp"
#include "mimic/policy/diffusion/diffusion_policy.hpp"
#include "support/optim_config.hpp"

namespace mimic::policy {
namespace {

using json = nlohmann::json;

#define MIMIC_REQUIRE_GPU() \
  if (!cuda::cuda_available()) GTEST_SKIP() << "no CUDA device: GPU test skipped"

ShapeMeta low_dim(int64_t obs, int64_t act) {
  ShapeMeta m;
  m.obs_shapes["obs"] = {obs};
  m.action_dim = act;
  return m;
}
Tensor<float> uniform_rows(Shape s, uint64_t seed) {
  auto t = Tensor<float>::empty(s);
  for (int64_t i = 0; i < t.numel(); ++i)
    t[i] = float(2 * philox_uniform<double>(seed, uint64_t(i)) - 1);
  return t;
}
DiffusionPolicySettings dp_settings(bool ddim) {
  const json algo = {
      {"horizon", {{"observation_horizon", 2}, {"action_horizon", 4}, {"prediction_horizon", 8}}},
      {"unet",
       {{"diffusion_step_embed_dim", 32},
        {"down_dims", {32, 64}},
        {"kernel_size", 3},
        {"n_groups", 8}}},
      {"ddpm", {{"enabled", !ddim}, {"num_inference_timesteps", 100}}},
      {"ddim", {{"enabled", ddim}, {"num_inference_timesteps", 10}}},
      {"optim_params", {{"policy", testing::adam_config(1e-3)}}}};
  return DiffusionPolicySettings::from_config({{"algo", algo}, {"train", json::object()}});
}
double max_abs_diff(const Tensor<float>& a, const Tensor<float>& b) {
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    worst = std::max(worst, std::abs(double(a[i]) - double(b[i])));
  return worst;
}

TEST(CudaQueue, EachPolicyQueuesOnItsOwnStream) {
  MIMIC_REQUIRE_GPU();
  DiffusionPolicy<float, Cuda> a(low_dim(6, 2), {}, dp_settings(true), 1, 1);
  DiffusionPolicy<float, Cuda> b(low_dim(6, 2), {}, dp_settings(true), 1, 1);
  EXPECT_EQ(a.device_queue().stream(), nullptr);  // made on first use
  const Tensor<float> obs = uniform_rows({2, 2, 6}, 3);
  const Tensor<float> ya = a.predict(obs), yb = b.predict(obs);
  ASSERT_NE(a.device_queue().stream(), nullptr);
  ASSERT_NE(b.device_queue().stream(), nullptr);
  EXPECT_NE(a.device_queue().stream(), b.device_queue().stream());
  EXPECT_EQ(max_abs_diff(ya, yb), 0.0) << "same seed and weights, same actions";
  EXPECT_EQ(cuda::current_stream(), cudaStreamLegacy) << "scopes restore the legacy stream";
}

TEST(CudaQueue, PinnedUploadsArriveInOrderAcrossHalvesAndGrowth) {
  MIMIC_REQUIRE_GPU();
  DeviceQueue<Cuda> queue;
  const auto scope = queue.enter();
  // Sizes from 4 bytes to 3 MiB: many half switches of the 1 MiB halves, and two growths.
  std::vector<int64_t> sizes;
  for (int i = 0; i < 200; ++i) sizes.push_back(1 + (int64_t(i) * 7919) % 20000);
  sizes.push_back(int64_t(3) << 18);  // 3 MiB of floats: grows the buffer
  for (int i = 0; i < 50; ++i) sizes.push_back(1 + (int64_t(i) * 104729) % 300000);
  std::vector<Tensor<float, Cuda>> device;
  std::vector<float> host;  // one host buffer, rewritten after every upload
  for (size_t k = 0; k < sizes.size(); ++k) {
    host.assign(size_t(sizes[k]), 0.0f);
    for (int64_t i = 0; i < sizes[k]; ++i) host[size_t(i)] = float(k) * 1e4f + float(i % 9973);
    device.push_back(Tensor<float, Cuda>::empty({sizes[k]}));
    Kernels<Cuda>::from_host(device.back().data(), host.data(), host.size() * sizeof(float));
    std::fill(host.begin(), host.end(), -1.0f);  // the source may be reused at once
  }
  for (size_t k = 0; k < sizes.size(); ++k) {
    const std::vector<float> back = device[k].to_vector();
    for (int64_t i = 0; i < sizes[k]; ++i)
      ASSERT_EQ(back[size_t(i)], float(k) * 1e4f + float(i % 9973))
          << "upload " << k << " [" << i << "]";
  }
}

TEST(CudaQueue, DiffusionChunkGraphReplaysTheEagerChunk) {
  MIMIC_REQUIRE_GPU();
  for (const bool ddim : {true, false}) {
    SCOPED_TRACE(ddim ? "DDIM 10" : "DDPM 100");
    DiffusionPolicy<float, Cuda> graphed(low_dim(6, 2), {}, dp_settings(ddim), 4, 1);
    DiffusionPolicy<float, Cuda> eager(low_dim(6, 2), {}, dp_settings(ddim), 4, 1);
    DiffusionPolicy<float, Cpu> cpu(low_dim(6, 2), {}, dp_settings(ddim), 4, 1);
    eager.set_recording(false);
    const Tensor<float> obs = uniform_rows({3, 2, 6}, 11);
    for (int call = 0; call < 4; ++call) {  // warm-up, capture + launch, then replays
      const Tensor<float> g = graphed.predict(obs), e = eager.predict(obs), c = cpu.predict(obs);
      EXPECT_EQ(max_abs_diff(g, e), 0.0) << "call " << call;
      EXPECT_LT(max_abs_diff(g, c), 1e-3) << "call " << call;
    }
    EXPECT_EQ(graphed.recording_fallback(), "");
    EXPECT_EQ(graphed.device_queue().recorded_launches(), 3);
    EXPECT_EQ(eager.device_queue().recorded_launches(), 0);
    // A new batch size records anew (the buffers change), and still matches.
    const Tensor<float> one = uniform_rows({1, 2, 6}, 12);
    for (int call = 0; call < 3; ++call)
      EXPECT_EQ(max_abs_diff(graphed.predict(one), eager.predict(one)), 0.0) << "b=1 " << call;
    EXPECT_EQ(graphed.device_queue().recorded_launches(), 5);
  }
}

TEST(CudaQueue, UncapturableWorkFallsBackWithTheReasonAndStaysCorrect) {
  MIMIC_REQUIRE_GPU();
  DeviceQueue<Cuda> queue;
  auto target = Tensor<float, Cuda>::zeros({64});
  std::vector<float> host(64);
  for (int call = 0; call < 3; ++call) {
    for (int i = 0; i < 64; ++i) host[size_t(i)] = float(call * 100 + i);
    // A host upload inside the body: a graph would replay the capture-time data, so it refuses.
    queue.run_recorded(
        0, [&] { Kernels<Cuda>::from_host(target.data(), host.data(), 64 * sizeof(float)); });
    const std::vector<float> back = target.to_vector();
    for (int i = 0; i < 64; ++i) ASSERT_EQ(back[size_t(i)], float(call * 100 + i)) << call;
  }
  EXPECT_NE(queue.recording_fallback().find("host-to-device copy"), std::string::npos)
      << queue.recording_fallback();
  EXPECT_EQ(queue.recorded_launches(), 0);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "the failed capture leaves no error behind";
}

// BC on two host threads at once, each policy on its own stream and cuBLAS handle, gives the
// same losses and weights as training the two one after the other.
TEST(CudaQueue, TwoPoliciesOnTwoThreadsMatchSequentialTraining) {
  MIMIC_REQUIRE_GPU();
  const json config = {{"algo",
                        {{"actor_layer_dims", {256, 256}},
                         {"optim_params", {{"policy", testing::adam_config(1e-3)}}}}},
                       {"train", json::object()}};
  const auto settings = BcSettings::from_config(config);
  data::Batch batch;
  batch.obs["obs"] = uniform_rows({64, 1, 10}, 5);
  batch.data["actions"] = uniform_rows({64, 1, 3}, 6);
  const auto train = [&](Bc<float, Cuda>& p, std::vector<double>& losses) {
    for (int i = 0; i < 20; ++i) losses.push_back(p.train_on_batch(batch).at("Loss"));
  };
  Bc<float, Cuda> s1(low_dim(10, 3), {}, settings, 1, 1), s2(low_dim(10, 3), {}, settings, 2, 1);
  Bc<float, Cuda> c1(low_dim(10, 3), {}, settings, 1, 1), c2(low_dim(10, 3), {}, settings, 2, 1);
  std::vector<double> ls1, ls2, lc1, lc2;
  train(s1, ls1);
  train(s2, ls2);
  std::thread t1([&] { train(c1, lc1); }), t2([&] { train(c2, lc2); });
  t1.join();
  t2.join();
  EXPECT_EQ(ls1, lc1);
  EXPECT_EQ(ls2, lc2);
  EXPECT_EQ(s1.params().values().to_vector(), c1.params().values().to_vector());
  EXPECT_EQ(s2.params().values().to_vector(), c2.params().values().to_vector());
}

}  // namespace
}  // namespace mimic::policy
