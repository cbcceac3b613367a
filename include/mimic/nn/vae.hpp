#pragma once
// robomimic's conditional VAE (VAEActor over actions; GL's VAE over subgoal observations): an
// encoder MLP q(z | x, o), a decoder MLP p(x | z, o) with one linear head per output block (tanh
// on squashed blocks such as actions), and a prior over z that is N(0, I), a learned Gaussian, a
// learned Gaussian mixture (uniform or learned weights) or, for categorical latents, a uniform or
// learned categorical with Gumbel-softmax samples. Learned priors may depend on the observation.
// Loss = reconstruction (the mean squared error of each block averaged over the blocks, or
// everything summed and divided by the batch) + kl_weight x KL.
//
// Parameter names: `<prefix>.encoder.mlp.<i>`, `<prefix>.encoder.{mean, logvar | logit}`,
// `<prefix>.decoder.mlp.<i>`, `<prefix>.decoder.<block>` (`action` for actions), and for a learned
// prior either
// `<prefix>.prior.{mean, logvar, weight | logit}` (one set for every observation) or
// `<prefix>.prior.mlp.<i>` with `<prefix>.prior.decoder.{...}` (per observation).
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "mimic/diffusion/scheduler.hpp"
#include "mimic/nn/mlp.hpp"
#include "mimic/ops/reduce.hpp"
#include "mimic/ops/shape.hpp"
#include "mimic/ops/softmax.hpp"

namespace mimic::nn {

struct VaeSettings {
  int64_t latent_dim = 14;
  std::optional<double> latent_clip;  // samples of a Gaussian prior clamped to +-clip
  double kl_weight = 1.0;
  bool reconstruction_sum = false;  // decoder.reconstruction_sum_across_elements
  std::vector<int64_t> encoder_dims{300, 400}, decoder_dims{300, 400}, prior_dims{300, 400};
  bool prior_learn = false, prior_conditioned = false;
  bool use_gmm = false, gmm_learn_weights = false;
  int64_t gmm_modes = 10;
  bool use_categorical = false, gumbel_hard = false;
  int64_t categorical_dim = 10;
  double init_temperature = 1.0, temperature_anneal = 0.001, min_temperature = 0.3;

  int64_t modes() const { return use_gmm ? gmm_modes : 1; }
  // Width of z as the decoder sees it (one-hot blocks for categorical latents).
  int64_t code_dim() const { return use_categorical ? latent_dim * categorical_dim : latent_dim; }
  // robomimic's annealed Gumbel-softmax temperature in a given epoch.
  double temperature(int64_t epoch) const {
    return std::max(init_temperature - double(epoch) * temperature_anneal, min_temperature);
  }
};

// One block of the reconstructed vector: its name, width and whether tanh squashes it
// (robomimic's output_squash with scale 1).
struct VaeOutput {
  std::string name;
  int64_t dim = 0;
  bool squash = false;
};

template <class T, class D>
struct VaeLoss {
  Var<T, D> total, reconstruction, kl;
  Var<T, D> encoder_logvar;  // Gaussian latents only
};

template <class T, class D = Cpu>
class ConditionalVae {
 public:
  ConditionalVae() = default;
  // Reconstructs actions x [B, x_dim] (one squashed block, `action`) given a condition
  // [B, cond_dim].
  ConditionalVae(ParamStore<T, D>& store, const std::string& prefix, int64_t x_dim,
                 int64_t cond_dim, const VaeSettings& s)
      : ConditionalVae(store, prefix, std::vector<VaeOutput>{{"action", x_dim, true}}, cond_dim,
                       s) {}
  // Reconstructs x [B, sum of the blocks' widths], the blocks side by side in the given order.
  ConditionalVae(ParamStore<T, D>& store, const std::string& prefix,
                 const std::vector<VaeOutput>& outputs, int64_t cond_dim, const VaeSettings& s)
      : s_(s), outputs_(outputs) {
    const int64_t l = s.latent_dim;
    int64_t x_dim = 0;
    for (const VaeOutput& o : outputs) x_dim += o.dim;
    encoder_mlp_ = Mlp<T, D>(store, join(prefix, "encoder.mlp"),
                             widths(x_dim + cond_dim, s.encoder_dims), Activation::kRelu, true);
    const int64_t eh = s.encoder_dims.back();
    if (s.use_categorical) {
      enc_logit_ = Linear<T, D>(store, join(prefix, "encoder.logit"), eh, l * s.categorical_dim);
    } else {
      enc_mean_ = Linear<T, D>(store, join(prefix, "encoder.mean"), eh, l);
      enc_logvar_ = Linear<T, D>(store, join(prefix, "encoder.logvar"), eh, l);
    }
    decoder_mlp_ =
        Mlp<T, D>(store, join(prefix, "decoder.mlp"),
                  widths(s.code_dim() + cond_dim, s.decoder_dims), Activation::kRelu, true);
    for (const VaeOutput& o : outputs)
      heads_.push_back(
          Linear<T, D>(store, join(prefix, "decoder." + o.name), s.decoder_dims.back(), o.dim));
    if (!s.prior_learn) return;
    const int64_t m = s.modes();
    const bool weights = s.use_gmm && s.gmm_learn_weights;
    if (s.prior_conditioned) {
      prior_mlp_ = Mlp<T, D>(store, join(prefix, "prior.mlp"), widths(cond_dim, s.prior_dims),
                             Activation::kRelu, true);
      const int64_t ph = s.prior_dims.back();
      const std::string p = join(prefix, "prior.decoder");
      if (s.use_categorical) {
        prior_logit_out_ = Linear<T, D>(store, join(p, "logit"), ph, l * s.categorical_dim);
      } else {
        prior_mean_out_ = Linear<T, D>(store, join(p, "mean"), ph, m * l);
        prior_logvar_out_ = Linear<T, D>(store, join(p, "logvar"), ph, m * l);
        if (weights) prior_weight_out_ = Linear<T, D>(store, join(p, "weight"), ph, m);
      }
      return;
    }
    // robomimic's init: randn(shape) / sqrt(numel).
    auto param = [&](const char* name, const Shape& shape) {
      return store.declare(join(prefix, std::string("prior.") + name), shape,
                           Init::normal(1.0 / std::sqrt(double(shape.numel()))));
    };
    if (s.use_categorical) {
      prior_logit_ = param("logit", Shape{1, l, s.categorical_dim});
    } else {
      prior_mean_ = param("mean", Shape{1, m, l});
      prior_logvar_ = param("logvar", Shape{1, m, l});
      if (weights) prior_weight_ = param("weight", Shape{1, m});
    }
  }
  const VaeSettings& settings() const { return s_; }

