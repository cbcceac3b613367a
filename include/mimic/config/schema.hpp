#pragma once
// robomimic's locked-config rules on JSON: a user's config is merged over the defaults, a key the
// defaults lack is an error naming its path (except inside the sections robomimic leaves open:
// any "*kwargs" object, the observation encoder and modalities, v0.5's env_meta_update_dict and
// action_config), and a value of the wrong JSON type is an error naming path, expected and
// actual type. Dotted paths address keys ("train.max_grad_norm").
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mimic/core/error.hpp"
#include "mimic/core/json_error.hpp"

namespace mimic::config {

using json = nlohmann::json;

inline std::string type_name(const json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number_integer()) return "integer";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  return "object";
}

// Sections whose children a user may add freely (robomimic's do_not_lock_keys and plain dicts).
inline bool open_section(const std::string& key, const std::string& path) {
  if (key.size() >= 6 && key.compare(key.size() - 6, 6, "kwargs") == 0) return true;
  return path == "experiment.env_meta_update_dict" || path == "train.action_config";
}

// Whether `v` may replace default `d`: same JSON type; integers where numbers are expected;
// anything where the default is null (robomimic's optional values) and null where a string,
// number or list is optional in robomimic (filter keys, goal_mode, output limits ...), but never
// for a boolean.
inline bool compatible(const json& d, const json& v) {
  if (d.is_null() || v.is_null())  // a switch is never optional: null is no boolean
    return d.is_null() || !(d.is_object() || v.is_object() || d.is_boolean());
  if (d.is_number() && v.is_number()) {  // 3.0 may stand for 3, within int64's range
    const double x = v.get<double>();
    return !d.is_number_integer() || v.is_number_integer() ||
           (std::isfinite(x) && x == std::trunc(x) && std::fabs(x) < 9.2e18);
  }
  if (d.is_boolean() || v.is_boolean()) return d.is_boolean() == v.is_boolean();
  return type_name(d) == type_name(v);
}

// Keys whose robomimic default is a string but that take a number too (CQL's target_entropy:
// "default", a number or null); their algorithm checks the value.
inline bool string_or_number(const std::string& path) {
  return path == "algo.actor.target_entropy";
}

inline void merge(json& base, const json& user, const std::string& path, bool open) {
  for (const auto& [key, value] : user.items()) {
    const std::string p = path.empty() ? key : path + "." + key;
    if (!base.contains(key)) {
      if (open) {
        base[key] = value;
        continue;
      }
      throw ValueError("config: unknown key '" + p + "'");
    }
    json& d = base[key];
    const bool either =
        string_or_number(p) && (value.is_string() || value.is_number() || value.is_null());
    if (!either && !compatible(d, value))
      throw ValueError("config: '" + p + "' must be " +
                       (d.is_null() ? std::string("any") : type_name(d)) + ", got " +
                       type_name(value) + " (" + value.dump() + ")");
    if (d.is_object() && value.is_object())
      merge(d, value, p, open || open_section(key, p));
    else
      d = value;
  }
}

inline json::json_pointer pointer_of(const std::string& dotted) {
  std::string p;
  size_t start = 0;
  while (start <= dotted.size()) {
    const size_t dot = dotted.find('.', start);
    p += "/" + dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return json::json_pointer(p);
}

// `partial` merged over `defaults` by the same rules (an object that names only some keys).
inline json merged_over(json defaults, const json& partial) {
  merge(defaults, partial, "", false);
  return defaults;
}

// `config` without the keys in `paths` whose value equals the one in `defaults`.
inline json without_defaults(json config, const json& defaults,
                             const std::vector<std::string>& paths) {
  for (const std::string& dotted : paths) {
    const json::json_pointer p = pointer_of(dotted);
    if (!config.contains(p) || !defaults.contains(p) || config[p] != defaults[p]) continue;
    json& parent = config[p.parent_pointer()];
    parent.erase(p.back());
  }
  return config;
}

// Dotted paths of the keys whose value differs from the default, among `paths`.
inline std::vector<std::string> changed(const json& config, const json& defaults,
                                        const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const std::string& dotted : paths) {
    const json::json_pointer p = pointer_of(dotted);
    if (config.contains(p) && (!defaults.contains(p) || config[p] != defaults[p]))
      out.push_back(dotted);
  }
  return out;
}

