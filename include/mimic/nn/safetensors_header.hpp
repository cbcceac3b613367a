#pragma once
// The safetensors header checked against the format's own rules before any tensor is read: a
// header length within the file and at most 100 MB (the reference reader's bound), a JSON object
// that starts with '{' and nests no deeper than the format does, no name twice, known dtypes,
// shapes of non-negative integers whose byte count does not overflow, offsets [begin, end] that
// tile the data exactly (sorted by begin: the first starts at 0, each starts where the previous
// ended, the last ends at the end of the file) and __metadata__ values that are strings. Every
// error is an IoError naming the file and the tensor or key.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "mimic/core/error.hpp"
#include "mimic/core/json_error.hpp"

namespace mimic::nn {

// The reference implementation refuses larger headers (a header bomb would otherwise be parsed).
constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

struct SafetensorsEntry {
  std::string name, dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte offsets into the data that follows the header
};

struct SafetensorsHeader {
  std::vector<SafetensorsEntry> tensors;  // in the order of their data
  std::map<std::string, std::string> metadata;
};

// Bytes per element of a safetensors dtype; 0 for a name the format does not define.
inline size_t safetensors_dtype_bytes(const std::string& dtype) {
  static const std::map<std::string, size_t> sizes{
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1}, {"F8_E8M0", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},     {"U32", 4},
      {"F32", 4},  {"F64", 8}, {"I64", 8}, {"U64", 8},     {"C64", 8}};
  const auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

namespace detail {

// Parses the header text, refusing nesting deeper than the format's three levels (object, tensor,
// shape) and a name given twice, both while parsing, before any value is built from them.
inline nlohmann::json parse_header_json(const std::string& path, const std::string& text) {
  std::set<std::string> names;
  const nlohmann::json::parser_callback_t check = [&](int depth,
                                                      nlohmann::json::parse_event_t event,
                                                      nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    if ((event == E::object_start || event == E::array_start) && depth > 2)
      throw IoError(path +
                    ": safetensors header nests deeper than the format does (object, tensor, "
                    "shape)");
    if (event == E::key && depth == 1 && !names.insert(parsed.get<std::string>()).second)
      throw IoError(path + ": safetensors header names '" + parsed.get<std::string>() + "' twice");
    return true;
  };
  try {
    return nlohmann::json::parse(text, check);
  } catch (const nlohmann::json::exception& e) {
    throw IoError(path + ": safetensors header is not valid JSON: " + json_error_text(e));
  }
}

inline uint64_t header_uint(const std::string& path, const std::string& name, const char* field,
                            const nlohmann::json& v) {
  if (!v.is_number_unsigned())
    throw IoError(path + ": tensor '" + name + "': " + field +
                  " must hold non-negative integers, got " + v.dump());
  return v.get<uint64_t>();
}

inline SafetensorsEntry header_entry(const std::string& path, const std::string& name,
                                     const nlohmann::json& v) {
  if (!v.is_object())
    throw IoError(path + ": tensor '" + name + "' must be an object {dtype, shape, data_offsets}");
  for (const char* field : {"dtype", "shape", "data_offsets"})
    if (!v.contains(field)) throw IoError(path + ": tensor '" + name + "' has no " + field);
  SafetensorsEntry e;
  e.name = name;
  if (!v["dtype"].is_string() || safetensors_dtype_bytes(v["dtype"].get<std::string>()) == 0)
    throw IoError(path + ": tensor '" + name + "' has dtype " + v["dtype"].dump() +
                  ", which safetensors does not define");
  e.dtype = v["dtype"].get<std::string>();
  if (!v["shape"].is_array())
    throw IoError(path + ": tensor '" + name + "': shape must be an array, got " +
                  v["shape"].dump());
  uint64_t bytes = safetensors_dtype_bytes(e.dtype);
  for (const auto& d : v["shape"]) {
    const uint64_t n = header_uint(path, name, "shape", d);
    if (n > uint64_t(std::numeric_limits<int64_t>::max()) ||
        (n != 0 && bytes > std::numeric_limits<uint64_t>::max() / n))
      throw IoError(path + ": tensor '" + name + "' has a shape whose size overflows");
    bytes *= n;
    e.shape.push_back(int64_t(n));
  }
  const nlohmann::json& o = v["data_offsets"];
  if (!o.is_array() || o.size() != 2)
    throw IoError(path + ": tensor '" + name + "': data_offsets must be [begin, end], got " +
                  o.dump());
  e.begin = header_uint(path, name, "data_offsets", o[0]);
  e.end = header_uint(path, name, "data_offsets", o[1]);
  if (e.end < e.begin || e.end - e.begin != bytes)
    throw IoError(path + ": tensor '" + name + "' spans bytes [" + std::to_string(e.begin) + ", " +
                  std::to_string(e.end) + ") but its dtype and shape need " +
                  std::to_string(bytes) + " bytes");
  return e;
}

}  // namespace detail

// Checks `text`, the header of a file whose data part (after the header) has `data_bytes` bytes.
inline SafetensorsHeader parse_safetensors_header(const std::string& path, const std::string& text,
                                                  uint64_t data_bytes) {
  if (text.empty() || text[0] != '{')
    throw IoError(path + ": safetensors header does not start with '{'");
  const nlohmann::json j = detail::parse_header_json(path, text);
  if (!j.is_object()) throw IoError(path + ": safetensors header is not a JSON object");
  SafetensorsHeader out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) throw IoError(path + ": __metadata__ must be an object of strings");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string())
          throw IoError(path + ": __metadata__ '" + m.key() + "' must be a string, got " +
                        m->type_name());
        out.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    out.tensors.push_back(detail::header_entry(path, it.key(), *it));
  }
  std::sort(out.tensors.begin(), out.tensors.end(),
            [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  uint64_t covered = 0;
  const SafetensorsEntry* previous = nullptr;
  for (const SafetensorsEntry& e : out.tensors) {
    if (e.begin != covered)
      throw IoError(path + ": tensor '" + e.name + "' starts at byte " + std::to_string(e.begin) +
                    (previous ? " but '" + previous->name + "' ends at byte "
                              : std::string(" but the data starts at byte ")) +
                    std::to_string(covered) +
                    " (tensors must tile the data without gaps or overlaps)");
    covered = e.end;
    previous = &e;
  }
  if (covered != data_bytes)
    throw IoError(path + ": the tensors cover " + std::to_string(covered) +
                  " bytes of data but the file holds " + std::to_string(data_bytes) +
                  (covered < data_bytes ? " (trailing bytes)" : " (truncated)"));
  return out;
}

}  // namespace mimic::nn
