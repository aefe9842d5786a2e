#!/usr/bin/env bash
# The NEON kernels (csrc/fr_neon.c) on an x86-64 machine: cross-compiled for
# aarch64 (Debian: gcc-aarch64-linux-gnu, static glibc from
# libc6-dev-arm64-cross) and run under qemu-aarch64 (Debian: qemu-user).
#
# Every csrc/fr_*.c is built for aarch64 with -Werror (so the x86 files must
# compile away cleanly there, and the dispatcher must pick NEON), linked with
# the C harness tests/c/test_kernels.c, and run with the level "neon": it
# compares the NEON table with the scalar one bit for bit.
#
# qemu-user executes the real A64 instruction stream (its NEON/FP emulation
# follows the Arm pseudocode), so this tests the compiled code; timing under
# qemu means nothing.
#
# Usage: tools/neon_qemu.sh   (AARCH64_CC=..., QEMU=... to override)
# Output: the harness lines, then "N passed, N failed"; exit 1 on failure,
# 2 if the cross compiler or qemu is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
CC=${AARCH64_CC:-aarch64-linux-gnu-gcc}
QEMU=${QEMU:-qemu-aarch64}
OUT=${FR_OUT:-tools/out} # FR_OUT: a private build directory (tests use one)
mkdir -p "$OUT"

for tool in "$CC" "$QEMU"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "neon_qemu: $tool not found (apt-get install gcc-aarch64-linux-gnu qemu-user)" >&2
        exit 2
    fi
done

# The flags of setup.py (no FP contraction: GCC would fuse vmulq+vaddq into
# fmla), plus -Werror and a static link so qemu needs no aarch64 sysroot.
CFLAGS="-std=c99 -O2 -ffp-contract=off -fno-math-errno -Wall -Wextra -Werror"
objs=""
for f in csrc/fr_*.c; do # compile in parallel: the kernel files are large
    o="$OUT/neon_$(basename "$f" .c).o"
    # shellcheck disable=SC2086
    "$CC" $CFLAGS -Icsrc -c "$f" -o "$o" &
    objs="$objs $o"
done
wait
# shellcheck disable=SC2086
"$CC" $CFLAGS -Icsrc -static tests/c/test_kernels.c $objs -lm -o "$OUT/test_neon"

echo "::: neon under $QEMU"
"$QEMU" "$OUT/test_neon" neon
