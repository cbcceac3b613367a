#pragma once
// Implicit BC: an energy MLP E(obs, action) trained with InfoNCE against uniform negatives inside
// the normalized action bounds [-1, 1]; inference minimizes the energy without gradients
// (derivative-free optimization: resample by softmax(-E), perturb, shrink the noise or keep it
// constant) or with Langevin dynamics on dE/da.
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimic/config/schema.hpp"
#include "mimic/loss/losses.hpp"
#include "mimic/nn/dropout.hpp"
#include "mimic/nn/linear.hpp"
#include "mimic/ops/dropout.hpp"
#include "mimic/ops/shape.hpp"
#include "mimic/policy/core/policy.hpp"
#include "mimic/policy/ibc/defaults.hpp"

namespace mimic::policy {

struct IbcSettings {
  int64_t n_obs_steps = 2, n_action_steps = 1;
  std::vector<int64_t> layer_dims{1024, 1024, 1024, 1024};
  double dropout = 0.1;
  int64_t num_negatives = 1024;
  std::string method = "dfo";  // "dfo" | "dfo_constant" | "langevin"
  int64_t num_samples = 1024, iterations = 3;
  double noise_scale = 0.33, noise_shrink = 0.5, constant_noise = 0.03;
  int64_t langevin_steps = 100;
  double langevin_step_init = 1e-1, langevin_step_final = 1e-5;
  OptimizerSettings optim;

  static IbcSettings from_config(const nlohmann::json& given) {
    const nlohmann::json config = with_defaults(ibc_defaults(), given);
    IbcSettings s;
    const auto& algo = config.at("algo");
    const auto& h = algo.at("horizon");
    s.n_obs_steps = config::bounded(h.at("observation_horizon"), "algo.horizon.observation_horizon",
                                    1, config::kMaxConfigSize);
    s.n_action_steps = config::bounded(h.at("action_horizon"), "algo.horizon.action_horizon", 1,
                                       config::kMaxConfigSize);
    const auto& e = algo.at("energy");
    s.layer_dims = config::bounded_list(e, "layer_dims", "algo.energy", 1, config::kMaxConfigSize);
    s.dropout = config::typed<double>(e, "dropout", "algo.energy");
    if (!(s.dropout >= 0 && s.dropout < 1))
      throw ValueError("config: 'algo.energy.dropout' must be in [0, 1), got " +
                       e["dropout"].dump());
    s.num_negatives = config::bounded(algo.at("train").at("num_negatives"),
                                      "algo.train.num_negatives", 1, config::kMaxConfigSize);
    const auto& i = algo.at("inference");
    const std::string in = "algo.inference";
    s.method = config::typed<std::string>(i, "method", in);
    s.num_samples =
        config::bounded(i.at("num_samples"), in + ".num_samples", 1, config::kMaxConfigSize);
    s.iterations =
        config::bounded(i.at("iterations"), in + ".iterations", 0, config::kMaxConfigSize);
    s.noise_scale = config::typed<double>(i, "noise_scale", in);
    s.noise_shrink = config::typed<double>(i, "noise_shrink", in);
    s.constant_noise = config::typed<double>(i, "constant_noise", in);
    s.langevin_steps =
        config::bounded(i.at("langevin_steps"), in + ".langevin_steps", 0, config::kMaxConfigSize);
    s.langevin_step_init = config::typed<double>(i, "langevin_step_init", in);
    s.langevin_step_final = config::typed<double>(i, "langevin_step_final", in);
    if (s.method != "dfo" && s.method != "dfo_constant" && s.method != "langevin")
      throw ValueError("algo.inference.method: expected dfo, dfo_constant or langevin, got '" +
                       s.method + "'");
    if (s.n_obs_steps < 1 || s.n_action_steps < 1 || s.num_negatives < 1 || s.num_samples < 1 ||
        s.iterations < 0 || s.layer_dims.empty())
      throw ValueError(
          "algo: IBC horizons, num_negatives, num_samples and layer_dims must be positive");
    s.optim = OptimizerSettings::from_config(config);
    return s;
  }
};

template <class T = float, class D = Cpu>
class Ibc : public Policy<T, D> {
 public:
  Ibc(const ShapeMeta& meta, const Normalization& norm, const IbcSettings& s, uint64_t seed,
      int64_t schedule_units)
      : Policy<T, D>("ibc", meta, norm, seed), s_(s) {
    if (!meta.rgb_keys.empty())
      throw UnsupportedError("ibc: image observations ('" + *meta.rgb_keys.begin() +
                             "') are not supported by the energy MLP; use low-dim keys");
    obs_width_ = s.n_obs_steps * meta.obs_dim();
    act_width_ = s.n_action_steps * meta.action_dim;
    int64_t in = obs_width_ + act_width_, index = 0;
    for (int64_t d : s.layer_dims) {  // Linear, ReLU, Dropout per hidden layer (nn.Sequential)
      layers_.emplace_back(this->store_, "energy." + std::to_string(index), in, d);
      index += 3;
      in = d;
    }
    layers_.emplace_back(this->store_, "energy." + std::to_string(index), in, 1);
    this->finish_setup(s.optim, schedule_units);
  }
  int64_t n_obs_steps() const override { return s_.n_obs_steps; }
  const IbcSettings& settings() const { return s_; }

