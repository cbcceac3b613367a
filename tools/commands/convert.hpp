#pragma once
// `mimic convert --from dp-zarr DIR.zarr --output F.hdf5`: Diffusion Policy's Push-T zarr v2 store
// (pusht_cchi_v7_replay.zarr and its image variant) as a robomimic-schema HDF5 file for mimic.
//
// Read: data/state [N, 5] (agent x, y, block origin x, y, block angle; pixels, y down),
// data/keypoint [N, 9, 2], data/action [N, 2] (targets in pixels), data/img [N, H, W, 3] (optional;
// float or uint8, values 0..255), meta/episode_ends [E] (exclusive ends, increasing, <= N).
// Written, one demo_i per episode (T steps):
// - obs/agent_pos [T, 2] = state[:, :2]; obs/obs [T, 20] = keypoints flattened, then agent_pos
//   (mimic's Push-T `obs`); obs/image uint8 [T, H, W, 3] when data/img exists;
// - next_obs/*: the observation of the following step (the last step repeats its own, DP keeps
//   no observation after the final action);
// - actions = action / 512 * 2 - 1 (pusht::target_to_action);
// - rewards[t] = reward_from_coverage(coverage(block pose of step t + 1)), the reward after the
//   action, as generate-demos writes it (the last step uses its own pose);
//   dones[t] = 1 when that coverage is a success (> 0.95) or t is the last step;
// - states: mimic's 16-value PushT state (time t * 0.1, qpos block x, y, theta, agent x, y;
//   qvel and qacc_warmstart 0: DP records no velocities);
// - masks `all`, and `dp_train` / `dp_valid`: Diffusion Policy's own Push-T split (val_ratio 0.02,
//   max_train_episodes 90, seed 42; data/diffusion_policy_split.hpp), the same episodes its
//   training and validation sets hold.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "commands/flags.hpp"
#include "mimic/data/diffusion_policy_split.hpp"
#include "mimic/data/robomimic.hpp"
#include "mimic/data/zarr.hpp"
#include "mimic/env/pusht/env.hpp"

