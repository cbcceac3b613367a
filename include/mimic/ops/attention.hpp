#pragma once
// Scaled dot-product attention as one op: for each batch and head,
//   out = dropout(softmax(q k^T * scale + masks)) v,
// q [B, H, T, Dh], k and v [B, H, S, Dh] -> [B, H, T, Dh]. Only the T x S probabilities of each
// head are kept for backward (the scores live in scratch, the dropout mask is regenerated from
// its Philox offset), and every product is one strided-batched GEMM over the B * H heads.
//
// Masks (both optional) give -inf before the softmax, as torch's masked_fill and its attention
// masks do: a causal mask (key s is visible to query t iff s <= t + shift; robomimic's GPT uses
// shift 0, Diffusion Policy's cross-attention shift 1) and key padding [B, S] (nonzero: padded).
// A query that sees no key gets NaN, as in torch.
//
// Napkin math per head: 2 T S Dh FLOPs for the scores and as many for the weighted sum forward,
// twice that backward; memory T S values (robomimic's defaults: T = S = 10, 8 heads of 64).
#include <cstdint>
#include <limits>
#include <string>

#include "mimic/autograd/tape.hpp"
#include "mimic/core/hd.hpp"
#include "mimic/ops/dropout.hpp"

namespace mimic::ops {

template <class T, class D>
struct AttentionOptions {
  bool causal = false;
  int64_t causal_shift = 0;  // with causal: key s is visible to query t iff s <= t + shift
  Tensor<T, D> key_padding;  // [B, S], nonzero = padded; undefined = none
  double scale = 0;          // 0: 1 / sqrt(Dh)
  double dropout = 0;        // on the probabilities, when training
  PhiloxStream* rng = nullptr;
  bool training = false;
};

namespace detail {

struct AttentionDims {
  int64_t heads, t, s, dh, bh;  // bh = B * H
  double scale;
  bool dropout;
  DropoutAttrs drop;
  const void* probs;  // [B*H, T, S] softmax probabilities, in the step's arena
};

// Whether query t of batch b may see key s (the per-element rule both backends run).
template <class T>
MIMIC_HD bool attention_visible(int64_t b, int64_t t, int64_t s, int64_t keys, bool causal,
                                int64_t shift, const T* key_padding) {
  if (causal && s > t + shift) return false;
  return !(key_padding && key_padding[b * keys + s] != T(0));
}

// scores[i] or -inf where masked; i runs over [B, H, T, S].
template <class T>
struct AttentionMaskFill {
  const T* scores;
  const T* key_padding;
  int64_t heads, queries, keys, shift;
  bool causal;
  MIMIC_HD T operator()(int64_t i) const {
    const int64_t s = i % keys, t = (i / keys) % queries, b = i / (heads * queries * keys);
    return attention_visible(b, t, s, keys, causal, shift, key_padding)
               ? scores[i]
               : -std::numeric_limits<T>::infinity();
  }
};

template <class T, class D>
void attention_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  const AttentionDims d = n.template get<AttentionDims>();
  const Tensor<T, D> q = tape.value(tape.input(n, 0)), k = tape.value(tape.input(n, 1)),
                     v = tape.value(tape.input(n, 2));
  const T* p = static_cast<const T*>(d.probs);
  const Tensor<T, D>& go = tape.out_grad(n);
  const int64_t ts = d.t * d.s, td = d.t * d.dh, sd = d.s * d.dh, n_probs = d.bh * ts;
  auto scope = tape.scratch_scope();
  const T* pd = p;  // the probabilities as the weighted sum used them
  if (d.dropout) {
    Tensor<T, D> dropped = tape.scratch(Shape{n_probs});
    Kernels<D>::generate(n_probs, DropoutApply<T>{p, d.drop}, dropped.data());
    pd = dropped.data();
  }
  if (GradTarget<T, D> gv = tape.grad_target(n, 2))  // dV = Pd^T dO : S x T times T x Dh
    Kernels<D>::gemm_strided_batched(true, false, d.s, d.dh, d.t, T(1), pd, d.s, ts, go.data(),
                                     d.dh, td, T(gv.accumulate ? 1 : 0), gv.tensor.data(), d.dh, sd,
                                     d.bh);
  GradTarget<T, D> gq = tape.grad_target(n, 0), gk = tape.grad_target(n, 1);
  if (!gq && !gk) return;
  Tensor<T, D> dp = tape.scratch(Shape{n_probs}), ds = tape.scratch(Shape{n_probs});
  // dPd = dO V^T : T x Dh times Dh x S; through dropout; then through the softmax.
  Kernels<D>::gemm_strided_batched(false, true, d.t, d.s, d.dh, T(1), go.data(), d.dh, td, v.data(),
                                   d.dh, sd, T(0), dp.data(), d.s, ts, d.bh);
  if (d.dropout) Kernels<D>::generate(n_probs, DropoutApply<T>{dp.data(), d.drop}, dp.data());
  Kernels<D>::softmax_backward(d.bh * d.t, d.s, 1, p, dp.data(), ds.data(), false, false);
  if (gq)  // dQ = scale dS K : T x S times S x Dh
    Kernels<D>::gemm_strided_batched(false, false, d.t, d.dh, d.s, T(d.scale), ds.data(), d.s, ts,
                                     k.data(), d.dh, sd, T(gq.accumulate ? 1 : 0), gq.tensor.data(),
                                     d.dh, td, d.bh);
  if (gk)  // dK = scale dS^T Q : S x T times T x Dh
    Kernels<D>::gemm_strided_batched(true, false, d.s, d.dh, d.t, T(d.scale), ds.data(), d.s, ts,
                                     q.data(), d.dh, td, T(gk.accumulate ? 1 : 0), gk.tensor.data(),
                                     d.dh, sd, d.bh);
}

}  // namespace detail

