#pragma once
// The robomimic HDF5 dataset schema: group `data` (attrs `total`, `env_args` JSON), one group
// `data/demo_N` per demonstration (attr `num_samples`; datasets actions, rewards, dones, states;
// groups obs/ and next_obs/ of float low-dim or uint8 image arrays), and `mask/<filter_key>`
// byte-string lists of demo names. Demos are ordered by the integer after `demo_`.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "mimic/core/durable_rename.hpp"
#include "mimic/core/json_error.hpp"
#include "mimic/data/hdf5.hpp"

namespace mimic::data {

// One array of a demo: float values or uint8 pixels (images, HWC), with its shape [N, ...].
// One dataset: float32 values, uint8 pixels, or float64 values (simulator states, which
// robomimic stores in double and a replay needs to the last bit).
struct Array {
  Shape shape;
  std::vector<float> f32;
  std::vector<uint8_t> u8;
  std::vector<double> f64;
  bool is_image() const { return !u8.empty() || (f32.empty() && f64.empty() && shape.rank == 4); }
  int64_t rows() const { return shape.rank ? shape[0] : 0; }
  int64_t row_width() const { return shape.rank > 1 ? shape.numel() / shape[0] : 1; }
  // Row t as doubles, from whichever storage holds the values.
  std::vector<double> row(int64_t t) const {
    const int64_t w = row_width();
    if (!f64.empty()) return std::vector<double>(f64.begin() + t * w, f64.begin() + (t + 1) * w);
    return std::vector<double>(f32.begin() + t * w, f32.begin() + (t + 1) * w);
  }
  static Array floats(const Shape& s, std::vector<float> v) {
    return Array{s, std::move(v), {}, {}};
  }
  static Array pixels(const Shape& s, std::vector<uint8_t> v) {
    return Array{s, {}, std::move(v), {}};
  }
  static Array doubles(const Shape& s, std::vector<double> v) {
    return Array{s, {}, {}, std::move(v)};
  }
};

struct Demo {
  std::string name;  // "demo_3"
  int64_t num_samples = 0;
  Array actions, rewards, dones, states;
  std::map<std::string, Array> obs, next_obs;
  std::string model_file;  // optional MJCF
};

// Sort key of "demo_12" -> 12 (names without a number, or with one beyond 18 digits, sort last,
// by name).
inline int64_t demo_number(const std::string& name) {
  const size_t p = name.rfind('_');
  if (p == std::string::npos || p + 1 >= name.size() || name.size() - p - 1 > 18) return INT64_MAX;
  int64_t n = 0;
  for (size_t i = p + 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return INT64_MAX;
    n = n * 10 + (name[i] - '0');
  }
  return n;
}
inline void sort_demos(std::vector<std::string>& names) {
  std::stable_sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    const int64_t na = demo_number(a), nb = demo_number(b);
    return na != nb ? na < nb : a < b;
  });
}

// What `dataset-info` and `train` say about actions that leave [-1, 1] (robomimic's policies
// squash their outputs into that range, so such actions cannot be learned as stored).
inline std::string actions_outside_unit_range(const std::string& path, float amin, float amax) {
  std::ostringstream s;
  s << path << ": actions lie outside [-1, 1] (min " << amin << ", max " << amax
    << "); normalize them before training";
  return s.str();
}

// A filter key as read: the demos it names that are in /data, and those that are not (robomimic
// drops those silently; here they are reported).
struct MaskDemos {
  std::vector<std::string> demos, missing;
};

// The env_args attribute of a robomimic file at `path`, parsed; errors name the file and attribute.
inline nlohmann::json parse_env_args(const std::string& path, const std::string& text) {
  return parse_json_text(text, path + ": attribute /data env_args");
}

class RobomimicReader {
 public:
  explicit RobomimicReader(const std::string& path, bool swmr = true)
      : file_(path, h5::File::Mode::kReadOnly, swmr), data_(file_.root().group("data")) {
    demos_ = data_.children();
    demos_.erase(std::remove_if(demos_.begin(), demos_.end(),
                                [&](const std::string& n) { return !data_.is_group(n); }),
                 demos_.end());
    sort_demos(demos_);
  }
  const std::string& path() const { return file_.path(); }
  const std::vector<std::string>& demos() const { return demos_; }
  int64_t total() const { return data_.has_attr("total") ? data_.attr<int64_t>("total") : -1; }
  std::string env_args() const {
    return data_.has_attr("env_args") ? data_.attr_string("env_args") : "{}";
  }
  nlohmann::json env_args_json() const { return parse_env_args(path(), env_args()); }

