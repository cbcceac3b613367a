#pragma once
// The optimizer block of a robomimic algo config, shared by the policy tests.
#include <nlohmann/json.hpp>

namespace mimic::testing {

// Adam at a fixed learning rate: no decay epochs, no L2.
inline nlohmann::json adam_config(double lr) {
  using json = nlohmann::json;
  return {{"optimizer_type", "adam"},
          {"learning_rate",
           {{"initial", lr}, {"decay_factor", 0.1}, {"epoch_schedule", json::array()}}},
          {"regularization", {{"L2", 0.0}}}};
}

}  // namespace mimic::testing
