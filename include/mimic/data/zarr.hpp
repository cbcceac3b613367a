#pragma once
// A small reader of zarr v2 arrays in a DirectoryStore (one folder per array with a `.zarray` JSON
// and one file per chunk, named "i.j.k" or "i/j/k"), as Diffusion Policy stores its datasets.
// Supported: dtypes <f4, <f8, <i8, <i4, |u1; order "C"; no filters; compressor null or Blosc
// (any of Blosc's codecs, through the Blosc C API). Missing chunks read as fill_value; edge chunks
// are stored full-size and cropped. Every malformed or unsupported input throws mimic::IoError
// naming the file and what was expected. Link mimic::blosc.
#include <blosc.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mimic/core/error.hpp"
#include "mimic/core/json_error.hpp"

namespace mimic::data::zarr {

static_assert(std::endian::native == std::endian::little,
              "the zarr reader decodes little-endian data in place");

enum class Dtype { kF4, kF8, kI8, kI4, kU1 };

inline size_t itemsize(Dtype d) {
  switch (d) {
    case Dtype::kF4:
      return 4;
    case Dtype::kF8:
      return 8;
    case Dtype::kI8:
      return 8;
    case Dtype::kI4:
      return 4;
    case Dtype::kU1:
      return 1;
  }
  return 0;
}
inline const char* dtype_name(Dtype d) {
  switch (d) {
    case Dtype::kF4:
      return "<f4";
    case Dtype::kF8:
      return "<f8";
    case Dtype::kI8:
      return "<i8";
    case Dtype::kI4:
      return "<i4";
    case Dtype::kU1:
      return "|u1";
  }
  return "?";
}

// The whole content of a file (IoError naming it when it cannot be read).
inline std::vector<char> read_file_bytes(const std::filesystem::path& p) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(p, ec);
  if (ec) throw IoError(p.string() + ": cannot read (" + ec.message() + ")");
  std::ifstream in(p, std::ios::binary);
  if (!in) throw IoError(p.string() + ": cannot open for reading");
  std::vector<char> bytes(static_cast<size_t>(size));
  if (size && !in.read(bytes.data(), std::streamsize(size)))
    throw IoError(p.string() + ": short read (expected " + std::to_string(size) + " bytes)");
  return bytes;
}

inline bool is_array(const std::filesystem::path& dir) {
  return std::filesystem::is_regular_file(dir / ".zarray");
}
inline bool is_group(const std::filesystem::path& dir) {
  return std::filesystem::is_regular_file(dir / ".zgroup");
}

// One zarr v2 array: its metadata, read from `<dir>/.zarray` on construction, and its values.
class Array {
 public:
  explicit Array(const std::filesystem::path& dir) : dir_(dir) { parse(); }

  const std::filesystem::path& dir() const { return dir_; }
  std::string meta_path() const { return (dir_ / ".zarray").string(); }
  const std::vector<int64_t>& shape() const { return shape_; }
  const std::vector<int64_t>& chunks() const { return chunks_; }
  int64_t rank() const { return int64_t(shape_.size()); }
  int64_t rows() const { return shape_[0]; }
  Dtype dtype() const { return dtype_; }
  bool is_integer() const {
    return dtype_ == Dtype::kI8 || dtype_ == Dtype::kI4 || dtype_ == Dtype::kU1;
  }
  // Elements in one row (the product of all dimensions after the first).
  int64_t row_size() const {
    int64_t n = 1;
    for (size_t i = 1; i < shape_.size(); ++i) n *= shape_[i];
    return n;
  }
  std::string shape_str() const { return dims_str(shape_); }

