#pragma once
// Writes pickle protocol 2 as torch.save does for a dict of plain data and float tensors: JSON
// values as Python's None, bools, ints, floats, strings, lists and dicts; tensors as
// torch._utils._rebuild_tensor_v2 of a persistent ('storage', torch.FloatStorage, key, 'cpu',
// numel) id, which the caller stores as <archive>/data/<key>. torch.load, also with
// weights_only=True, reads what it writes (those are the globals its safe unpickler allows).
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mimic/core/error.hpp"

namespace mimic::io {

class PickleWriter {
 public:
  PickleWriter() { op(0x80, "\x02", 1); }  // PROTO 2

  // The finished pickle (STOP appended).
  std::string finish() {
    bytes_.push_back('.');
    return std::move(bytes_);
  }

  void none() { bytes_.push_back('N'); }
  void boolean(bool b) { bytes_.push_back(char(b ? 0x88 : 0x89)); }
  void integer(int64_t v) {
    if (v >= INT32_MIN && v <= INT32_MAX) {
      bytes_.push_back('J');
      le(uint64_t(uint32_t(int32_t(v))), 4);
    } else {
      bytes_.push_back(char(0x8a));  // LONG1, 8 bytes two's complement
      bytes_.push_back(8);
      le(uint64_t(v), 8);
    }
  }
  void number(double d) {
    uint64_t raw;
    std::memcpy(&raw, &d, 8);
    bytes_.push_back('G');
    for (int i = 7; i >= 0; --i) bytes_.push_back(char((raw >> (8 * i)) & 0xFF));
  }
  void text(const std::string& s) {
    bytes_.push_back('X');
    le(s.size(), 4);
    bytes_ += s;
  }
  void global(const std::string& module, const std::string& name) {
    bytes_ += "c" + module + "\n" + name + "\n";
  }
  void mark() { bytes_.push_back('('); }
  void tuple() { bytes_.push_back('t'); }  // of the items since the mark
  void empty_tuple() { bytes_.push_back(')'); }
  void reduce() { bytes_.push_back('R'); }
  void empty_dict() { bytes_.push_back('}'); }
  void set_items() { bytes_.push_back('u'); }  // of the key/value pairs since the mark
  void persistent_id() { bytes_.push_back('Q'); }
  void ordered_dict() {
    global("collections", "OrderedDict");
    empty_tuple();
    reduce();
  }

  // Plain data. Numbers that are integers in JSON stay ints.
  void json(const nlohmann::json& j, int depth = 0) {
    if (depth > 64) throw ValueError("pickle: data nested more than 64 levels deep");
    if (j.is_null()) return none();
    if (j.is_boolean()) return boolean(j.get<bool>());
    if (j.is_number_integer()) return integer(j.get<int64_t>());
    if (j.is_number_unsigned()) return integer(int64_t(j.get<uint64_t>()));
    if (j.is_number_float()) return number(j.get<double>());
    if (j.is_string()) return text(j.get<std::string>());
    if (j.is_array()) {
      bytes_.push_back(']');
      if (j.empty()) return;
      mark();
      for (const auto& x : j) json(x, depth + 1);
      bytes_.push_back('e');  // APPENDS
      return;
    }
    empty_dict();
    if (j.empty()) return;
    mark();
    for (const auto& [k, v] : j.items()) {
      text(k);
      json(v, depth + 1);
    }
    set_items();
  }

  // A contiguous float32 tensor of `shape` in storage `key` holding numel floats.
  void float_tensor(const std::string& key, const std::vector<int64_t>& shape) {
    int64_t numel = 1;
    for (int64_t d : shape) numel *= d;
    global("torch._utils", "_rebuild_tensor_v2");
    mark();
    {
      mark();
      text("storage");
      global("torch", "FloatStorage");
      text(key);
      text("cpu");
      integer(numel);
      tuple();
      persistent_id();
    }
    integer(0);  // storage offset
    mark();
    for (int64_t d : shape) integer(d);
    tuple();
    mark();  // row-major strides
    std::vector<int64_t> stride(shape.size(), 1);
    for (size_t d = shape.size(); d-- > 1;) stride[d - 1] = stride[d] * shape[d];
    for (int64_t s : stride) integer(s);
    tuple();
    boolean(false);  // requires_grad
    ordered_dict();  // backward hooks
    tuple();
    reduce();
  }

 private:
  void op(unsigned char code, const char* arg, size_t n) {
    bytes_.push_back(char(code));
    bytes_.append(arg, n);
  }
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) bytes_.push_back(char((v >> (8 * i)) & 0xFF));
  }
  std::string bytes_;
};

}  // namespace mimic::io
