#pragma once
#include <cmath>
#include <cstdint>

#include "mimic/core/hd.hpp"

namespace mimic {

// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"). Counter-based:
// value i of the stream with a given seed is a pure function of (seed, i), so the CPU and the GPU
// produce bit-identical streams and any element can be computed independently in parallel.
struct Philox4x32 {
  uint32_t v[4];
};

// One round on L counters at once (lane l: c0[l], c1[l], c2[l], c3[l]) under the round key
// (k0, k1): two 32 x 32 -> 64-bit products per counter, their halves mixed with the other words
// and the key. Lanes side by side let the compiler vectorize the products (philox_u32_run).
template <int L>
MIMIC_HD void philox_round(uint32_t (&c0)[L], uint32_t (&c1)[L], uint32_t (&c2)[L],
                           uint32_t (&c3)[L], uint32_t k0, uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
#if !defined(__CUDACC__)
#pragma GCC unroll 1  // a loop, not 16 unrolled copies: GCC vectorizes it whole, not SLP
#endif
  for (int l = 0; l < L; ++l) {
    const uint64_t p0 = static_cast<uint64_t>(kM0) * c0[l];
    const uint64_t p1 = static_cast<uint64_t>(kM1) * c2[l];
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1[l] ^ k0;
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3[l] ^ k1;
    c0[l] = n0;
    c1[l] = static_cast<uint32_t>(p1);
    c2[l] = n2;
    c3[l] = static_cast<uint32_t>(p0);
  }
}
// The key schedule: each round adds these (the golden ratio and sqrt(3) - 1, in 32 bits).
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u, kPhiloxW1 = 0xBB67AE85u;

MIMIC_HD Philox4x32 philox4x32_10(uint64_t counter, uint64_t seed) {
  uint32_t c0[1] = {static_cast<uint32_t>(counter)}, c1[1] = {static_cast<uint32_t>(counter >> 32)};
  uint32_t c2[1] = {0}, c3[1] = {0};
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    philox_round(c0, c1, c2, c3, k0, k1);
    k0 += kPhiloxW0;
    k1 += kPhiloxW1;
  }
  return Philox4x32{{c0[0], c1[0], c2[0], c3[0]}};
}

// The i-th 32-bit value of stream `seed`: lane i % 4 of block i / 4.
MIMIC_HD uint32_t philox_u32(uint64_t seed, uint64_t i) {
  return philox4x32_10(i >> 2, seed).v[i & 3];
}

// Stream values first .. first + n - 1 into out, each Philox block computed once (philox_u32
// recomputes a whole block for every value it takes from it). Blocks go 16 at a time through
// lane arrays, so the compiler vectorizes the 32 x 32 -> 64-bit products: about 10 rounds x 2
// products per block, a few cycles per 4 values instead of ~50 per value.
inline void philox_u32_run(uint64_t seed, uint64_t first, int64_t n, uint32_t* out) {
  constexpr int kLanes = 16;
  uint64_t block = first >> 2;
  int64_t skip = static_cast<int64_t>(first & 3), done = 0;  // values of the first block unused
  while (done < n) {
    uint32_t c0[kLanes], c1[kLanes], c2[kLanes], c3[kLanes];
    for (int l = 0; l < kLanes; ++l) {
      const uint64_t counter = block + static_cast<uint64_t>(l);
      c0[l] = static_cast<uint32_t>(counter);
      c1[l] = static_cast<uint32_t>(counter >> 32);
      c2[l] = 0;
      c3[l] = 0;
    }
    uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
    for (int round = 0; round < 10; ++round) {
      philox_round(c0, c1, c2, c3, k0, k1);
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    for (int l = 0; l < kLanes && done < n; ++l) {
      const uint32_t v[4] = {c0[l], c1[l], c2[l], c3[l]};
      for (int64_t lane = skip; lane < 4 && done < n; ++lane) out[done++] = v[lane];
      skip = 0;
    }
    block += kLanes;
  }
}

// Uniform in [0, 1) from raw stream values: the top 24 bits of one (float), or the top 53 of
// two, high word first (double).
MIMIC_HD float uniform_from_bits(uint32_t v) {
  return static_cast<float>(v >> 8) * (1.0f / 16777216.0f);
}
MIMIC_HD double uniform_from_bits(uint64_t hi, uint64_t lo) {
  return static_cast<double>(((hi << 32) | lo) >> 11) * (1.0 / 9007199254740992.0);
}

// Uniform in [0, 1) with 24 (float) or 53 (double) random bits; element i of the stream.
// float uses stream value i; double uses values 2i and 2i+1.
template <class T>
MIMIC_HD T philox_uniform(uint64_t seed, uint64_t i);
template <>
MIMIC_HD float philox_uniform<float>(uint64_t seed, uint64_t i) {
  return uniform_from_bits(philox_u32(seed, i));
}
template <>
MIMIC_HD double philox_uniform<double>(uint64_t seed, uint64_t i) {
  return uniform_from_bits(uint64_t(philox_u32(seed, 2 * i)),
                           uint64_t(philox_u32(seed, 2 * i + 1)));
}

// Uniforms of elements first .. first + n - 1 (philox_uniform's values), through
// philox_u32_run; `scratch` holds the raw values: n (float) or 2n (double) of them.
template <class T>
void philox_uniform_run(uint64_t seed, uint64_t first, int64_t n, uint32_t* scratch, T* out) {
  if constexpr (sizeof(T) == sizeof(float)) {
    philox_u32_run(seed, first, n, scratch);
    for (int64_t j = 0; j < n; ++j) out[j] = uniform_from_bits(scratch[j]);
  } else {
    philox_u32_run(seed, 2 * first, 2 * n, scratch);
    for (int64_t j = 0; j < n; ++j)
      out[j] = uniform_from_bits(uint64_t(scratch[2 * j]), uint64_t(scratch[2 * j + 1]));
  }
}

// Standard normal by Box-Muller from stream values 2i and 2i+1 (computed in double so the
// result does not depend on the device's float math library beyond the final rounding).
template <class T>
MIMIC_HD T philox_normal(uint64_t seed, uint64_t i) {
  uint32_t a = philox_u32(seed, 2 * i), b = philox_u32(seed, 2 * i + 1);
  double u1 = (static_cast<double>(a) + 1.0) * (1.0 / 4294967296.0);  // (0, 1]
  double u2 = static_cast<double>(b) * (1.0 / 4294967296.0);          // [0, 1)
  return static_cast<T>(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

// A seeded stream with a running offset: each draw of n values consumes elements
// [offset, offset + n) and advances the offset, so successive draws never overlap.
struct PhiloxStream {
  uint64_t seed = 0;
  uint64_t offset = 0;
  // Reserves n elements and returns the first element index.
  uint64_t advance(uint64_t n) {
    uint64_t start = offset;
    offset += n;
    return start;
  }
};

}  // namespace mimic
