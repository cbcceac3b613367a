#pragma once
// A restricted unpickler: it reads the pickle protocols 2 to 5 as torch.save writes them into a
// tree of plain values and never runs code. Calls (REDUCE, NEWOBJ) are only recorded, as the
// callee's name plus its arguments, and only for globals on the caller's allow-list; any other
// global, and any opcode outside the set below, is refused with an error that names it and its
// byte offset. `collections.OrderedDict()` and `collections.defaultdict(f)` become dicts.
// Persistent ids (torch's tensor storages) are kept as values for the caller to resolve.
//
// Opcodes read: PROTO FRAME STOP MARK POP POP_MARK DUP; NONE NEWTRUE NEWFALSE; BININT BININT1
// BININT2 LONG1 BINFLOAT; BINUNICODE SHORT_BINUNICODE BINUNICODE8 BINSTRING SHORT_BINSTRING
// BINBYTES SHORT_BINBYTES BINBYTES8; EMPTY_TUPLE TUPLE TUPLE1 TUPLE2 TUPLE3 EMPTY_LIST LIST
// APPEND APPENDS EMPTY_DICT DICT SETITEM SETITEMS; BINPUT LONG_BINPUT MEMOIZE BINGET LONG_BINGET;
// GLOBAL STACK_GLOBAL REDUCE NEWOBJ BUILD BINPERSID.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "mimic/core/error.hpp"

namespace mimic::io {

struct PickleValue {
  enum class Kind {
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kBytes,
    kList,
    kTuple,
    kDict,
    kGlobal,
    kCall,
    kPersistentId
  };
  Kind kind = Kind::kNone;
  bool boolean = false;
  int64_t integer = 0;
  double number = 0;
  std::string text;                 // kString, kBytes; kGlobal and kCall: "module.name"
  std::vector<PickleValue*> items;  // kList, kTuple; kCall: its arguments; kPersistentId
  std::vector<std::pair<PickleValue*, PickleValue*>> entries;  // kDict, in insertion order
  PickleValue* state = nullptr;  // what BUILD gave a dict or a call result

  bool is(Kind k) const { return kind == k; }
  bool is_sequence() const { return kind == Kind::kList || kind == Kind::kTuple; }
  // The value under a string key of a dict, or null.
  const PickleValue* get(std::string_view key) const {
    if (kind != Kind::kDict) return nullptr;
    for (const auto& [k, v] : entries)
      if (k->kind == Kind::kString && k->text == key) return v;
    return nullptr;
  }
  std::string describe() const {
    switch (kind) {
      case Kind::kNone:
        return "None";
      case Kind::kBool:
        return "a bool";
      case Kind::kInt:
        return "an int";
      case Kind::kFloat:
        return "a float";
      case Kind::kString:
        return "a string";
      case Kind::kBytes:
        return "bytes";
      case Kind::kList:
        return "a list";
      case Kind::kTuple:
        return "a tuple";
      case Kind::kDict:
        return "a dict";
      case Kind::kGlobal:
        return "the global " + text;
      case Kind::kCall:
        return "a " + text + "(...) object";
      case Kind::kPersistentId:
        return "a persistent id";
    }
    return "a value";
  }
};

// The value tree of one pickle; it owns every value (shared and even cyclic references are fine).
class Unpickled {
 public:
  const PickleValue& root() const { return *root_; }

 private:
  friend class Unpickler;
  std::deque<PickleValue> values_;
  PickleValue* root_ = nullptr;
};

class Unpickler {
 public:
  // `what` names the data in errors ("model.pth: data.pkl"); `allowed` lists the globals, as
  // "module.name", that the data may name.
  Unpickler(std::string what, std::vector<std::string> allowed)
      : what_(std::move(what)), allowed_(std::move(allowed)) {}

  Unpickled load(const char* data, size_t size) {
    Unpickled out;
    values_ = &out.values_;
    p_ = data;
    end_ = data + size;
    begin_ = data;
    stack_.clear();
    marks_.clear();
    memo_.clear();
    while (p_ < end_) {
      op_at_ = size_t(p_ - begin_);
      const unsigned char op = static_cast<unsigned char>(*p_++);
      if (op == '.') {  // STOP
        out.root_ = pop();
        return out;
      }
      step(op);
      if (stack_.size() > kMaxStack) fail(op, "the stack holds more than a million values");
    }
    throw IoError(what_ + ": the pickle ends without its STOP opcode (truncated?)");
  }

