#pragma once
// numpy's legacy `np.random.RandomState(seed)`, draw for draw: the benchmarks that define their
// test episodes by RandomState seeds (Diffusion Policy's Push-T) start from the same states here.
//
// What numpy does, and so what this does:
// - seeding: MT19937 `init_genrand(seed)` for an integer seed in [0, 2^32), which is exactly the
//   seeding of std::mt19937(seed);
// - randint(low, high): high - 1 - low = rng; draws next_uint32 (next_uint64 = two uint32, high
//   word first, when rng needs more than 32 bits), keeps the bits under the smallest all-ones mask
//   >= rng and rejects values above rng ("masked rejection");
// - random_sample: ((a >> 5) * 2^26 + (b >> 6)) / 2^53 from two uint32 draws;
// - randn: the polar Marsaglia method on 2 * random_sample - 1, which caches its second normal.
// The products are stored through volatile so that no compiler fuses them into multiply-adds:
// numpy's are separately rounded, and a fused r2 changes the normal in its last bit.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>

#include "mimic/core/error.hpp"

namespace mimic {

class NumpyRandomState {
 public:
  explicit NumpyRandomState(int64_t seed) {
    if (seed < 0 || seed > int64_t(0xFFFFFFFF))
      throw ValueError("NumpyRandomState: seed " + std::to_string(seed) +
                       " outside [0, 2^32 - 1], as numpy's RandomState requires");
    mt_.seed(static_cast<std::mt19937::result_type>(seed));
  }

  uint32_t next_uint32() { return static_cast<uint32_t>(mt_()); }
  uint64_t next_uint64() {
    const uint64_t hi = next_uint32();
    return (hi << 32) | next_uint32();
  }

  // An integer uniform on [low, high), as RandomState.randint(low, high) with its default dtype.
  int64_t randint(int64_t low, int64_t high) {
    if (high <= low)
      throw ValueError("NumpyRandomState::randint: low " + std::to_string(low) + " >= high " +
                       std::to_string(high));
    const uint64_t rng = static_cast<uint64_t>(high) - static_cast<uint64_t>(low) - 1;
    if (rng == 0) return low;  // numpy draws nothing for a single value
    const uint64_t mask = all_ones_at_least(rng);
    uint64_t v;
    if (rng <= 0xFFFFFFFFull) {
      do v = next_uint32() & mask;
      while (v > rng);
    } else {
      do v = next_uint64() & mask;
      while (v > rng);
    }
    return static_cast<int64_t>(static_cast<uint64_t>(low) + v);
  }

  // A double uniform on [0, 1) with 53 random bits.
  double random_sample() {
    const uint32_t a = next_uint32() >> 5, b = next_uint32() >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

  double uniform(double low, double high) {
    volatile double scaled = (high - low) * random_sample();
    return low + scaled;
  }

  // A standard normal, as RandomState.randn() / standard_normal().
  double randn() {
    if (has_gauss_) {
      has_gauss_ = false;
      return gauss_;
    }
    double x1, x2, r2;
    do {
      x1 = 2.0 * random_sample() - 1.0;
      x2 = 2.0 * random_sample() - 1.0;
      volatile double p1 = x1 * x1, p2 = x2 * x2;
      r2 = p1 + p2;
    } while (r2 >= 1.0 || r2 == 0.0);
    const double f = std::sqrt(-2.0 * std::log(r2) / r2);
    gauss_ = f * x1;
    has_gauss_ = true;
    return f * x2;
  }

 private:
  static uint64_t all_ones_at_least(uint64_t v) {
    uint64_t m = v;
    for (int shift = 1; shift < 64; shift *= 2) m |= m >> shift;
    return m;
  }

  std::mt19937 mt_;
  double gauss_ = 0;
  bool has_gauss_ = false;
};

}  // namespace mimic
