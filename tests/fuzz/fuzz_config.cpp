// Config files as users write them. Invariants beyond "no crash": a loaded config loads again to
// itself, and so does the view mimic writes back for robomimic (robomimic_view).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mimic/config/config.hpp"
#include "targets.hpp"

namespace mimic::fuzz {

namespace {
[[noreturn]] void broken(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_config: %s\n%s\n", what, detail.c_str());
  std::abort();
}
}  // namespace

int config_input(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  nlohmann::json loaded;
  try {
    loaded = config::load_config(parse_json_text(text, "fuzz.json", int(config::kMaxConfigDepth)));
  } catch (const Error&) {
    return 0;  // refused with mimic's own error
  }
  try {
    if (config::load_config(loaded) != loaded)
      broken("a loaded config loads to something else", loaded.dump());
    const policy::AlgorithmRegistry registry = policy::builtin_algorithms();
    if (config::load_config(config::robomimic_view(loaded, registry)) != loaded)
      broken("the robomimic view of a loaded config loads to something else", loaded.dump());
    config::set_without_effect(loaded, registry);
  } catch (const Error& e) {
    broken("a loaded config fails to load again", std::string(e.what()) + "\n" + loaded.dump());
  }
  return 0;
}

}  // namespace mimic::fuzz