namespace mimic::cli {

inline constexpr const char* kConvertUsage =
    "--from dp-zarr DIR.zarr --output F.hdf5   (Diffusion Policy's Push-T zarr store -> robomimic "
    "HDF5; masks `all`, and `dp_train` / `dp_valid` = Diffusion Policy's own seeded split: 2% "
    "validation, at most 90 training episodes, seed 42)";

struct DpZarrSummary {
  int64_t episodes = 0, steps = 0, dp_train = 0;
  bool images = false;
};

// Checks episode_ends (read from `path`): non-empty, strictly increasing, first > 0, last <= n.
inline void check_episode_ends(const std::vector<int64_t>& ends, int64_t n,
                               const std::string& path) {
  if (ends.empty()) throw ValueError(path + ": no episodes (episode_ends is empty)");
  int64_t prev = 0;
  for (size_t i = 0; i < ends.size(); ++i) {
    if (ends[i] <= prev)
      throw ValueError(path + ": episode_ends[" + std::to_string(i) +
                       "] = " + std::to_string(ends[i]) + " after " + std::to_string(prev) +
                       ", expected strictly increasing ends > 0");
    if (ends[i] > n)
      throw ValueError(path + ": episode_ends[" + std::to_string(i) +
                       "] = " + std::to_string(ends[i]) + " beyond the " + std::to_string(n) +
                       " steps of data/state");
    prev = ends[i];
  }
}

// Converts the store at `store` into `output` (written atomically). Throws IoError / ValueError
// naming the offending file.
inline DpZarrSummary convert_dp_zarr(const std::string& store, const std::string& output) {
  namespace fs = std::filesystem;
  namespace pusht = env::pusht;
  const fs::path root(store);
  if (!fs::is_directory(root))
    throw IoError(store + ": not a directory (expected a zarr v2 DirectoryStore)");
  const data::zarr::Array za_state(root / "data" / "state");
  const data::zarr::Array za_kp(root / "data" / "keypoint");
  const data::zarr::Array za_action(root / "data" / "action");
  const data::zarr::Array za_ends(root / "meta" / "episode_ends");
  const int64_t n = za_state.rows();
  auto expect_shape = [&](const data::zarr::Array& a, std::vector<int64_t> want) {
    want.insert(want.begin(), n);
    if (a.shape() != want) {
      std::string w = "[";
      for (size_t i = 0; i < want.size(); ++i) w += (i ? ", " : "") + std::to_string(want[i]);
      throw ValueError(a.meta_path() + ": shape " + a.shape_str() + ", expected " + w + "]");
    }
  };
  expect_shape(za_state, {5});
  expect_shape(za_kp, {9, 2});
  expect_shape(za_action, {2});
  if (za_ends.rank() != 1)
    throw ValueError(za_ends.meta_path() + ": shape " + za_ends.shape_str() + ", expected [E]");
  const std::vector<int64_t> ends = za_ends.read<int64_t>();
  check_episode_ends(ends, n, za_ends.dir().string());
  const fs::path img_dir = root / "data" / "img";
  const bool images = fs::exists(img_dir);
  std::unique_ptr<data::zarr::Array> za_img;
  int64_t h = 0, w = 0;
  if (images) {
    za_img = std::make_unique<data::zarr::Array>(img_dir);
    const auto& s = za_img->shape();
    if (s.size() != 4 || s[0] != n || s[3] != 3 || s[1] < 1 || s[2] < 1)
      throw ValueError(za_img->meta_path() + ": shape " + za_img->shape_str() + ", expected [" +
                       std::to_string(n) + ", H, W, 3]");
    h = s[1], w = s[2];
  }
  const std::vector<float> state = za_state.read<float>(), kp = za_kp.read<float>(),
                           action = za_action.read<float>();
  auto check_finite = [](const std::vector<float>& v, const data::zarr::Array& a) {
    for (size_t i = 0; i < v.size(); ++i)
      if (!std::isfinite(v[i]))
        throw ValueError(a.dir().string() + ": element " + std::to_string(i) + " is not finite");
  };
  check_finite(state, za_state);
  check_finite(kp, za_kp);
  check_finite(action, za_action);

  const env::PushT proto(env::PushTConfig{.images = images, .image_size = int(images ? h : 96)});
  data::RobomimicWriter writer(output, proto.env_args().dump());
  std::vector<std::string> names;
  DpZarrSummary sum;
  sum.images = images;
  int64_t begin = 0;
  for (size_t e = 0; e < ends.size(); ++e) {
    const int64_t end = ends[e], t_len = end - begin;
    data::Demo d;
    d.name = "demo_" + std::to_string(e);
    d.num_samples = t_len;
    std::vector<float> agent(size_t(t_len * 2)), obs(size_t(t_len * 20)), acts(size_t(t_len * 2)),
        rewards(static_cast<size_t>(t_len)), dones(static_cast<size_t>(t_len));
    std::vector<double> states(size_t(t_len * pusht::kStateSize), 0.0);
    for (int64_t t = 0; t < t_len; ++t) {
      const size_t i = size_t(begin + t);
      const float* s = &state[i * 5];
      agent[size_t(t) * 2] = s[0];
      agent[size_t(t) * 2 + 1] = s[1];
      std::copy_n(&kp[i * 18], 18, &obs[size_t(t) * 20]);
      obs[size_t(t) * 20 + 18] = s[0];
      obs[size_t(t) * 20 + 19] = s[1];
      for (int k = 0; k < 2; ++k)
        acts[size_t(t) * 2 + size_t(k)] =
            static_cast<float>(pusht::target_to_action(double(action[i * 2 + size_t(k)])));
      double* st = &states[size_t(t) * pusht::kStateSize];
      st[0] = double(t) * pusht::kSubsteps * pusht::kPhysicsDt;
      st[1 + pusht::kBlockX] = s[2];
      st[1 + pusht::kBlockY] = s[3];
      st[1 + pusht::kBlockTheta] = s[4];
      st[1 + pusht::kAgentX] = s[0];
      st[1 + pusht::kAgentY] = s[1];
      const float* next = &state[size_t(std::min(begin + t + 1, end - 1)) * 5];
      const double cov = pusht::coverage({double(next[2]), double(next[3]), double(next[4])});
      rewards[size_t(t)] = static_cast<float>(pusht::reward_from_coverage(cov));
      dones[size_t(t)] = (pusht::success_from_coverage(cov) || t + 1 == t_len) ? 1.0f : 0.0f;
    }
    // next_obs: rows shifted by one, the last repeated.
    auto shifted = [&](const std::vector<float>& v, int64_t width) {
      std::vector<float> out(v.size());
      if (t_len > 1) std::copy(v.begin() + width, v.end(), out.begin());
      std::copy(v.end() - width, v.end(), out.end() - width);
      return out;
    };
    d.actions = data::Array::floats(Shape{t_len, 2}, acts);
    d.rewards = data::Array::floats(Shape{t_len}, rewards);
    d.dones = data::Array::floats(Shape{t_len}, dones);
    d.states = data::Array::doubles(Shape{t_len, pusht::kStateSize}, std::move(states));
    d.next_obs["agent_pos"] = data::Array::floats(Shape{t_len, 2}, shifted(agent, 2));
    d.next_obs["obs"] = data::Array::floats(Shape{t_len, 20}, shifted(obs, 20));
    d.obs["agent_pos"] = data::Array::floats(Shape{t_len, 2}, std::move(agent));
    d.obs["obs"] = data::Array::floats(Shape{t_len, 20}, std::move(obs));
    if (images) {
      const int64_t frame = h * w * 3;
      const std::vector<float> px = za_img->read<float>(begin, end);
      std::vector<uint8_t> u8(px.size());
      for (size_t k = 0; k < px.size(); ++k) {
        const float v = px[k];
        if (!(v >= 0.0f && v <= 255.0f))
          throw ValueError(img_dir.string() + ": element " +
                           std::to_string(size_t(begin * frame) + k) + " = " + std::to_string(v) +
                           ", expected a pixel value in [0, 255]");
        u8[k] = static_cast<uint8_t>(std::lround(v));
      }
      std::vector<uint8_t> next(u8.size());
      if (t_len > 1) std::copy(u8.begin() + frame, u8.end(), next.begin());
      std::copy(u8.end() - frame, u8.end(), next.end() - frame);
      d.obs["image"] = data::Array::pixels(Shape{t_len, h, w, 3}, std::move(u8));
      d.next_obs["image"] = data::Array::pixels(Shape{t_len, h, w, 3}, std::move(next));
    }
    writer.add_demo(d, images ? 4 : 0);
    names.push_back(d.name);
    sum.steps += t_len;
    begin = end;
  }
  sum.episodes = int64_t(names.size());
  writer.set_mask("all", names);
  const std::vector<bool> train = data::diffusion_policy_train_mask(sum.episodes);
  std::vector<std::string> dp_train, dp_valid;
  for (size_t i = 0; i < names.size(); ++i) (train[i] ? dp_train : dp_valid).push_back(names[i]);
  writer.set_mask("dp_train", dp_train);
  if (!dp_valid.empty()) writer.set_mask("dp_valid", dp_valid);  // none for a 1-episode store
  sum.dp_train = int64_t(dp_train.size());
  writer.finish();
  return sum;
}

// `mimic convert` takes the store as its one positional argument: this turns it into --input.
inline std::vector<std::string> convert_args(std::vector<std::string> args) {
  return positional_as_input(args);
}

inline int convert(const Flags& flags) {
  flags.check_known({"from", "input", "output"});
  const std::string from = flags.require("from");
  if (from != "dp-zarr")
    throw ValueError("--from: expected dp-zarr (Diffusion Policy's Push-T zarr store), got '" +
                     from + "'");
  if (!flags.has("input"))
    throw ValueError("missing the store: mimic convert " + std::string(kConvertUsage));
  const std::string input = flags.get("input"), output = flags.require("output");
  const DpZarrSummary s = convert_dp_zarr(input, output);
  std::cout << "wrote " << output << ": " << s.episodes << " demos, " << s.steps << " steps"
            << (s.images ? " with images" : "") << " (masks: all; dp_train, " << s.dp_train
            << " episodes, and dp_valid, " << s.episodes - s.dp_train
            << ": Diffusion Policy's own split)\n";
  return 0;
}

}  // namespace mimic::cli
