// mimic_bench_gpu: the rows of bench/reference/torch_rows.py on the GPU, with the same sizes, for
// tools/gpu_check.sh to set beside PyTorch on the same GPU. Needs neither HDF5 nor MuJoCo, so
// the binary can be carried to a GPU machine. Prints one JSON object {row: median ms}.
//
//   mimic_bench_gpu [--rows a,b] [--repeats N] [--min_seconds S]
//
// Each row times one step after a warm-up, synchronizing the device after every step, and
// reports the median. Sizes (FLOPs per step, forward only, multiply-add = 2):
//   unet_train_b256        Push-T UNet (65.8M parameters), batch 256 x horizon 16: ~0.59 GFLOP
//                          per sample forward, ~450 GFLOP per step with backward; AdamW + EMA.
//   unet_denoise_b1        one UNet call at batch 1 (~0.59 GFLOP).
//   dp_chunk_ddim10_b1     a Diffusion Policy chunk: 10 DDIM steps of the UNet (~6 GFLOP).
//   dp_chunk_ddpm100_b1    the same with 100 DDPM steps (~59 GFLOP).
//   dp_chunk_ddim10_b1_eager  dp_chunk_ddim10_b1 without the CUDA graph (kernel by kernel).
//   bc_train_b100          BC MLP 19 -> 1024 -> 1024 -> 7: ~0.23 GFLOP forward.
//   bcrnn_train_b100       LSTM 2 x 400 over 10 steps, batch 100: ~2.6 GFLOP forward.
//   bcrnn_step_b1          one BC-RNN rollout step with carried state (launch-bound).
//   ibc_dfo_b1             IBC DFO: 4 energy passes over 1024 samples of a 4 x 1024 MLP.
//   resnet18_train_b16_84  VisualCore (ResNet18 + SpatialSoftmax), 16 images of 84x84: ~28 GFLOP.
//   dp_image_chunk_b1      two 96x96 frames through the GroupNorm encoder + 10 DDIM UNet steps.
#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "mimic/cuda/kernels.cuh"
#include "mimic/mimic.hpp"
#include "mimic/policy/bc/bc.hpp"
#include "mimic/policy/bc/bc_rnn.hpp"
#include "mimic/policy/diffusion/diffusion_policy.hpp"
#include "mimic/policy/ibc/ibc.hpp"

