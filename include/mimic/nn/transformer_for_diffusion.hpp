#pragma once
// Diffusion Policy's TransformerForDiffusion (the DP-T denoiser): the noisy action tokens [B, T,
// A] attend causally to each other and, through cross-attention, to a memory of condition tokens
// (the diffusion step's sinusoidal embedding, then with obs_as_cond one token per observation
// step), each token with a learned position embedding. The memory passes an MLP (Linear-Mish-
// Linear) or n_cond_layers pre-norm encoder layers; the trunk is n_layer pre-norm
// nn.TransformerDecoderLayers (self-attention, cross-attention, GELU feed-forward 4x wide), then
// LayerNorm and a Linear head. Without time_as_cond it is an encoder-only BERT whose first token
// is the time embedding. Parameters under DP's state-dict names with prefix "model" as DP's
// policy holds it (`model.decoder.layers.0.self_attn.in_proj_weight`, ...).
//
// Napkin math per decoder layer and action token (E = 256, T = 10, S = 3): 12 E^2 + 2 E^2
// weights (self, cross, feed-forward), so about 28 E^2 = 1.8 MFLOP forward.
#include <string>
#include <vector>

#include "mimic/nn/dropout.hpp"
#include "mimic/nn/multihead_attention.hpp"
#include "mimic/nn/norm.hpp"
#include "mimic/nn/sinusoidal.hpp"
#include "mimic/ops/unary.hpp"

namespace mimic::nn {

struct TransformerForDiffusionConfig {
  int64_t input_dim = 2, output_dim = 2, horizon = 10, n_obs_steps = 2, cond_dim = 0;
  int64_t n_layer = 8, n_head = 4, n_emb = 256, n_cond_layers = 0;
  double p_drop_emb = 0.0, p_drop_attn = 0.3;
  bool causal_attn = true, time_as_cond = true;

  bool obs_as_cond() const { return cond_dim > 0; }
  int64_t tokens() const { return horizon + (time_as_cond ? 0 : 1); }
  int64_t cond_tokens() const { return (time_as_cond ? 1 : 0) + (obs_as_cond() ? n_obs_steps : 0); }
};

namespace detail {

// torch's pre-norm layer: x += dropout(sa(norm1 x)); [x += dropout(mha(norm2 x, memory))];
// x += dropout(linear2(dropout(gelu(linear1(norm x))))).
template <class T, class D>
struct PreNormLayer {
  MultiheadAttention<T, D> self_attn, cross_attn;
  Linear<T, D> linear1, linear2;
  LayerNorm<T, D> norm1, norm2, norm3;
  double p = 0;
  bool decoder = false;

  PreNormLayer() = default;
  PreNormLayer(ParamStore<T, D>& store, const std::string& prefix, int64_t e, int64_t heads,
               double dropout, bool is_decoder)
      : p(dropout), decoder(is_decoder) {
    const Init w = Init::normal(0.02), z = Init::zeros();
    self_attn = MultiheadAttention<T, D>(store, join(prefix, "self_attn"), e, heads, dropout, 0.02);
    if (decoder)
      cross_attn =
          MultiheadAttention<T, D>(store, join(prefix, "multihead_attn"), e, heads, dropout, 0.02);
    linear1 = Linear<T, D>(store, join(prefix, "linear1"), e, 4 * e, w, z);
    linear2 = Linear<T, D>(store, join(prefix, "linear2"), 4 * e, e, w, z);
    norm1 = LayerNorm<T, D>(store, join(prefix, "norm1"), Shape{e});
    norm2 = LayerNorm<T, D>(store, join(prefix, "norm2"), Shape{e});
    if (decoder) norm3 = LayerNorm<T, D>(store, join(prefix, "norm3"), Shape{e});
  }
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x, Var<T, D> memory,
                       AttentionMask self_mask, AttentionMask memory_mask, PhiloxStream& rng,
                       bool training) const {
    auto drop = [&](Var<T, D> v) { return ops::dropout(v, p, rng, training); };
    Var<T, D> h = norm1(store, x);
    x = x + drop(self_attn(store, h, h, self_mask, rng, training));
    if (decoder)
      x = x + drop(cross_attn(store, norm2(store, x), memory, memory_mask, rng, training));
    const LayerNorm<T, D>& last = decoder ? norm3 : norm2;
    Var<T, D> f = linear2(store, drop(ops::gelu(linear1(store, last(store, x)))));
    return x + drop(f);
  }
};

}  // namespace detail

