#pragma once
// JSON that mimic did not write itself (configs, checkpoint metadata, HDF5 attributes, zarr
// metadata) is parsed here: errors are mimic's IoError naming where the text came from, with
// nlohmann's description but not its "[json.exception.parse_error.101] " tag, and nesting is
// bounded while parsing, so a hostile text nested 100,000 levels deep is refused before
// anything recursive (merging, copying, dump() for a message) touches it.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "mimic/core/error.hpp"

namespace mimic {

inline std::string json_error_text(const nlohmann::json::exception& e) {
  const std::string what = e.what();
  const size_t tag_end = what.rfind("] ", what.find(' '));
  return what.rfind("[json.exception.", 0) == 0 && tag_end != std::string::npos
             ? what.substr(tag_end + 2)
             : what;
}

// Deeper than any config or metadata mimic reads (robomimic configs nest about 7 levels).
constexpr int kMaxJsonDepth = 64;

// `where` names the text in errors ("cfg.json", "run.h5: attribute data/env_args").
inline nlohmann::json parse_json_text(const std::string& text, const std::string& where,
                                      int max_depth = kMaxJsonDepth) {
  using E = nlohmann::json::parse_event_t;
  const nlohmann::json::parser_callback_t bound_depth = [&](int depth, E event, nlohmann::json&) {
    // depth counts the containers around this one
    if ((event == E::object_start || event == E::array_start) && depth + 1 > max_depth)
      throw IoError(where + ": JSON nested more than " + std::to_string(max_depth) +
                    " levels deep");
    return true;
  };
  try {
    return nlohmann::json::parse(text, bound_depth);
  } catch (const nlohmann::json::exception& e) {
    throw IoError(where + ": not valid JSON: " + json_error_text(e));
  }
}

// The whole text of a JSON file, refused unread when it is larger than `max_bytes` (a config or
// metadata file is kilobytes; this keeps a wrong path to a dataset from filling memory). `what`
// names the file's role in errors ("config file").
inline std::string read_json_file_text(const std::string& path, std::uintmax_t max_bytes,
                                       const std::string& what = "JSON file") {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec) throw IoError(path + ": cannot open the " + what + " (" + ec.message() + ")");
  if (size > max_bytes)
    throw IoError(path + ": " + what + " of " + std::to_string(size) + " bytes, expected at most " +
                  std::to_string(max_bytes));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open the " + what);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace mimic