template <class T, class D>
Var<T, D> attention(Var<T, D> q, Var<T, D> k, Var<T, D> v, const AttentionOptions<T, D>& o = {}) {
  Tape<T, D>& tape = *q.tape;
  const Shape qs = q.shape(), ks = k.shape(), vs = v.shape();
  if (qs.rank != 4 || ks.rank != 4 || ks != vs || qs[0] != ks[0] || qs[1] != ks[1] ||
      qs[3] != ks[3])
    throw ShapeError("attention: expected q [B, H, T, Dh] and k, v [B, H, S, Dh], got q " +
                     qs.str() + ", k " + ks.str() + ", v " + vs.str());
  if (o.key_padding.defined() && o.key_padding.shape() != Shape{ks[0], ks[2]})
    throw ShapeError("attention: key padding mask " + o.key_padding.shape().str() +
                     " does not match [B, S] = " + Shape{ks[0], ks[2]}.str());
  const bool drop = o.training && o.dropout > 0;
  if (!(o.dropout >= 0 && o.dropout < 1))
    throw ValueError("attention: dropout " + std::to_string(o.dropout) + " is outside [0, 1)");
  if (drop && !o.rng) throw ValueError("attention: dropout while training needs a random stream");
  detail::AttentionDims d{qs[1],         qs[2],
                          ks[2],         qs[3],
                          qs[0] * qs[1], o.scale > 0 ? o.scale : 1.0 / std::sqrt(double(qs[3])),
                          drop,          {},
                          nullptr};
  const int64_t ts = d.t * d.s, n_probs = d.bh * ts;
  Tensor<T, D> probs = tape.alloc(Shape{d.bh, d.t, d.s});
  Tensor<T, D> y = tape.alloc(qs);
  {
    auto scope = tape.scratch_scope();
    Tensor<T, D> scores = tape.scratch(Shape{n_probs});
    Kernels<D>::gemm_strided_batched(false, true, d.t, d.s, d.dh, T(d.scale), q.value().data(),
                                     d.dh, d.t * d.dh, k.value().data(), d.dh, d.s * d.dh, T(0),
                                     scores.data(), d.s, ts, d.bh);
    if (o.causal || o.key_padding.defined())
      Kernels<D>::generate(
          n_probs,
          detail::AttentionMaskFill<T>{scores.data(),
                                       o.key_padding.defined() ? o.key_padding.data() : nullptr,
                                       d.heads, d.t, d.s, o.causal_shift, o.causal},
          scores.data());
    Kernels<D>::softmax_forward(d.bh * d.t, d.s, 1, scores.data(), probs.data(), false);
    const T* pd = probs.data();
    if (drop) {  // the dropped probabilities reuse the scores' scratch
      d.drop = {o.rng->seed, o.rng->advance(uint64_t(n_probs)), o.dropout};
      Kernels<D>::generate(n_probs, detail::DropoutApply<T>{probs.data(), d.drop}, scores.data());
      pd = scores.data();
    }
    Kernels<D>::gemm_strided_batched(false, false, d.t, d.dh, d.s, T(1), pd, d.s, ts,
                                     v.value().data(), d.dh, d.s * d.dh, T(0), y.data(), d.dh,
                                     d.t * d.dh, d.bh);
  }
  d.probs = probs.data();
  const bool rg = tape.needs_grad({q, k, v});
  Var<T, D> out = tape.output(y, rg);
  if (rg) tape.record("attention", &detail::attention_backward<T, D>, out, {q, k, v}).put(d);
  return out;
}

}  // namespace mimic::ops
