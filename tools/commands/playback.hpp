#pragma once
// `mimic playback --dataset D --video_path P [--n 5] [--use-actions] [--filter_key K]
//   [--camera C] [--video_skip 1] [--assets DIR]`: replays stored states into a video, or
// re-executes the stored actions from the first state and reports how far the simulation drifts
// from the stored states. A Lift demo with a model_file replays in that scene when the files it
// names exist (under --assets, robosuite's models/assets folder, or where they were recorded),
// else in mimic's Lift with the file's cube size; each demo says which.
#include <cmath>
#include <iostream>

#include "commands/dataset.hpp"
#include "commands/flags.hpp"
#include "mimic/data/robomimic.hpp"
#include "mimic/env/builtin.hpp"
#include "mimic/env/lift/model_file.hpp"
#include "mimic/env/render/video.hpp"

namespace mimic::cli {

inline int playback(const Flags& flags) {
  flags.check_known({"dataset", "video_path", "n", "use_actions", "filter_key", "camera",
                     "video_skip", "width", "height", "assets"});
  const std::string path = flags.require("dataset");
  data::RobomimicReader r(path);
  std::vector<std::string> demos = selected_demos(r, flags.get("filter_key"));
  const int64_t n = int64_t(flags.number("n", 5));
  if (n >= 0 && int64_t(demos.size()) > n) demos.resize(size_t(n));
  auto e = env::make_env(r.env_args_json(), 0);
  const std::string camera = flags.get("camera", e->cameras().at(0));
  const int skip = std::max(1, int(flags.number("video_skip", 1)));
  const int width = int(flags.number("width", 256)), height = int(flags.number("height", 256));
  const bool use_actions = flags.has("use_actions");
  std::unique_ptr<env::VideoWriter> video;
  if (flags.has("video_path"))
    video = std::make_unique<env::VideoWriter>(flags.get("video_path"), width, height, 20);
  int64_t frames = 0;
  double worst = 0;
  for (const std::string& name : demos) {
    const data::Demo d = r.read_demo(name, false, false);
    if (d.num_samples == 0) {  // nothing to reset to or to step
      std::cout << name << ": 0 samples, nothing to replay\n";
      continue;
    }
    if (d.states.rows() != d.num_samples || d.states.shape.rank != 2)
      throw IoError(path + ": /data/" + name + "/states: missing or not [num_samples, dim]; " +
                    "playback needs states");
    if (use_actions && (d.actions.shape.rank != 2 || d.actions.rows() != d.num_samples))
      throw IoError(path + ": /data/" + name + "/actions: expected [num_samples, dim]");
    const int64_t a = d.actions.shape[1];
    env::Env* scene = e.get();
    env::LiftForModelFile lift;
    if (e->name() == "Lift" && !d.model_file.empty()) {
      lift = env::lift_for_model_file(d.model_file, flags.get("assets"));
      scene = lift.env.get();
      std::cout << name << ": scene: " << lift.scene << "\n";
    }
    auto state = [&](int64_t t) { return d.states.row(t); };
    double max_drift = 0, sum_drift = 0;
    scene->reset_to(state(0));
    for (int64_t t = 0; t < d.num_samples; ++t) {
      if (!use_actions)
        scene->reset_to(state(t));
      else if (t > 0) {
        const std::vector<double> now = scene->get_state(), ref = state(t);
        double err = 0;
        for (size_t k = 0; k < now.size() && k < ref.size(); ++k)
          err = std::max(err, std::abs(now[k] - ref[k]));
        max_drift = std::max(max_drift, err);
        sum_drift += err;
      }
      if (video && t % skip == 0) {
        video->add_frame(scene->render(camera, width, height));
        ++frames;
      }
      if (use_actions)
        scene->step(
            std::vector<float>(d.actions.f32.begin() + t * a, d.actions.f32.begin() + (t + 1) * a));
    }
    if (use_actions) {
      std::cout << name << ": " << d.num_samples << " steps, state drift max " << max_drift
                << ", mean " << sum_drift / double(std::max<int64_t>(1, d.num_samples - 1)) << "\n";
      worst = std::max(worst, max_drift);
    } else {
      std::cout << name << ": " << d.num_samples << " states replayed\n";
    }
  }
  if (video) {
    video->close();
    std::cout << "wrote " << frames << " frames to " << flags.get("video_path") << "\n";
  }
  if (use_actions)
    std::cout << "max state drift over " << demos.size() << " demos: " << worst << "\n";
  return 0;
}

}  // namespace mimic::cli
