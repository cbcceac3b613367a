#pragma once
// A Lift environment for a demo's `model_file`: robosuite's own scene when the files it names
// (meshes, textures) can be found, at their recorded paths or under an assets folder; otherwise
// mimic's Lift scene with the file's cube size, saying so.
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "mimic/env/lift/env.hpp"

namespace mimic::env {

// The values of every file="..." attribute in an MJCF text.
inline std::vector<std::string> mjcf_file_paths(const std::string& xml) {
  std::vector<std::string> out;
  const std::string key = " file=\"";
  for (size_t at = xml.find(key); at != std::string::npos; at = xml.find(key, at + 1)) {
    const size_t begin = at + key.size(), end = xml.find('"', begin);
    if (end == std::string::npos) break;
    out.push_back(xml.substr(begin, end - begin));
  }
  return out;
}

// robosuite writes absolute paths into its installed models/assets folder; this points every such
// path at `assets` instead (the folder that holds robots/, grippers/, textures/, ...), as
// robosuite's edit_model_xml does for its own installation.
inline std::string remap_robosuite_assets(std::string xml, const std::string& assets) {
  const std::string key = " file=\"", marker = "models/assets/";
  for (size_t at = xml.find(key); at != std::string::npos; at = xml.find(key, at + 1)) {
    const size_t begin = at + key.size(), end = xml.find('"', begin);
    if (end == std::string::npos) break;
    const std::string path = xml.substr(begin, end - begin);
    const size_t m = path.rfind(marker);
    if (m == std::string::npos) continue;
    const std::string mapped = (std::filesystem::path(assets) / path.substr(m + marker.size()))
                                   .lexically_normal()
                                   .string();
    xml.replace(begin, end - begin, mapped);
  }
  return xml;
}

struct LiftForModelFile {
  std::unique_ptr<LiftEnv> env;
  std::string scene;  // what it runs, in words
};

inline LiftForModelFile lift_for_model_file(const std::string& model_file,
                                            const std::string& assets, LiftConfig cfg = {}) {
  const std::string xml = assets.empty() ? model_file : remap_robosuite_assets(model_file, assets);
  std::string missing;
  for (const auto& p : mjcf_file_paths(xml))
    if (!std::filesystem::exists(p)) {
      missing = p;
      break;
    }
  LiftForModelFile out;
  if (missing.empty()) {
    cfg.model_xml = xml;
    out.env = std::make_unique<LiftEnv>(cfg);
    out.scene = "the demo's model_file" + (assets.empty() ? "" : " (files under " + assets + ")");
    return out;
  }
  cfg.model_xml.clear();
  cfg.random_cube_size = false;
  out.env = std::make_unique<LiftEnv>(cfg);
  if (const auto half = lift_detail::cube_half_size_in_model(model_file))
    out.env->set_cube_half_size(*half);
  out.scene =
      "mimic's Lift scene (robosuite's frames, inertials and collision hulls) with the "
      "model_file's cube size: the model_file names " +
      missing + ", which is not there" +
      (assets.empty() ? " (give robosuite's models/assets folder with --assets)" : "");
  return out;
}

}  // namespace mimic::env
