#pragma once
// Training samples from a robomimic file: windows of time steps chosen by robomimic's
// SequenceDataset rules (or Diffusion Policy's sampler), assembled straight into contiguous
// batch tensors. Cache modes: "all" keeps every array in memory, "low_dim" keeps the low-dim
// arrays and reads image rows per sample, "none" reads everything per sample (hyperslabs).
// fill() may run on several threads at once: HDF5 access is serialized by a mutex of the dataset.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mimic/data/batch.hpp"
#include "mimic/data/robomimic.hpp"
#include "mimic/data/sequence.hpp"

namespace mimic::data {

namespace detail {
// Which value of several demos' is the odd one: the value most demos share and the first demo
// that differs from it, so that an error names the demo that is wrong rather than whichever
// happened to differ from the first.
template <class V>
struct Outlier {
  size_t index;
  V majority;
  size_t agreeing;
};
template <class V>
std::optional<Outlier<V>> find_outlier(const std::vector<V>& values) {
  std::map<V, size_t> count;
  for (const V& v : values) ++count[v];
  if (count.size() <= 1) return std::nullopt;
  auto most = count.begin();
  for (auto it = count.begin(); it != count.end(); ++it)
    if (it->second > most->second) most = it;
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i] != most->first) return Outlier<V>{i, most->first, most->second};
  return std::nullopt;
}
}  // namespace detail

struct SequenceDatasetOptions {
  std::string path;
  std::vector<std::string> obs_keys;                 // low-dim and image keys
  std::vector<std::string> dataset_keys{"actions"};  // per-step float arrays of a demo
  std::string filter_key;                            // "" = all demos
  int64_t seq_length = 1, frame_stack = 1;
  bool pad_seq_length = true, pad_frame_stack = true;
  bool get_pad_mask = false;
  std::string goal_mode;  // "" or "last"
  bool load_next_obs = false;
  std::string cache_mode = "all";  // "all" | "low_dim" | "none"
  int64_t demo_limit = -1;
  // Diffusion Policy's sampler instead of robomimic's: horizon = seq_length.
  bool diffusion_sampler = false;
  int64_t pad_before = 0, pad_after = 0;
};

class SequenceDataset {
 public:
  explicit SequenceDataset(SequenceDatasetOptions o)
      : o_(std::move(o)), reader_(std::make_unique<RobomimicReader>(o_.path)) {
    if (o_.cache_mode != "all" && o_.cache_mode != "low_dim" && o_.cache_mode != "none")
      throw ValueError("hdf5_cache_mode: expected all, low_dim or none, got '" + o_.cache_mode +
                       "'");
    if (!o_.goal_mode.empty() && o_.goal_mode != "last")
      throw ValueError("goal_mode: only 'last' is supported, got '" + o_.goal_mode + "'");
    if (o_.obs_keys.empty()) throw ValueError(o_.path + ": no observation keys requested");
    if (o_.filter_key.empty()) {
      names_ = reader_->demos();
    } else {
      const MaskDemos m = reader_->read_mask(o_.filter_key);
      names_ = m.demos;
      if (!m.missing.empty()) warnings_.push_back(reader_->mask_warning(o_.filter_key, m));
    }
    if (o_.demo_limit >= 0 && int64_t(names_.size()) > o_.demo_limit)
      names_.resize(size_t(o_.demo_limit));
    if (names_.empty())
      throw ValueError(o_.path + ": no demos" +
                       (o_.filter_key.empty() ? std::string() : " in mask/" + o_.filter_key));
    env_args_ = reader_->env_args();
    // Low-dim arrays (and images when caching everything) of every used demo.
    for (const std::string& n : names_) {
      Demo d =
          reader_->read_demo(n, o_.load_next_obs || !o_.goal_mode.empty(), o_.cache_mode == "all");
      check_demo(d);
      demos_.push_back(std::move(d));
    }
    check_dataset_widths();
    describe_keys();
    if (o_.cache_mode == "none")  // samples read observations from the file
      for (Demo& d : demos_) d.obs.clear(), d.next_obs.clear();
    std::vector<int64_t> lengths;
    for (const Demo& d : demos_) lengths.push_back(d.num_samples);
    if (o_.diffusion_sampler) {
      dp_ = DiffusionSequence{o_.seq_length, o_.pad_before, o_.pad_after};
      index_ = std::make_unique<SampleIndex>(
          lengths, [&](size_t, int64_t len) { return dp_.samples_in(len); });
    } else {
      rm_ = RobomimicSequence{o_.seq_length, o_.frame_stack, o_.pad_seq_length, o_.pad_frame_stack};
      index_ = std::make_unique<SampleIndex>(
          lengths, [&](size_t d, int64_t len) { return rm_.samples_in(len, names_[d]); });
    }
    if (index_->size() == 0) throw ValueError(o_.path + ": the demos yield no samples");
  }

