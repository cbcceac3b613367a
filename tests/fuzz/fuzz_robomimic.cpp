// robomimic HDF5 files written from the fuzzer's bytes through the HDF5 C API, the way real and
// damaged files look: any number of demos with odd names, num_samples attributes of any type and
// value, actions/obs/next_obs/rewards/dones/states of any dtype, rank and size (NaN and inf
// included), missing pieces, masks of fixed or variable-length strings naming demos that may not
// exist, env_args that may not be JSON. Then read as training reads it: the reader, every demo,
// every mask, a SequenceDataset with options from the bytes, and one sampled batch.
#include <hdf5.h>

#include <algorithm>
#include <string>
#include <vector>

#include "byte_source.hpp"
#include "mimic/data/sequence_dataset.hpp"
#include "scratch_file.hpp"
#include "targets.hpp"

namespace mimic::fuzz {

namespace {

const char* const kObsKeys[] = {"robot0_eef_pos", "object", "agentview_image"};

void write_numeric(hid_t loc, const std::string& name, ByteSource& in) {
  const hid_t types[] = {H5T_NATIVE_FLOAT, H5T_NATIVE_DOUBLE, H5T_NATIVE_UINT8, H5T_NATIVE_INT64};
  const hid_t type = types[in.below(4)];
  const int rank = int(in.below(5));
  hsize_t dims[4];
  hsize_t n = 1;
  for (int i = 0; i < rank; ++i) n *= (dims[i] = in.below(i == 0 ? 9 : 5));
  std::vector<double> values(n);
  for (double& v : values) v = in.flag() ? double(in.float32()) : double(in.below(256)) / 128 - 1;
  const hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, nullptr);
  const hid_t d = H5Dcreate2(loc, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (d >= 0 && n > 0) H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  if (d >= 0) H5Dclose(d);
  H5Sclose(space);
}

void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values,
                   bool variable) {
  const hid_t type = H5Tcopy(H5T_C_S1);
  hsize_t n = values.size();
  const hid_t space = H5Screate_simple(1, &n, nullptr);
  std::vector<const char*> pointers;
  std::vector<char> fixed;
  size_t len = 1;
  for (const std::string& s : values) len = std::max(len, s.size());
  if (variable) {
    H5Tset_size(type, H5T_VARIABLE);
    for (const std::string& s : values) pointers.push_back(s.c_str());
  } else {
    H5Tset_size(type, len);
    fixed.assign(values.size() * len, '\0');
    for (size_t i = 0; i < values.size(); ++i)
      std::copy(values[i].begin(), values[i].end(), &fixed[i * len]);
  }
  const hid_t d = H5Dcreate2(loc, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (d >= 0 && n > 0)
    H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT,
             variable ? static_cast<const void*>(pointers.data()) : fixed.data());
  if (d >= 0) H5Dclose(d);
  H5Sclose(space);
  H5Tclose(type);
}

// An attribute of any kind: an integer, a float, a string, or an integer array.
void write_attr(hid_t loc, const char* name, ByteSource& in, int64_t typical) {
  const size_t kind = in.below(5);
  if (kind == 4) return;  // absent
  if (kind == 2) {
    const std::string s = in.text(12);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    const char* p = s.c_str();
    if (a >= 0) H5Awrite(a, type, &p), H5Aclose(a);
    H5Sclose(space), H5Tclose(type);
    return;
  }
  hsize_t two = 2;
  const hid_t space = kind == 3 ? H5Screate_simple(1, &two, nullptr) : H5Screate(H5S_SCALAR);
  const hid_t type = kind == 1 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_INT64;
  const int64_t v[2] = {in.flag() ? typical : in.int64(), typical};
  const double f[2] = {double(in.float32()), 0};
  const hid_t a = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  if (a >= 0) H5Awrite(a, type, kind == 1 ? static_cast<const void*>(f) : v), H5Aclose(a);
  H5Sclose(space);
}

std::string demo_name(ByteSource& in, size_t i) {
  switch (in.below(8)) {
    case 0:
      return "demo_" + std::to_string(in.int64());
    case 1:
      return "demo_99999999999999999999";
    case 2:
      return in.text(10).empty() ? "x" : "demo_" + std::to_string(in.below(4));
    case 3:
      return "demo_x";
    default:
      return "demo_" + std::to_string(i);
  }
}

void write_file(const std::string& path, ByteSource& in, std::vector<std::string>& names) {
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) return;
  const hid_t data = H5Gcreate2(f, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  write_attr(data, "total", in, 8);
  if (in.flag()) {  // env_args: a real one, or any text
    const std::string env =
        in.flag() ? R"({"env_name": "PushT", "type": 4, "env_kwargs": {}})" : in.text(24);
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, H5T_VARIABLE);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(data, "env_args", type, space, H5P_DEFAULT, H5P_DEFAULT);
    const char* p = env.c_str();
    if (a >= 0) H5Awrite(a, type, &p), H5Aclose(a);
    H5Sclose(space), H5Tclose(type);
  }
  for (size_t i = 0, n = in.below(5); i < n; ++i) {
    const std::string name = demo_name(in, i);
    const hid_t g = H5Gcreate2(data, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) continue;  // a repeated name
    names.push_back(name);
    write_attr(g, "num_samples", in, 4);
    for (const char* key : {"actions", "rewards", "dones", "states"})
      if (in.below(4) != 0) write_numeric(g, key, in);
    for (const char* group : {"obs", "next_obs"}) {
      if (in.below(4) == 0) continue;
      const hid_t og = H5Gcreate2(g, group, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      for (const char* key : kObsKeys)
        if (in.flag()) write_numeric(og, key, in);
      H5Gclose(og);
    }
    H5Gclose(g);
  }
  H5Gclose(data);
  if (in.flag()) {
    const hid_t mask = H5Gcreate2(f, "mask", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    for (const char* key : {"train", "valid"}) {
      if (!in.flag()) continue;
      std::vector<std::string> listed;
      for (size_t i = 0, n = in.below(4); i < n; ++i)
        listed.push_back(!names.empty() && in.flag() ? names[in.below(names.size())]
                                                     : "demo_" + std::to_string(in.below(9)));
      if (in.below(5) == 0)
        write_numeric(mask, key, in);
      else
        write_strings(mask, key, listed, in.flag());
    }
    H5Gclose(mask);
  }
  H5Fclose(f);
}

void read_as_training_does(const std::string& path, ByteSource& in) {
  data::RobomimicReader r(path);
  r.total();
  for (const std::string& d : r.demos()) {
    try {
      r.num_samples(d);
      r.obs_keys(d);
      r.read_demo(d, in.flag(), in.flag());
    } catch (const Error&) {
    }
  }
  for (const std::string& key : r.filter_keys()) {
    try {
      const data::MaskDemos m = r.read_mask(key);
      r.mask_warning(key, m);
    } catch (const Error&) {
    }
  }
  try {
    r.env_args_json();
  } catch (const Error&) {
  }
  data::SequenceDatasetOptions o;
  o.path = path;
  for (const char* key : kObsKeys)
    if (in.flag()) o.obs_keys.push_back(key);
  if (in.flag()) o.dataset_keys.push_back(in.flag() ? "rewards" : "dones");
  const char* filters[] = {"", "train", "valid"};
  o.filter_key = filters[in.below(3)];
  o.seq_length = 1 + int64_t(in.below(4));
  o.frame_stack = 1 + int64_t(in.below(3));
  o.pad_seq_length = in.flag(), o.pad_frame_stack = in.flag();
  o.get_pad_mask = in.flag();
  o.load_next_obs = in.flag();
  if (in.flag()) o.goal_mode = "last";
  const char* caches[] = {"all", "low_dim", "none"};
  o.cache_mode = caches[in.below(3)];
  o.diffusion_sampler = in.flag();
  o.pad_before = int64_t(in.below(3)), o.pad_after = int64_t(in.below(3));
  data::SequenceDataset ds(o);
  ds.low_dim_demos();
  const int64_t count = std::min<int64_t>(ds.size(), 3);
  std::vector<int64_t> indices;
  for (int64_t i = 0; i < count; ++i) indices.push_back(int64_t(in.below(size_t(ds.size()))));
  data::Batch b = ds.make_batch_like(count);
  ds.fill(indices.data(), count, b);
}

}  // namespace

int robomimic_input(const uint8_t* bytes, size_t size) {
  ByteSource in(bytes, size);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // failed writes of odd inputs are expected
  const std::string path = scratch_path("robomimic.hdf5");
  std::vector<std::string> names;
  write_file(path, in, names);
  try {
    read_as_training_does(path, in);
  } catch (const Error&) {
  }
  return 0;
}

}  // namespace mimic::fuzz