  // The training loss for targets x [B, x_dim] under condition c [B, cond_dim]; the
  // reparameterization (or Gumbel) noise comes from `rng`.
  VaeLoss<T, D> loss(const ParamStore<T, D>& store, Var<T, D> x, Var<T, D> c, PhiloxStream& rng,
                     double temperature, bool freeze_encoder = false) const {
    const int64_t b = x.shape()[0], l = s_.latent_dim;
    Var<T, D> h = encoder_mlp_(store, ops::concat({x, c}, 1));
    VaeLoss<T, D> out;
    Var<T, D> z;
    if (s_.use_categorical) {
      Var<T, D> logits = ops::reshape(enc_logit_(store, h), Shape{b, l, s_.categorical_dim});
      if (freeze_encoder) logits = h.tape->constant(logits.value());
      z = ops::reshape(gumbel_softmax(logits, rng, temperature), Shape{b, s_.code_dim()});
      out.kl = categorical_kl(store, logits, c);
    } else {
      Var<T, D> mu = enc_mean_(store, h), logvar = enc_logvar_(store, h);
      if (freeze_encoder) {  // the posterior's parameters detached: no gradient reaches the encoder
        mu = h.tape->constant(mu.value());
        logvar = h.tape->constant(logvar.value());
      }
      z = reparameterize(mu, logvar, rng);
      out.kl = gaussian_kl(store, mu, logvar, z, c);
      out.encoder_logvar = logvar;
    }
    Var<T, D> diff = decode(store, z, c) - x;
    Var<T, D> sq = diff * diff;
    if (s_.reconstruction_sum) {
      out.reconstruction = ops::mul_scalar(ops::sum(sq), 1.0 / double(b));
    } else if (outputs_.size() == 1) {
      out.reconstruction = ops::mean(sq);
    } else {  // each block's mean, averaged over the blocks
      int64_t col = 0;
      for (const VaeOutput& o : outputs_) {
        Var<T, D> m = ops::mean(ops::slice(sq, 1, col, col + o.dim));
        out.reconstruction = col == 0 ? m : out.reconstruction + m;
        col += o.dim;
      }
      out.reconstruction = ops::mul_scalar(out.reconstruction, 1.0 / double(outputs_.size()));
    }
    out.total = out.reconstruction + ops::mul_scalar(out.kl, s_.kl_weight);
    return out;
  }

