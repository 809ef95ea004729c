#!/usr/bin/env bash
# Run on a machine with an Nvidia GPU, inside the bundle `make gpu-bundle`
# built (build/gpu-bundle): needs nvcc and cuBLAS, no LLVM and no accl.
#
#   usage: bash run.sh [--build-only] [harness options: --check-only, --bench-only, --runs R]
#
# Builds the harness (harness.cu) with nvcc, linked with every example's GPU
# object and CPU reference object, libaccrt.a, cuBLAS and the driver
# (-lcublas -lcuda -ldl -lpthread), then runs it: every example checked
# against its CPU reference at awkward sizes, then matmul (fp32 4096^3)
# against cuBLAS SGEMM (CUBLAS_DEFAULT_MATH, NVIDIA_TF32_OVERRIDE=0) and
# softmax (fp32 8192x8192) against a device-to-device copy of the same bytes,
# with a table naming the card. --build-only stops after linking (NVCC_FLAGS
# adds flags, e.g. -L/usr/local/cuda/lib64/stubs to link where no driver is
# installed). The objects are for x86_64 Linux hosts.
set -eu
cd "$(dirname "$0")"
build_only=""
if [ "${1:-}" = --build-only ]; then
    build_only=yes
    shift
fi
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
[ -x "$nvcc" ] || { echo "run.sh: nvcc not found: the CUDA toolkit is needed" >&2; exit 2; }
[ "$(uname -m)" = x86_64 ] || { echo "run.sh: the bundle's objects are for x86_64, this host is $(uname -m)" >&2; exit 2; }
objs=""
for n in $(cat EXAMPLES); do objs="$objs $n.gpu.o $n.ref.o"; done
echo "building the harness for: $(tr '\n' ' ' <EXAMPLES)(device code for $(cat ARCH))"
# shellcheck disable=SC2086
"$nvcc" -O2 -std=c++17 -I. ${NVCC_FLAGS:-} -o harness harness.cu $objs libaccrt.a -lcublas -lcuda -ldl -lpthread -lm
[ -z "$build_only" ] || exit 0
export NVIDIA_TF32_OVERRIDE=0
./harness "$@"