 private:
  static constexpr size_t kMaxStack = size_t(1) << 20;
  static constexpr size_t kMaxValues = size_t(1) << 23;  // about 1 GiB of values
  using Kind = PickleValue::Kind;

  [[noreturn]] void fail(unsigned char op, const std::string& why) const {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", op);
    throw IoError(what_ + ": pickle opcode " + hex + " at byte " + std::to_string(op_at_) + ": " +
                  why);
  }
  void need(size_t n) {
    if (size_t(end_ - p_) < n)
      throw IoError(what_ + ": the pickle ends inside the opcode at byte " +
                    std::to_string(op_at_) + " (truncated?)");
  }
  uint64_t le(size_t n) {
    need(n);
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t(static_cast<unsigned char>(p_[i])) << (8 * i);
    p_ += n;
    return v;
  }
  std::string bytes(uint64_t n) {
    need(size_t(std::min<uint64_t>(n, uint64_t(end_ - p_) + 1)));
    std::string s(p_, size_t(n));
    p_ += n;
    return s;
  }
  std::string line() {
    const char* nl = static_cast<const char*>(std::memchr(p_, '\n', size_t(end_ - p_)));
    if (!nl)
      throw IoError(what_ + ": the pickle ends inside the opcode at byte " +
                    std::to_string(op_at_) + " (truncated?)");
    std::string s(p_, nl);
    p_ = nl + 1;
    return s;
  }

