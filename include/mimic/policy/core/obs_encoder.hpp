#pragma once
// robomimic's ObservationEncoder: every observation key in sorted order becomes features that
// are concatenated. Low-dim keys pass through (already normalized); each rgb key goes through
// its own CropRandomizer (random crops in training, centre crop at evaluation), VisualCore
// (ResNet18 trunk -> SpatialSoftmax -> Linear) and a ReLU. Diffusion Policy uses GroupNorm in the
// trunk (so EMA weights stay consistent) and feeds images in [-1, 1]; LeRobot normalizes each
// camera's channels by its dataset statistics instead (channel_normalization).
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimic/data/normalize.hpp"
#include "mimic/nn/crop_randomizer.hpp"
#include "mimic/nn/visual_core.hpp"
#include "mimic/ops/binary.hpp"
#include "mimic/ops/shape.hpp"
#include "mimic/ops/unary.hpp"
#include "mimic/policy/core/features.hpp"

namespace mimic::policy {

struct EncoderSettings {
  nn::VisualCoreOptions core;
  bool crop = false;
  int64_t crop_height = 76, crop_width = 76, num_crops = 1;
  bool minus_one_to_one = false;  // map pixels from [0, 1] to [-1, 1] first
  // Per rgb key, in place of the range above: channel c's pixels in [0, 1] become
  // (p - offset[c]) / scale[c] (LeRobot's per-camera mean/std or min/max statistics).
  // Config: observation.encoder.rgb.core_kwargs.channel_normalization = {"<key>": {"offset":
  // [..], "scale": [..]}} (a kwargs section, which robomimic's schema leaves open).
  std::map<std::string, data::AffineStats> channel_normalization;

  // From observation.encoder.rgb of a robomimic config. The algorithm decides the trunk's norm
  // and the pixel range (Diffusion Policy: GroupNorm, so EMA weights stay consistent, and
  // [-1, 1] images; robomimic: BatchNorm and [0, 1]).
  static EncoderSettings from_config(const nlohmann::json& config, nn::NormKind norm,
                                     bool minus_one_to_one) {
    EncoderSettings s;
    s.core.norm = norm;
    s.minus_one_to_one = minus_one_to_one;
    if (!config.contains("observation") || !config["observation"].contains("encoder") ||
        !config["observation"]["encoder"].contains("rgb"))
      return s;
    const auto& rgb = config["observation"]["encoder"]["rgb"];
    const std::string where = "observation.encoder.rgb";
    auto str_or = [](const nlohmann::json& j, const char* key, const std::string& dflt) {
      return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : dflt;
    };
    if (str_or(rgb, "core_class", "VisualCore") != "VisualCore")
      throw UnsupportedError(where + ".core_class: only VisualCore is available");
    const nlohmann::json core = rgb.contains("core_kwargs") && rgb["core_kwargs"].is_object()
                                    ? rgb["core_kwargs"]
                                    : nlohmann::json::object();
    if (str_or(core, "backbone_class", "ResNet18Conv") != "ResNet18Conv")
      throw UnsupportedError(where + ".core_kwargs.backbone_class: only ResNet18Conv is available");
    if (str_or(core, "pool_class", "SpatialSoftmax") != "SpatialSoftmax")
      throw UnsupportedError(where + ".core_kwargs.pool_class: only SpatialSoftmax is available");
    if (core.contains("backbone_kwargs") && core["backbone_kwargs"].is_object()) {
      const auto& b = core["backbone_kwargs"];
      if (b.value("pretrained", false))
        throw UnsupportedError(where +
                               ".core_kwargs.backbone_kwargs.pretrained: no pretrained weights "
                               "are shipped; train from scratch (false)");
      if (b.value("input_coord_conv", false))
        throw UnsupportedError(where +
                               ".core_kwargs.backbone_kwargs.input_coord_conv is not "
                               "available");
    }
    if (core.contains("channel_normalization") && !core["channel_normalization"].is_null())
      s.channel_normalization = channel_normalization_from_json(
          core["channel_normalization"], where + ".core_kwargs.channel_normalization");
    s.core.feature_dimension = core.value("feature_dimension", int64_t(64));
    if (core.contains("pool_kwargs") && core["pool_kwargs"].is_object()) {
      const auto& p = core["pool_kwargs"];
      s.core.pool.num_kp = p.value("num_kp", s.core.pool.num_kp);
      s.core.pool.temperature = p.value("temperature", s.core.pool.temperature);
      s.core.pool.learnable_temperature =
          p.value("learnable_temperature", s.core.pool.learnable_temperature);
      s.core.pool.noise_std = p.value("noise_std", s.core.pool.noise_std);
      if (p.value("output_variance", false))
        throw UnsupportedError(where + ".core_kwargs.pool_kwargs.output_variance is not available");
    }
    const std::string randomizer = str_or(rgb, "obs_randomizer_class", "");
    if (!randomizer.empty() && randomizer != "CropRandomizer")
      throw UnsupportedError(where + ".obs_randomizer_class: only CropRandomizer is available");
    s.crop = randomizer == "CropRandomizer";
    if (s.crop && rgb.contains("obs_randomizer_kwargs")) {
      const auto& r = rgb["obs_randomizer_kwargs"];
      s.crop_height = r.value("crop_height", s.crop_height);
      s.crop_width = r.value("crop_width", s.crop_width);
      s.num_crops = r.value("num_crops", s.num_crops);
      if (r.value("pos_enc", false))
        throw UnsupportedError(where + ".obs_randomizer_kwargs.pos_enc is not available");
    }
    if (s.core.feature_dimension < 0 || s.crop_height < 1 || s.crop_width < 1 || s.num_crops < 1)
      throw ValueError(where + ": feature_dimension >= 0 and positive crop sizes expected");
    return s;
  }

