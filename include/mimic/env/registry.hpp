#pragma once
// Environment name -> factory, so that training, evaluation and playback recreate the task a
// dataset came from (its robomimic env_args) without knowing which tasks exist. An object, not a
// global table: a program builds the registry it needs (builtin_envs() plus its own tasks) and
// hands it on. Knows no task and no physics engine.
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimic/core/error.hpp"
#include "mimic/env/env.hpp"

namespace mimic::env {

// env_kwargs: the dataset's env_args["env_kwargs"] (an object, may be empty);
// images: 1 camera observations on, 0 off, -1 as env_kwargs says.
using EnvFactory =
    std::function<std::unique_ptr<Env>(const nlohmann::json& env_kwargs, int images)>;

class EnvRegistry {
 public:
  void add(const std::string& env_name, EnvFactory factory) {
    if (env_name.empty()) throw ValueError("EnvRegistry::add: empty environment name");
    if (!factory) throw ValueError("EnvRegistry::add: no factory given for '" + env_name + "'");
    if (!factories_.emplace(env_name, std::move(factory)).second)
      throw ValueError("EnvRegistry::add: environment '" + env_name +
                       "' is already registered (registered: " + list() + ")");
  }
  bool contains(const std::string& env_name) const { return factories_.count(env_name) != 0; }
  std::vector<std::string> names() const {  // sorted: the map keeps its keys in order
    std::vector<std::string> out;
    for (const auto& [name, factory] : factories_) out.push_back(name);
    return out;
  }

  // env_args = {"env_name": ..., "env_kwargs": {...}} as robomimic stores it (other keys such as
  // env_version and type are ignored).
  std::unique_ptr<Env> make(const nlohmann::json& env_args, int images = -1) const {
    if (!env_args.is_object() || !env_args.contains("env_name") ||
        !env_args["env_name"].is_string())
      throw ValueError("env_args: expected a JSON object with a string 'env_name', got " +
                       env_args.dump());
    const std::string name = env_args["env_name"].get<std::string>();
    const nlohmann::json kwargs = env_args.value("env_kwargs", nlohmann::json::object());
    if (!kwargs.is_object())
      throw ValueError("env_args.env_kwargs: expected a JSON object, got " + kwargs.dump());
    if (images < -1 || images > 1)
      throw ValueError("EnvRegistry::make: images must be -1, 0 or 1, got " +
                       std::to_string(images));
    const auto it = factories_.find(name);
    if (it == factories_.end())
      throw ValueError("env_args.env_name: unknown environment '" + name +
                       "' (registered: " + list() + ")");
    std::unique_ptr<Env> env = it->second(kwargs, images);
    if (!env) throw ValueError("EnvRegistry::make: the factory for '" + name + "' returned null");
    return env;
  }

 private:
  std::string list() const {
    std::string s;
    for (const auto& [name, factory] : factories_) s += (s.empty() ? "" : ", ") + name;
    return s.empty() ? "none" : s;
  }

  std::map<std::string, EnvFactory> factories_;
};

}  // namespace mimic::env
