#!/usr/bin/env bash
# Builds mimic (Release, build/) and runs the whole test suite, then installs the package and
# builds a consumer project against it. Installs missing Debian packages first.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash tools/install_deps.sh

jobs="$(nproc)"
cuda_args=()
if [ -z "${CUDACXX:-}" ] && [ -x /usr/local/cuda/bin/nvcc ]; then
  cuda_args+=("-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc")
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache "${cuda_args[@]}"
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 900

# The installed package must work from someone else's project.
rm -rf build/install build/consumer
cmake --install build --prefix build/install > /dev/null
cmake -S tests/consumer -B build/consumer -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$root/build/install"
cmake --build build/consumer
./build/consumer/mimic_consumer
./build/consumer/mimic_consumer_train
echo "mimic: all tests passed"
