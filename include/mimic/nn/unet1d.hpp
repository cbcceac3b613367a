#pragma once
// Diffusion Policy's ConditionalUnet1D and its blocks, with PyTorch state-dict names.
// Shapes: sample [B, T, input_dim], timesteps [B], global_cond [B, global_cond_dim] -> [B, T,
// input_dim].
#include <vector>

#include "mimic/nn/conv.hpp"
#include "mimic/nn/linear.hpp"
#include "mimic/nn/norm.hpp"
#include "mimic/nn/sinusoidal.hpp"
#include "mimic/ops/binary.hpp"
#include "mimic/ops/shape.hpp"
#include "mimic/ops/unary.hpp"

namespace mimic::nn {

// Conv1d (padding k/2) -> GroupNorm -> Mish; names `<prefix>.block.{0,1}`.
template <class T, class D = Cpu>
struct Conv1dBlock {
  Conv1d<T, D> conv;
  GroupNorm<T, D> norm;
  Conv1dBlock() = default;
  Conv1dBlock(ParamStore<T, D>& store, const std::string& prefix, int64_t in, int64_t out,
              int64_t k, int64_t groups)
      : conv(store, join(prefix, "block.0"), in, out, k, 1, k / 2),
        norm(store, join(prefix, "block.1"), groups, out) {}
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x) const {
    return ops::mish(norm(store, conv(store, x)));
  }
};

// Two Conv1dBlocks with FiLM conditioning in between: e = Linear(Mish(cond)) gives a per-channel
// scale and bias (or bias only); the input is added back through a 1x1 conv when channels differ.
template <class T, class D = Cpu>
struct ConditionalResidualBlock1D {
  Conv1dBlock<T, D> block0, block1;
  Linear<T, D> cond_encoder;
  Conv1d<T, D> residual_conv;
  bool has_residual_conv = false, predict_scale = true;
  int64_t out_channels = 0;

  ConditionalResidualBlock1D() = default;
  ConditionalResidualBlock1D(ParamStore<T, D>& store, const std::string& prefix, int64_t in,
                             int64_t out, int64_t cond_dim, int64_t k, int64_t groups,
                             bool cond_predict_scale)
      : block0(store, join(prefix, "blocks.0"), in, out, k, groups),
        block1(store, join(prefix, "blocks.1"), out, out, k, groups),
        cond_encoder(store, join(prefix, "cond_encoder.1"), cond_dim,
                     cond_predict_scale ? 2 * out : out),
        has_residual_conv(in != out),
        predict_scale(cond_predict_scale),
        out_channels(out) {
    if (has_residual_conv)
      residual_conv = Conv1d<T, D>(store, join(prefix, "residual_conv"), in, out, 1);
  }
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> x, Var<T, D> cond) const {
    Var<T, D> h = block0(store, x);
    Var<T, D> e = cond_encoder(store, ops::mish(cond));  // [B, 2 out] or [B, out]
    const int64_t b = e.dim(0);
    if (predict_scale) {
      Var<T, D> scale = ops::reshape(ops::slice(e, 1, 0, out_channels), Shape{b, out_channels, 1});
      Var<T, D> bias =
          ops::reshape(ops::slice(e, 1, out_channels, 2 * out_channels), Shape{b, out_channels, 1});
      h = scale * h + bias;
    } else {
      h = h + ops::reshape(e, Shape{b, out_channels, 1});
    }
    h = block1(store, h);
    return h + (has_residual_conv ? residual_conv(store, x) : x);
  }
};

struct UnetConfig {
  int64_t input_dim = 2;
  int64_t global_cond_dim = 0;
  int64_t local_cond_dim = 0;  // per-step conditioning [B, T, local_cond_dim]; 0 = none
  int64_t diffusion_step_embed_dim = 256;
  std::vector<int64_t> down_dims = {256, 512, 1024};
  int64_t kernel_size = 5;
  int64_t n_groups = 8;
  bool cond_predict_scale = true;
};

