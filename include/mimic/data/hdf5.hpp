#pragma once
// RAII wrappers over the HDF5 C API for robomimic-format datasets and test fixtures. Every failure
// throws mimic::IoError naming the file and the object path; HDF5's own error printing is turned
// off for the duration of each call and restored afterwards.
#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mimic/core/error.hpp"
#include "mimic/core/shape.hpp"

namespace mimic::h5 {

// Elements one dataset may declare (2^48): far beyond any dataset, and products stay in int64.
constexpr uint64_t kMaxElements = uint64_t(1) << 48;

// Silences HDF5's automatic error printing in its scope, restoring the previous handler.
class QuietErrors {
 public:
  QuietErrors() {
    // HDF5 1.10 crashes at exit re-closing a file whose close failed (a full disk): leave the
    // closing to mimic's handles, which close every file they open. Only takes effect before
    // HDF5 initializes, which this call does not do.
    H5dont_atexit();
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

// The operating system's words for the failure HDF5 last met ("No space left on device"), or
// "" when the failure was not a system call's.
inline std::string system_error_text() {
  std::string found;
  const H5E_walk2_t look = [](unsigned, const H5E_error2_t* e, void* out) -> herr_t {
    auto& text = *static_cast<std::string*>(out);
    const std::string desc = e->desc ? e->desc : "";
    const std::string tag = "error message = '";
    const size_t at = desc.find(tag);
    if (text.empty() && at != std::string::npos) {
      const size_t end = desc.find('\'', at + tag.size());
      text = desc.substr(at + tag.size(), end == std::string::npos ? end : end - at - tag.size());
    }
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, look, &found);
  return found;
}
// `what`, with the system's reason appended when HDF5 met one (else `otherwise`, if given).
inline std::string with_system_reason(const std::string& what, const std::string& otherwise = "") {
  const std::string why = system_error_text();
  if (!why.empty()) return what + " (" + why + ")";
  return otherwise.empty() ? what : what + " (" + otherwise + ")";
}

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
  // Closes now; false when the close failed (for a file: its last writes did not reach the disk).
  bool close() {
    QuietErrors quiet;
    const bool ok = id_ < 0 || !close_ || close_(id_) >= 0;
    id_ = -1;
    return ok;
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
    throw IoError(file_ + ": " + path_ + ": " + with_system_reason(what));
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
    if (n > H5Aget_storage_size(a.get()))  // a damaged header may declare any length
      fail("attribute '" + name + "' declares " + std::to_string(n) + " bytes but stores " +
           std::to_string(H5Aget_storage_size(a.get())) + " (damaged?)");
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
    uint64_t elements = 1;
    for (int i = 0; i < rank; ++i) {
      // A damaged header may declare any dims: refuse products that do not fit in memory at all.
      if (dims[i] > kMaxElements || (dims[i] > 0 && elements > kMaxElements / dims[i]))
        fail("declares dims whose product exceeds 2^48 elements (damaged?)");
      elements *= dims[i];
      s.push_back(static_cast<int64_t>(dims[i]));
    }
    return s;
  }
  // Refuses a dataset whose declared size the file cannot hold, before anything allocates it:
  // uncompressed data needs as many stored bytes as it declares, and compressed chunks expand at
  // most about 1032-fold with deflate (its longest match, 258 bytes, costs at least 2 bits); other
  // filters get a 65536-fold allowance. A damaged file would otherwise make a read allocate
  // whatever its header claims.
  void check_storage() const {
    Handle type(H5Dget_type(id()), H5Tclose);
    const bool vlen = H5Tis_variable_str(type.get()) > 0 || H5Tget_class(type.get()) == H5T_VLEN;
    const double declared = double(shape().numel()) * double(vlen ? 1 : H5Tget_size(type.get()));
    if (declared == 0) return;
    Handle plist(H5Dget_create_plist(id()), H5Pclose);
    const int filters = H5Pget_nfilters(plist.get());
    double expansion = 1;
    for (int i = 0; i < filters; ++i) {
      unsigned flags = 0, config = 0;
      size_t nvalues = 0;
      const H5Z_filter_t f =
          H5Pget_filter2(plist.get(), unsigned(i), &flags, &nvalues, nullptr, 0, nullptr, &config);
      const bool size_neutral = f == H5Z_FILTER_SHUFFLE || f == H5Z_FILTER_FLETCHER32;
      if (!size_neutral)
        expansion = std::max(expansion, f == H5Z_FILTER_DEFLATE ? 1100.0 : 65536.0);
    }
    const double stored = double(H5Dget_storage_size(id()));
    if (declared > stored * expansion)
      fail("declares " + std::to_string(int64_t(declared)) + " bytes but the file stores " +
           std::to_string(int64_t(stored)) +
           (expansion > 1 ? " compressed (more than they can expand to)" : "") +
           " (truncated or damaged?)");
  }
  H5T_class_t type_class() const { return H5Tget_class(Handle(H5Dget_type(id()), H5Tclose).get()); }

  // All elements converted to T (integer <-> float conversion as HDF5 does it).
  template <class T>
  std::vector<T> read() const {
    std::vector<T> out = allocate<T>(shape().numel());
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
      std::vector<char*> raw = allocate<char*>(n);
      if (H5Dread(id(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0)
        fail("string read failed");
      for (char* s : raw) out.emplace_back(s ? s : "");
      Handle space(H5Dget_space(id()), H5Sclose);
      H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, raw.data());
    } else {
      const size_t len = H5Tget_size(type.get());
      std::vector<char> raw = allocate<char>(n * int64_t(len));
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
  template <class T>
  std::vector<T> allocate(int64_t n) const {
    try {
      return std::vector<T>(static_cast<size_t>(n));
    } catch (const std::bad_alloc&) {
      fail("needs " + std::to_string(n * int64_t(sizeof(T))) +
           " bytes of memory, more than is free");
    }
  }
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
    Dataset out(std::move(d), file_, child_path(name));
    out.check_storage();
    return out;
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
    if (H5Fflush(handle_.get(), H5F_SCOPE_GLOBAL) < 0)
      throw IoError(path_ + ": " + with_system_reason("flush failed", "disk full?"));
  }
  // Closes the file, throwing when its last writes failed; every object opened from it must be
  // closed first.
  void close() {
    if (!handle_.close())
      throw IoError(path_ + ": " + with_system_reason("closing the file failed", "disk full?"));
  }

 private:
  std::string path_;
  Handle handle_;
};

}  // namespace mimic::h5
