#pragma once
// robomimic's GPT backbone (minGPT): num_layers pre-norm blocks, each
//   x = x + dropout(out(attention(ln1(x))));  x = x + dropout(mlp(ln2(x))),
// with causal multi-head self-attention (one bias-free qkv projection, dropout on the
// probabilities) and a 4x MLP with GELU (or GEGLU, whose first layer is twice as wide), then a
// final LayerNorm. Linear weights start at normal(0, 0.02) with zero biases, as robomimic's
// _init_weights sets them. Parameter names: `<prefix>.blocks.<i>.{ln1, attention.qkv,
// attention.output, ln2, mlp.0, mlp.2}` and `<prefix>.output_ln`.
//
// Napkin math per block and token: 12 E^2 weights (qkv 3, output 1, MLP 8), so 24 E^2 FLOPs
// forward (6.3 MFLOP at E = 512), plus 4 T E for the attention itself.
#include <string>
#include <vector>

#include "mimic/nn/dropout.hpp"
#include "mimic/nn/linear.hpp"
#include "mimic/nn/norm.hpp"
#include "mimic/ops/attention.hpp"
#include "mimic/ops/shape.hpp"
#include "mimic/ops/unary.hpp"

namespace mimic::nn {

struct GptSettings {
  int64_t embed_dim = 512, context_length = 10, num_layers = 6, num_heads = 8;
  double attn_dropout = 0.1, block_output_dropout = 0.1;
  bool geglu = false;  // activation "geglu" instead of "gelu"
  bool causal = true;
};

template <class T, class D = Cpu>
struct GptBlock {
  LayerNorm<T, D> ln1, ln2;
  Linear<T, D> qkv, output, fc, proj;
  GptSettings s;

  GptBlock() = default;
  GptBlock(ParamStore<T, D>& store, const std::string& prefix, const GptSettings& settings)
      : s(settings) {
    const int64_t e = s.embed_dim;
    const Init w = Init::normal(0.02), b = Init::zeros();
    ln1 = LayerNorm<T, D>(store, join(prefix, "ln1"), Shape{e});
    qkv = Linear<T, D>(store, join(prefix, "attention.qkv"), e, 3 * e, w, std::nullopt);
    output = Linear<T, D>(store, join(prefix, "attention.output"), e, e, w, b);
    ln2 = LayerNorm<T, D>(store, join(prefix, "ln2"), Shape{e});
    fc = Linear<T, D>(store, join(prefix, "mlp.0"), e, 4 * e * (s.geglu ? 2 : 1), w, b);
    proj = Linear<T, D>(store, join(prefix, "mlp.2"), 4 * e, e, w, b);
  }

  // x [B, T, E] -> [B, T, E].
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x, PhiloxStream& rng,
                       bool training) const {
    x = x + attend(store, ln1(store, x), rng, training);
    Var<T, D> h = fc(store, ln2(store, x));
    if (s.geglu) {
      auto halves = ops::chunk(h, 2, 2);
      h = halves[0] * ops::gelu(halves[1]);
    } else {
      h = ops::gelu(h);
    }
    return x + ops::dropout(proj(store, h), s.block_output_dropout, rng, training);
  }

 private:
  Var<T, D> attend(const ParamStore<T, D>& store, Var<T, D> x, PhiloxStream& rng,
                   bool training) const {
    const Shape xs = x.shape();
    const int64_t b = xs[0], t = xs[1], e = s.embed_dim, heads = s.num_heads, dh = e / heads;
    auto parts = ops::chunk(qkv(store, x), 3, 2);  // q, k, v [B, T, E] each
    auto split_heads = [&](Var<T, D> v) {          // [B, T, E] -> [B, H, T, Dh]
      return ops::permute(ops::reshape(v, Shape{b, t, heads, dh}), {0, 2, 1, 3});
    };
    ops::AttentionOptions<T, D> o;
    o.causal = s.causal;
    o.dropout = s.attn_dropout;
    o.rng = &rng;
    o.training = training;
    Var<T, D> y =
        ops::attention(split_heads(parts[0]), split_heads(parts[1]), split_heads(parts[2]), o);
    y = ops::reshape(ops::permute(y, {0, 2, 1, 3}), Shape{b, t, e});
    return ops::dropout(output(store, y), s.block_output_dropout, rng, training);
  }
};

template <class T, class D = Cpu>
struct GptBackbone {
  std::vector<GptBlock<T, D>> blocks;
  LayerNorm<T, D> output_ln;
  GptSettings s;

  GptBackbone() = default;
  GptBackbone(ParamStore<T, D>& store, const std::string& prefix, const GptSettings& settings)
      : s(settings) {
    if (s.embed_dim < 1 || s.num_heads < 1 || s.embed_dim % s.num_heads != 0)
      throw ValueError("transformer: num_heads " + std::to_string(s.num_heads) +
                       " must divide embed_dim " + std::to_string(s.embed_dim));
    if (s.num_layers < 1 || s.context_length < 1)
      throw ValueError("transformer: num_layers and context_length must be >= 1");
    for (int64_t i = 0; i < s.num_layers; ++i)
      blocks.emplace_back(store, join(prefix, "blocks." + std::to_string(i)), s);
    output_ln = LayerNorm<T, D>(store, join(prefix, "output_ln"), Shape{s.embed_dim});
  }

  // Embeddings [B, T, E] (T <= context_length) -> [B, T, E].
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x, PhiloxStream& rng,
                       bool training) const {
    const Shape xs = x.shape();
    if (xs.rank != 3 || xs[2] != s.embed_dim || xs[1] > s.context_length)
      throw ShapeError(
          "transformer: expected embeddings [B, T <= " + std::to_string(s.context_length) + ", " +
          std::to_string(s.embed_dim) + "], got " + xs.str());
    for (const auto& block : blocks) x = block(store, x, rng, training);
    return output_ln(store, x);
  }
};

}  // namespace mimic::nn
