#pragma once
// One case of a multi-network golden fixture (tests/reference/make_offline_rl_fixture.py,
// make_hierarchical_fixture.py): its JSON record and HDF5 group, the original's weights loaded
// into mimic's policy, the batches stepped through train_on_batch (or validate_on_batch), and
// the logged scalars and updated weights compared with the original's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "mimic/policy/core/policy.hpp"
#include "support/compare.hpp"
#include "support/h5_fixture.hpp"

namespace mimic::testing {

class GoldenTrainingCase {
 public:
  // `name` is the fixture's stem in the test data folder ("golden_offline_rl").
  GoldenTrainingCase(const std::string& name, const std::string& key)
      : case_(read(std::string(MIMIC_TEST_DATA_DIR) + "/" + name + ".json").at(key)),
        file_(std::string(MIMIC_TEST_DATA_DIR) + "/" + name + ".h5"),
        root_("/" + key + "/") {}

  const nlohmann::json& at(const std::string& k) const { return case_.at(k); }
  const H5Fixture& file() const { return file_; }
  std::vector<double> values(const std::string& name) const {
    return file_.read<double>(root_ + name);
  }
  Tensor<float> load(const std::string& name) const {
    Shape s;
    std::vector<float> v = file_.read<float>(root_ + name, &s);
    return Tensor<float>::from_vector(s, v);
  }

  // The policy's weights and targets (state tensors but optimizer state) must be the fixture's
  // "parameters", robomimic's names mapped one for one; they are loaded from params/.
  void load_parameters(policy::Policy<float>& p) const {
    std::vector<std::string> ours;
    for (const auto& [name, t] : p.state_tensors())
      if (name.find("optimizer.") == std::string::npos) ours.push_back(name);
    ASSERT_EQ(ours, parameters());
    std::map<std::string, Tensor<float>> weights;
    for (const auto& n : parameters()) weights[n] = load("params/" + n);
    p.load_state(weights, nlohmann::json::object());
  }
  std::vector<std::string> parameters() const {
    return case_.at("parameters").get<std::vector<std::string>>();
  }

  // Every batch of the case through train_on_batch (or validate_on_batch); the last step's
  // scalars.
  policy::Scalars step(policy::Policy<float>& p, const std::vector<std::string>& obs_keys) const {
    policy::Scalars got;
    for (int s = 0; s < case_.at("steps").get<int>(); ++s) {
      const std::string b = "batch" + std::to_string(s) + "/";
      data::Batch batch;
      for (const std::string& k : obs_keys) {
        batch.obs[k] = load(b + "obs/" + k);
        batch.next_obs[k] = load(b + "next_obs/" + k);
      }
      for (const char* k : {"actions", "rewards", "dones"}) batch.data[k] = load(b + k);
      got = case_.at("validate").get<bool>() ? p.validate_on_batch(batch) : p.train_on_batch(batch);
    }
    return got;
  }

  // The original's logged scalars (1e-5 relative); mimic logs no others but `also_logged`.
  void expect_scalars(const policy::Scalars& got,
                      const std::vector<std::string>& also_logged = {}) const {
    for (const auto& [k, want] : case_.at("scalars").items()) {
      ASSERT_TRUE(got.count(k)) << k;
      const double w = want.template get<double>();
      EXPECT_NEAR(got.at(k), w, 1e-5 * std::max(1.0, std::abs(w))) << k;
    }
    for (const auto& [k, v] : got)
      EXPECT_TRUE(case_.at("scalars").contains(k) ||
                  std::find(also_logged.begin(), also_logged.end(), k) != also_logged.end())
          << "extra scalar " << k;
  }

  // Every weight after the steps, against updated/ (1e-5 relative).
  void expect_updated(const policy::Policy<float>& p) const {
    const auto tensors = p.state_tensors();
    for (const auto& n : parameters())
      EXPECT_LE(relative_error(tensors.at(n).to_vector(), values("updated/" + n)), 1e-5)
          << "updated " << n;
  }

 private:
  static nlohmann::json read(const std::string& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
  }
  nlohmann::json case_;
  H5Fixture file_;
  std::string root_;
};

}  // namespace mimic::testing
