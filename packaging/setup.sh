#!/usr/bin/env bash
# Stipple developer entry point for a fresh Debian 12 machine.
#   bash packaging/setup.sh run    install what is missing, build, launch the GUI
#   bash packaging/setup.sh test   install what is missing, build, run every test (CTest)
#   bash packaging/setup.sh build  install what is missing and build
#   bash packaging/setup.sh deps   only install what is missing
# Idempotent: packages already present are skipped; the build is incremental.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${STIPPLE_BUILD_DIR:-$ROOT/build}"
JOBS="${STIPPLE_JOBS:-$(nproc)}"

# Libraries and tools, all from Debian 12. libopenblas0-openmp is deliberate:
# Debian's libtorch calls whatever libblas.so.3 is installed, which is the
# reference BLAS by default (~6 GFLOP/s); OpenBLAS (OpenMP flavour, matching
# libtorch's OpenMP threading) gives ~180-370 GFLOP/s here. BLIS measured 27.
# libdnnl-dev: the headers of the oneDNN libtorch already loads (Winograd
# convolutions, core/models/common/DnnlConvolution.h).
PACKAGES=(
  build-essential cmake ninja-build pkg-config clang lld ccache
  libtorch-dev libopenblas0-openmp libdnnl-dev
  libopencv-dev
  libsentencepiece-dev sentencepiece
  qt6-base-dev libqt6sql6-sqlite qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools
  nlohmann-json3-dev libutf8proc-dev libfmt-dev libcli11-dev
  xvfb xauth x11-utils imagemagick
)

install_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all ${#PACKAGES[@]} packages present"
    return
  fi
  echo "setup: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
  # clang + precompiled torch header: ~2 s per torch file instead of ~20 s with g++.
  if [ ! -f "$BUILD/CMakeCache.txt" ]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
  fi
  cmake --build "$BUILD" -j "$JOBS"
}

cmd="${1:-run}"
case "$cmd" in
  deps) install_deps ;;
  build) install_deps; build ;;
  test)
    install_deps; build
    # OpenBLAS must pick its AVX-512 kernels on this CPU (set per test too).
    export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-SkylakeX}"
    ctest --test-dir "$BUILD" --output-on-failure -j "${STIPPLE_TEST_JOBS:-2}"
    ;;
  run)
    install_deps; build
    shift || true
    exec "$BUILD/bin/stipple" "$@"
    ;;
  *) echo "usage: $0 run|test|build|deps" >&2; exit 2 ;;
esac
