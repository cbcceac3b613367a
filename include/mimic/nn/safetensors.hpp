#pragma once
// safetensors files: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}, then raw
// little-endian data (checked against the format rules by safetensors_header.hpp). Used for model
// weights with PyTorch state-dict names, so weights move both ways between mimic and PyTorch.
// Writes go to a temporary file renamed into place.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimic/core/durable_rename.hpp"
#include "mimic/nn/parameters.hpp"
#include "mimic/nn/safetensors_header.hpp"

namespace mimic::nn {

struct SafetensorsTensor {
  std::string dtype;  // "F32", "F64", "F16", ...
  std::vector<int64_t> shape;
  std::vector<char> bytes;
};

struct SafetensorsFile {
  std::map<std::string, SafetensorsTensor> tensors;
  std::map<std::string, std::string> metadata;
};

inline SafetensorsFile read_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open safetensors file");
  in.seekg(0, std::ios::end);
  const uint64_t file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  unsigned char len_bytes[8];
  if (file_size < 8 || !in.read(reinterpret_cast<char*>(len_bytes), 8))
    throw IoError(path + ": truncated safetensors file (no header length)");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | len_bytes[i];
  if (header_len > file_size - 8)
    throw IoError(path + ": header length " + std::to_string(header_len) + " exceeds the file (" +
                  std::to_string(file_size) + " bytes)");
  if (header_len > kMaxSafetensorsHeaderBytes)
    throw IoError(path + ": header length " + std::to_string(header_len) +
                  " exceeds the format's limit of " + std::to_string(kMaxSafetensorsHeaderBytes) +
                  " bytes");
  std::string text(header_len, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(header_len)))
    throw IoError(path + ": cannot read the safetensors header");
  const SafetensorsHeader header = parse_safetensors_header(path, text, file_size - 8 - header_len);
  SafetensorsFile out;
  out.metadata = header.metadata;
  for (const SafetensorsEntry& e : header.tensors) {
    SafetensorsTensor t{e.dtype, e.shape, std::vector<char>(e.end - e.begin)};
    in.seekg(static_cast<std::streamoff>(8 + header_len + e.begin));
    if (!in.read(t.bytes.data(), static_cast<std::streamsize>(t.bytes.size())))
      throw IoError(path + ": cannot read the data of tensor '" + e.name + "'");
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

// One tensor to write: its bytes come from `write` when the file is written, so callers can
// stream from existing buffers (or convert one tensor at a time) instead of copying everything
// into memory first.
struct SafetensorsSource {
  std::string dtype;
  std::vector<int64_t> shape;
  uint64_t bytes = 0;
  std::function<void(std::ostream&)> write;  // writes exactly `bytes` bytes
};

// Writes the tensors (names sorted, for reproducible files) atomically: a temporary file in the
// same folder, renamed into place when complete.
inline void write_safetensors(const std::string& path,
                              const std::map<std::string, SafetensorsSource>& tensors,
                              const std::map<std::string, std::string>& metadata = {}) {
  nlohmann::json j = nlohmann::json::object();
  if (!metadata.empty()) j["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    j[name] = {
        {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.bytes}}};
    offset += t.bytes;
  }
  std::string header = j.dump();
  header.append((8 - header.size() % 8) % 8, ' ');  // keep the data 8-byte aligned
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError(path + ": cannot create " + tmp);
    unsigned char len[8];
    uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const auto& [name, t] : tensors) {
      const std::streamoff before = out.tellp();
      t.write(out);
      if (out && uint64_t(out.tellp() - before) != t.bytes) {
        out.close();
        std::remove(tmp.c_str());
        throw IoError(path + ": tensor '" + name + "' wrote the wrong number of bytes");
      }
    }
    if (!out.flush()) {
      const std::string why = errno ? std::strerror(errno) : "disk full?";
      out.close();
      std::remove(tmp.c_str());
      throw IoError(path + ": write failed (" + why + ")");
    }
  }
  durable_rename(tmp, path);
}

inline void write_safetensors(const std::string& path,
                              const std::map<std::string, SafetensorsTensor>& tensors,
                              const std::map<std::string, std::string>& metadata = {}) {
  std::map<std::string, SafetensorsSource> sources;
  for (const auto& entry : tensors) {  // no structured binding: clang 14 cannot capture one
    const SafetensorsTensor& t = entry.second;
    sources[entry.first] = {t.dtype, t.shape, t.bytes.size(), [&t](std::ostream& out) {
                              out.write(t.bytes.data(),
                                        static_cast<std::streamsize>(t.bytes.size()));
                            }};
  }
  write_safetensors(path, sources, metadata);
}

// Saves every parameter of `store` as F32 under its state-dict name.
template <class T, class D>
void save_safetensors(const ParamStore<T, D>& store, const std::string& path,
                      const std::map<std::string, std::string>& metadata = {}) {
  std::map<std::string, SafetensorsTensor> tensors;
  for (const auto& e : store.entries()) {
    const std::vector<T> v = store.value(ParamId{int32_t(&e - store.entries().data())}).to_vector();
    SafetensorsTensor t{"F32", std::vector<int64_t>(e.shape.dims, e.shape.dims + e.shape.rank), {}};
    t.bytes.resize(v.size() * 4);
    for (size_t i = 0; i < v.size(); ++i) {
      const float f = static_cast<float>(v[i]);
      std::memcpy(t.bytes.data() + 4 * i, &f, 4);
    }
    tensors.emplace(e.name, std::move(t));
  }
  write_safetensors(path, tensors, metadata);
}

// Loads F32 or F64 tensors into the parameters of the same names. Every parameter must be present
// with the same shape; extra tensors in the file are an error unless allow_extra.
template <class T, class D>
void load_safetensors(const ParamStore<T, D>& store, const std::string& path,
                      bool allow_extra = false) {
  const SafetensorsFile file = read_safetensors(path);
  for (const auto& e : store.entries()) {
    auto it = file.tensors.find(e.name);
    if (it == file.tensors.end()) throw IoError(path + ": missing tensor '" + e.name + "'");
    const SafetensorsTensor& t = it->second;
    const Shape s = Shape::from_range(t.shape.begin(), t.shape.end());
    if (s != e.shape)
      throw IoError(path + ": tensor '" + e.name + "' has shape " + s.str() + ", expected " +
                    e.shape.str());
    std::vector<T> host(static_cast<size_t>(s.numel()));
    if (t.dtype == "F32") {
      for (size_t i = 0; i < host.size(); ++i) {
        float f;
        std::memcpy(&f, t.bytes.data() + 4 * i, 4);
        host[i] = T(f);
      }
    } else if (t.dtype == "F64") {
      for (size_t i = 0; i < host.size(); ++i) {
        double f;
        std::memcpy(&f, t.bytes.data() + 8 * i, 8);
        host[i] = T(f);
      }
    } else {
      throw IoError(path + ": tensor '" + e.name + "' has dtype " + t.dtype +
                    ", expected F32 or F64");
    }
    Kernels<D>::from_host(store.value(ParamId{int32_t(&e - store.entries().data())}).data(),
                          host.data(), host.size() * sizeof(T));
  }
  if (!allow_extra)
    for (const auto& [name, t] : file.tensors)
      if (!store.find(name).defined()) throw IoError(path + ": unexpected tensor '" + name + "'");
}

}  // namespace mimic::nn
