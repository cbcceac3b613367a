#pragma once
// One LSTM layer over a whole sequence as a single op (PyTorch's gate order i, f, g, o).
//
// Forward: the input projection of every step is one GEMM ([T*B, I] x [I, 4H]); each step then
// adds h_{t-1} W_hh^T (B x H x 4H) and runs one fused pointwise pass. Backward: the recurrence
// needs only dh_{t-1} = dgates_t W_hh per step; the weight gradients are one GEMM each over all
// T*B rows (K = 1000 at B = 100, T = 10, instead of T GEMMs with K = 100), and the input gradient
// is one GEMM too. Internally everything is time-major ([T, B, .]) so that each step's rows are
// contiguous; the input and output stay batch-first.
#include <span>
#include <string>

#include "mimic/autograd/tape.hpp"
#include "mimic/ops/grad_util.hpp"
#include "mimic/ops/layout.hpp"
#include "mimic/ops/shape.hpp"

namespace mimic::ops {

template <class T, class D>
struct LstmResult {
  Var<T, D> output;  // [B, T, H]: h at every step
  Var<T, D> h, c;    // [B, H]: the final hidden and cell states
};

namespace detail {

struct LstmDims {
  int64_t batch, steps, input, hidden;
  bool has_bias, has_state;
};

// Saved: 0 x time-major [T, B, I]; 1 gate activations [T, B, 4H]; 2 h [T+1, B, H] (h_{-1} first);
// 3 c [T+1, B, H] (c_{-1} first); 4 tanh(c) [T, B, H].
template <class T, class D>
void lstm_backward(Tape<T, D>& tape, const Node<T, D>& n) {
  const LstmDims d = n.template get<LstmDims>();
  const int64_t B = d.batch, S = d.steps, I = d.input, H = d.hidden, G = 4 * H;
  const Tensor<T, D>& xt = tape.saved(n, 0);
  const Tensor<T, D>& gates = tape.saved(n, 1);
  const Tensor<T, D>& hs = tape.saved(n, 2);
  const Tensor<T, D>& cs = tape.saved(n, 3);
  const Tensor<T, D>& tanh_c = tape.saved(n, 4);
  const Tensor<T, D> w_ih = tape.value(tape.input(n, 1)), w_hh = tape.value(tape.input(n, 2));
  const T* dz = tape.out_grad(n).data();  // [B*T*H outputs | B*H final cell state]
  const int state_input = d.has_bias ? 5 : 3;
  GradTarget<T, D> gh0 = d.has_state ? tape.grad_target(n, state_input) : GradTarget<T, D>{};
  GradTarget<T, D> gc0 = d.has_state ? tape.grad_target(n, state_input + 1) : GradTarget<T, D>{};

  Tensor<T, D> dgates = tape.scratch(Shape{S, B, G});
  Tensor<T, D> dh_rec = tape.scratch(Shape{B, H});
  Tensor<T, D> dc = tape.scratch(Shape{B, H});
  Kernels<D>::copy_bytes(dc.data(), dz + B * S * H, size_t(B * H) * sizeof(T));
  for (int64_t t = S - 1; t >= 0; --t) {
    const bool first = t == 0;
    Kernels<D>::lstm_cell_backward(
        B, H, gates.data() + t * B * G, first && !d.has_state ? nullptr : cs.data() + t * B * H,
        tanh_c.data() + t * B * H, dz + t * H, S * H, t == S - 1 ? nullptr : dh_rec.data(),
        dc.data(), dgates.data() + t * B * G);
    if (!first || gh0)  // dh_{t-1} = dgates_t W_hh : B x 4H times 4H x H
      Kernels<D>::gemm(false, false, B, H, G, T(1), dgates.data() + t * B * G, G, w_hh.data(), H,
                       T(0), dh_rec.data(), H);
  }
  reduce_into(gh0, dh_rec);  // no-ops for undefined targets
  reduce_into(gc0, dc);

  // With a zero initial state, step 0 contributes nothing to dW_hh.
  const int64_t t0 = d.has_state ? 0 : 1;
  if (GradTarget<T, D> gw = tape.grad_target(n, 2)) {
    // A single step from a zero state leaves W_hh without gradient: K = 0 writes zeros.
    Kernels<D>::gemm(true, false, G, H, (S - t0) * B, T(1), dgates.data() + t0 * B * G, G,
                     hs.data() + t0 * B * H, H, T(gw.accumulate ? 1 : 0), gw.tensor.data(), H);
  }
  if (GradTarget<T, D> gw = tape.grad_target(n, 1))
    Kernels<D>::gemm(true, false, G, I, S * B, T(1), dgates.data(), G, xt.data(), I,
                     T(gw.accumulate ? 1 : 0), gw.tensor.data(), I);
  if (d.has_bias) {
    GradTarget<T, D> gb_ih = tape.grad_target(n, 3), gb_hh = tape.grad_target(n, 4);
    if (gb_ih || gb_hh) {
      Tensor<T, D> db = tape.scratch(Shape{G});
      Kernels<D>::sum_to(Shape{S * B, G}, dgates.data(), Strides{{0, 1}}, db.data(), G, false);
      reduce_into(gb_ih, db);
      reduce_into(gb_hh, db);
    }
  }
  if (GradTarget<T, D> gx = tape.grad_target(n, 0)) {
    // dx = dgates W_ih, one [T*B, 4H] x [4H, I] GEMM, then back to batch-first.
    Tensor<T, D> dxt = tape.scratch(Shape{S, B, I});
    Kernels<D>::gemm(false, false, S * B, I, G, T(1), dgates.data(), G, w_ih.data(), I, T(0),
                     dxt.data(), I);
    swap_leading<T, D>(S, B, I, dxt.data(), gx.tensor.data(), gx.accumulate);
  }
}

}  // namespace detail

// x [B, T, I]; w_ih [4H, I], w_hh [4H, H]; b_ih, b_hh [4H] (both or neither); h0, c0 [B, H]
// (both or neither: zeros when undefined).
template <class T, class D>
LstmResult<T, D> lstm(Var<T, D> x, Var<T, D> w_ih, Var<T, D> w_hh, Var<T, D> b_ih = {},
                      Var<T, D> b_hh = {}, Var<T, D> h0 = {}, Var<T, D> c0 = {}) {
  Tape<T, D>& tape = *x.tape;
  const Shape xs = x.shape(), wi = w_ih.shape(), wh = w_hh.shape();
  if (xs.rank != 3 || wh.rank != 2 || wh[0] != 4 * wh[1] || wi.rank != 2 || wi[0] != wh[0] ||
      wi[1] != xs[2])
    throw ShapeError("lstm: input " + xs.str() + ", weight_ih " + wi.str() + " and weight_hh " +
                     wh.str() + " are not [B, T, I], [4H, I] and [4H, H]");
  const int64_t B = xs[0], S = xs[1], I = xs[2], H = wh[1], G = 4 * H;
  if (S < 1) throw ShapeError("lstm: input " + xs.str() + " has no time steps");
  if (b_ih.defined() != b_hh.defined()) throw ValueError("lstm: pass both biases or neither");
  if (h0.defined() != c0.defined()) throw ValueError("lstm: pass both h0 and c0 or neither");
  const detail::LstmDims d{B, S, I, H, b_ih.defined(), h0.defined()};
  if (d.has_bias && (b_ih.shape() != Shape{G} || b_hh.shape() != Shape{G}))
    throw ShapeError("lstm: biases " + b_ih.shape().str() + " and " + b_hh.shape().str() +
                     " are not [" + std::to_string(G) + "]");
  if (d.has_state && (h0.shape() != Shape{B, H} || c0.shape() != Shape{B, H}))
    throw ShapeError("lstm: initial states " + h0.shape().str() + " and " + c0.shape().str() +
                     " are not [" + std::to_string(B) + ", " + std::to_string(H) + "]");

  Tensor<T, D> xt = tape.alloc(Shape{S, B, I});
  detail::swap_leading<T, D>(B, S, I, x.value().data(), xt.data(), false);
  Tensor<T, D> gates = tape.alloc(Shape{S, B, G});
  if (d.has_bias) {
    Kernels<D>::broadcast_map(Shape{S * B, G}, fn::Add{}, gates.data(), b_ih.value().data(),
                              Strides{{0, 1}}, b_hh.value().data(), Strides{{0, 1}});
  }
  Kernels<D>::gemm(false, true, S * B, G, I, T(1), xt.data(), I, w_ih.value().data(), I,
                   T(d.has_bias ? 1 : 0), gates.data(), G);
  Tensor<T, D> hs = tape.alloc(Shape{S + 1, B, H}), cs = tape.alloc(Shape{S + 1, B, H});
  Tensor<T, D> tanh_c = tape.alloc(Shape{S, B, H});
  if (d.has_state) {
    Kernels<D>::copy_bytes(hs.data(), h0.value().data(), size_t(B * H) * sizeof(T));
    Kernels<D>::copy_bytes(cs.data(), c0.value().data(), size_t(B * H) * sizeof(T));
  } else {
    Kernels<D>::zero_bytes(hs.data(), size_t(B * H) * sizeof(T));
    Kernels<D>::zero_bytes(cs.data(), size_t(B * H) * sizeof(T));
  }
  // Output: the batch-first outputs [B, T, H] followed by the final cell state [B, H], so that
  // both are contiguous views of one differentiable value.
  Tensor<T, D> z = tape.alloc(Shape{B * S * H + B * H});
  const Tensor<T, D> w_hh_v = w_hh.value();
  for (int64_t t = 0; t < S; ++t) {
    T* g = gates.data() + t * B * G;
    const bool has_prev = t > 0 || d.has_state;  // else h_{t-1} and c_{t-1} are zero
    if (has_prev)                                // gates_t += h_{t-1} W_hh^T : B x H times H x 4H
      Kernels<D>::gemm(false, true, B, G, H, T(1), hs.data() + t * B * H, H, w_hh_v.data(), H, T(1),
                       g, G);
    Kernels<D>::lstm_cell_forward(B, H, g, has_prev ? cs.data() + t * B * H : nullptr,
                                  cs.data() + (t + 1) * B * H, tanh_c.data() + t * B * H,
                                  hs.data() + (t + 1) * B * H);
  }
  detail::swap_leading<T, D>(S, B, H, hs.data() + B * H, z.data(), false);
  Kernels<D>::copy_bytes(z.data() + B * S * H, cs.data() + S * B * H, size_t(B * H) * sizeof(T));

  Var<T, D> inputs[7] = {x, w_ih, w_hh};
  size_t count = 3;
  if (d.has_bias) {
    inputs[count++] = b_ih;
    inputs[count++] = b_hh;
  }
  if (d.has_state) {
    inputs[count++] = h0;
    inputs[count++] = c0;
  }
  const std::span<const Var<T, D>> recorded(inputs, count);
  const bool rg = tape.needs_grad_range(recorded);
  Var<T, D> packed = tape.output(z, rg);
  if (rg) {
    const Tensor<T, D> saved[5] = {xt, gates, hs, cs, tanh_c};
    tape.record("lstm", &detail::lstm_backward<T, D>, packed, recorded,
                std::span<const Tensor<T, D>>(saved, 5))
        .put(d);
  }
  LstmResult<T, D> r;
  r.output = reshape(slice(packed, 0, 0, B * S * H), Shape{B, S, H});
  r.c = reshape(slice(packed, 0, B * S * H, B * S * H + B * H), Shape{B, H});
  r.h = reshape(slice(r.output, 1, S - 1, S), Shape{B, H});
  return r;
}

}  // namespace mimic::ops