template <class T, class D = Cpu>
class ConditionalUnet1D {
 public:
  using Res = ConditionalResidualBlock1D<T, D>;

  ConditionalUnet1D(ParamStore<T, D>& store, const UnetConfig& cfg, const std::string& prefix = "")
      : cfg_(cfg), step_embed_(cfg.diffusion_step_embed_dim) {
    if (cfg.down_dims.empty()) throw ValueError("ConditionalUnet1D: down_dims is empty");
    const int64_t dsed = cfg.diffusion_step_embed_dim;
    step_fc1_ = Linear<T, D>(store, join(prefix, "diffusion_step_encoder.1"), dsed, dsed * 4);
    step_fc2_ = Linear<T, D>(store, join(prefix, "diffusion_step_encoder.3"), dsed * 4, dsed);
    const int64_t cond_dim = dsed + cfg.global_cond_dim;
    if (cfg.local_cond_dim > 0) {
      // Two encoders as in Diffusion Policy; like the original, only the first one's output is
      // used (added after the first down block), the second is declared for weight compatibility.
      for (int i = 0; i < 2; ++i)
        local_.push_back(Res(store, join(prefix, "local_cond_encoder." + std::to_string(i)),
                             cfg.local_cond_dim, cfg.down_dims.front(), cond_dim, cfg.kernel_size,
                             cfg.n_groups, cfg.cond_predict_scale));
    }
    std::vector<int64_t> dims = {cfg.input_dim};
    dims.insert(dims.end(), cfg.down_dims.begin(), cfg.down_dims.end());
    const size_t levels = cfg.down_dims.size();
    auto res = [&](const std::string& name, int64_t in, int64_t out) {
      return Res(store, join(prefix, name), in, out, cond_dim, cfg.kernel_size, cfg.n_groups,
                 cfg.cond_predict_scale);
    };
    for (size_t i = 0; i < levels; ++i) {
      const std::string p = "down_modules." + std::to_string(i);
      Down d{res(p + ".0", dims[i], dims[i + 1]),
             res(p + ".1", dims[i + 1], dims[i + 1]),
             {},
             i + 1 < levels};
      if (d.has_downsample)
        d.downsample =
            Conv1d<T, D>(store, join(prefix, p + ".2.conv"), dims[i + 1], dims[i + 1], 3, 2, 1);
      down_.push_back(std::move(d));
    }
    const int64_t mid = cfg.down_dims.back();
    mid_.push_back(res("mid_modules.0", mid, mid));
    mid_.push_back(res("mid_modules.1", mid, mid));
    // Up stages over the reversed (in, out) pairs after the first; each ends in an upsample.
    for (size_t u = 0; u + 1 < levels; ++u) {
      const int64_t dim_out = dims[levels - u], dim_in = dims[levels - u - 1];
      const std::string p = "up_modules." + std::to_string(u);
      const bool last = u + 1 >= levels;  // never true here: every up stage upsamples (as in DP)
      Up up{res(p + ".0", dim_out * 2, dim_in), res(p + ".1", dim_in, dim_in), {}, !last};
      if (up.has_upsample)
        up.upsample =
            ConvTranspose1d<T, D>(store, join(prefix, p + ".2.conv"), dim_in, dim_in, 4, 2, 1);
      up_.push_back(std::move(up));
    }
    const int64_t start = cfg.down_dims.front();
    final_block_ = Conv1dBlock<T, D>(store, join(prefix, "final_conv.0"), start, start,
                                     cfg.kernel_size, cfg.n_groups);
    final_conv_ = Conv1d<T, D>(store, join(prefix, "final_conv.1"), start, cfg.input_dim, 1);
  }

  const UnetConfig& config() const { return cfg_; }

