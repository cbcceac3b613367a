#pragma once
// RAII wrappers over the HDF5 C API for robomimic-format datasets and test fixtures. Every failure
// throws mimic::IoError naming the file and the object path; HDF5's own error printing is turned
// off for the duration of each call and restored afterwards.
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mimic/core/error.hpp"
#include "mimic/core/shape.hpp"

namespace mimic::h5 {

// Silences HDF5's automatic error printing in its scope, restoring the previous handler.
class QuietErrors {
 public:
  QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// An owned hid_t with the matching close function.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, -1)), close_(o.close_) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, -1);
      close_ = o.close_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset() {
    if (id_ >= 0 && close_) {
      QuietErrors quiet;
      close_(id_);
    }
    id_ = -1;
  }

 private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

template <class T>
hid_t native_type() {
  if constexpr (std::is_same_v<T, float>)
    return H5T_NATIVE_FLOAT;
  else if constexpr (std::is_same_v<T, double>)
    return H5T_NATIVE_DOUBLE;
  else if constexpr (std::is_same_v<T, int32_t>)
    return H5T_NATIVE_INT32;
  else if constexpr (std::is_same_v<T, int64_t>)
    return H5T_NATIVE_INT64;
  else if constexpr (std::is_same_v<T, uint8_t>)
    return H5T_NATIVE_UINT8;
  else
    static_assert(sizeof(T) == 0, "unsupported HDF5 element type");
}

// Base of groups and datasets: an open object plus the file and object paths for messages.
class Object {
 public:
  const std::string& file_path() const { return file_; }
  const std::string& path() const { return path_; }
  hid_t id() const { return handle_.get(); }

  [[noreturn]] void fail(const std::string& what) const {
    throw IoError(file_ + ": " + path_ + ": " + what);
  }

