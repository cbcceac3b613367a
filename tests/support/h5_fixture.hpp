#pragma once
// Reads golden-value fixtures (HDF5 files written by tests/reference/*.py) through the HDF5 C API.
#include <hdf5.h>

#include <string>
#include <vector>

#include "mimic/core/error.hpp"
#include "mimic/core/shape.hpp"

namespace mimic::testing {

class H5Fixture {
 public:
  explicit H5Fixture(const std::string& path) : path_(path) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become exceptions below
    file_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file_ < 0) throw IoError(path + ": cannot open fixture file");
  }
  ~H5Fixture() {
    if (file_ >= 0) H5Fclose(file_);
  }
  H5Fixture(const H5Fixture&) = delete;
  H5Fixture& operator=(const H5Fixture&) = delete;

  bool exists(const std::string& name) const {
    return H5Lexists(file_, name.c_str(), H5P_DEFAULT) > 0;
  }

  // Dataset values converted to T, and its shape.
  template <class T>
  std::vector<T> read(const std::string& name, Shape* shape = nullptr) const {
    hid_t ds = H5Dopen2(file_, name.c_str(), H5P_DEFAULT);
    if (ds < 0) throw IoError(path_ + ": " + name + ": no such dataset");
    hid_t space = H5Dget_space(ds);
    hsize_t dims[8];
    const int rank = H5Sget_simple_extent_dims(space, dims, nullptr);
    Shape s;
    for (int i = 0; i < rank; ++i) s.push_back(static_cast<int64_t>(dims[i]));
    std::vector<T> out(static_cast<size_t>(s.numel()));
    const hid_t mem = std::is_same_v<T, double> ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT;
    const herr_t rc = H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data());
    H5Sclose(space);
    H5Dclose(ds);
    if (rc < 0) throw IoError(path_ + ": " + name + ": read failed");
    if (shape) *shape = s;
    return out;
  }
  std::vector<int64_t> attr_ints(const std::string& object, const std::string& attr) const {
    hid_t a = H5Aopen_by_name(file_, object.c_str(), attr.c_str(), H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) throw IoError(path_ + ": " + object + ": missing attribute " + attr);
    hid_t space = H5Aget_space(a);
    std::vector<int64_t> v(static_cast<size_t>(H5Sget_simple_extent_npoints(space)));
    const herr_t rc = H5Aread(a, H5T_NATIVE_INT64, v.data());
    H5Sclose(space);
    H5Aclose(a);
    if (rc < 0) throw IoError(path_ + ": " + object + ": cannot read attribute " + attr);
    return v;
  }
  int64_t attr_int(const std::string& object, const std::string& attr) const {
    int64_t v = 0;
    if (H5Aexists_by_name(file_, object.c_str(), attr.c_str(), H5P_DEFAULT) <= 0)
      throw IoError(path_ + ": " + object + ": missing attribute " + attr);
    hid_t a = H5Aopen_by_name(file_, object.c_str(), attr.c_str(), H5P_DEFAULT, H5P_DEFAULT);
    const herr_t rc = H5Aread(a, H5T_NATIVE_INT64, &v);
    H5Aclose(a);
    if (rc < 0) throw IoError(path_ + ": " + object + ": cannot read attribute " + attr);
    return v;
  }

 private:
  std::string path_;
  hid_t file_ = -1;
};

}  // namespace mimic::testing
