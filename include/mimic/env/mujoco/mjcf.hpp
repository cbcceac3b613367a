#pragma once
// Compiles an MJCF model held in a string through MuJoCo's virtual file system, so the built-in
// environments need no model file on disk.
#include <mujoco/mujoco.h>

#include <algorithm>
#include <memory>
#include <string>

#include "mimic/core/error.hpp"

namespace mimic::env {

// `name` labels the model in errors and is its in-memory file name (with ".xml" appended).
inline mjModel* load_mjcf_string(const std::string& xml, const std::string& name) {
  auto vfs = std::make_unique<mjVFS>();  // about 2 MB of name tables: keep it off the stack
  mj_defaultVFS(vfs.get());
  const std::string file = name + ".xml";
  if (mj_makeEmptyFileVFS(vfs.get(), file.c_str(), static_cast<int>(xml.size())) != 0)
    throw Error(name + ": could not create the in-memory model file");
  const int idx = mj_findFileVFS(vfs.get(), file.c_str());
  std::copy(xml.begin(), xml.end(), static_cast<char*>(vfs->filedata[idx]));
  char err[1000] = "";
  mjModel* m = mj_loadXML(file.c_str(), vfs.get(), err, sizeof err);
  mj_deleteVFS(vfs.get());
  if (!m) throw Error(name + ": MuJoCo rejected the model: " + err);
  return m;
}

}  // namespace mimic::env