// Nesting depth of a JSON value (a scalar is 1), walked without recursion, so that a hostile
// file nested 100,000 levels deep is measured before anything recursive (merging, copying,
// dump() for an error message) touches it.
inline size_t nesting_depth(const json& j) {
  std::vector<std::pair<const json*, size_t>> todo{{&j, 1}};
  size_t deepest = 0;
  while (!todo.empty()) {
    const auto [v, depth] = todo.back();
    todo.pop_back();
    deepest = std::max(deepest, depth);
    if (v->is_structured())
      for (const json& child : *v) todo.push_back({&child, depth + 1});
  }
  return deepest;
}
// Deeper than any robomimic config (about 7 levels) by far; the parser's own bound.
constexpr size_t kMaxConfigDepth = size_t(kMaxJsonDepth);

// What a typed read expects, in the words of the errors.
template <class V>
const char* expected_type() {
  if constexpr (std::is_same_v<V, bool>)
    return "a boolean";
  else if constexpr (std::is_same_v<V, uint64_t>)
    return "a non-negative integer";
  else if constexpr (std::is_integral_v<V>)
    return "an integer";
  else if constexpr (std::is_floating_point_v<V>)
    return "a number";
  else if constexpr (std::is_same_v<V, std::string>)
    return "a string";
  else if constexpr (std::is_same_v<V, std::vector<std::string>>)
    return "a list of strings";
  else if constexpr (std::is_same_v<V, std::vector<int64_t>>)
    return "a list of integers";
  else
    return "a value of another type";
}

// v as a V, or a ValueError naming the config path, the expected type and the value (nlohmann's
// own conversions would say "type must be boolean, but is null" and name nothing).
template <class V>
V typed(const json& v, const std::string& path) {
  bool ok;
  if constexpr (std::is_same_v<V, bool>)
    ok = v.is_boolean();
  else if constexpr (std::is_same_v<V, uint64_t>)
    ok = v.is_number_integer() && (v.is_number_unsigned() || v.get<int64_t>() >= 0);
  else if constexpr (std::is_integral_v<V>)
    ok = v.is_number_integer();
  else if constexpr (std::is_floating_point_v<V>)
    ok = v.is_number();
  else if constexpr (std::is_same_v<V, std::string>)
    ok = v.is_string();
  else if constexpr (std::is_same_v<V, std::vector<std::string>>)
    ok = v.is_array() &&
         std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_string(); });
  else if constexpr (std::is_same_v<V, std::vector<int64_t>>)
    ok = v.is_array() &&
         std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_number_integer(); });
  else if constexpr (std::is_same_v<V, std::vector<double>>)
    ok = v.is_array() &&
         std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_number(); });
  else
    ok = true;
  if (!ok)
    throw ValueError("config: '" + path + "' must be " + expected_type<V>() + ", got " + v.dump());
  return v.get<V>();
}
// section[key] (which the merged defaults guarantee exists) as a V, named `prefix.key`.
template <class V>
V typed(const json& section, const std::string& key, const std::string& prefix) {
  return typed<V>(section.at(key), prefix + "." + key);
}

// f(), whose ValueError (an unknown name, say) is given the config path it came from.
template <class F>
auto naming_path(const std::string& path, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const ValueError& e) {
    throw ValueError("config: '" + path + "': " + e.what());
  }
}

// An integer setting within [lo, hi]: sizes beyond any real config are refused by name before
// they reach an allocation.
inline int64_t bounded(const json& v, const std::string& path, int64_t lo, int64_t hi) {
  const int64_t x = typed<int64_t>(v, path);
  if (x < lo || x > hi)
    throw ValueError("config: '" + path + "' must be in [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "], got " + std::to_string(x));
  return x;
}
// Widths, depths and counts of layers and samples: at most 2^16 (a 65,536-wide layer already
// holds billions of weights).
constexpr int64_t kMaxConfigSize = int64_t(1) << 16;

// A list of integer settings, each within [lo, hi], with at least min_count entries: the list
// replaces the default (robomimic's merge replaces lists whole).
inline std::vector<int64_t> bounded_list(const json& section, const std::string& key,
                                         const std::string& prefix, int64_t lo, int64_t hi,
                                         size_t min_count = 1) {
  const std::string path = prefix + "." + key;
  const json& list = section.at(key);
  if (!list.is_array())
    throw ValueError("config: '" + path + "' must be a list of integers, got " + type_name(list));
  if (list.size() < min_count)
    throw ValueError("config: '" + path + "' must list at least " + std::to_string(min_count) +
                     " value(s), got " + std::to_string(list.size()));
  std::vector<int64_t> values;
  for (const json& v : list) values.push_back(bounded(v, path, lo, hi));
  return values;
}

inline void require(bool ok, const std::string& path, const std::string& what, const json& v) {
  if (!ok) throw ValueError("config: '" + path + "' " + what + ", got " + v.dump());
}

}  // namespace mimic::config