  int64_t num_samples(const std::string& demo) const {
    h5::Group g = data_.group(demo);
    if (!g.has_attr("num_samples"))
      g.fail("missing attribute 'num_samples' (required by the robomimic schema)");
    const int64_t n = g.attr<int64_t>("num_samples");
    if (n < 0) g.fail("num_samples is negative");
    return n;
  }
  // Names of the observation keys of a demo (from obs/).
  std::vector<std::string> obs_keys(const std::string& demo) const {
    h5::Group g = data_.group(demo);
    return g.exists("obs") ? g.group("obs").children() : std::vector<std::string>{};
  }

  std::vector<std::string> filter_keys() const {
    h5::Group root = file_.root();
    return root.exists("mask") ? root.group("mask").children() : std::vector<std::string>{};
  }
  // Demo names of a filter key that are in /data, in demo order; names it lists that are not in
  // /data (robomimic's own conversion scripts can leave such masks) are in `missing`.
  MaskDemos read_mask(const std::string& filter_key) const {
    h5::Group root = file_.root();
    if (!root.exists("mask"))
      throw IoError(path() + ": /mask: missing (no filter keys in this file)");
    h5::Dataset d = root.group("mask").dataset(filter_key);
    MaskDemos m;
    for (std::string& n : d.read_strings())
      (std::find(demos_.begin(), demos_.end(), n) == demos_.end() ? m.missing : m.demos)
          .push_back(std::move(n));
    sort_demos(m.demos);
    sort_demos(m.missing);
    return m;
  }
  std::vector<std::string> mask(const std::string& filter_key) const {
    return read_mask(filter_key).demos;
  }
  // The warning for a mask's missing demos ("" when none are missing).
  std::string mask_warning(const std::string& filter_key, const MaskDemos& m) const {
    if (m.missing.empty()) return "";
    std::string names;
    for (size_t i = 0; i < m.missing.size(); ++i) names += (i ? ", " : "") + m.missing[i];
    return path() + ": mask/" + filter_key + " names " + std::to_string(m.missing.size()) +
           " demos not in /data (" + names + "); using its other " + std::to_string(m.demos.size());
  }

  // Reads and validates one demo. Image observations are included when `images` is true.
  Demo read_demo(const std::string& name, bool next_obs = true, bool images = true) const {
    Demo d;
    d.name = name;
    d.num_samples = num_samples(name);
    h5::Group g = data_.group(name);
    const int64_t n = d.num_samples;
    d.actions = read_array(g, "actions", n, 2);
    const size_t width = static_cast<size_t>(std::max<int64_t>(1, d.actions.shape[1]));
    for (size_t i = 0; i < d.actions.f32.size(); ++i)
      if (!std::isfinite(d.actions.f32[i]))
        throw ValueError(path() + ": /data/" + name + "/actions: non-finite value at step " +
                         std::to_string(i / width) + ", dim " + std::to_string(i % width));
    if (g.exists("rewards")) d.rewards = read_array(g, "rewards", n, 1);
    if (g.exists("dones")) d.dones = read_array(g, "dones", n, 1);
    if (g.exists("states")) d.states = read_array(g, "states", n, 2, /*doubles=*/true);
    if (g.has_attr("model_file")) d.model_file = g.attr_string("model_file");
    auto read_group = [&](const std::string& group, std::map<std::string, Array>& out) {
      if (!g.exists(group)) return;
      h5::Group og = g.group(group);
      for (const std::string& key : og.children()) {
        h5::Dataset ds = og.dataset(key);
        const bool pixels = ds.type_class() == H5T_INTEGER && ds.shape().rank == 4;
        if (pixels && !images) continue;
        out[key] = read_array(og, key, n, pixels ? 4 : 2);
      }
    };
    read_group("obs", d.obs);
    if (next_obs) read_group("next_obs", d.next_obs);
    return d;
  }

  const h5::Group& data_group() const { return data_; }

