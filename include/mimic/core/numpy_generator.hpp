#pragma once
// numpy's `np.random.default_rng(seed)` (a Generator over PCG64), for the draws that define
// datasets' splits: Diffusion Policy picks its validation episodes and its 90 training episodes
// with `default_rng(42).choice(n, size, replace=False)`, and the same episodes are chosen here.
//
// What numpy does, and so what this does:
// - SeedSequence(seed): the seed's 32-bit words hashed into a 4-word pool (hashmix with a
//   multiplier that advances per word, then every pool word mixed with every other);
//   generate_state(4, uint64) hashes the pool cyclically into 8 words, read as 4 little-endian
//   uint64: PCG64's state seed (words 0, 1 = high, low) and stream (words 2, 3).
// - PCG64 (XSL RR 128/64): srandom sets inc = stream * 2 + 1, steps, adds the seed, steps; each
//   draw steps (state * M + inc) and outputs rotr64(high ^ low, state >> 122). next_uint32 hands
//   out the low half of a fresh draw and keeps the high half for the next call.
// - bounded(rng) on [0, rng]: Lemire's multiply-and-reject on next_uint32 when rng < 2^32 - 1,
//   else on next_uint64 (the full ranges 2^32 - 1 and 2^64 - 1 are a plain draw).
// - choice(n, size, replace=False, shuffle=True): Floyd's algorithm with an open-addressing set
//   of the smallest power of two above 1.2 * size, then a Fisher-Yates shuffle of the picks; for
//   n > 10000 and size > n / 50, the tail of a partial Fisher-Yates over arange(n) instead.
#include <cstdint>
#include <string>
#include <vector>

#include "mimic/core/error.hpp"

namespace mimic {

class NumpyGenerator {
 public:
  explicit NumpyGenerator(uint64_t seed) {
    const std::vector<uint32_t> state = seed_sequence_state(seed, 8);
    auto word = [&](int i) { return uint64_t(state[2 * i]) | uint64_t(state[2 * i + 1]) << 32; };
    const u128 initial = u128(word(0)) << 64 | word(1);
    const u128 stream = u128(word(2)) << 64 | word(3);
    state_ = 0;
    inc_ = stream << 1 | 1;
    step();
    state_ += initial;
    step();
  }

  uint64_t next_uint64() {
    step();
    const uint64_t x = uint64_t(state_ >> 64) ^ uint64_t(state_);
    const unsigned rot = unsigned(state_ >> 122);
    return (x >> rot) | (x << ((64 - rot) & 63));
  }
  uint32_t next_uint32() {
    if (has_half_) {
      has_half_ = false;
      return half_;
    }
    const uint64_t x = next_uint64();
    has_half_ = true;
    half_ = uint32_t(x >> 32);
    return uint32_t(x);
  }

  // An integer uniform on [0, rng] (numpy's random_bounded_uint64, Lemire's method).
  uint64_t bounded(uint64_t rng) {
    if (rng == 0) return 0;
    if (rng == 0xFFFFFFFFull) return next_uint32();  // Lemire's 32-bit excl would overflow
    if (rng < 0xFFFFFFFFull) {
      const uint32_t excl = uint32_t(rng) + 1;
      uint64_t m = uint64_t(next_uint32()) * excl;
      if (uint32_t(m) < excl) {
        const uint32_t threshold = (0xFFFFFFFFu - uint32_t(rng)) % excl;
        while (uint32_t(m) < threshold) m = uint64_t(next_uint32()) * excl;
      }
      return m >> 32;
    }
    if (rng == ~uint64_t(0)) return next_uint64();
    const uint64_t excl = rng + 1;
    u128 m = u128(next_uint64()) * excl;
    if (uint64_t(m) < excl) {
      const uint64_t threshold = (~uint64_t(0) - rng) % excl;
      while (uint64_t(m) < threshold) m = u128(next_uint64()) * excl;
    }
    return uint64_t(m >> 64);
  }

