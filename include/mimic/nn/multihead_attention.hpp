#pragma once
// torch.nn.MultiheadAttention (batch_first, with biases): q = x_q W_q^T + b_q, k and v likewise
// from x_kv, heads of E / H, the fused attention op (masks, dropout on the probabilities), then
// out_proj. Parameters under torch's names: `<prefix>.in_proj_weight` [3E, E],
// `<prefix>.in_proj_bias` [3E], `<prefix>.out_proj.{weight, bias}`.
#include <string>

#include "mimic/nn/linear.hpp"
#include "mimic/ops/attention.hpp"
#include "mimic/ops/matmul.hpp"
#include "mimic/ops/shape.hpp"

namespace mimic::nn {

struct AttentionMask {
  bool causal = false;
  int64_t shift = 0;  // key s visible to query t iff s <= t + shift
};

template <class T, class D = Cpu>
struct MultiheadAttention {
  ParamId in_proj_weight, in_proj_bias;
  Linear<T, D> out_proj;
  int64_t embed_dim = 0, heads = 1;
  double dropout = 0;

  MultiheadAttention() = default;
  // Weights start at normal(0, std) with zero biases (Diffusion Policy's _init_weights).
  MultiheadAttention(ParamStore<T, D>& store, const std::string& prefix, int64_t e, int64_t h,
                     double p, double init_std)
      : embed_dim(e), heads(h), dropout(p) {
    if (h < 1 || e % h != 0)
      throw ValueError("MultiheadAttention: " + std::to_string(h) + " heads do not divide " +
                       std::to_string(e));
    in_proj_weight =
        store.declare(join(prefix, "in_proj_weight"), {3 * e, e}, Init::normal(init_std));
    in_proj_bias = store.declare(join(prefix, "in_proj_bias"), {3 * e}, Init::zeros());
    out_proj =
        Linear<T, D>(store, join(prefix, "out_proj"), e, e, Init::normal(init_std), Init::zeros());
  }

  // query [B, T, E], key_value [B, S, E] -> [B, T, E].
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> query, Var<T, D> key_value,
                       AttentionMask mask, PhiloxStream& rng, bool training) const {
    Tape<T, D>& tape = *query.tape;
    const int64_t b = query.shape()[0], t = query.shape()[1], s = key_value.shape()[1];
    const int64_t e = embed_dim, dh = e / heads;
    Var<T, D> w = store.on(tape, in_proj_weight), bias = store.on(tape, in_proj_bias);
    auto project = [&](Var<T, D> x, int part, int64_t len) {  // rows part*E .. (part+1)*E
      Var<T, D> y = ops::linear(x, ops::slice(w, 0, part * e, (part + 1) * e),
                                ops::slice(bias, 0, part * e, (part + 1) * e));
      return ops::permute(ops::reshape(y, Shape{b, len, heads, dh}), {0, 2, 1, 3});
    };
    ops::AttentionOptions<T, D> o;
    o.causal = mask.causal;
    o.causal_shift = mask.shift;
    o.dropout = dropout;
    o.rng = &rng;
    o.training = training;
    Var<T, D> y =
        ops::attention(project(query, 0, t), project(key_value, 1, s), project(key_value, 2, s), o);
    return out_proj(store, ops::reshape(ops::permute(y, {0, 2, 1, 3}), Shape{b, t, e}));
  }
};

}  // namespace mimic::nn
