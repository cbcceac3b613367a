#pragma once
// Multi-layer, batch-first LSTM and GRU with PyTorch's parameter names and gate order
// (LSTM: i, f, g, o; GRU: r, z, n). The input projection of every time step is one GEMM per
// layer; the recurrent projection runs per step. LSTM layers run as one fused op (ops/lstm.hpp).
// State goes in and out explicitly, so a policy can carry it across control steps during a rollout.
#include <string>
#include <vector>

#include "mimic/nn/module.hpp"
#include "mimic/ops/binary.hpp"
#include "mimic/ops/lstm.hpp"
#include "mimic/ops/matmul.hpp"
#include "mimic/ops/shape.hpp"
#include "mimic/ops/unary.hpp"

namespace mimic::nn {

// Per-layer hidden (and, for the LSTM, cell) states, each [B, H]. Empty = zeros.
template <class T, class D>
struct RnnState {
  std::vector<Var<T, D>> h, c;
  bool empty() const { return h.empty(); }
};

template <class T, class D>
struct RnnOutput {
  Var<T, D> output;  // [B, T, H]: the last layer's hidden state at every step
  RnnState<T, D> state;
};

template <class T, class D = Cpu>
class Rnn {
 public:
  enum class Cell { kLstm, kGru };

  Rnn(ParamStore<T, D>& store, const std::string& prefix, Cell cell, int64_t input_size,
      int64_t hidden_size, int64_t num_layers)
      : cell_(cell), hidden_(hidden_size), input_(input_size) {
    if (input_size < 1 || hidden_size < 1 || num_layers < 1)
      throw ValueError("Rnn '" + prefix + "': sizes must be >= 1");
    const int64_t gates = (cell == Cell::kLstm ? 4 : 3) * hidden_size;
    const Init init = fan_in_uniform(hidden_size * hidden_size);  // U(-1/sqrt(H), 1/sqrt(H))
    for (int64_t l = 0; l < num_layers; ++l) {
      const std::string s = "_l" + std::to_string(l);
      Layer layer;
      layer.w_ih = store.declare(join(prefix, "weight_ih" + s),
                                 {gates, l == 0 ? input_size : hidden_size}, init);
      layer.w_hh = store.declare(join(prefix, "weight_hh" + s), {gates, hidden_size}, init);
      layer.b_ih = store.declare(join(prefix, "bias_ih" + s), {gates}, init);
      layer.b_hh = store.declare(join(prefix, "bias_hh" + s), {gates}, init);
      layers_.push_back(layer);
    }
  }

  int64_t hidden_size() const { return hidden_; }
  int64_t num_layers() const { return static_cast<int64_t>(layers_.size()); }

  // x [B, T, input]; state from a previous call or empty (zeros).
  RnnOutput<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x,
                             const RnnState<T, D>& state = {}) const {
    Tape<T, D>& tape = *x.tape;
    const Shape xs = x.shape();
    if (xs.rank != 3 || xs[2] != input_)
      throw ShapeError("Rnn: input " + xs.str() + " is not [B, T, " + std::to_string(input_) + "]");
    const int64_t b = xs[0], steps = xs[1], h = hidden_;
    if (!state.empty() && (state.h.size() != layers_.size() || state.h[0].shape() != Shape{b, h} ||
                           (cell_ == Cell::kLstm && state.c.size() != layers_.size())))
      throw ShapeError("Rnn: state does not match " + std::to_string(layers_.size()) +
                       " layers of [" + std::to_string(b) + ", " + std::to_string(h) + "]");
    RnnOutput<T, D> result;
    Var<T, D> input = x;
    for (size_t l = 0; l < layers_.size(); ++l) {
      const Layer& p = layers_[l];
      if (cell_ == Cell::kLstm) {
        // The fused sequence op: one GEMM for all input projections, one pointwise pass per step.
        ops::LstmResult<T, D> r =
            ops::lstm(input, store.on(tape, p.w_ih), store.on(tape, p.w_hh), store.on(tape, p.b_ih),
                      store.on(tape, p.b_hh), state.empty() ? Var<T, D>{} : state.h[l],
                      state.empty() ? Var<T, D>{} : state.c[l]);
        input = r.output;
        result.state.h.push_back(r.h);
        result.state.c.push_back(r.c);
        continue;
      }
      Var<T, D> w_hh = store.on(tape, p.w_hh), b_hh = store.on(tape, p.b_hh);
      // All steps' input projections at once: [B, T, G].
      Var<T, D> xw = ops::linear(input, store.on(tape, p.w_ih), store.on(tape, p.b_ih));
      Var<T, D> hs = state.empty() ? tape.constant(tape.zeros(Shape{b, h})) : state.h[l];
      Var<T, D> cs;
      if (cell_ == Cell::kLstm)
        cs = state.empty() ? tape.constant(tape.zeros(Shape{b, h})) : state.c[l];
      std::vector<Var<T, D>> outs;
      outs.reserve(static_cast<size_t>(steps));
      for (int64_t t = 0; t < steps; ++t) {
        Var<T, D> gx = ops::reshape(ops::slice(xw, 1, t, t + 1), Shape{b, xw.dim(2)});
        Var<T, D> gh = ops::linear(hs, w_hh, b_hh);
        if (cell_ == Cell::kLstm) {
          Var<T, D> g = gx + gh;
          Var<T, D> i = ops::sigmoid(ops::slice(g, 1, 0, h));
          Var<T, D> f = ops::sigmoid(ops::slice(g, 1, h, 2 * h));
          Var<T, D> gg = ops::tanh(ops::slice(g, 1, 2 * h, 3 * h));
          Var<T, D> o = ops::sigmoid(ops::slice(g, 1, 3 * h, 4 * h));
          cs = f * cs + i * gg;
          hs = o * ops::tanh(cs);
        } else {
          Var<T, D> r = ops::sigmoid(ops::slice(gx, 1, 0, h) + ops::slice(gh, 1, 0, h));
          Var<T, D> z = ops::sigmoid(ops::slice(gx, 1, h, 2 * h) + ops::slice(gh, 1, h, 2 * h));
          Var<T, D> n =
              ops::tanh(ops::slice(gx, 1, 2 * h, 3 * h) + r * ops::slice(gh, 1, 2 * h, 3 * h));
          hs = n + z * (hs - n);  // (1 - z) n + z h
        }
        outs.push_back(ops::reshape(hs, Shape{b, 1, h}));
      }
      input = ops::concat(outs, 1);
      result.state.h.push_back(hs);
      if (cell_ == Cell::kLstm) result.state.c.push_back(cs);
    }
    result.output = input;
    return result;
  }

 private:
  struct Layer {
    ParamId w_ih, w_hh, b_ih, b_hh;
  };
  Cell cell_;
  int64_t hidden_, input_;
  std::vector<Layer> layers_;
};

template <class T, class D = Cpu>
Rnn<T, D> make_lstm(ParamStore<T, D>& store, const std::string& prefix, int64_t input,
                    int64_t hidden, int64_t layers) {
  return Rnn<T, D>(store, prefix, Rnn<T, D>::Cell::kLstm, input, hidden, layers);
}
template <class T, class D = Cpu>
Rnn<T, D> make_gru(ParamStore<T, D>& store, const std::string& prefix, int64_t input,
                   int64_t hidden, int64_t layers) {
  return Rnn<T, D>(store, prefix, Rnn<T, D>::Cell::kGru, input, hidden, layers);
}

}  // namespace mimic::nn
