#pragma once
// A small flag parser for the `mimic` tool: --name value, --name=value and boolean --name;
// `-` and `_` are interchangeable in names (--filter_key and --filter-key are the same flag).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "mimic/core/error.hpp"

namespace mimic::cli {

class Flags {
 public:
  Flags(const std::vector<std::string>& args, const std::vector<std::string>& booleans) {
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (a.rfind("--", 0) != 0) throw ValueError("unexpected argument '" + a + "'");
      std::string name = a.substr(2), value;
      const size_t eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      name = canonical(name);
      const bool is_bool = std::find(booleans.begin(), booleans.end(), name) != booleans.end();
      if (eq == std::string::npos) {
        if (is_bool) {
          value = "true";
        } else {
          if (i + 1 >= args.size()) throw ValueError("flag --" + name + " needs a value");
          value = args[++i];
        }
      }
      values_[name] = value;
    }
  }
  static std::string canonical(std::string name) {
    for (char& c : name)
      if (c == '-') c = '_';
    return name;
  }
  bool has(const std::string& name) const { return values_.count(canonical(name)) > 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const {
    auto it = values_.find(canonical(name));
    return it == values_.end() ? fallback : it->second;
  }
  std::string require(const std::string& name) const {
    if (!has(name)) throw ValueError("missing required flag --" + name);
    return get(name);
  }
  double number(const std::string& name, double fallback) const {
    if (!has(name)) return fallback;
    try {
      size_t used = 0;
      const double v = std::stod(get(name), &used);
      if (used != get(name).size()) throw std::invalid_argument("trailing characters");
      return v;
    } catch (const std::exception&) {
      throw ValueError("flag --" + name + " expects a number, got '" + get(name) + "'");
    }
  }
  // Names that were given but are not in `known` (typos should not pass silently).
  void check_known(const std::vector<std::string>& known) const {
    for (const auto& [k, v] : values_)
      if (std::find(known.begin(), known.end(), k) == known.end())
        throw ValueError("unknown flag --" + k);
  }

 private:
  std::map<std::string, std::string> values_;
};

// Commands that take one positional file (`convert`, `import`): it becomes --input.
inline std::vector<std::string> positional_as_input(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--", 0) == 0) {
      out.push_back(a);
      if (a.find('=') == std::string::npos && i + 1 < args.size()) out.push_back(args[++i]);
    } else {
      out.push_back("--input");
      out.push_back(a);
    }
  }
  return out;
}

}  // namespace mimic::cli