  int64_t size() const { return index_->size(); }
  const std::vector<std::string>& demos() const { return names_; }
  const std::string& env_args() const { return env_args_; }
  // What was tolerated while opening (a mask naming demos that are not in the file).
  const std::vector<std::string>& warnings() const { return warnings_; }
  const SequenceDatasetOptions& options() const { return o_; }
  int64_t window() const { return o_.diffusion_sampler ? o_.seq_length : rm_.window(); }
  // Per-step shape of every observation key (images as C, H, W).
  std::map<std::string, std::vector<int64_t>> obs_shapes() const {
    std::map<std::string, std::vector<int64_t>> out;
    for (const auto& [k, info] : keys_) out[k] = info.step_shape;
    return out;
  }
  int64_t action_dim() const { return demos_.front().actions.shape[1]; }
  // Low-dim observations and actions of the used demos (for normalization statistics).
  const std::vector<Demo>& low_dim_demos() const {
    if (o_.cache_mode != "none") return demos_;
    std::lock_guard<std::mutex> lock(io_);
    if (stats_demos_.empty())
      for (const std::string& n : names_)
        stats_demos_.push_back(reader_->read_demo(n, false, false));
    return stats_demos_;
  }

  Batch make_batch_like(int64_t batch) const {
    Batch b;
    const int64_t t = window();
    for (const auto& [k, info] : keys_) {
      b.obs[k] = Tensor<float>::empty(batch_shape(batch, t, info.step_shape));
      if (o_.load_next_obs)
        b.next_obs[k] = Tensor<float>::empty(batch_shape(batch, t, info.step_shape));
      if (!o_.goal_mode.empty())
        b.goal_obs[k] = Tensor<float>::empty(batch_shape(batch, 0, info.step_shape));
    }
    for (const std::string& k : o_.dataset_keys)
      b.data[k] = Tensor<float>::empty({batch, t, dataset_width(k)});
    if (o_.get_pad_mask) b.pad_mask = Tensor<float>::empty({batch, t, 1});
    return b;
  }

  // Samples indices[0..count) into rows 0..count of `out` (made by make_batch_like(count)).
  void fill(const int64_t* indices, int64_t count, Batch& out) const {
    const int64_t t = window();
    for (int64_t r = 0; r < count; ++r) {
      const auto [d, k] = index_->locate(indices[r]);
      const Demo& demo = demos_[size_t(d)];
      const SampleSteps s = o_.diffusion_sampler
                                ? dp_.sample(demo.num_samples, k)
                                : rm_.sample(demo.num_samples, k, !o_.goal_mode.empty());
      for (const auto& [key, info] : keys_) {
        copy_steps(demo, "obs", key, info, s.steps,
                   out.obs.at(key).data() + r * t * info.step_numel);
        if (o_.load_next_obs)
          copy_steps(demo, "next_obs", key, info, s.steps,
                     out.next_obs.at(key).data() + r * t * info.step_numel);
        if (!o_.goal_mode.empty())
          copy_steps(demo, "next_obs", key, info,
                     {s.goal_step >= 0 ? s.goal_step : demo.num_samples - 1},
                     out.goal_obs.at(key).data() + r * info.step_numel);
      }
      for (const std::string& key : o_.dataset_keys) {
        const Array& a = dataset_array(demo, key);
        const int64_t w = a.shape.rank > 1 ? a.shape[1] : 1;
        float* dst = out.data.at(key).data() + r * t * w;
        for (size_t j = 0; j < s.steps.size(); ++j) {
          if (!a.f64.empty())  // states, stored in double
            std::copy_n(a.f64.data() + s.steps[j] * w, w, dst + int64_t(j) * w);
          else
            std::copy_n(a.f32.data() + s.steps[j] * w, w, dst + int64_t(j) * w);
        }
      }
      if (o_.get_pad_mask)
        for (size_t j = 0; j < s.steps.size(); ++j)
          out.pad_mask.data()[r * t + int64_t(j)] = float(s.pad_mask[j]);
    }
  }