  // `size` distinct integers of [0, n), as Generator.choice(n, size, replace=False) returns
  // them (in its order).
  std::vector<int64_t> choice_without_replacement(int64_t n, int64_t size) {
    if (n < 0 || size < 0 || size > n)
      throw ValueError("NumpyGenerator::choice: cannot take " + std::to_string(size) +
                       " distinct values from " + std::to_string(n));
    if (n > 10000 && size > n / 50) {
      std::vector<int64_t> all(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) all[size_t(i)] = i;
      shuffle_tail(all, n - size > 1 ? n - size : 1);
      return std::vector<int64_t>(all.end() - size, all.end());
    }
    std::vector<int64_t> out(static_cast<size_t>(size));
    const uint64_t mask = all_ones_at_least(uint64_t(1.2 * double(size)));
    std::vector<uint64_t> set(size_t(mask + 1), kEmpty);
    for (int64_t j = n - size; j < n; ++j) {
      const uint64_t value = bounded(uint64_t(j));
      uint64_t at = value & mask;
      while (set[at] != kEmpty && set[at] != value) at = (at + 1) & mask;
      uint64_t pick = value;
      if (set[at] != kEmpty) {  // already taken: take j itself, which cannot be
        pick = uint64_t(j);
        at = pick & mask;
        while (set[at] != kEmpty) at = (at + 1) & mask;
      }
      set[at] = pick;
      out[size_t(j - n + size)] = int64_t(pick);
    }
    shuffle_tail(out, 1);
    return out;
  }

 private:
  using u128 = unsigned __int128;
  static constexpr uint64_t kEmpty = ~uint64_t(0);

  void step() {
    static constexpr u128 kMultiplier =
        u128(0x2360ED051FC65DA4ull) << 64 | u128(0x4385DF649FCCF645ull);
    state_ = state_ * kMultiplier + inc_;
  }
  // Fisher-Yates from the last element down to `first` (first = 1 shuffles all).
  void shuffle_tail(std::vector<int64_t>& v, int64_t first) {
    for (int64_t i = int64_t(v.size()) - 1; i >= first; --i) {
      const uint64_t j = bounded(uint64_t(i));
      std::swap(v[size_t(j)], v[size_t(i)]);
    }
  }
  static uint64_t all_ones_at_least(uint64_t x) {
    for (int shift = 1; shift <= 32; shift *= 2) x |= x >> shift;
    return x;
  }

  // SeedSequence(seed).generate_state(words, uint32) with numpy's constants.
  static std::vector<uint32_t> seed_sequence_state(uint64_t seed, int words) {
    std::vector<uint32_t> entropy;
    do {
      entropy.push_back(uint32_t(seed));
      seed >>= 32;
    } while (seed > 0);
    uint32_t hash_const = 0x43b0d7e5u;
    auto hashmix = [&](uint32_t value) {
      value ^= hash_const;
      hash_const *= 0x931e8875u;
      value *= hash_const;
      return value ^ (value >> 16);
    };
    auto mix = [](uint32_t x, uint32_t y) {
      uint32_t r = 0xca01f9ddu * x - 0x4973f715u * y;
      return r ^ (r >> 16);
    };
    constexpr size_t kPool = 4;
    uint32_t pool[kPool];
    for (size_t i = 0; i < kPool; ++i) pool[i] = hashmix(i < entropy.size() ? entropy[i] : 0);
    for (size_t src = 0; src < kPool; ++src)
      for (size_t dst = 0; dst < kPool; ++dst)
        if (src != dst) pool[dst] = mix(pool[dst], hashmix(pool[src]));
    for (size_t src = kPool; src < entropy.size(); ++src)
      for (size_t dst = 0; dst < kPool; ++dst) pool[dst] = mix(pool[dst], hashmix(entropy[src]));
    std::vector<uint32_t> state(static_cast<size_t>(words));
    uint32_t out_const = 0x8b51f9ddu;
    for (int i = 0; i < words; ++i) {
      uint32_t v = pool[size_t(i) % kPool] ^ out_const;
      out_const *= 0x58f38dedu;
      v *= out_const;
      state[size_t(i)] = v ^ (v >> 16);
    }
    return state;
  }

  u128 state_ = 0, inc_ = 0;
  bool has_half_ = false;
  uint32_t half_ = 0;
};

}  // namespace mimic
