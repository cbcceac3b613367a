#pragma once
// An algorithm's published configs: its defaults set up for every task and observation type
// (config/tasks.hpp), then adjusted by the algorithm's own paper settings.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimic/config/tasks.hpp"
#include "mimic/policy/core/algorithm.hpp"

namespace mimic::policy {

inline std::vector<PublishedConfig> published_for_tasks(
    const std::function<nlohmann::json()>& defaults, const std::string& label,
    const std::string& dataset_dir,
    const std::function<void(nlohmann::json& c, bool image)>& adjust = {}) {
  std::vector<PublishedConfig> out;
  for (const std::string& task : config::published_tasks())
    for (const std::string& obs : config::published_obs_types()) {
      nlohmann::json c = config::for_task(defaults(), label, task, obs, dataset_dir);
      if (adjust) adjust(c, obs == "image");
      out.push_back({c["experiment"]["name"].get<std::string>(), c});
    }
  return out;
}

}  // namespace mimic::policy