namespace mimic::bench {
namespace {

using json = nlohmann::json;
using Step = std::function<void()>;

Tensor<float> host_uniform(const Shape& s, uint64_t seed, float lo = -1, float hi = 1) {
  auto t = Tensor<float>::empty(s);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = lo + (hi - lo) * philox_uniform<float>(seed, i);
  return t;
}
template <class D>
Tensor<float, D> on(const Tensor<float>& host) {
  return Tensor<float, D>::from_vector(host.shape(), host.to_vector());
}

template <class D>
void synchronize() {
  if constexpr (std::is_same_v<D, Cuda>) MIMIC_CUDA_CHECK(cudaDeviceSynchronize());
}

nn::UnetConfig pusht_unet(int64_t cond_dim = 40) {
  nn::UnetConfig cfg;
  cfg.input_dim = 2;
  cfg.global_cond_dim = cond_dim;
  return cfg;
}
json adam(double lr = 1e-4) {
  return {{"optimizer_type", "adam"}, {"learning_rate", {{"initial", lr}}}};
}
policy::ShapeMeta low_dim_meta(int64_t obs, int64_t act) {
  policy::ShapeMeta m;
  m.obs_shapes["obs"] = {obs};
  m.action_dim = act;
  return m;
}
policy::Normalization limits(int64_t obs, int64_t act) {
  policy::Normalization n;
  n.obs = {std::vector<double>(size_t(obs), 256.0), std::vector<double>(size_t(obs), 256.0)};
  n.action = {std::vector<double>(size_t(act), 256.0), std::vector<double>(size_t(act), 256.0)};
  return n;
}

template <class D>
Step unet_train_b256() {
  struct S {
    nn::ParamStore<float, D> store;
    std::optional<nn::ConditionalUnet1D<float, D>> unet;
    std::unique_ptr<optim::Adam<float, D>> opt;
    std::unique_ptr<optim::Ema<float, D>> ema;
    Tensor<float, D> x, noise, cond, t;
    Tape<float, D> tape{size_t(1) << 30};
  };
  auto s = std::make_shared<S>();
  s->unet.emplace(s->store, pusht_unet());
  s->store.allocate();
  s->store.initialize(0);
  s->opt =
      std::make_unique<optim::Adam<float, D>>(optim::make_adamw(s->store, 1e-4, 0.95, 0.999, 1e-6));
  s->ema = std::make_unique<optim::Ema<float, D>>(s->store, optim::EmaOptions{});
  const int64_t b = 256;
  s->x = on<D>(host_uniform({b, 16, 2}, 1));
  s->noise = on<D>(host_uniform({b, 16, 2}, 2));
  s->cond = on<D>(host_uniform({b, 40}, 3));
  auto t = Tensor<float>::empty({b});
  for (int64_t i = 0; i < b; ++i) t[i] = float(i % 100);
  s->t = on<D>(t);
  return [s] {
    s->tape.reset();
    s->store.zero_grad();
    auto pred = (*s->unet)(s->store, s->tape.constant(s->x), s->tape.constant(s->t),
                           s->tape.constant(s->cond));
    s->tape.backward(loss::mse(pred, s->tape.constant(s->noise)));
    s->opt->step();
    s->ema->update();
  };
}

template <class D>
Step unet_denoise_b1() {
  struct S {
    nn::ParamStore<float, D> store;
    std::optional<nn::ConditionalUnet1D<float, D>> unet;
    Tensor<float, D> x, cond, t;
    Tape<float, D> tape{size_t(1) << 26};
  };
  auto s = std::make_shared<S>();
  s->unet.emplace(s->store, pusht_unet());
  s->store.allocate();
  s->store.initialize(0);
  s->x = on<D>(host_uniform({1, 16, 2}, 1));
  s->cond = on<D>(host_uniform({1, 40}, 3));
  s->t = Tensor<float, D>::full({1}, 10.f);
  return [s] {
    s->tape.reset();
    auto guard = s->tape.no_grad();
    (*s->unet)(s->store, s->tape.constant(s->x), s->tape.constant(s->t), s->tape.constant(s->cond));
  };
}

template <class D>
Step dp_chunk(bool ddim, bool record_graph = true) {
  json algo = {
      {"horizon", {{"observation_horizon", 2}, {"action_horizon", 8}, {"prediction_horizon", 16}}},
      {"ddpm", {{"enabled", !ddim}, {"num_inference_timesteps", 100}}},
      {"ddim", {{"enabled", ddim}, {"num_inference_timesteps", 10}}},
      {"optim_params", {{"policy", adam()}}}};
  auto dp = std::make_shared<policy::DiffusionPolicy<float, D>>(
      low_dim_meta(20, 2), limits(20, 2),
      policy::DiffusionPolicySettings::from_config({{"algo", algo}, {"train", json::object()}}), 1,
      1);
  dp->set_recording(record_graph);
  const Tensor<float> obs = host_uniform({1, 2, 20}, 3);
  return [dp, obs] { dp->predict(obs); };
}

template <class D>
Step bc_train_b100() {
  json algo = {{"actor_layer_dims", {1024, 1024}},
               {"loss", {{"l2_weight", 1.0}, {"l1_weight", 1.0}, {"cos_weight", 1.0}}},
               {"optim_params", {{"policy", adam()}}}};
  auto bc = std::make_shared<policy::Bc<float, D>>(
      low_dim_meta(19, 7), policy::Normalization{},
      policy::BcSettings::from_config({{"algo", algo}, {"train", json::object()}}), 1, 1);
  auto batch = std::make_shared<data::Batch>();
  batch->obs["obs"] = host_uniform({100, 1, 19}, 1);
  batch->data["actions"] = host_uniform({100, 1, 7}, 2);
  return [bc, batch] { bc->train_on_batch(*batch); };
}

template <class D>
Step bcrnn_train_b100() {
  struct S {
    nn::ParamStore<float, D> store;
    std::optional<nn::Rnn<float, D>> lstm;
    std::optional<nn::Linear<float, D>> head;
    std::unique_ptr<optim::Adam<float, D>> opt;
    Tensor<float, D> x, y;
    Tape<float, D> tape{size_t(1) << 26};
  };
  auto s = std::make_shared<S>();
  s->lstm.emplace(nn::make_lstm(s->store, "rnn", 19, 400, 2));
  s->head.emplace(s->store, "head", 400, 7);
  s->store.allocate();
  s->store.initialize(0);
  s->opt = std::make_unique<optim::Adam<float, D>>(s->store, optim::AdamOptions{});
  s->x = on<D>(host_uniform({100, 10, 19}, 1));
  s->y = on<D>(host_uniform({100, 10, 7}, 2));
  return [s] {
    s->tape.reset();
    s->store.zero_grad();
    auto out = (*s->head)(s->store, (*s->lstm)(s->store, s->tape.constant(s->x)).output);
    s->tape.backward(loss::mse(out, s->tape.constant(s->y)));
    s->opt->step();
  };
}

template <class D>
Step bcrnn_step_b1() {
  json algo = {{"actor_layer_dims", json::array()},
               {"rnn", {{"enabled", true}, {"hidden_dim", 400}, {"num_layers", 2}}},
               {"optim_params", {{"policy", adam()}}}};
  auto rnn = std::make_shared<policy::BcRnn<float, D>>(
      low_dim_meta(19, 7), policy::Normalization{},
      policy::BcRnnSettings::from_config({{"algo", algo}, {"train", json::object()}}), 1, 1);
  auto carry = std::make_shared<policy::RnnCarry>();
  const Tensor<float> x = host_uniform({1, 19}, 4);
  return [rnn, carry, x] { rnn->act_step(x, *carry); };
}

template <class D>
Step ibc_dfo_b1() {
  json algo = {{"horizon", {{"observation_horizon", 2}, {"action_horizon", 1}}},
               {"energy", {{"layer_dims", {1024, 1024, 1024, 1024}}, {"dropout", 0.1}}},
               {"inference", {{"method", "dfo"}, {"num_samples", 1024}, {"iterations", 3}}},
               {"optim_params", {{"policy", adam()}}}};
  auto ibc = std::make_shared<policy::Ibc<float, D>>(
      low_dim_meta(20, 2), policy::Normalization{},
      policy::IbcSettings::from_config({{"algo", algo}, {"train", json::object()}}), 1, 1);
  const Tensor<float> obs = host_uniform({1, 2, 20}, 5);
  return [ibc, obs] { ibc->predict(obs); };
}

template <class D>
Step resnet18_train_b16_84() {
  struct S {
    nn::ParamStore<float, D> store;
    std::optional<nn::VisualCore<float, D>> core;
    Tensor<float, D> x, w;
    Tape<float, D> tape{size_t(1) << 28};
  };
  auto s = std::make_shared<S>();
  s->core.emplace(s->store, "", Shape{3, 84, 84});
  s->store.allocate();
  s->store.initialize(0);
  s->x = on<D>(host_uniform({16, 3, 84, 84}, 1, 0, 1));
  s->w = on<D>(host_uniform({16, 64}, 2, 0, 1));
  return [s] {
    s->tape.reset();
    s->store.zero_grad();
    Var<float, D> y = (*s->core)(s->store, s->tape.constant(s->x), nullptr, true);
    s->tape.backward(ops::sum(ops::mul(y, s->tape.constant(s->w))));
  };
}

template <class D>
Step dp_image_chunk_b1() {
  json rgb = {{"core_class", "VisualCore"},
              {"core_kwargs", {{"feature_dimension", 64}, {"pool_kwargs", {{"num_kp", 32}}}}},
              {"obs_randomizer_class", "CropRandomizer"},
              {"obs_randomizer_kwargs", {{"crop_height", 84}, {"crop_width", 84}}}};
  json algo = {
      {"horizon", {{"observation_horizon", 2}, {"action_horizon", 8}, {"prediction_horizon", 16}}},
      {"ddpm", {{"enabled", false}}},
      {"ddim", {{"enabled", true}, {"num_inference_timesteps", 10}}},
      {"optim_params", {{"policy", adam()}}}};
  policy::ShapeMeta meta;
  meta.obs_shapes["agent_pos"] = {2};
  meta.obs_shapes["image"] = {3, 96, 96};
  meta.rgb_keys = {"image"};
  meta.action_dim = 2;
  auto dp = std::make_shared<policy::DiffusionPolicy<float, D>>(
      meta, limits(2, 2),
      policy::DiffusionPolicySettings::from_config(
          {{"algo", algo},
           {"train", json::object()},
           {"observation", {{"encoder", {{"rgb", rgb}}}}}}),
      1, 1);
  const Tensor<float> obs = host_uniform({1, 2, meta.obs_dim()}, 3, 0, 1);
  return [dp, obs] { dp->predict(obs); };
}

template <class D>
std::map<std::string, std::function<Step()>> rows() {
  return {{"unet_train_b256", unet_train_b256<D>},
          {"unet_denoise_b1", unet_denoise_b1<D>},
          {"dp_chunk_ddim10_b1", [] { return dp_chunk<D>(true); }},
          {"dp_chunk_ddpm100_b1", [] { return dp_chunk<D>(false); }},
          {"dp_chunk_ddim10_b1_eager", [] { return dp_chunk<D>(true, false); }},
          {"bc_train_b100", bc_train_b100<D>},
          {"bcrnn_train_b100", bcrnn_train_b100<D>},
          {"bcrnn_step_b1", bcrnn_step_b1<D>},
          {"ibc_dfo_b1", ibc_dfo_b1<D>},
          {"resnet18_train_b16_84", resnet18_train_b16_84<D>},
          {"dp_image_chunk_b1", dp_image_chunk_b1<D>}};
}

// Median milliseconds of `step` over at least `repeats` runs and `min_seconds` (at most 1000).
template <class D>
double time_row(const Step& step, int repeats, double min_seconds) {
  using clock = std::chrono::steady_clock;
  step();  // warm-up: first-touch allocations, cuBLAS handles and workspaces
  synchronize<D>();
  std::vector<double> ms;
  const auto start = clock::now();
  while (int(ms.size()) < repeats ||
         (std::chrono::duration<double>(clock::now() - start).count() < min_seconds &&
          ms.size() < 1000)) {
    const auto t0 = clock::now();
    step();
    synchronize<D>();
    ms.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms.size() % 2 ? ms[ms.size() / 2] : 0.5 * (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]);
}

template <class D>
int run(const std::vector<std::string>& wanted, int repeats, double min_seconds) {
  const auto table = rows<D>();
  json out = json::object();
  for (const std::string& name : wanted) {
    auto it = table.find(name);
    if (it == table.end()) {
      std::cerr << "mimic_bench_gpu: unknown row '" << name << "'\n";
      return 2;
    }
    try {
      out[name] = time_row<D>(it->second(), name == "unet_train_b256" ? 3 : repeats, min_seconds);
    } catch (const std::exception& e) {
      out[name] = std::string("error: ") + e.what();
    }
    std::cerr << name << ": " << out[name].dump() << "\n";
  }
  out["_device"] = std::string(D::name);
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace
}  // namespace mimic::bench

int main(int argc, char** argv) {
  using namespace mimic::bench;
  std::vector<std::string> wanted;
  for (const auto& [name, make] : rows<mimic::Cuda>()) wanted.push_back(name);
  int repeats = 5;
  double min_seconds = 1.0;
  std::string device = "cuda";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--rows") {
      wanted.clear();
      std::stringstream ss(value);
      for (std::string r; std::getline(ss, r, ',');) wanted.push_back(r);
    } else if (flag == "--repeats") {
      repeats = std::stoi(value);
    } else if (flag == "--min_seconds") {
      min_seconds = std::stod(value);
    } else if (flag == "--device") {
      device = value;
    } else {
      std::cerr << "usage: mimic_bench_gpu [--rows a,b] [--repeats N] [--min_seconds S]\n";
      return 2;
    }
  }
#if MIMIC_BENCH_ROWS_ON_CPU  // a check of the harness itself on a machine without a GPU
  if (device == "cpu") return run<mimic::Cpu>(wanted, repeats, min_seconds);
#endif
  if (!mimic::cuda::cuda_available()) {
    std::cerr << "mimic_bench_gpu: " << mimic::cuda::cuda_unavailable_reason() << "\n";
    return 1;
  }
  return run<mimic::Cuda>(wanted, repeats, min_seconds);
}