 private:
  // A dataset of `rows` rows and the expected rank (2 = [N, D]; a rank-1 [N] array is accepted
  // where `rank` is 1; 4 = images [N, H, W, C] uint8).
  static Array read_array(const h5::Group& g, const std::string& key, int64_t rows, int rank,
                          bool doubles = false) {
    h5::Dataset ds = g.dataset(key);
    const Shape s = ds.shape();
    const bool rank_ok = rank == 1 ? (s.rank == 1 || (s.rank == 2 && s[1] == 1)) : s.rank == rank;
    if (!rank_ok) ds.fail("expected rank " + std::to_string(rank) + ", got shape " + s.str());
    if (s[0] != rows)
      ds.fail("expected " + std::to_string(rows) + " rows (num_samples), got shape " + s.str());
    if (rank == 4) return Array::pixels(s, ds.read<uint8_t>());
    if (doubles) return Array::doubles(s, ds.read<double>());
    return Array::floats(s, ds.read<float>());
  }

  h5::File file_;
  h5::Group data_;
  std::vector<std::string> demos_;
};

// Writes a robomimic file atomically: everything goes to `<path>.tmp-<pid>`, renamed into place
// by finish(). An abandoned writer removes its temporary file and leaves `path` untouched.
class RobomimicWriter {
 public:
  RobomimicWriter(const std::string& path, const std::string& env_args_json)
      : path_(path),
        tmp_(path + ".tmp-" + std::to_string(::getpid())),
        file_(tmp_, h5::File::Mode::kCreate),
        data_(file_.root().create_group("data")) {
    data_.set_attr_string("env_args", env_args_json);
  }
  ~RobomimicWriter() {
    if (!finished_) std::remove(tmp_.c_str());
  }
  RobomimicWriter(const RobomimicWriter&) = delete;
  RobomimicWriter& operator=(const RobomimicWriter&) = delete;

  void add_demo(const Demo& d, int gzip_level = 0) {
    if (d.actions.rows() != d.num_samples)
      throw ValueError(path_ + ": " + d.name + ": actions have " +
                       std::to_string(d.actions.rows()) + " rows, num_samples is " +
                       std::to_string(d.num_samples));
    h5::Group g = data_.create_group(d.name);
    g.set_attr<int64_t>("num_samples", d.num_samples);
    if (!d.model_file.empty()) g.set_attr_string("model_file", d.model_file);
    const h5::DatasetOptions images{16, gzip_level};
    auto put = [&](const h5::Group& where, const std::string& key, const Array& a) {
      if (a.shape.rank == 0) return;
      if (a.rows() != d.num_samples)
        throw ValueError(path_ + ": " + d.name + "/" + key + ": " + std::to_string(a.rows()) +
                         " rows, num_samples is " + std::to_string(d.num_samples));
      if (!a.u8.empty())
        where.write<uint8_t>(key, a.shape, a.u8, images);
      else if (!a.f64.empty())
        where.write<double>(key, a.shape, a.f64);
      else
        where.write<float>(key, a.shape, a.f32);
    };
    put(g, "actions", d.actions);
    put(g, "rewards", d.rewards);
    put(g, "dones", d.dones);
    put(g, "states", d.states);
    if (!d.obs.empty()) {
      h5::Group og = g.create_group("obs");
      for (const auto& [k, a] : d.obs) put(og, k, a);
    }
    if (!d.next_obs.empty()) {
      h5::Group ng = g.create_group("next_obs");
      for (const auto& [k, a] : d.next_obs) put(ng, k, a);
    }
    total_ += d.num_samples;
    names_.push_back(d.name);
  }
  void set_mask(const std::string& filter_key, const std::vector<std::string>& demos) {
    for (const auto& n : demos)
      if (std::find(names_.begin(), names_.end(), n) == names_.end())
        throw ValueError(path_ + ": mask '" + filter_key + "' names demo '" + n +
                         "', which was not written");
    masks_[filter_key] = demos;
  }
  // Writes `total` and the masks, closes the file and renames it into place.
  void finish() {
    data_.set_attr<int64_t>("total", total_);
    if (!masks_.empty()) {
      h5::Group m = file_.root().create_group("mask");
      for (const auto& [k, v] : masks_) m.write_strings(k, v);
    }
    data_ = h5::Group(h5::Handle(), tmp_, "/data");
    file_.close();  // throws when the last writes failed: nothing is renamed into place
    durable_rename(tmp_, path_);
    finished_ = true;
  }

 private:
  std::string path_, tmp_;
  h5::File file_;
  h5::Group data_;
  std::vector<std::string> names_;
  std::map<std::string, std::vector<std::string>> masks_;
  int64_t total_ = 0;
  bool finished_ = false;
};

}  // namespace mimic::data