 private:
  struct KeyInfo {
    bool image = false;
    std::vector<int64_t> step_shape;  // [dim] or [C, H, W]
    int64_t step_numel = 0;
    int64_t h = 0, w = 0, c = 0;
  };

  static Shape batch_shape(int64_t b, int64_t t, const std::vector<int64_t>& step) {
    Shape s;
    s.push_back(b);
    if (t > 0) s.push_back(t);
    for (int64_t d : step) s.push_back(d);
    return s;
  }
  void check_demo(const Demo& d) const {
    for (const std::string& k : o_.obs_keys)
      if (!d.obs.count(k) &&
          !(o_.cache_mode != "all" && reader_->data_group().group(d.name).group("obs").exists(k)))
        throw ValueError(o_.path + ": /data/" + d.name + "/obs/" + k + ": missing observation key");
    for (const std::string& k : o_.dataset_keys) dataset_array(d, k);
    for (const auto& [k, a] : d.obs) {  // NaN or inf in low-dim observations, with its place
      const int64_t w = a.shape.rank > 1 ? a.shape[1] : 1;
      for (size_t i = 0; i < a.f32.size(); ++i)
        if (!std::isfinite(a.f32[i]))
          throw ValueError(o_.path + ": /data/" + d.name + "/obs/" + k +
                           ": non-finite value at step " + std::to_string(int64_t(i) / w) +
                           ", dim " + std::to_string(int64_t(i) % w));
    }
  }
  // Every dataset key (actions, ...) as wide in all demos; the error names the odd demo.
  void check_dataset_widths() const {
    for (const std::string& k : o_.dataset_keys) {
      std::vector<std::vector<int64_t>> widths;
      for (const Demo& d : demos_) {
        const Array& a = dataset_array(d, k);
        widths.push_back({a.shape.rank > 1 ? a.shape[1] : 1});
      }
      if (const auto odd = detail::find_outlier(widths))
        throw ShapeError(o_.path + ": /data/" + demos_[odd->index].name + "/" + k + ": " +
                         std::to_string(widths[odd->index][0]) + " dims, " +
                         std::to_string(odd->agreeing) + " other demos have " +
                         std::to_string(odd->majority[0]));
    }
  }
  // Shapes of every key from the first demo, checked against all others.
  void describe_keys() {
    for (const std::string& k : o_.obs_keys) {
      KeyInfo info;
      std::vector<std::vector<int64_t>> steps;
      for (const Demo& d : demos_) {
        Shape s;
        auto it = d.obs.find(k);
        if (it != d.obs.end()) {
          s = it->second.shape;
        } else {  // an image key not cached: read its shape from the file
          s = reader_->data_group().group(d.name).group("obs").dataset(k).shape();
          info.image = true;
        }
        if (it != d.obs.end() && it->second.is_image()) info.image = true;
        std::vector<int64_t> step;
        if (info.image) {
          if (s.rank != 4)
            throw ShapeError(o_.path + ": /data/" + d.name + "/obs/" + k + ": image of shape " +
                             s.str() + ", expected [N, H, W, C]");
          step = {s[3], s[1], s[2]};
        } else {
          if (s.rank != 2)
            throw ShapeError(o_.path + ": /data/" + d.name + "/obs/" + k + ": shape " + s.str() +
                             ", expected [N, D]");
          step = {s[1]};
        }
        steps.push_back(step);
      }
      if (const auto odd = detail::find_outlier(steps))
        throw ShapeError(
            o_.path + ": /data/" + demos_[odd->index].name + "/obs/" + k + ": per-step shape " +
            Shape::from_range(steps[odd->index].begin(), steps[odd->index].end()).str() + ", " +
            std::to_string(odd->agreeing) + " other demos have " +
            Shape::from_range(odd->majority.begin(), odd->majority.end()).str());
      info.step_shape = steps.front();
      info.step_numel = 1;
      for (int64_t x : info.step_shape) info.step_numel *= x;
      if (info.image)
        info.c = info.step_shape[0], info.h = info.step_shape[1], info.w = info.step_shape[2];
      keys_[k] = info;
    }
  }
  int64_t dataset_width(const std::string& key) const {
    const Array& a = dataset_array(demos_.front(), key);
    return a.shape.rank > 1 ? a.shape[1] : 1;
  }
  const Array& dataset_array(const Demo& d, const std::string& key) const {
    const Array* a = key == "actions"   ? &d.actions
                     : key == "rewards" ? &d.rewards
                     : key == "dones"   ? &d.dones
                     : key == "states"  ? &d.states
                                        : nullptr;
    if (!a)
      throw ValueError("dataset_keys: unknown key '" + key +
                       "' (expected actions, rewards, dones or states)");
    if (a->rows() != d.num_samples)
      throw ValueError(o_.path + ": /data/" + d.name + "/" + key + ": missing or not " +
                       std::to_string(d.num_samples) + " rows");
    return *a;
  }