  static std::map<std::string, data::AffineStats> channel_normalization_from_json(
      const nlohmann::json& j, const std::string& where) {
    if (!j.is_object())
      throw ValueError(where + " is " + j.dump() + ", expected {\"<rgb key>\": {offset, scale}}");
    std::map<std::string, data::AffineStats> out;
    for (const auto& [key, v] : j.items()) {
      auto numbers = [&](const char* name) {
        if (!v.is_object() || !v.contains(name) || !v[name].is_array() || v[name].empty())
          throw ValueError(where + "." + key + "." + name + ": expected a list of numbers");
        std::vector<double> x;
        for (const auto& e : v[name]) {
          if (!e.is_number() || !std::isfinite(e.get<double>()))
            throw ValueError(where + "." + key + "." + name + " holds " + e.dump() +
                             ", expected finite numbers");
          x.push_back(e.get<double>());
        }
        return x;
      };
      data::AffineStats a{numbers("offset"), numbers("scale")};
      if (a.offset.size() != a.scale.size())
        throw ValueError(where + "." + key + ": " + std::to_string(a.offset.size()) +
                         " offsets but " + std::to_string(a.scale.size()) + " scales");
      for (double x : a.scale)
        if (!(x > 0.0))
          throw ValueError(where + "." + key + ".scale holds " + std::to_string(x) +
                           ", expected positive numbers");
      out.emplace(key, std::move(a));
    }
    return out;
  }
};

template <class T = float, class D = Cpu>
class ObservationEncoder {
 public:
  ObservationEncoder() = default;
  // Declares one VisualCore per rgb key under "<prefix>.<key>".
  ObservationEncoder(nn::ParamStore<T, D>& store, const std::string& prefix, const ShapeMeta& meta,
                     const EncoderSettings& s)
      : settings_(s) {
    meta.validate();
    int64_t offset = 0;
    for (const std::string& key : meta.row_keys()) {
      Part part;
      part.key = key;
      part.offset = offset;
      part.size = meta.key_size(key);
      part.rgb = meta.is_rgb(key);
      offset += part.size;
      if (part.rgb) {
        const auto& shape = meta.obs_shapes.at(key);
        part.image = Shape{shape[0], shape[1], shape[2]};
        Shape seen = part.image;
        if (s.crop) {
          part.crop = nn::CropRandomizer(s.crop_height, s.crop_width, s.num_crops);
          if (s.crop_height > shape[1] || s.crop_width > shape[2])
            throw ShapeError("observation.encoder.rgb: a " + std::to_string(s.crop_height) + "x" +
                             std::to_string(s.crop_width) + " crop does not fit '" + key + "' of " +
                             std::to_string(shape[1]) + "x" + std::to_string(shape[2]));
          seen = Shape{shape[0], s.crop_height, s.crop_width};
        }
        part.core = nn::VisualCore<T, D>(store, nn::join(prefix, key), seen, s.core);
        if (auto it = s.channel_normalization.find(key); it != s.channel_normalization.end()) {
          if (int64_t(it->second.offset.size()) != shape[0])
            throw ShapeError("observation.encoder.rgb.core_kwargs.channel_normalization." + key +
                             ": " + std::to_string(it->second.offset.size()) +
                             " channels, the image has " + std::to_string(shape[0]));
          part.channel_offset.assign(it->second.offset.begin(), it->second.offset.end());
          part.channel_scale.assign(it->second.scale.begin(), it->second.scale.end());
        }
        part.features = part.core.output_dim();
      } else {
        part.features = part.size;
      }
      parts_.push_back(part);
    }
    raw_dim_ = offset;
    for (const auto& [key, stats] : s.channel_normalization)
      if (!meta.is_rgb(key))
        throw ValueError("observation.encoder.rgb.core_kwargs.channel_normalization names '" + key +
                         "', which is not an rgb observation key");
    // Features are concatenated in sorted key order, whatever the row layout.
    std::sort(parts_.begin(), parts_.end(),
              [](const Part& a, const Part& b) { return a.key < b.key; });
    for (const Part& p : parts_) {
      out_dim_ += p.features;
      has_rgb_ = has_rgb_ || p.rgb;
    }
  }