  // Rows [begin, end) of the array in C order, converted to T (float, double, int64_t or
  // uint8_t). Integers convert exactly or not at all: a float dtype read as an integer type is an
  // error, as is a value that does not fit T.
  template <typename T>
  std::vector<T> read(int64_t begin, int64_t end) const {
    if (begin < 0 || end < begin || end > shape_[0])
      throw ValueError(dir_.string() + ": rows [" + std::to_string(begin) + ", " +
                       std::to_string(end) + ") outside the array's " + std::to_string(shape_[0]) +
                       " rows");
    if constexpr (std::is_integral_v<T>) {
      if (!is_integer())
        throw IoError(meta_path() + ": dtype " + dtype_name(dtype_) +
                      " where an integer dtype (<i8, <i4, |u1) was expected");
    }
    const int64_t rs = row_size();
    std::vector<T> out(size_t((end - begin) * rs));
    if (out.empty()) return out;
    const size_t rank = shape_.size();
    const int64_t c0 = chunks_[0];
    // Chunk grid along every dimension but the first: all of it.
    std::vector<int64_t> grid(rank);
    for (size_t d = 0; d < rank; ++d) grid[d] = (shape_[d] + chunks_[d] - 1) / chunks_[d];
    std::vector<char> chunk(chunk_bytes_);
    std::vector<int64_t> idx(rank, 0);
    for (int64_t i0 = begin / c0; i0 <= (end - 1) / c0; ++i0) {
      std::fill(idx.begin(), idx.end(), 0);
      idx[0] = i0;
      while (true) {
        const bool present = load_chunk(idx, chunk);
        copy_chunk<T>(idx, present ? chunk.data() : nullptr, begin, end, out);
        // Next chunk of this band of rows: an odometer over dimensions 1..rank-1.
        bool more = false;
        for (size_t d = rank; d > 1 && !more;) {
          --d;
          if (++idx[d] < grid[d])
            more = true;
          else
            idx[d] = 0;
        }
        if (!more) break;
      }
    }
    return out;
  }
  template <typename T>
  std::vector<T> read() const {
    return read<T>(0, shape_[0]);
  }

  // The path of the chunk file with grid index idx.
  std::filesystem::path chunk_path(const std::vector<int64_t>& idx) const {
    std::string name;
    for (size_t d = 0; d < idx.size(); ++d) {
      if (d) name += separator_;
      name += std::to_string(idx[d]);
    }
    return dir_ / name;
  }

 private:
  void parse() {
    const std::filesystem::path p = dir_ / ".zarray";
    if (!std::filesystem::is_regular_file(p))
      throw IoError(p.string() + ": missing (expected a zarr v2 array at " + dir_.string() + ")");
    const std::vector<char> bytes = read_file_bytes(p);
    const nlohmann::json j = parse_json_text(std::string(bytes.begin(), bytes.end()), p.string());
    const std::string where = p.string() + ": ";
    if (!j.is_object()) throw IoError(where + "expected a JSON object");
    auto need = [&](const char* key) -> const nlohmann::json& {
      if (!j.contains(key)) throw IoError(where + "missing key \"" + key + "\"");
      return j.at(key);
    };
    const auto& fmt = need("zarr_format");
    if (!fmt.is_number_integer() || fmt.get<int64_t>() != 2)
      throw IoError(where + "zarr_format " + fmt.dump() + ", expected 2");
    auto dims = [&](const char* key) {
      const auto& v = need(key);
      if (!v.is_array() || v.empty())
        throw IoError(where + "\"" + key + "\" " + v.dump() +
                      ", expected a non-empty list of integers");
      std::vector<int64_t> out;
      for (const auto& x : v) {
        if (!x.is_number_integer() || x.get<int64_t>() < 0)
          throw IoError(where + "\"" + key + "\" " + v.dump() + ", expected non-negative integers");
        out.push_back(x.get<int64_t>());
      }
      return out;
    };
    shape_ = dims("shape");
    chunks_ = dims("chunks");
    if (chunks_.size() != shape_.size())
      throw IoError(where + "chunks " + need("chunks").dump() + " and shape " +
                    need("shape").dump() + " differ in rank");
    const auto& dt = need("dtype");
    const std::string dts = dt.is_string() ? dt.get<std::string>() : dt.dump();
    if (dts == "<f4")
      dtype_ = Dtype::kF4;
    else if (dts == "<f8")
      dtype_ = Dtype::kF8;
    else if (dts == "<i8")
      dtype_ = Dtype::kI8;
    else if (dts == "<i4")
      dtype_ = Dtype::kI4;
    else if (dts == "|u1" || dts == "<u1")
      dtype_ = Dtype::kU1;
    else
      throw IoError(where + "unsupported dtype " + dt.dump() +
                    " (expected one of \"<f4\", \"<f8\", \"<i8\", \"<i4\", \"|u1\")");
    const auto& order = need("order");
    if (!order.is_string() || order.get<std::string>() != "C")
      throw IoError(where + "unsupported order " + order.dump() + " (expected \"C\")");
    if (j.contains("filters") && !j.at("filters").is_null() &&
        !(j.at("filters").is_array() && j.at("filters").empty()))
      throw IoError(where + "unsupported filters " + j.at("filters").dump() + " (expected null)");
    const auto& comp = need("compressor");
    if (comp.is_null()) {
      blosc_ = false;
    } else if (comp.is_object() && comp.contains("id") && comp.at("id") == "blosc") {
      blosc_ = true;
    } else {
      throw IoError(where + "unsupported compressor " + comp.dump() +
                    " (expected null or {\"id\": \"blosc\", ...})");
    }
    separator_ = ".";
    if (j.contains("dimension_separator") && !j.at("dimension_separator").is_null()) {
      const auto& s = j.at("dimension_separator");
      if (!s.is_string() || (s.get<std::string>() != "." && s.get<std::string>() != "/"))
        throw IoError(where + "dimension_separator " + s.dump() + ", expected \".\" or \"/\"");
      separator_ = s.get<std::string>();
    }
    // Chunk size within Blosc's limit (and far from size_t overflow).
    uint64_t n = itemsize(dtype_);
    for (int64_t c : chunks_) {
      if (c < 1) throw IoError(where + "chunks " + need("chunks").dump() + ", expected all >= 1");
      if (n > uint64_t(BLOSC_MAX_BUFFERSIZE) / uint64_t(c))
        throw IoError(where + "chunks " + need("chunks").dump() + " exceed " +
                      std::to_string(BLOSC_MAX_BUFFERSIZE) + " bytes per chunk");
      n *= uint64_t(c);
    }
    chunk_bytes_ = size_t(n);
    uint64_t total = 1;
    for (int64_t s : shape_) {
      if (s && total > (uint64_t(1) << 40) / uint64_t(s))
        throw IoError(where + "shape " + need("shape").dump() + " is too large to read");
      total *= uint64_t(s);
    }
    // fill_value: a number, null (0), or "NaN" / "Infinity" / "-Infinity".
    const nlohmann::json fv = j.value("fill_value", nlohmann::json());
    if (fv.is_null()) {
      fill_ = 0;
    } else if (fv.is_number()) {
      fill_ = fv.get<double>();
      fill_int_ = fv.is_number_integer() ? fv.get<int64_t>() : int64_t(0);
      if (fv.is_number_float() && is_integer()) {
        if (fill_ != std::floor(fill_))
          throw IoError(where + "fill_value " + fv.dump() + " for an integer dtype");
        fill_int_ = int64_t(fill_);
      }
    } else if (fv.is_boolean()) {
      fill_ = fv.get<bool>() ? 1 : 0;
      fill_int_ = int64_t(fill_);
    } else if (fv.is_string() && !is_integer()) {
      const std::string s = fv.get<std::string>();
      if (s == "NaN")
        fill_ = std::numeric_limits<double>::quiet_NaN();
      else if (s == "Infinity")
        fill_ = std::numeric_limits<double>::infinity();
      else if (s == "-Infinity")
        fill_ = -std::numeric_limits<double>::infinity();
      else
        throw IoError(where + "fill_value " + fv.dump() + ", expected a number");
    } else {
      throw IoError(where + "fill_value " + fv.dump() + ", expected a number or null");
    }
  }