  bool has_attr(const std::string& name) const {
    QuietErrors quiet;
    return H5Aexists(id(), name.c_str()) > 0;
  }
  template <class T>
  T attr(const std::string& name) const {
    static_assert(std::is_arithmetic_v<T>, "use attr_string for strings");
    Handle a = open_attr(name);
    Handle space(H5Aget_space(a.get()), H5Sclose);
    if (H5Sget_simple_extent_npoints(space.get()) != 1)
      fail("attribute '" + name + "' is not a scalar");
    H5T_class_t cls = H5Tget_class(Handle(H5Aget_type(a.get()), H5Tclose).get());
    if (cls != H5T_INTEGER && cls != H5T_FLOAT) fail("attribute '" + name + "' is not numeric");
    T v{};
    QuietErrors quiet;
    if (H5Aread(a.get(), native_type<T>(), &v) < 0) fail("cannot read attribute '" + name + "'");
    return v;
  }
  // Reads a fixed-length or variable-length string attribute.
  std::string attr_string(const std::string& name) const {
    Handle a = open_attr(name);
    Handle type(H5Aget_type(a.get()), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_STRING) fail("attribute '" + name + "' is not a string");
    QuietErrors quiet;
    if (H5Tis_variable_str(type.get()) > 0) {
      // The stored type doubles as the memory type: ASCII and UTF-8 strings do not convert.
      char* s = nullptr;
      if (H5Aread(a.get(), type.get(), &s) < 0) fail("cannot read attribute '" + name + "'");
      std::string out = s ? s : "";
      Handle space(H5Aget_space(a.get()), H5Sclose);
      H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, &s);
      return out;
    }
    const size_t n = H5Tget_size(type.get());
    std::string out(n, '\0');
    if (H5Aread(a.get(), type.get(), out.data()) < 0) fail("cannot read attribute '" + name + "'");
    return out.substr(0, out.find('\0'));
  }
  template <class T>
  void set_attr(const std::string& name, T value) const {
    static_assert(std::is_arithmetic_v<T>);
    QuietErrors quiet;
    if (has_attr(name)) H5Adelete(id(), name.c_str());
    Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    Handle a(
        H5Acreate2(id(), name.c_str(), native_type<T>(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
        H5Aclose);
    if (!a.valid() || H5Awrite(a.get(), native_type<T>(), &value) < 0)
      fail("cannot write attribute '" + name + "'");
  }
  // Writes a variable-length UTF-8 string (as h5py does for str attributes).
  void set_attr_string(const std::string& name, const std::string& value) const {
    QuietErrors quiet;
    if (has_attr(name)) H5Adelete(id(), name.c_str());
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    Handle a(H5Acreate2(id(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
             H5Aclose);
    const char* p = value.c_str();
    if (!a.valid() || H5Awrite(a.get(), type.get(), &p) < 0)
      fail("cannot write attribute '" + name + "'");
  }

 protected:
  Object(Handle h, std::string file, std::string path)
      : handle_(std::move(h)), file_(std::move(file)), path_(std::move(path)) {}
  Handle open_attr(const std::string& name) const {
    if (!has_attr(name)) fail("missing attribute '" + name + "'");
    QuietErrors quiet;
    Handle a(H5Aopen(id(), name.c_str(), H5P_DEFAULT), H5Aclose);
    if (!a.valid()) fail("cannot open attribute '" + name + "'");
    return a;
  }
  std::string child_path(const std::string& name) const {
    return path_ == "/" ? "/" + name : path_ + "/" + name;
  }

  Handle handle_;
  std::string file_, path_;
};

class Dataset : public Object {
 public:
  Dataset(Handle h, std::string file, std::string path)
      : Object(std::move(h), std::move(file), std::move(path)) {}

  Shape shape() const {
    Handle space(H5Dget_space(id()), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0 || rank > kMaxRank) fail("unsupported rank " + std::to_string(rank));
    hsize_t dims[kMaxRank];
    H5Sget_simple_extent_dims(space.get(), dims, nullptr);
    Shape s;
    for (int i = 0; i < rank; ++i) s.push_back(static_cast<int64_t>(dims[i]));
    return s;
  }
  H5T_class_t type_class() const { return H5Tget_class(Handle(H5Dget_type(id()), H5Tclose).get()); }

  // All elements converted to T (integer <-> float conversion as HDF5 does it).
  template <class T>
  std::vector<T> read() const {
    std::vector<T> out(static_cast<size_t>(shape().numel()));
    read_into(out.data(), out.size());
    return out;
  }
  template <class T>
  void read_into(T* out, size_t capacity) const {
    check_numeric();
    if (capacity < static_cast<size_t>(shape().numel()))
      fail("destination is smaller than the dataset");
    QuietErrors quiet;
    if (H5Dread(id(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
      fail("read failed (file damaged?)");
  }
  // Rows [begin, end) along dimension 0 into `out` (contiguous, (end - begin) * row elements).
  template <class T>
  void read_rows(int64_t begin, int64_t end, T* out) const {
    check_numeric();
    const Shape s = shape();
    if (s.rank < 1 || begin < 0 || end > s[0] || begin > end)
      fail("rows [" + std::to_string(begin) + ", " + std::to_string(end) + ") are outside shape " +
           s.str());
    if (begin == end) return;
    hsize_t start[kMaxRank] = {}, count[kMaxRank];
    for (int i = 0; i < s.rank; ++i) count[i] = static_cast<hsize_t>(s[i]);
    start[0] = static_cast<hsize_t>(begin);
    count[0] = static_cast<hsize_t>(end - begin);
    QuietErrors quiet;
    Handle file_space(H5Dget_space(id()), H5Sclose);
    H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
    Handle mem_space(H5Screate_simple(s.rank, count, nullptr), H5Sclose);
    if (H5Dread(id(), native_type<T>(), mem_space.get(), file_space.get(), H5P_DEFAULT, out) < 0)
      fail("hyperslab read failed (file damaged?)");
  }
  // Byte strings (fixed-length `S` or variable-length), e.g. robomimic's mask/<filter_key>.
  std::vector<std::string> read_strings() const {
    Handle type(H5Dget_type(id()), H5Tclose);
    if (H5Tget_class(type.get()) != H5T_STRING) fail("expected a string dataset");
    const int64_t n = shape().numel();
    std::vector<std::string> out;
    QuietErrors quiet;
    if (H5Tis_variable_str(type.get()) > 0) {
      std::vector<char*> raw(static_cast<size_t>(n), nullptr);
      if (H5Dread(id(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0)
        fail("string read failed");
      for (char* s : raw) out.emplace_back(s ? s : "");
      Handle space(H5Dget_space(id()), H5Sclose);
      H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, raw.data());
    } else {
      const size_t len = H5Tget_size(type.get());
      std::vector<char> raw(static_cast<size_t>(n) * len);
      if (n > 0 && H5Dread(id(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0)
        fail("string read failed");
      for (int64_t i = 0; i < n; ++i) {
        std::string s(raw.data() + i * len, len);
        out.push_back(s.substr(0, s.find('\0')));
      }
    }
    return out;
  }

 private:
  void check_numeric() const {
    const H5T_class_t c = type_class();
    if (c != H5T_INTEGER && c != H5T_FLOAT) fail("expected a numeric dataset");
  }
};

struct DatasetOptions {
  int64_t chunk_rows = 0;  // > 0: chunked along dim 0 with this many rows per chunk
  int gzip_level = 0;      // 1..9 with chunking
};

class Group : public Object {
 public:
  Group(Handle h, std::string file, std::string path)
      : Object(std::move(h), std::move(file), std::move(path)) {}

  bool exists(const std::string& name) const {
    QuietErrors quiet;
    return H5Lexists(id(), name.c_str(), H5P_DEFAULT) > 0;
  }
  bool is_group(const std::string& name) const {
    QuietErrors quiet;
    H5O_info_t info;
    return exists(name) && H5Oget_info_by_name(id(), name.c_str(), &info, H5P_DEFAULT) >= 0 &&
           info.type == H5O_TYPE_GROUP;
  }
  // Names of direct children in HDF5's (alphabetical) order.
  std::vector<std::string> children() const {
    std::vector<std::string> names;
    QuietErrors quiet;
    auto cb = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
      static_cast<std::vector<std::string>*>(data)->push_back(name);
      return 0;
    };
    if (H5Literate(id(), H5_INDEX_NAME, H5_ITER_INC, nullptr, cb, &names) < 0)
      fail("cannot list children");
    return names;
  }
  Group group(const std::string& name) const {
    if (!exists(name)) fail("missing group '" + name + "'");
    QuietErrors quiet;
    Handle g(H5Gopen2(id(), name.c_str(), H5P_DEFAULT), H5Gclose);
    if (!g.valid()) fail("'" + name + "' is not a group");
    return Group(std::move(g), file_, child_path(name));
  }
  Group create_group(const std::string& name) const {
    QuietErrors quiet;
    Handle g(H5Gcreate2(id(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    if (!g.valid()) fail("cannot create group '" + name + "'");
    return Group(std::move(g), file_, child_path(name));
  }
  Dataset dataset(const std::string& name) const {
    if (!exists(name)) fail("missing dataset '" + name + "'");
    QuietErrors quiet;
    Handle d(H5Dopen2(id(), name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!d.valid()) fail("'" + name + "' is not a dataset");
    return Dataset(std::move(d), file_, child_path(name));
  }
  template <class T>
  Dataset write(const std::string& name, const Shape& shape, const T* data,
                const DatasetOptions& opt = {}) const {
    hsize_t dims[kMaxRank];
    for (int i = 0; i < shape.rank; ++i) dims[i] = static_cast<hsize_t>(shape[i]);
    QuietErrors quiet;
    Handle space(H5Screate_simple(shape.rank, dims, nullptr), H5Sclose);
    Handle plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    if (opt.chunk_rows > 0 && shape.rank > 0 && shape[0] > 0) {
      hsize_t chunk[kMaxRank];
      for (int i = 0; i < shape.rank; ++i) chunk[i] = dims[i];
      chunk[0] = static_cast<hsize_t>(std::min<int64_t>(opt.chunk_rows, shape[0]));
      H5Pset_chunk(plist.get(), shape.rank, chunk);
      if (opt.gzip_level > 0) H5Pset_deflate(plist.get(), static_cast<unsigned>(opt.gzip_level));
    }
    Handle d(H5Dcreate2(id(), name.c_str(), native_type<T>(), space.get(), H5P_DEFAULT, plist.get(),
                        H5P_DEFAULT),
             H5Dclose);
    if (!d.valid()) fail("cannot create dataset '" + name + "'");
    if (shape.numel() > 0 &&
        H5Dwrite(d.get(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
      fail("cannot write dataset '" + name + "'");
    return Dataset(std::move(d), file_, child_path(name));
  }
  template <class T>
  Dataset write(const std::string& name, const Shape& shape, const std::vector<T>& data,
                const DatasetOptions& opt = {}) const {
    if (static_cast<int64_t>(data.size()) != shape.numel())
      fail("dataset '" + name + "': " + std::to_string(data.size()) + " values do not fill shape " +
           shape.str());
    return write(name, shape, data.data(), opt);
  }
  // Fixed-length byte strings (numpy `S` dtype), as robomimic stores filter keys.
  Dataset write_strings(const std::string& name, const std::vector<std::string>& values) const {
    size_t len = 1;
    for (const auto& s : values) len = std::max(len, s.size());
    std::vector<char> raw(values.size() * len, '\0');
    for (size_t i = 0; i < values.size(); ++i)
      std::copy(values[i].begin(), values[i].end(), raw.begin() + i * len);
    QuietErrors quiet;
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), len);
    H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
    hsize_t dims[1] = {values.size()};
    Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
    Handle d(H5Dcreate2(id(), name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT),
             H5Dclose);
    if (!d.valid()) fail("cannot create string dataset '" + name + "'");
    if (!values.empty() &&
        H5Dwrite(d.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0)
      fail("cannot write string dataset '" + name + "'");
    return Dataset(std::move(d), file_, child_path(name));
  }
  void remove(const std::string& name) const {
    QuietErrors quiet;
    if (H5Ldelete(id(), name.c_str(), H5P_DEFAULT) < 0) fail("cannot delete '" + name + "'");
  }
};

class File {
 public:
  enum class Mode { kReadOnly, kReadWrite, kCreate };

  File() = default;  // closed; assign an open File to use it

  File(const std::string& path, Mode mode, bool swmr_read = false) : path_(path) {
    QuietErrors quiet;
    if (mode == Mode::kCreate) {
      handle_ = Handle(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
      if (!handle_.valid()) throw IoError(path + ": cannot create HDF5 file");
      return;
    }
    if (H5Fis_hdf5(path.c_str()) <= 0)
      throw IoError(path + ": not a readable HDF5 file (missing, truncated or another format)");
    unsigned flags = mode == Mode::kReadOnly ? H5F_ACC_RDONLY : H5F_ACC_RDWR;
    if (swmr_read && mode == Mode::kReadOnly) flags |= H5F_ACC_SWMR_READ;
    handle_ = Handle(H5Fopen(path.c_str(), flags, H5P_DEFAULT), H5Fclose);
    if (!handle_.valid() && swmr_read)  // files written without SWMR support open normally
      handle_ = Handle(H5Fopen(path.c_str(), flags & ~H5F_ACC_SWMR_READ, H5P_DEFAULT), H5Fclose);
    if (!handle_.valid()) throw IoError(path + ": cannot open HDF5 file (truncated or damaged?)");
  }
  const std::string& path() const { return path_; }
  Group root() const {
    QuietErrors quiet;
    Handle g(H5Gopen2(handle_.get(), "/", H5P_DEFAULT), H5Gclose);
    if (!g.valid()) throw IoError(path_ + ": cannot open the root group (truncated or damaged?)");
    return Group(std::move(g), path_, "/");
  }
  void flush() const {
    QuietErrors quiet;
    if (H5Fflush(handle_.get(), H5F_SCOPE_GLOBAL) < 0) throw IoError(path_ + ": flush failed");
  }

 private:
  std::string path_;
  Handle handle_;
};

}  // namespace mimic::h5
