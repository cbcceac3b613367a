#pragma once
// nlohmann's exception texts begin with a tag such as "[json.exception.parse_error.101] "; errors
// mimic raises carry the file and key themselves and only the description that follows the tag.
#include <nlohmann/json.hpp>
#include <string>

namespace mimic {

inline std::string json_error_text(const nlohmann::json::exception& e) {
  const std::string what = e.what();
  const size_t tag_end = what.rfind("] ", what.find(' '));
  return what.rfind("[json.exception.", 0) == 0 && tag_end != std::string::npos
             ? what.substr(tag_end + 2)
             : what;
}

}  // namespace mimic
