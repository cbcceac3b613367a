#pragma once
// Evaluates a policy by rollouts: episode i always starts from seed i of the list, several
// environments run side by side (stepped on parallel threads) and the policy is called once per
// round with every active rollout batched. A returned chunk of actions is executed in order,
// stopping early when the episode ends (Diffusion Policy's MultiStep semantics: the reward kept
// is the maximum seen, the history holds the last n_obs_steps observations, padded with the
// oldest). Reports robomimic's Return, Horizon and Success_Rate, Diffusion Policy's mean score
// (mean of per-episode max reward) and timing; optionally records a video of the first episodes
// and the rollouts themselves (to write them as a dataset).
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimic/env/env.hpp"
#include "mimic/env/multistep.hpp"
#include "mimic/env/render/video.hpp"

namespace mimic::env {

class RolloutPolicy {
 public:
  virtual ~RolloutPolicy() = default;
  virtual int n_obs_steps() const { return 1; }
  // Called at the start of each episode of env slot `env_id`.
  virtual void reset(int env_id) = 0;
  // For each active slot env_ids[b], history[b] holds its last n_obs_steps() observations,
  // oldest first. Returns, per slot, a chunk of >= 1 actions to execute in order.
  virtual std::vector<std::vector<std::vector<float>>> act(
      const std::vector<int>& env_ids, const std::vector<std::vector<Observation>>& history) = 0;
};

struct RunnerOptions {
  int n_envs = 1;
  int horizon = 400;
  std::vector<uint64_t> seeds;  // one episode per seed
  bool terminate_on_success = true;
  std::string video_path;  // empty: no video
  int video_episodes = 5;  // the first episodes go into the video, one after another
  int video_skip = 5;
  std::string camera;  // empty: the env's first camera
  int width = 256, height = 256;
  bool record = false;   // keep states, observations, actions, rewards, dones per episode
  bool parallel = true;  // step environments on parallel threads (off for camera observations)
};

struct EpisodeRecord {
  std::vector<std::vector<double>> states;
  std::vector<Observation> obs;
  std::vector<std::vector<float>> actions;
  std::vector<double> rewards;
  std::vector<int> dones;
};

struct EpisodeResult {
  uint64_t seed = 0;
  double ret = 0, max_reward = 0, seconds = 0;
  int horizon = 0;
  bool success = false;
  EpisodeRecord record;
};

struct RunnerResult {
  std::vector<EpisodeResult> episodes;
  double seconds = 0;