  // Normalized observation features [B, To, obs_dim] -> actions [B, Ta, A] (dataset space).
  Tensor<float> predict(const Tensor<float>& obs_features) {
    const auto on_queue = this->on_device_queue();
    const int64_t b = obs_features.dim(0), n = s_.num_samples, k = act_width_;
    std::vector<float> samples(size_t(b * n * k));
    uniform_fill(samples);
    std::vector<float> energies;
    if (s_.method == "langevin") {
      langevin(obs_features, samples);
    } else {
      double sigma = s_.method == "dfo" ? s_.noise_scale : s_.constant_noise;
      for (int64_t it = 0; it < s_.iterations; ++it) {
        energies = evaluate(obs_features, samples);
        resample(energies, samples, sigma);
        if (s_.method == "dfo") sigma *= s_.noise_shrink;
      }
    }
    energies = evaluate(obs_features, samples);
    auto out = Tensor<float>::empty({b, s_.n_action_steps, this->meta_.action_dim});
    for (int64_t i = 0; i < b; ++i) {
      int64_t best = 0;
      for (int64_t j = 1; j < n; ++j)
        if (energies[size_t(i * n + j)] < energies[size_t(i * n + best)]) best = j;
      std::copy_n(samples.data() + (i * n + best) * k, k, out.data() + i * k);
    }
    unnormalize_rows(this->norm_.action, out.data(), b * s_.n_action_steps, this->meta_.action_dim);
    return out;
  }

  Tensor<float> act_rollout(const Tensor<float>& features, const std::vector<int>&) override {
    return predict(features);
  }

  // Energies [B * per_row] of normalized candidate actions (per_row of them for each of the B
  // observation rows [B, To, obs_dim]), without gradients and without dropout.
  std::vector<float> energies(const Tensor<float>& obs, const std::vector<float>& candidates,
                              int64_t per_row) {
    if (int64_t(candidates.size()) != obs.dim(0) * per_row * act_width_)
      throw ShapeError("Ibc::energies: " + std::to_string(candidates.size()) +
                       " candidate values do not match " + std::to_string(obs.dim(0)) + " x " +
                       std::to_string(per_row) + " x " + std::to_string(act_width_));
    const auto on_queue = this->on_device_queue();
    this->tape_.reset();
    auto guard = this->tape_.no_grad();
    const Tensor<float> e =
        download(energy(this->tape_, inputs(obs, candidates, per_row), false).value());
    return std::vector<float>(e.data(), e.data() + e.numel());
  }

 protected:
  Var<T, D> compute_loss(const data::Batch& batch, Tape<T, D>& tape, bool training,
                         Scalars& scalars) override {
    const ShapeMeta& m = this->meta_;
    Tensor<float> obs = gather_features(m, this->norm_.obs, batch.obs, 0, s_.n_obs_steps);
    Tensor<float> act = gather_actions(this->norm_.action, batch.data.at("actions"),
                                       s_.n_obs_steps - 1, s_.n_action_steps);
    const int64_t b = obs.dim(0), c = s_.num_negatives + 1;
    // Candidate 0 is the demonstrated action; the MLP treats candidates independently, so its
    // position does not matter.
    std::vector<float> candidates(size_t(b * c * act_width_));
    uniform_fill(candidates);
    for (int64_t i = 0; i < b; ++i)
      std::copy_n(act.data() + i * act_width_, act_width_, candidates.data() + i * c * act_width_);
    Var<T, D> e = energy(tape, inputs(obs, candidates, c), training);
    Tensor<int64_t, D> labels = tape.template alloc_as<int64_t>(Shape{b, 1});
    std::vector<int64_t> zeros(size_t(b), 0);
    Kernels<D>::from_host(labels.data(), zeros.data(), labels.bytes());
    Var<T, D> l = loss::info_nce(ops::reshape(e, Shape{b, c}), labels);
    scalars["Loss"] = scalars["InfoNCE_Loss"] = double(l.value().to_vector()[0]);
    return l;
  }