  // Decodes chunk idx into `out` (chunk_bytes_ bytes); false when its file does not exist.
  bool load_chunk(const std::vector<int64_t>& idx, std::vector<char>& out) const {
    const std::filesystem::path p = chunk_path(idx);
    std::error_code ec;
    if (!std::filesystem::exists(p, ec)) return false;
    const std::vector<char> src = read_file_bytes(p);
    const std::string where = p.string() + ": ";
    if (!blosc_) {
      if (src.size() != chunk_bytes_)
        throw IoError(where + std::to_string(src.size()) + " bytes, expected " +
                      std::to_string(chunk_bytes_) + " (uncompressed chunk of " + chunk_str() +
                      " " + dtype_name(dtype_) + ")");
      std::memcpy(out.data(), src.data(), chunk_bytes_);
      return true;
    }
    if (src.size() < BLOSC_MIN_HEADER_LENGTH)
      throw IoError(where + std::to_string(src.size()) + " bytes, shorter than a Blosc header (" +
                    std::to_string(BLOSC_MIN_HEADER_LENGTH) + "); truncated chunk?");
    size_t nbytes = 0, cbytes = 0, blocksize = 0;
    blosc_cbuffer_sizes(src.data(), &nbytes, &cbytes, &blocksize);
    if (cbytes != src.size())
      throw IoError(where + "Blosc header says " + std::to_string(cbytes) +
                    " compressed bytes, the file has " + std::to_string(src.size()) +
                    " (truncated or corrupt chunk)");
    if (nbytes != chunk_bytes_)
      throw IoError(where + "Blosc header says " + std::to_string(nbytes) +
                    " decompressed bytes, expected " + std::to_string(chunk_bytes_) +
                    " (chunk of " + chunk_str() + " " + dtype_name(dtype_) + ")");
    size_t checked = 0;
    if (blosc_cbuffer_validate(src.data(), src.size(), &checked) != 0 || checked != chunk_bytes_)
      throw IoError(where + "not a valid Blosc buffer (corrupt chunk)");
    const int got = blosc_decompress_ctx(src.data(), out.data(), out.size(), 1);
    if (got < 0 || size_t(got) != chunk_bytes_)
      throw IoError(where + "Blosc decompression failed (" + std::to_string(got) + ", expected " +
                    std::to_string(chunk_bytes_) + " bytes; corrupt chunk)");
    return true;
  }

