#!/usr/bin/env bash
# Builds, on a machine without a GPU, the folder that tools/gpu_check.sh runs on a GPU machine:
# build_gpu/ with the gpu-labelled test binary, the GPU benchmark rows (mimic_bench_gpu) and the
# non-CUDA shared libraries they need
# (libgomp; libstdc++ and libgcc are linked statically), so the GPU machine needs only the CUDA
# runtime libraries (cudart, cuBLAS). Carry it with: carry ["build_gpu"], command
# "bash tools/gpu_check.sh".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
nvcc="${CUDACXX:-/usr/local/cuda/bin/nvcc}"
[ -x "$nvcc" ] || { echo "build_gpu_carry: no nvcc at $nvcc" >&2; exit 1; }
cmake -S . -B build_gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_COMPILER="$nvcc" \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache \
  -DMIMIC_NATIVE=OFF -DMIMIC_BUILD_BENCH=OFF -DMIMIC_BUILD_EXAMPLES=OFF -DMIMIC_BUILD_TOOLS=OFF \
  -DCMAKE_EXE_LINKER_FLAGS="-static-libstdc++ -static-libgcc" > build_gpu.cmake.log
cmake --build build_gpu --target mimic_test_gpu mimic_bench_gpu -j "$(nproc)"
mkdir -p build_gpu/carry/lib
cp build_gpu/tests/gpu/mimic_test_gpu build_gpu/bench/gpu/mimic_bench_gpu build_gpu/carry/
cp "$(ldconfig -p | awk '/libgomp.so.1 /{print $NF; exit}')" build_gpu/carry/lib/
rm -f build_gpu.cmake.log
du -sh build_gpu/carry
echo "carry: build_gpu/carry (run: bash tools/gpu_check.sh)"
