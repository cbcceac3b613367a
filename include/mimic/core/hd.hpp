#pragma once
// MIMIC_HD marks functions that run on both host and device. Headers under include/ never need
// nvcc, but the functors they define are reused by the CUDA backend when it includes them.
#if defined(__CUDACC__)
#define MIMIC_HD __host__ __device__ __forceinline__
#else
#define MIMIC_HD inline
#endif