  std::string chunk_str() const { return dims_str(chunks_); }
  static std::string dims_str(const std::vector<int64_t>& dims) {
    std::string s = "[";
    for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
  }

  template <typename T>
  T convert(const char* p, size_t flat) const {
    auto check = [&](auto v) -> T {
      if constexpr (std::is_integral_v<T>) {
        if (!std::in_range<T>(v))
          throw IoError(dir_.string() + ": element " + std::to_string(flat) + " value " +
                        std::to_string(v) + " does not fit the requested type");
      }
      return static_cast<T>(v);
    };
    switch (dtype_) {
      case Dtype::kF4: {
        float v;
        std::memcpy(&v, p, 4);
        return static_cast<T>(v);
      }
      case Dtype::kF8: {
        double v;
        std::memcpy(&v, p, 8);
        return static_cast<T>(v);
      }
      case Dtype::kI8: {
        int64_t v;
        std::memcpy(&v, p, 8);
        return check(v);
      }
      case Dtype::kI4: {
        int32_t v;
        std::memcpy(&v, p, 4);
        return check(v);
      }
      case Dtype::kU1:
        return check(uint8_t(*p));
    }
    return T{};
  }
  template <typename T>
  T fill_value() const {
    if constexpr (std::is_integral_v<T>) {
      if (!std::in_range<T>(fill_int_))
        throw IoError(meta_path() + ": fill_value " + std::to_string(fill_int_) +
                      " does not fit the requested type");
      return static_cast<T>(fill_int_);
    } else {
      return is_integer() ? static_cast<T>(fill_int_) : static_cast<T>(fill_);
    }
  }

  // Copies the part of chunk idx inside rows [begin, end) into out (data null: fill_value).
  template <typename T>
  void copy_chunk(const std::vector<int64_t>& idx, const char* data, int64_t begin, int64_t end,
                  std::vector<T>& out) const {
    const size_t rank = shape_.size();
    std::vector<int64_t> lo(rank), hi(rank);
    for (size_t d = 0; d < rank; ++d) {
      lo[d] = idx[d] * chunks_[d];
      hi[d] = std::min(shape_[d], lo[d] + chunks_[d]);
    }
    lo[0] = std::max(lo[0], begin);
    hi[0] = std::min(hi[0], end);
    if (lo[0] >= hi[0]) return;
    // Strides of the output (rows begin..end) and of the chunk, in elements.
    std::vector<int64_t> out_stride(rank, 1), in_stride(rank, 1);
    for (size_t d = rank - 1; d > 0; --d) {
      out_stride[d - 1] = out_stride[d] * shape_[d];
      in_stride[d - 1] = in_stride[d] * chunks_[d];
    }
    const size_t isz = itemsize(dtype_);
    const int64_t run = hi[rank - 1] - lo[rank - 1];
    const T fill = data ? T{} : fill_value<T>();
    std::vector<int64_t> pos(lo);  // global position of the current run's first element
    while (true) {
      int64_t o = (pos[0] - begin) * out_stride[0],
              c = (pos[0] - idx[0] * chunks_[0]) * in_stride[0];
      for (size_t d = 1; d < rank; ++d) {
        o += pos[d] * out_stride[d];
        c += (pos[d] - idx[d] * chunks_[d]) * in_stride[d];
      }
      T* dst = out.data() + o;
      if (!data) {
        std::fill(dst, dst + run, fill);
      } else {
        const char* src = data + size_t(c) * isz;
        for (int64_t k = 0; k < run; ++k) dst[k] = convert<T>(src + size_t(k) * isz, size_t(o + k));
      }
      // Next run: advance dimensions rank-2 .. 0.
      if (rank == 1) break;
      size_t d = rank - 1;
      bool done = true;
      while (d > 0) {
        --d;
        if (++pos[d] < hi[d]) {
          done = false;
          break;
        }
        pos[d] = lo[d];
      }
      if (done) break;
    }
  }

  std::filesystem::path dir_;
  std::vector<int64_t> shape_, chunks_;
  Dtype dtype_ = Dtype::kF4;
  bool blosc_ = false;
  std::string separator_ = ".";
  size_t chunk_bytes_ = 0;
  double fill_ = 0;
  int64_t fill_int_ = 0;
};

}  // namespace mimic::data::zarr