  // Decoded outputs [B, x_dim] from prior samples of z under condition c [B, cond_dim].
  Var<T, D> sample(const ParamStore<T, D>& store, Var<T, D> c, PhiloxStream& rng) const {
    return decode(store, sample_prior(store, c, rng), c);
  }

 private:
  static std::vector<int64_t> widths(int64_t in, const std::vector<int64_t>& hidden) {
    std::vector<int64_t> w{in};
    w.insert(w.end(), hidden.begin(), hidden.end());
    return w;
  }
  Var<T, D> decode(const ParamStore<T, D>& store, Var<T, D> z, Var<T, D> c) const {
    Var<T, D> h = decoder_mlp_(store, ops::concat({z, c}, 1));
    std::vector<Var<T, D>> blocks;
    for (size_t i = 0; i < heads_.size(); ++i) {
      Var<T, D> y = heads_[i](store, h);
      blocks.push_back(outputs_[i].squash ? ops::tanh(y) : y);
    }
    return blocks.size() == 1 ? blocks[0] : ops::concat(blocks, 1);
  }
  static Tensor<T, D> normal_noise(Tape<T, D>& tape, const Shape& shape, PhiloxStream& rng) {
    Tensor<T, D> eps = tape.alloc(shape);
    Kernels<D>::generate(
        eps.numel(),
        diffusion::detail::NormalNoise<T>{rng.seed, rng.advance(uint64_t(eps.numel()))},
        eps.data());
    return eps;
  }
  // mu + exp(clamp(logvar / 2, -4, 15)) * eps, as robomimic's TorchUtils.reparameterize.
  static Var<T, D> reparameterize(Var<T, D> mu, Var<T, D> logvar, PhiloxStream& rng) {
    Tape<T, D>& tape = *mu.tape;
    Var<T, D> eps = tape.constant(normal_noise(tape, mu.shape(), rng));
    return mu + ops::exp(ops::clamp(ops::mul_scalar(logvar, 0.5), -4, 15)) * eps;
  }
  // torch's gumbel_softmax: softmax((logits + g) / tau), g = -log(E), E ~ Exp(1); hard: the
  // one-hot of the argmax in the forward pass with the soft sample's gradient.
  Var<T, D> gumbel_softmax(Var<T, D> logits, PhiloxStream& rng, double tau) const {
    Tape<T, D>& tape = *logits.tape;
    const int64_t n = logits.shape().numel();
    const uint64_t base = rng.advance(uint64_t(n));
    std::vector<T> g(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
      g[size_t(i)] = T(gumbel_from_uniform(philox_uniform<double>(rng.seed, base + uint64_t(i))));
    Tensor<T, D> gt = tape.alloc(logits.shape());
    Kernels<D>::from_host(gt.data(), g.data(), g.size() * sizeof(T));
    Var<T, D> y = ops::softmax(ops::mul_scalar(logits + tape.constant(gt), 1.0 / tau), -1);
    if (!s_.gumbel_hard) return y;
    const std::vector<T> soft = y.value().to_vector();
    const int64_t k = s_.categorical_dim;
    std::vector<T> hard(soft.size(), T(0));
    for (int64_t r = 0; r < n / k; ++r) {
      int64_t best = 0;
      for (int64_t j = 1; j < k; ++j)
        if (soft[size_t(r * k + j)] > soft[size_t(r * k + best)]) best = j;
      hard[size_t(r * k + best)] = T(1);
    }
    Tensor<T, D> ht = tape.alloc(logits.shape());
    Kernels<D>::from_host(ht.data(), hard.data(), hard.size() * sizeof(T));
    // y_hard - y_soft.detach() + y_soft
    return tape.constant(ht) - tape.constant(y.value()) + y;
  }

 public:
  // -log(-log(1 - u)) for u uniform in [0, 1): a standard Gumbel draw.
  static double gumbel_from_uniform(double u) { return -std::log(-std::log1p(-u)); }

 private:
  // The learned prior's parameters for a batch of b: means and logvars [B, M, L], log weights
  // [B, M] (undefined: uniform), or logits [B, L, C].
  struct PriorParams {
    Var<T, D> means, logvars, logweights, logits;
  };
  PriorParams prior_params(const ParamStore<T, D>& store, Var<T, D> c) const {
    Tape<T, D>& tape = *c.tape;
    const int64_t b = c.shape()[0], l = s_.latent_dim, m = s_.modes();
    PriorParams p;
    if (s_.prior_conditioned) {
      Var<T, D> h = prior_mlp_(store, c);
      if (s_.use_categorical) {
        p.logits = ops::reshape(prior_logit_out_(store, h), Shape{b, l, s_.categorical_dim});
        return p;
      }
      p.means = ops::reshape(prior_mean_out_(store, h), Shape{b, m, l});
      p.logvars = ops::reshape(prior_logvar_out_(store, h), Shape{b, m, l});
      if (prior_weight_out_.weight.defined())
        p.logweights = ops::log_softmax(prior_weight_out_(store, h), -1);
      return p;
    }
    // One set for every observation, broadcast over the batch.
    Var<T, D> ones = tape.constant(ones_(tape, Shape{b, 1, 1}));
    if (s_.use_categorical) {
      p.logits = ones * store.on(tape, prior_logit_);
      return p;
    }
    p.means = ones * store.on(tape, prior_mean_);
    p.logvars = ones * store.on(tape, prior_logvar_);
    if (prior_weight_.defined())
      p.logweights =
          ops::log_softmax(ops::reshape(ones, Shape{b, 1}) * store.on(tape, prior_weight_), -1);
    return p;
  }
  static Tensor<T, D> ones_(Tape<T, D>& tape, const Shape& shape) {
    Tensor<T, D> t = tape.alloc(shape);
    std::vector<T> one(size_t(shape.numel()), T(1));
    Kernels<D>::from_host(t.data(), one.data(), one.size() * sizeof(T));
    return t;
  }
  // sum over the last axis of log N(x | m, v), broadcasting x against m.
  static Var<T, D> log_normal(Var<T, D> x, Var<T, D> m, Var<T, D> v) {
    Var<T, D> d = x - m;
    Var<T, D> e = ops::log(v) + d * d / v;
    return ops::mul_scalar(
        ops::add_scalar(ops::sum(e, {-1}),
                        double(x.shape()[x.shape().rank - 1]) * std::log(2 * M_PI)),
        -0.5);
  }
  Var<T, D> gaussian_kl(const ParamStore<T, D>& store, Var<T, D> mu, Var<T, D> logvar, Var<T, D> z,
                        Var<T, D> c) const {
    const int64_t b = mu.shape()[0], l = s_.latent_dim;
    if (!s_.prior_learn)  // KL(N(mu, var) || N(0, 1)), summed over z, averaged over the batch
      return ops::mul_scalar(
          ops::mean(ops::sum(ops::add_scalar(logvar - mu * mu - ops::exp(logvar), 1.0), {1})),
          -0.5);
    PriorParams p = prior_params(store, c);
    if (!s_.use_gmm) {
      Var<T, D> m2 = ops::reshape(p.means, Shape{b, l}), lv2 = ops::reshape(p.logvars, Shape{b, l});
      Var<T, D> d = m2 - mu;
      Var<T, D> inner = ops::add_scalar(
          logvar - lv2 - d * d / ops::exp(lv2) - ops::exp(logvar) / ops::exp(lv2), 1.0);
      return ops::mul_scalar(ops::mean(ops::sum(inner, {1})), -0.5);
    }
    // Monte-Carlo KL at the encoder's sample: log q(z) - log sum_m w_m N(z | m_m, v_m).
    Var<T, D> var = ops::exp(ops::clamp(logvar, -8, 30));
    Var<T, D> prior_var = ops::exp(ops::clamp(p.logvars, -8, 30));
    Var<T, D> log_q = log_normal(z, mu, var);
    Var<T, D> per_mode = log_normal(ops::reshape(z, Shape{b, 1, l}), p.means, prior_var);  // [B, M]
    Var<T, D> log_p;
    if (p.logweights.defined())
      log_p = ops::logsumexp(per_mode + p.logweights, 1);
    else
      log_p = ops::add_scalar(ops::logsumexp(per_mode, 1), -std::log(double(s_.modes())));
    return ops::mean(log_q - log_p);
  }
  // KL(Cat(softmax(logits)) || prior) summed over the latents, averaged over the batch.
  Var<T, D> categorical_kl(const ParamStore<T, D>& store, Var<T, D> logits, Var<T, D> c) const {
    Var<T, D> log_p = ops::log_softmax(logits, -1);
    Var<T, D> log_q;
    if (s_.prior_learn)
      log_q = ops::log_softmax(prior_params(store, c).logits, -1);
    else
      log_q = ops::mul_scalar(log_p, 0.0);  // uniform: log(1 / C) after the shift below
    Var<T, D> t = ops::exp(log_p) * (log_p - log_q);
    Var<T, D> kl = ops::sum(t, {-1, -2});
    if (!s_.prior_learn)
      kl = ops::add_scalar(kl, double(s_.latent_dim) * std::log(double(s_.categorical_dim)));
    return ops::mean(kl);
  }
  // z from the prior for a batch of conditions c: [B, code_dim] (robomimic's Prior.sample).
  Var<T, D> sample_prior(const ParamStore<T, D>& store, Var<T, D> c, PhiloxStream& rng) const {
    Tape<T, D>& tape = *c.tape;
    const int64_t b = c.shape()[0], l = s_.latent_dim, k = s_.categorical_dim;
    auto to_tape = [&](const std::vector<T>& host, const Shape& shape) {
      Tensor<T, D> t = tape.alloc(shape);
      Kernels<D>::from_host(t.data(), host.data(), host.size() * sizeof(T));
      return tape.constant(t);
    };
    // Index drawn from unnormalized weights w[0..n) with one uniform of the stream.
    auto draw = [&](const std::vector<double>& w) {
      double total = 0;
      for (double v : w) total += v;
      const double u = philox_uniform<double>(rng.seed, rng.advance(1)) * total;
      double acc = 0;
      for (size_t j = 0; j < w.size(); ++j)
        if ((acc += w[j]) > u) return int64_t(j);
      return int64_t(w.size()) - 1;
    };
    if (s_.use_categorical) {
      std::vector<T> z(size_t(b * l * k), T(0));
      std::vector<T> logits;
      if (s_.prior_learn) logits = prior_params(store, c).logits.value().to_vector();
      for (int64_t i = 0; i < b; ++i)
        for (int64_t j = 0; j < l; ++j) {
          int64_t pick;
          if (s_.prior_learn) {
            std::vector<double> w(static_cast<size_t>(k));
            double top = -1e300;
            for (int64_t q = 0; q < k; ++q)
              top = std::max(top, double(logits[size_t((i * l + j) * k + q)]));
            for (int64_t q = 0; q < k; ++q)
              w[size_t(q)] = std::exp(double(logits[size_t((i * l + j) * k + q)]) - top);
            pick = draw(w);
          } else if (l == 1 && k <= b) {  // robomimic spreads the batch over the categories
            pick = i % k;
          } else {
            pick = draw(std::vector<double>(size_t(k), 1.0));
          }
          z[size_t((i * l + j) * k + pick)] = T(1);
        }
      return to_tape(z, Shape{b, l * k});
    }
    Var<T, D> z;
    if (!s_.prior_learn) {
      z = tape.constant(normal_noise(tape, Shape{b, l}, rng));
    } else {
      PriorParams p = prior_params(store, c);
      const std::vector<T> means = p.means.value().to_vector(),
                           logvars = p.logvars.value().to_vector();
      std::vector<T> lw;
      if (p.logweights.defined()) lw = p.logweights.value().to_vector();
      const int64_t m = s_.modes();
      std::vector<T> mu(size_t(b * l)), lv(size_t(b * l));
      for (int64_t i = 0; i < b; ++i) {
        int64_t mode = 0;
        if (s_.use_gmm) {
          std::vector<double> w(size_t(m), 1.0);
          if (!lw.empty())
            for (int64_t q = 0; q < m; ++q) w[size_t(q)] = std::exp(double(lw[size_t(i * m + q)]));
          mode = draw(w);
        }
        for (int64_t d = 0; d < l; ++d) {
          mu[size_t(i * l + d)] = means[size_t((i * m + mode) * l + d)];
          lv[size_t(i * l + d)] = logvars[size_t((i * m + mode) * l + d)];
        }
      }
      z = reparameterize(to_tape(mu, Shape{b, l}), to_tape(lv, Shape{b, l}), rng);
    }
    if (s_.latent_clip) z = ops::clamp(z, -*s_.latent_clip, *s_.latent_clip);
    return z;
  }

  VaeSettings s_;
  Mlp<T, D> encoder_mlp_, decoder_mlp_, prior_mlp_;
  std::vector<VaeOutput> outputs_;
  std::vector<Linear<T, D>> heads_;  // one per output block
  Linear<T, D> enc_mean_, enc_logvar_, enc_logit_;
  Linear<T, D> prior_mean_out_, prior_logvar_out_, prior_weight_out_, prior_logit_out_;
  ParamId prior_mean_, prior_logvar_, prior_weight_, prior_logit_;
};

}  // namespace mimic::nn