  // Rows `steps` of obs|next_obs/key into dst as float (images: CHW / 255).
  void copy_steps(const Demo& demo, const char* group, const std::string& key, const KeyInfo& info,
                  const std::vector<int64_t>& steps, float* dst) const {
    const auto& cache = std::string(group) == "obs" ? demo.obs : demo.next_obs;
    auto it = cache.find(key);
    const int64_t n = info.step_numel;
    if (it != cache.end() && !info.image) {
      for (size_t j = 0; j < steps.size(); ++j)
        std::copy_n(it->second.f32.data() + steps[j] * n, n, dst + int64_t(j) * n);
      return;
    }
    const int64_t lo = *std::min_element(steps.begin(), steps.end());
    const int64_t hi = *std::max_element(steps.begin(), steps.end()) + 1;
    if (info.image) {
      std::vector<uint8_t> buf;
      const uint8_t* src;
      if (it != cache.end()) {
        src = it->second.u8.data() + lo * n;
      } else {
        buf.resize(size_t((hi - lo) * n));
        std::lock_guard<std::mutex> lock(io_);
        reader_->data_group().group(demo.name).group(group).dataset(key).read_rows(lo, hi,
                                                                                   buf.data());
        src = buf.data();
      }
      const int64_t hw = info.h * info.w;
      for (size_t j = 0; j < steps.size(); ++j) {
        const uint8_t* img = src + (steps[j] - lo) * n;  // HWC
        float* out = dst + int64_t(j) * n;               // CHW
        for (int64_t p = 0; p < hw; ++p)
          for (int64_t ch = 0; ch < info.c; ++ch)
            out[ch * hw + p] = float(img[p * info.c + ch]) / 255.f;
      }
      return;
    }
    std::vector<float> buf(size_t((hi - lo) * n));
    {
      std::lock_guard<std::mutex> lock(io_);
      reader_->data_group().group(demo.name).group(group).dataset(key).read_rows(lo, hi,
                                                                                 buf.data());
    }
    for (size_t j = 0; j < steps.size(); ++j)
      std::copy_n(buf.data() + (steps[j] - lo) * n, n, dst + int64_t(j) * n);
  }

  SequenceDatasetOptions o_;
  std::unique_ptr<RobomimicReader> reader_;
  std::vector<std::string> names_;
  std::vector<Demo> demos_;
  mutable std::vector<Demo> stats_demos_;
  std::string env_args_;
  std::vector<std::string> warnings_;
  std::map<std::string, KeyInfo> keys_;
  RobomimicSequence rm_;
  DiffusionSequence dp_;
  std::unique_ptr<SampleIndex> index_;
  mutable std::mutex io_;
};

}  // namespace mimic::data