  bool has_rgb() const { return has_rgb_; }
  int64_t output_dim() const { return out_dim_; }

  // raw [R, obs_dim] rows -> features [R, output_dim]. Without rgb keys this is the identity.
  Var<T, D> operator()(const nn::ParamStore<T, D>& store, Var<T, D> raw, PhiloxStream* rng,
                       bool training) const {
    if (!has_rgb_) return raw;
    const Shape rs = raw.shape();
    if (rs.rank != 2 || rs[1] != raw_dim_)
      throw ShapeError("ObservationEncoder: input " + rs.str() + " (expected [R, " +
                       std::to_string(raw_dim_) + "])");
    std::vector<Var<T, D>> feats;
    for (const Part& p : parts_) {
      Var<T, D> x = ops::slice(raw, 1, p.offset, p.offset + p.size);
      if (p.rgb) {
        x = ops::reshape(x, Shape{rs[0], p.image[0], p.image[1], p.image[2]});
        if (!p.channel_offset.empty()) {
          x = ops::div(ops::sub(x, channel_constant(*raw.tape, p.channel_offset)),
                       channel_constant(*raw.tape, p.channel_scale));
        } else if (settings_.minus_one_to_one) {
          x = ops::add_scalar(ops::mul_scalar(x, 2.0), -1.0);
        }
        if (settings_.crop) x = p.crop.forward_in(x, rng, training);
        x = ops::relu(p.core(store, x, rng, training));
        if (settings_.crop) x = p.crop.forward_out(x);
      }
      feats.push_back(x);
    }
    return feats.size() == 1 ? feats[0] : ops::concat(feats, 1);
  }

 private:
  // [1, C, 1, 1], broadcast over a batch of images.
  static Var<T, D> channel_constant(Tape<T, D>& tape, const std::vector<T>& host) {
    Tensor<T, D> t = tape.alloc(Shape{1, int64_t(host.size()), 1, 1});
    Kernels<D>::from_host(t.data(), host.data(), host.size() * sizeof(T));
    return tape.constant(t);
  }

  struct Part {
    std::string key;
    int64_t offset = 0, size = 0;
    bool rgb = false;
    Shape image;
    nn::CropRandomizer crop;
    std::vector<T> channel_offset, channel_scale;  // empty: the algorithm's pixel range
    nn::VisualCore<T, D> core;
    int64_t features = 0;
  };
  EncoderSettings settings_;
  std::vector<Part> parts_;
  int64_t raw_dim_ = 0, out_dim_ = 0;
  bool has_rgb_ = false;
};

}  // namespace mimic::policy