 private:
  void uniform_fill(std::vector<float>& v) {
    const uint64_t base = this->rng_.advance(v.size());
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = float(2 * philox_uniform<double>(this->rng_.seed, base + i) - 1);
  }
  // Rows [obs features, candidate] for every batch row and each of its `per_row` candidates.
  Tensor<float> inputs(const Tensor<float>& obs, const std::vector<float>& candidates,
                       int64_t per_row) const {
    const int64_t b = obs.dim(0), w = obs_width_ + act_width_;
    auto x = Tensor<float>::empty({b * per_row, w});
    for (int64_t i = 0; i < b; ++i)
      for (int64_t j = 0; j < per_row; ++j) {
        float* row = x.data() + (i * per_row + j) * w;
        std::copy_n(obs.data() + i * obs_width_, obs_width_, row);
        std::copy_n(candidates.data() + (i * per_row + j) * act_width_, act_width_,
                    row + obs_width_);
      }
    return x;
  }
  Var<T, D> energy(Tape<T, D>& tape, const Tensor<float>& x, bool training) {
    return energy_of(upload(tape, x), training);
  }
  Var<T, D> energy_of(Var<T, D> x, bool training) {
    for (size_t i = 0; i + 1 < layers_.size(); ++i)
      x = nn::Dropout(s_.dropout)(ops::relu(layers_[i](this->store_, x)), this->rng_, training);
    return layers_.back()(this->store_, x);
  }
  std::vector<float> evaluate(const Tensor<float>& obs, const std::vector<float>& samples) {
    return energies(obs, samples, s_.num_samples);
  }
  // Draws N samples per row by softmax(-E) weights (inverse CDF), adds N(0, sigma^2), clips.
  void resample(const std::vector<float>& energies, std::vector<float>& samples, double sigma) {
    const int64_t n = s_.num_samples, k = act_width_, b = int64_t(energies.size()) / n;
    std::vector<float> next(samples.size());
    std::vector<double> cdf(static_cast<size_t>(n));
    const uint64_t ubase = this->rng_.advance(uint64_t(b * n));
    const uint64_t nbase = this->rng_.advance(uint64_t(b * n * k));
    for (int64_t i = 0; i < b; ++i) {
      const float* e = energies.data() + i * n;
      const float lo = *std::min_element(e, e + n);
      double total = 0;
      for (int64_t j = 0; j < n; ++j) cdf[size_t(j)] = total += std::exp(double(lo - e[j]));
      for (int64_t j = 0; j < n; ++j) {
        const double u = philox_uniform<double>(this->rng_.seed, ubase + i * n + j) * total;
        const int64_t src = std::min<int64_t>(
            n - 1, int64_t(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin()));
        for (int64_t d = 0; d < k; ++d) {
          const double z = philox_normal<double>(this->rng_.seed, nbase + (i * n + j) * k + d);
          const double v = samples[size_t((i * n + src) * k + d)] + sigma * z;
          next[size_t((i * n + j) * k + d)] = float(std::clamp(v, -1.0, 1.0));
        }
      }
    }
    samples.swap(next);
  }
  // Langevin dynamics: a <- clip(a - clip(eta_k (0.5 dE/da + z), +-0.1), bounds), with eta_k
  // decaying polynomially (power 2) from langevin_step_init to langevin_step_final.
  void langevin(const Tensor<float>& obs, std::vector<float>& samples) {
    const int64_t n = s_.num_samples, k = act_width_, b = obs.dim(0);
    Tensor<float> fixed = inputs(obs, samples, n);  // obs part is constant
    for (int64_t step = 0; step < s_.langevin_steps; ++step) {
      const double frac = 1.0 - double(step) / double(std::max<int64_t>(1, s_.langevin_steps));
      const double eta =
          (s_.langevin_step_init - s_.langevin_step_final) * frac * frac + s_.langevin_step_final;
      Tape<T, D>& tape = this->tape_;
      tape.reset();
      Tensor<float> obs_part = Tensor<float>::empty({b * n, obs_width_});
      Tensor<float> act_part = Tensor<float>::from_vector({b * n, k}, samples);
      for (int64_t r = 0; r < b * n; ++r)
        std::copy_n(fixed.data() + r * (obs_width_ + k), obs_width_,
                    obs_part.data() + r * obs_width_);
      Var<T, D> a = tape.leaf(upload(tape, act_part).value());
      Var<T, D> x = ops::concat({upload(tape, obs_part), a}, 1);
      tape.backward(ops::sum(energy_of(x, false)));
      const Tensor<float> g = download(a.grad());
      const uint64_t base = this->rng_.advance(samples.size());
      for (size_t i = 0; i < samples.size(); ++i) {
        const double z = philox_normal<double>(this->rng_.seed, base + i);
        const double delta = std::clamp(eta * (0.5 * g[int64_t(i)] + z), -0.1, 0.1);
        samples[i] = float(std::clamp(samples[i] - delta, -1.0, 1.0));
      }
    }
    this->store_.zero_grad();  // the energy's weight gradients were a by-product
  }

  IbcSettings s_;
  int64_t obs_width_ = 0, act_width_ = 0;
  std::vector<nn::Linear<T, D>> layers_;
};

}  // namespace mimic::policy