  // sample [B, T, input_dim], timesteps [B] (float step indices), global_cond [B, G] and
  // local_cond [B, T, L] (each undefined when the config has none).
  Var<T, D> operator()(const ParamStore<T, D>& store, Var<T, D> sample, Var<T, D> timesteps,
                       Var<T, D> global_cond = {}, Var<T, D> local_cond = {}) const {
    const Shape s = sample.shape();
    if (s.rank != 3 || s[2] != cfg_.input_dim)
      throw ShapeError("ConditionalUnet1D: sample " + s.str() + " is not [B, T, " +
                       std::to_string(cfg_.input_dim) + "]");
    if (timesteps.rank() != 1 || timesteps.dim(0) != s[0])
      throw ShapeError("ConditionalUnet1D: timesteps " + timesteps.shape().str() +
                       " do not match batch " + std::to_string(s[0]));
    int64_t t = s[1];
    for (size_t i = 0; i + 1 < down_.size(); ++i) {
      if (t % 2 != 0)
        throw ShapeError("ConditionalUnet1D: horizon " + std::to_string(s[1]) +
                         " must be divisible by " + std::to_string(1 << (down_.size() - 1)));
      t /= 2;
    }
    Var<T, D> cond = step_fc2_(store, ops::mish(step_fc1_(store, step_embed_(timesteps))));
    if (cfg_.global_cond_dim > 0) {
      if (!global_cond.defined() || global_cond.rank() != 2 || global_cond.dim(0) != s[0] ||
          global_cond.dim(1) != cfg_.global_cond_dim)
        throw ShapeError(
            "ConditionalUnet1D: global_cond " +
            (global_cond.defined() ? global_cond.shape().str() : std::string("(none)")) +
            " is not [B, " + std::to_string(cfg_.global_cond_dim) + "]");
      cond = ops::concat({cond, global_cond}, 1);
    }
    Var<T, D> local;
    if (cfg_.local_cond_dim > 0) {
      if (!local_cond.defined() || local_cond.rank() != 3 || local_cond.dim(0) != s[0] ||
          local_cond.dim(1) != s[1] || local_cond.dim(2) != cfg_.local_cond_dim)
        throw ShapeError("ConditionalUnet1D: local_cond " +
                         (local_cond.defined() ? local_cond.shape().str() : std::string("(none)")) +
                         " is not [B, T, " + std::to_string(cfg_.local_cond_dim) + "]");
      local = local_[0](store, ops::permute(local_cond, {0, 2, 1}), cond);
    }
    Var<T, D> x = ops::permute(sample, {0, 2, 1});  // [B, C, T]
    Var<T, D> skips[16];
    int n_skips = 0;
    for (const Down& d : down_) {
      x = d.res0(store, x, cond);
      if (local.defined() && n_skips == 0) x = x + local;
      x = d.res1(store, x, cond);
      skips[n_skips++] = x;
      if (d.has_downsample) x = d.downsample(store, x);
    }
    for (const Res& m : mid_) x = m(store, x, cond);
    for (const Up& u : up_) {
      x = ops::concat({x, skips[--n_skips]}, 1);
      x = u.res1(store, u.res0(store, x, cond), cond);
      if (u.has_upsample) x = u.upsample(store, x);
    }
    x = final_conv_(store, final_block_(store, x));
    return ops::permute(x, {0, 2, 1});
  }

 private:
  struct Down {
    Res res0, res1;
    Conv1d<T, D> downsample;
    bool has_downsample;
  };
  struct Up {
    Res res0, res1;
    ConvTranspose1d<T, D> upsample;
    bool has_upsample;
  };
  UnetConfig cfg_;
  SinusoidalPosEmb<T, D> step_embed_;
  Linear<T, D> step_fc1_, step_fc2_;
  std::vector<Down> down_;
  std::vector<Res> mid_, local_;
  std::vector<Up> up_;
  Conv1dBlock<T, D> final_block_;
  Conv1d<T, D> final_conv_;
};

}  // namespace mimic::nn