template <class T, class D = Cpu>
class TransformerForDiffusion {
 public:
  TransformerForDiffusion() = default;
  TransformerForDiffusion(ParamStore<T, D>& store, const std::string& prefix,
                          const TransformerForDiffusionConfig& c)
      : c_(c), time_emb_(c.n_emb) {
    if (c.obs_as_cond() && !c.time_as_cond)
      throw ValueError("TransformerForDiffusion: obs_as_cond needs time_as_cond");
    const int64_t e = c.n_emb;
    const Init w = Init::normal(0.02), z = Init::zeros();
    input_emb_ = Linear<T, D>(store, join(prefix, "input_emb"), c.input_dim, e, w, z);
    pos_emb_ = store.declare(join(prefix, "pos_emb"), {1, c.tokens(), e}, Init::normal(0.02));
    if (c.obs_as_cond())
      cond_obs_emb_ = Linear<T, D>(store, join(prefix, "cond_obs_emb"), c.cond_dim, e, w, z);
    if (c.cond_tokens() > 0) {
      // DP draws cond_pos_emb from normal(0, 0.02) only with obs_as_cond; otherwise it stays 0.
      cond_pos_emb_ = store.declare(join(prefix, "cond_pos_emb"), {1, c.cond_tokens(), e},
                                    c.obs_as_cond() ? Init::normal(0.02) : Init::zeros());
      if (c.n_cond_layers > 0) {
        for (int64_t i = 0; i < c.n_cond_layers; ++i)
          encoder_layers_.emplace_back(store, join(prefix, "encoder.layers." + std::to_string(i)),
                                       e, c.n_head, c.p_drop_attn, false);
      } else {
        encoder_in_ = Linear<T, D>(store, join(prefix, "encoder.0"), e, 4 * e, w, z);
        encoder_out_ = Linear<T, D>(store, join(prefix, "encoder.2"), 4 * e, e, w, z);
      }
      for (int64_t i = 0; i < c.n_layer; ++i)
        trunk_.emplace_back(store, join(prefix, "decoder.layers." + std::to_string(i)), e, c.n_head,
                            c.p_drop_attn, true);
    } else {  // encoder-only BERT
      for (int64_t i = 0; i < c.n_layer; ++i)
        trunk_.emplace_back(store, join(prefix, "encoder.layers." + std::to_string(i)), e, c.n_head,
                            c.p_drop_attn, false);
    }
    ln_f_ = LayerNorm<T, D>(store, join(prefix, "ln_f"), Shape{e});
    head_ = Linear<T, D>(store, join(prefix, "head"), e, c.output_dim, w, z);
  }
  const TransformerForDiffusionConfig& config() const { return c_; }

  // sample [B, T, input_dim], timesteps [B] (no gradient), cond [B, To, cond_dim] (obs_as_cond)
  // -> [B, T, output_dim].
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> sample, Var<T, D> timesteps,
                       Var<T, D> cond, PhiloxStream& rng, bool training) const {
    Tape<T, D>& tape = *sample.tape;
    const int64_t b = sample.shape()[0], t = sample.shape()[1], e = c_.n_emb;
    if (t > c_.horizon)
      throw ShapeError("TransformerForDiffusion: " + std::to_string(t) +
                       " action tokens exceed the horizon " + std::to_string(c_.horizon));
    auto drop = [&](Var<T, D> v) { return ops::dropout(v, c_.p_drop_emb, rng, training); };
    auto positions = [&](ParamId id, int64_t n) { return ops::slice(store.on(tape, id), 1, 0, n); };
    Var<T, D> time = ops::reshape(time_emb_(timesteps), Shape{b, 1, e});
    Var<T, D> tokens = input_emb_(store, sample);
    const AttentionMask causal{c_.causal_attn, 0};
    Var<T, D> x;
    if (c_.cond_tokens() == 0) {  // BERT: [time, actions], the time token dropped at the end
      x = ops::concat({time, tokens}, 1);
      x = drop(x + positions(pos_emb_, t + 1));
      for (const auto& layer : trunk_) x = layer(store, x, Var<T, D>{}, causal, {}, rng, training);
      x = ops::slice(x, 1, 1, t + 1);
    } else {
      Var<T, D> memory = time;
      if (c_.obs_as_cond()) memory = ops::concat({time, cond_obs_emb_(store, cond)}, 1);
      const int64_t tc = memory.shape()[1];
      memory = drop(memory + positions(cond_pos_emb_, tc));
      if (encoder_layers_.empty()) {
        memory = encoder_out_(store, ops::mish(encoder_in_(store, memory)));
      } else {
        for (const auto& layer : encoder_layers_)
          memory = layer(store, memory, Var<T, D>{}, {}, {}, rng, training);
      }
      x = drop(tokens + positions(pos_emb_, t));
      // DP's memory mask: action t sees the time token and the observations up to step t.
      const AttentionMask cross{c_.causal_attn && c_.obs_as_cond(), 1};
      for (const auto& layer : trunk_) x = layer(store, x, memory, causal, cross, rng, training);
    }
    return head_(store, ln_f_(store, x));
  }

  // DP's get_optim_groups: true for the parameters AdamW decays (weights of Linear and
  // MultiheadAttention layers), false for biases, LayerNorm weights and position embeddings.
  static bool decays(const std::string& name) {
    auto ends = [&](const std::string& s) {
      return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
    };
    if (ends("bias") || ends("pos_emb")) return false;
    if (name.find("norm") != std::string::npos || name.find("ln_f") != std::string::npos)
      return false;
    return ends("weight");
  }

 private:
  TransformerForDiffusionConfig c_;
  SinusoidalPosEmb<T, D> time_emb_;
  Linear<T, D> input_emb_, cond_obs_emb_, encoder_in_, encoder_out_, head_;
  ParamId pos_emb_, cond_pos_emb_;
  std::vector<detail::PreNormLayer<T, D>> encoder_layers_, trunk_;
  LayerNorm<T, D> ln_f_;
};

}  // namespace mimic::nn
