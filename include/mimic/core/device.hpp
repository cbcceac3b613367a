#pragma once
#include <string_view>

namespace mimic {

// Device tags. Every tensor, op and model is a template over one of these.
struct Cpu {
  static constexpr std::string_view name = "cpu";
};
struct Cuda {
  static constexpr std::string_view name = "cuda";
};

template <class D>
inline constexpr bool is_cpu_v = false;
template <>
inline constexpr bool is_cpu_v<Cpu> = true;

}  // namespace mimic