  PickleValue* make(Kind k) {
    if (values_->size() >= kMaxValues)
      throw IoError(what_ + ": the pickle makes more than " + std::to_string(kMaxValues) +
                    " values (not a checkpoint?)");
    values_->emplace_back();
    values_->back().kind = k;
    return &values_->back();
  }
  void push(PickleValue* v) { stack_.push_back(v); }
  PickleValue* pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back()))
      throw IoError(what_ + ": pickle opcode at byte " + std::to_string(op_at_) +
                    " pops an empty stack");
    PickleValue* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  PickleValue* top(unsigned char op) {
    if (stack_.empty()) fail(op, "the stack is empty");
    return stack_.back();
  }
  std::vector<PickleValue*> pop_mark(unsigned char op) {
    if (marks_.empty()) fail(op, "no MARK before it");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PickleValue*> items(stack_.begin() + std::ptrdiff_t(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  void tuple_of(std::vector<PickleValue*> items) {
    PickleValue* t = make(Kind::kTuple);
    t->items = std::move(items);
    push(t);
  }
  void put(unsigned char op, uint64_t index) { memo_[index] = top(op); }
  void get(unsigned char op, uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail(op, "memo entry " + std::to_string(index) + " was never stored");
    push(it->second);
  }
  void global(unsigned char op, const std::string& module, const std::string& name) {
    const std::string full = module + "." + name;
    if (std::find(allowed_.begin(), allowed_.end(), full) == allowed_.end())
      fail(op, "the global '" + full +
                   "' is not allowed (loading never runs code; allowed: " + allowed_list() + ")");
    PickleValue* g = make(Kind::kGlobal);
    g->text = full;
    push(g);
  }
  std::string allowed_list() const {
    std::string s;
    for (const std::string& a : allowed_) s += (s.empty() ? "" : ", ") + a;
    return s;
  }
  void call(unsigned char op, PickleValue* callee, PickleValue* args) {
    if (!callee->is(Kind::kGlobal)) fail(op, "calls " + callee->describe() + ", not a global");
    if (!args->is(Kind::kTuple)) fail(op, "the arguments of " + callee->text + " are not a tuple");
    if (callee->text == "collections.OrderedDict") {
      if (!args->items.empty()) fail(op, "OrderedDict with arguments is not supported");
      push(make(Kind::kDict));
      return;
    }
    if (callee->text == "collections.defaultdict") {  // its default factory only matters to code
      if (args->items.size() > 1) fail(op, "defaultdict with initial items is not supported");
      push(make(Kind::kDict));
      return;
    }
    PickleValue* c = make(Kind::kCall);
    c->text = callee->text;
    c->items = args->items;
    push(c);
  }
  void set_items(unsigned char op, PickleValue* dict, const std::vector<PickleValue*>& kv) {
    if (!dict->is(Kind::kDict)) fail(op, "sets items of " + dict->describe() + ", not a dict");
    if (kv.size() % 2) fail(op, "an odd number of keys and values");
    for (size_t i = 0; i < kv.size(); i += 2) {
      bool replaced = false;
      for (auto& [k, v] : dict->entries)
        if (k->is(Kind::kString) && kv[i]->is(Kind::kString) && k->text == kv[i]->text) {
          v = kv[i + 1];
          replaced = true;
        }
      if (!replaced) dict->entries.emplace_back(kv[i], kv[i + 1]);
    }
  }
  void append(unsigned char op, PickleValue* list, const std::vector<PickleValue*>& items) {
    if (!list->is(Kind::kList)) fail(op, "appends to " + list->describe() + ", not a list");
    list->items.insert(list->items.end(), items.begin(), items.end());
  }

  void step(unsigned char op) {
    switch (op) {
      case 0x80:
        le(1);
        return;  // PROTO
      case 0x95:
        le(8);
        return;  // FRAME
      case '(':
        marks_.push_back(stack_.size());
        return;
      case '0':
        pop();
        return;
      case '1':
        pop_mark(op);
        return;
      case '2':
        push(top(op));
        return;
      case 'N':
        push(make(Kind::kNone));
        return;
      case 0x88:
      case 0x89: {
        PickleValue* b = make(Kind::kBool);
        b->boolean = op == 0x88;
        push(b);
        return;
      }
      case 'J':
      case 'K':
      case 'M': {
        PickleValue* v = make(Kind::kInt);
        const uint64_t raw = le(op == 'J' ? 4 : op == 'K' ? 1 : 2);
        v->integer = op == 'J' ? int64_t(int32_t(uint32_t(raw))) : int64_t(raw);
        push(v);
        return;
      }
      case 0x8a: {  // LONG1: n bytes, little-endian two's complement
        const size_t n = size_t(le(1));
        if (n > 8) fail(op, "an integer of " + std::to_string(n) + " bytes (more than 64 bits)");
        uint64_t raw = n ? le(n) : 0;
        if (n > 0 && n < 8 && (raw >> (8 * n - 1)) & 1) raw |= ~uint64_t(0) << (8 * n);
        PickleValue* v = make(Kind::kInt);
        v->integer = int64_t(raw);
        push(v);
        return;
      }
      case 'G': {  // BINFLOAT: 8 bytes big-endian
        need(8);
        uint64_t raw = 0;
        for (int i = 0; i < 8; ++i) raw = (raw << 8) | static_cast<unsigned char>(p_[i]);
        p_ += 8;
        PickleValue* v = make(Kind::kFloat);
        std::memcpy(&v->number, &raw, 8);
        push(v);
        return;
      }
      case 'X':
      case 0x8c:
      case 0x8d:
      case 'T':
      case 'U': {
        const size_t w = op == 0x8c || op == 'U' ? 1 : op == 0x8d ? 8 : 4;
        PickleValue* v = make(Kind::kString);
        v->text = bytes(le(w));
        push(v);
        return;
      }
      case 'B':
      case 'C':
      case 0x8e: {
        PickleValue* v = make(Kind::kBytes);
        v->text = bytes(le(op == 'C' ? 1 : op == 'B' ? 4 : 8));
        push(v);
        return;
      }
      case ')':
        tuple_of({});
        return;
      case 't':
        tuple_of(pop_mark(op));
        return;
      case 0x85:
      case 0x86:
      case 0x87: {
        const size_t n = size_t(op - 0x84);
        std::vector<PickleValue*> items(n);
        for (size_t i = n; i-- > 0;) items[i] = pop();
        tuple_of(std::move(items));
        return;
      }
      case ']':
        push(make(Kind::kList));
        return;
      case 'l': {
        PickleValue* l = make(Kind::kList);
        l->items = pop_mark(op);
        push(l);
        return;
      }
      case 'a': {
        PickleValue* v = pop();
        append(op, top(op), {v});
        return;
      }
      case 'e': {
        const std::vector<PickleValue*> items = pop_mark(op);
        append(op, top(op), items);
        return;
      }
      case '}':
        push(make(Kind::kDict));
        return;
      case 'd': {
        const std::vector<PickleValue*> kv = pop_mark(op);
        PickleValue* d = make(Kind::kDict);
        set_items(op, d, kv);
        push(d);
        return;
      }
      case 's': {
        PickleValue* v = pop();
        PickleValue* k = pop();
        set_items(op, top(op), {k, v});
        return;
      }
      case 'u': {
        const std::vector<PickleValue*> kv = pop_mark(op);
        set_items(op, top(op), kv);
        return;
      }
      case 'q':
        put(op, le(1));
        return;
      case 'r':
        put(op, le(4));
        return;
      case 0x94:
        put(op, memo_.size());
        return;  // MEMOIZE
      case 'h':
        get(op, le(1));
        return;
      case 'j':
        get(op, le(4));
        return;
      case 'c': {
        const std::string module = line();
        global(op, module, line());
        return;
      }
      case 0x93: {  // STACK_GLOBAL
        PickleValue* name = pop();
        PickleValue* module = pop();
        if (!name->is(Kind::kString) || !module->is(Kind::kString))
          fail(op, "module and name are not strings");
        global(op, module->text, name->text);
        return;
      }
      case 'R':
      case 0x81: {  // REDUCE, NEWOBJ
        PickleValue* args = pop();
        PickleValue* callee = pop();
        call(op, callee, args);
        return;
      }
      case 'b': {  // BUILD
        PickleValue* state = pop();
        PickleValue* target = top(op);
        if (!target->is(Kind::kDict) && !target->is(Kind::kCall))
          fail(op, "BUILD on " + target->describe());
        target->state = state;
        return;
      }
      case 'Q': {  // BINPERSID
        PickleValue* id = pop();
        PickleValue* v = make(Kind::kPersistentId);
        if (id->is(Kind::kTuple))
          v->items = id->items;
        else
          v->items = {id};
        push(v);
        return;
      }
      default:
        fail(op, "this opcode is not allowed in a checkpoint");
    }
  }

  std::string what_;
  std::vector<std::string> allowed_;
  std::deque<PickleValue>* values_ = nullptr;
  const char* begin_ = nullptr;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  size_t op_at_ = 0;
  std::vector<PickleValue*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PickleValue*> memo_;
};

// Plain data (None, bools, numbers, strings, lists, tuples, dicts with string keys) as JSON;
// anything else is an error naming `where`. Depth-limited, so cyclic data is refused.
inline nlohmann::json pickle_to_json(const PickleValue& v, const std::string& where,
                                     int depth = 0) {
  using Kind = PickleValue::Kind;
  if (depth > 64) throw IoError(where + ": nested more than 64 levels deep (cyclic?)");
  switch (v.kind) {
    case Kind::kNone:
      return nullptr;
    case Kind::kBool:
      return v.boolean;
    case Kind::kInt:
      return v.integer;
    case Kind::kFloat:
      return v.number;
    case Kind::kString:
      return v.text;
    case Kind::kList:
    case Kind::kTuple: {
      nlohmann::json a = nlohmann::json::array();
      for (size_t i = 0; i < v.items.size(); ++i)
        a.push_back(pickle_to_json(*v.items[i], where + "[" + std::to_string(i) + "]", depth + 1));
      return a;
    }
    case Kind::kDict: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& [k, x] : v.entries) {
        if (!k->is(Kind::kString)) throw IoError(where + ": a dict key is " + k->describe());
        o[k->text] = pickle_to_json(*x, where + "." + k->text, depth + 1);
      }
      return o;
    }
    default:
      throw IoError(where + " is " + v.describe() + ", expected plain data");
  }
}

}  // namespace mimic::io
