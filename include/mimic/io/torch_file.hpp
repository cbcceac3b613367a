#pragma once
// Files written by torch.save (torch 1.6 and later: a zip archive <name>/data.pkl, the tensors'
// storages as <name>/data/<key>, <name>/byteorder), read without torch and without running code.
// data.pkl goes through the restricted unpickler with the globals a checkpoint of plain data and
// tensors needs; tensors come back as host float tensors (float32, float64, float16, bfloat16
// and integer storages converted), any view (offset, strides) resolved and checked to lie inside
// its storage.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "mimic/core/tensor.hpp"
#include "mimic/io/pickle.hpp"
#include "mimic/io/zip_archive.hpp"

namespace mimic::io {

// The globals torch.save uses for state dicts of tensors in plain containers.
inline std::vector<std::string> torch_allowed_globals() {
  std::vector<std::string> g = {"collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                                "torch._utils._rebuild_parameter"};
  for (const char* s :
       {"Float", "Double", "Half", "BFloat16", "Long", "Int", "Short", "Char", "Byte", "Bool"})
    g.push_back(std::string("torch.") + s + "Storage");
  return g;
}

inline float half_to_float(uint16_t h) {
  const int exp = (h >> 10) & 0x1F, mant = h & 0x3FF;
  const float sign = (h >> 15) ? -1.0f : 1.0f;
  if (exp == 0) return sign * std::ldexp(float(mant), -24);
  if (exp == 31) return mant ? NAN : sign * INFINITY;
  return sign * std::ldexp(float(mant | 0x400), exp - 25);
}
inline float bfloat16_to_float(uint16_t b) {
  const uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

class TorchFile {
 public:
  explicit TorchFile(const std::string& path,
                     std::vector<std::string> allowed = torch_allowed_globals())
      : zip_(path) {
    for (const ZipEntry& e : zip_.entries()) {
      const size_t slash = e.name.find('/');
      if (slash != std::string::npos && e.name.substr(slash) == "/data.pkl") {
        if (!prefix_.empty()) throw IoError(path + ": the archive holds more than one data.pkl");
        prefix_ = e.name.substr(0, slash + 1);
      }
    }
    if (prefix_.empty())
      throw IoError(path + ": a zip archive without <name>/data.pkl (not written by torch.save)");
    if (const ZipEntry* order = zip_.find(prefix_ + "byteorder")) {
      const std::vector<char> b = zip_.read(*order);
      if (std::string(b.begin(), b.end()) != "little")
        throw IoError(path + ": tensors are stored big-endian; only little-endian is supported");
    }
    const std::vector<char> pkl = zip_.read(*zip_.find(prefix_ + "data.pkl"));
    data_ = Unpickler(path + ": data.pkl", std::move(allowed)).load(pkl.data(), pkl.size());
  }

  const std::string& path() const { return zip_.path(); }
  const PickleValue& root() const { return data_.root(); }

  // Whether `v` is a tensor (a rebuilt tensor or parameter).
  static bool is_tensor(const PickleValue& v) {
    return v.is(PickleValue::Kind::kCall) && (v.text == "torch._utils._rebuild_tensor_v2" ||
                                              v.text == "torch._utils._rebuild_parameter");
  }

  // The tensor `v` as host floats; `name` is used in errors.
  Tensor<float> tensor(const PickleValue& v, const std::string& name) {
    const std::string at = path() + ": tensor '" + name + "'";
    if (v.is(PickleValue::Kind::kCall) && v.text == "torch._utils._rebuild_parameter") {
      if (v.items.empty()) throw IoError(at + ": a parameter without its tensor");
      return tensor(*v.items[0], name);
    }
    if (!v.is(PickleValue::Kind::kCall) || v.text != "torch._utils._rebuild_tensor_v2")
      throw IoError(at + " is " + v.describe() + ", not a tensor");
    if (v.items.size() < 4) throw IoError(at + ": _rebuild_tensor_v2 with too few arguments");
    const Storage s = storage(*v.items[0], at);
    const int64_t offset = integer(*v.items[1], at + " storage offset");
    const std::vector<int64_t> size = integers(*v.items[2], at + " size");
    const std::vector<int64_t> stride = integers(*v.items[3], at + " stride");
    if (size.size() != stride.size())
      throw IoError(at + ": " + std::to_string(size.size()) + " sizes but " +
                    std::to_string(stride.size()) + " strides");
    if (size.size() > size_t(kMaxRank))
      throw IoError(at + ": rank " + std::to_string(size.size()) + " exceeds " +
                    std::to_string(kMaxRank));
    // The last element a view touches must lie inside the storage.
    int64_t numel = 1, last = offset;
    for (size_t d = 0; d < size.size(); ++d) {
      if (size[d] < 0 || stride[d] < 0) throw IoError(at + ": negative size or stride");
      if (size[d] == 0)
        numel = 0;
      else if (numel > 0 && size[d] > (int64_t(1) << 40) / numel)
        throw IoError(at + ": more than 2^40 elements");
      else
        numel *= size[d];
    }
    if (offset < 0) throw IoError(at + ": negative storage offset");
    if (numel > 0)
      for (size_t d = 0; d < size.size(); ++d) {
        if (stride[d] > 0 && size[d] - 1 > (int64_t(1) << 50) / stride[d])
          throw IoError(at + ": stride out of range");
        last += (size[d] - 1) * stride[d];
      }
    if (numel > 0 && last >= s.numel)
      throw IoError(at + ": the view reaches element " + std::to_string(last) +
                    " of a storage of " + std::to_string(s.numel));
    const std::vector<char>& bytes = storage_bytes(s, at);
    Shape shape = Shape::from_range(size.begin(), size.end());
    auto out = Tensor<float>::empty(shape);
    bool contiguous = true;
    for (int64_t d = int64_t(size.size()) - 1, want = 1; d >= 0; --d) {
      if (size[size_t(d)] != 1 && stride[size_t(d)] != want) contiguous = false;
      want *= size[size_t(d)];
    }
    if (contiguous && s.code == 'f') {
      if (numel > 0) std::memcpy(out.data(), bytes.data() + size_t(offset) * 4, size_t(numel) * 4);
      return out;
    }
    std::vector<int64_t> index(size.size(), 0);
    for (int64_t i = 0; i < numel; ++i) {
      int64_t e = offset;
      for (size_t d = 0; d < size.size(); ++d) e += index[d] * stride[d];
      out[i] = element(s, bytes, e);
      for (size_t d = size.size(); d-- > 0;) {  // row-major increment
        if (++index[d] < size[d]) break;
        index[d] = 0;
      }
    }
    return out;
  }

 private:
  struct Storage {
    std::string key, type;  // type: "Float", "Double", ...
    int64_t numel = 0;
    size_t element_size = 0;
    char code = 'f';  // the type, decided once per tensor
  };

  static int64_t integer(const PickleValue& v, const std::string& what) {
    if (!v.is(PickleValue::Kind::kInt)) throw IoError(what + " is " + v.describe());
    return v.integer;
  }
  static std::vector<int64_t> integers(const PickleValue& v, const std::string& what) {
    if (!v.is_sequence()) throw IoError(what + " is " + v.describe() + ", expected a tuple");
    std::vector<int64_t> out;
    for (const PickleValue* x : v.items) out.push_back(integer(*x, what));
    return out;
  }
  static size_t element_size(const std::string& type) {
    if (type == "Double" || type == "Long") return 8;
    if (type == "Float" || type == "Int") return 4;
    if (type == "Half" || type == "BFloat16" || type == "Short") return 2;
    return 1;  // Char, Byte, Bool
  }

  // ('storage', torch.<Type>Storage, key, location, numel)
  static Storage storage(const PickleValue& v, const std::string& at) {
    if (!v.is(PickleValue::Kind::kPersistentId) || v.items.size() < 5 ||
        !v.items[0]->is(PickleValue::Kind::kString) || v.items[0]->text != "storage")
      throw IoError(at + ": its storage is " + v.describe() +
                    ", expected ('storage', type, key, location, numel)");
    const PickleValue& type = *v.items[1];
    const std::string prefix = "torch.", suffix = "Storage";
    if (!type.is(PickleValue::Kind::kGlobal) || type.text.size() <= prefix.size() + suffix.size())
      throw IoError(at + ": its storage type is " + type.describe());
    Storage s;
    s.type = type.text.substr(prefix.size(), type.text.size() - prefix.size() - suffix.size());
    if (!v.items[2]->is(PickleValue::Kind::kString))
      throw IoError(at + ": its storage key is " + v.items[2]->describe());
    s.key = v.items[2]->text;
    s.numel = integer(*v.items[4], at + " storage size");
    if (s.numel < 0) throw IoError(at + ": negative storage size");
    s.element_size = element_size(s.type);
    static const std::map<std::string, char> codes = {
        {"Float", 'f'}, {"Double", 'd'}, {"Half", 'h'}, {"BFloat16", 'b'}, {"Long", 'l'},
        {"Int", 'i'},   {"Short", 's'},  {"Char", 'c'}, {"Byte", 'u'},     {"Bool", 'u'}};
    auto code = codes.find(s.type);
    if (code == codes.end())
      throw IoError(at + ": storage type " + type.text + " is not supported");
    s.code = code->second;
    return s;
  }
  const std::vector<char>& storage_bytes(const Storage& s, const std::string& at) {
    auto it = storages_.find(s.key);
    if (it == storages_.end()) {
      const ZipEntry* e = zip_.find(prefix_ + "data/" + s.key);
      if (!e) throw IoError(at + ": the archive has no storage data/" + s.key);
      it = storages_.emplace(s.key, zip_.read(*e)).first;
    }
    if (uint64_t(it->second.size()) < uint64_t(s.numel) * s.element_size)
      throw IoError(at + ": storage data/" + s.key + " holds " + std::to_string(it->second.size()) +
                    " bytes, " + std::to_string(s.numel) + " " + s.type + " values need " +
                    std::to_string(uint64_t(s.numel) * s.element_size));
    return it->second;
  }
  static float element(const Storage& s, const std::vector<char>& b, int64_t i) {
    const char* p = b.data() + size_t(i) * s.element_size;
    auto load = [p](auto v) {
      std::memcpy(&v, p, sizeof v);
      return v;
    };
    switch (s.code) {
      case 'f':
        return load(float{});
      case 'd':
        return float(load(double{}));
      case 'h':
        return half_to_float(load(uint16_t{}));
      case 'b':
        return bfloat16_to_float(load(uint16_t{}));
      case 'l':
        return float(load(int64_t{}));
      case 'i':
        return float(load(int32_t{}));
      case 's':
        return float(load(int16_t{}));
      case 'c':
        return float(load(int8_t{}));
      default:
        return float(load(uint8_t{}));  // Byte, Bool
    }
  }

  ZipArchive zip_;
  std::string prefix_;
  Unpickled data_;
  std::map<std::string, std::vector<char>> storages_;
};

}  // namespace mimic::io
