#!/usr/bin/env bash
# Installs the Debian packages mimic needs, only those that are missing. Sourced or run by
# tools/test.sh and tools/demo.sh.
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config
  libeigen3-dev libomp-dev libhdf5-dev hdf5-tools libblosc-dev
  libmujoco-dev libosmesa6-dev
  libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
  ffmpeg
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "mimic: installing missing packages: ${missing[*]}"
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -q
  $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
