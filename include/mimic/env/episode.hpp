#pragma once
// A recorded episode as a robomimic demo: states and observations before each step, next_obs
// after it, actions, rewards and dones (images stay uint8 HWC).
#include <string>
#include <vector>

#include "mimic/data/robomimic.hpp"
#include "mimic/env/env.hpp"

namespace mimic::env {

// obs holds N + 1 observations (obs[N] is the one after the last action); states N.
inline data::Demo make_demo(const std::string& name, const std::vector<std::vector<double>>& states,
                            const std::vector<Observation>& obs,
                            const std::vector<std::vector<float>>& actions,
                            const std::vector<double>& rewards, const std::vector<int>& dones) {
  const int64_t n = int64_t(actions.size());
  if (n < 1 || int64_t(states.size()) != n || int64_t(obs.size()) != n + 1 ||
      int64_t(rewards.size()) != n || int64_t(dones.size()) != n)
    throw ValueError("make_demo " + name + ": inconsistent episode (" + std::to_string(n) +
                     " actions, " + std::to_string(states.size()) + " states, " +
                     std::to_string(obs.size()) + " observations)");
  data::Demo d;
  d.name = name;
  d.num_samples = n;
  auto floats2d = [&](const auto& rows) {
    const int64_t w = int64_t(rows[0].size());
    std::vector<float> v;
    v.reserve(size_t(n * w));
    for (int64_t i = 0; i < n; ++i) {
      if (int64_t(rows[size_t(i)].size()) != w)
        throw ValueError("make_demo " + name + ": ragged rows");
      for (auto x : rows[size_t(i)]) v.push_back(float(x));
    }
    return data::Array::floats(Shape{n, w}, std::move(v));
  };
  d.actions = floats2d(actions);
  const int64_t state_width = int64_t(states[0].size());
  std::vector<double> flat_states;
  flat_states.reserve(size_t(n * state_width));
  for (const auto& s : states) {
    if (int64_t(s.size()) != state_width) throw ValueError("make_demo " + name + ": ragged states");
    flat_states.insert(flat_states.end(), s.begin(), s.end());
  }
  d.states = data::Array::doubles(Shape{n, state_width}, std::move(flat_states));
  std::vector<float> r(rewards.begin(), rewards.end()), dn(dones.begin(), dones.end());
  d.rewards = data::Array::floats(Shape{n}, r);
  d.dones = data::Array::floats(Shape{n}, dn);
  auto put = [&](int64_t first, std::map<std::string, data::Array>& out) {
    for (const auto& [key, v0] : obs[size_t(first)].low_dim) {
      std::vector<float> v;
      for (int64_t i = 0; i < n; ++i) {
        const auto& x = obs[size_t(first + i)].low_dim.at(key);
        v.insert(v.end(), x.begin(), x.end());
      }
      out[key] = data::Array::floats(Shape{n, int64_t(v0.size())}, std::move(v));
    }
    for (const auto& [key, img0] : obs[size_t(first)].images) {
      std::vector<uint8_t> v;
      for (int64_t i = 0; i < n; ++i) {
        const auto& x = obs[size_t(first + i)].images.at(key);
        v.insert(v.end(), x.begin(), x.end());
      }
      const int64_t side = int64_t(std::lround(std::sqrt(double(img0.size() / 3))));
      if (side * side * 3 != int64_t(img0.size()))
        throw ValueError("make_demo " + name + ": image '" + key + "' is not square RGB");
      out[key] = data::Array::pixels(Shape{n, side, side, 3}, std::move(v));
    }
  };
  put(0, d.obs);
  put(1, d.next_obs);
  return d;
}

}  // namespace mimic::env