  nlohmann::json to_json() const {
    double ret = 0, hor = 0, succ = 0, score = 0, t = 0;
    for (const auto& e : episodes) {
      ret += e.ret, hor += e.horizon, succ += e.success, score += e.max_reward, t += e.seconds;
    }
    const double n = std::max<double>(1, double(episodes.size()));
    return {{"Return", ret / n},       {"Horizon", hor / n},    {"Success_Rate", succ / n},
            {"Mean_Score", score / n}, {"Time_Episode", t / n}, {"Num_Episodes", episodes.size()},
            {"Time_Total", seconds}};
  }
};

inline RunnerResult run_episodes(const std::function<std::unique_ptr<Env>()>& make_env,
                                 RolloutPolicy& policy, const RunnerOptions& opt) {
  using clock = std::chrono::steady_clock;
  const int n_slots = std::max(1, std::min<int>(opt.n_envs, int(opt.seeds.size())));
  if (opt.horizon < 1) throw ValueError("rollout horizon must be >= 1");
  struct Slot {
    std::unique_ptr<Env> env;
    std::unique_ptr<MultiStep> ms;
    int episode = -1;
    EpisodeResult result;
    clock::time_point start;
    std::vector<std::vector<float>> chunk;
  };
  std::vector<Slot> slots(static_cast<size_t>(n_slots));
  for (auto& s : slots) {
    s.env = make_env();
    s.ms = std::make_unique<MultiStep>(*s.env, std::max(1, policy.n_obs_steps()), opt.horizon,
                                       opt.terminate_on_success);
  }
  std::unique_ptr<VideoWriter> video;
  std::string camera = opt.camera;
  if (!opt.video_path.empty()) {
    if (camera.empty()) camera = slots[0].env->cameras().at(0);
    video = std::make_unique<VideoWriter>(opt.video_path, opt.width, opt.height, 20);
  }
  // Episodes in the video run one after another on slot 0, so frames stay in episode order.
  const int video_eps = video ? std::min<int>(opt.video_episodes, int(opt.seeds.size())) : 0;

  RunnerResult out;
  out.episodes.resize(opt.seeds.size());
  const auto t_all = clock::now();
  // Video episodes [0, video_eps) run in order on slot 0; the rest go to whichever slot is free.
  int next_video = 0, next_episode = video_eps, done_count = 0;
  while (done_count < int(opt.seeds.size())) {
    for (int i = 0; i < n_slots; ++i) {
      Slot& s = slots[size_t(i)];
      if (s.episode >= 0) continue;
      if (i == 0 && next_video < video_eps)
        s.episode = next_video++;
      else if (next_episode < int(opt.seeds.size()))
        s.episode = next_episode++;
      else
        continue;
      s.result = EpisodeResult{};
      s.result.seed = opt.seeds[size_t(s.episode)];
      s.ms->reset(s.result.seed);
      policy.reset(i);
      if (opt.record) {
        s.result.record.states.push_back(s.env->get_state());
        s.result.record.obs.push_back(s.ms->latest());
      }
      s.start = clock::now();
      if (video && s.episode < video_eps)
        video->add_frame(s.env->render(camera, opt.width, opt.height));
    }
    std::vector<int> ids;
    std::vector<std::vector<Observation>> hist;
    for (int i = 0; i < n_slots; ++i)
      if (slots[size_t(i)].episode >= 0) {
        ids.push_back(i);
        hist.push_back(slots[size_t(i)].ms->observations());
      }
    if (ids.empty()) break;
    auto chunks = policy.act(ids, hist);
    if (chunks.size() != ids.size())
      throw ValueError("rollout policy returned " + std::to_string(chunks.size()) +
                       " action chunks for " + std::to_string(ids.size()) + " environments");
    for (size_t b = 0; b < ids.size(); ++b) {
      if (chunks[b].empty()) throw ValueError("rollout policy returned an empty action chunk");
      slots[size_t(ids[b])].chunk = std::move(chunks[b]);
    }
    // Step every active env through its chunk; the video slot renders on this thread.
    std::vector<std::exception_ptr> errors(ids.size());
    auto run_chunk = [&](size_t b, bool render) {
      Slot& s = slots[size_t(ids[b])];
      try {
        s.ms->step(s.chunk, [&](const std::vector<float>& a, const StepResult& r, bool end) {
          if (opt.record) {  // obs holds N + 1 observations (the last is the final next_obs)
            auto& rec = s.result.record;
            rec.actions.push_back(a);
            rec.rewards.push_back(r.reward);
            rec.dones.push_back(end ? 1 : 0);
            rec.obs.push_back(s.ms->latest());
            if (!end) rec.states.push_back(s.env->get_state());
          }
          if (render && s.ms->steps() % std::max(1, opt.video_skip) == 0)
            video->add_frame(s.env->render(camera, opt.width, opt.height));
        });
      } catch (...) {
        errors[b] = std::current_exception();
      }
    };
    std::vector<size_t> parallel;
    for (size_t b = 0; b < ids.size(); ++b) {
      if (video && slots[size_t(ids[b])].episode < video_eps)
        run_chunk(b, true);
      else
        parallel.push_back(b);
    }
#pragma omp parallel for schedule(dynamic, 1) if (opt.parallel)
    for (size_t j = 0; j < parallel.size(); ++j) run_chunk(parallel[j], false);
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
    for (int id : ids) {
      Slot& s = slots[size_t(id)];
      if (!s.ms->done()) continue;
      s.result.ret = s.ms->episode_return();
      s.result.max_reward = s.ms->max_reward();
      s.result.horizon = s.ms->steps();
      s.result.success = s.ms->success();
      s.result.seconds = std::chrono::duration<double>(clock::now() - s.start).count();
      out.episodes[size_t(s.episode)] = std::move(s.result);
      s.episode = -1;
      ++done_count;
    }
  }
  if (video) video->close();
  out.seconds = std::chrono::duration<double>(clock::now() - t_all).count();
  return out;
}

}  // namespace mimic::env
