#!/usr/bin/env bash
# The AVX-512 kernels (csrc/fr_avx512.c) on a CPU without AVX-512.
#
# fr_avx512.c is compiled with -DFR_SIMDE_EMU against SIMDe (Debian:
# libsimde-dev), which implements the _mm512_* intrinsics in portable C, and
# linked with the scalar reference kernels and the C harness
# tests/c/test_kernels.c, which compares the two tables bit for bit.
#
# This EMULATES THE INTRINSICS, NOT THE HARDWARE: it checks that the code
# uses the intrinsics right (lane layout, masks, tails, NaN/zero handling,
# operation order), as SIMDe defines them. It cannot catch a compiler bug in
# real AVX-512 code generation, or a difference between SIMDe and the silicon.
#
# Two builds:
#   portable  baseline x86-64 flags: SIMDe is pure C/SSE2. Its software
#             float16 conversions drop NaN payloads, so for NaN results of the
#             float16 conversions only NaN-ness is compared there.
#   native    when this CPU has AVX2 + F16C: SIMDe builds the 512-bit
#             operations from real 256-bit ones, and every bit is compared.
#
# Usage: tools/avx512_emu.sh   (CC=clang tools/avx512_emu.sh works too)
# Output: the harness lines, then "N passed, N failed"; exit 1 on failure,
# 2 if SIMDe or the compiler is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
CC=${CC:-gcc}
OUT=${FR_OUT:-tools/out} # FR_OUT: a private build directory (tests use one)
mkdir -p "$OUT"

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "avx512_emu: no C compiler ($CC)" >&2
    exit 2
fi
if ! echo '#include <simde/x86/avx512.h>' | "$CC" -E -x c - >/dev/null 2>&1; then
    echo "avx512_emu: SIMDe not found (apt-get install libsimde-dev)" >&2
    exit 2
fi

# -ffp-contract=off as setup.py: AVX-512F has FMA, and SIMDe's portable
# mul/add could be contracted too. -O1: SIMDe's inline layers make -O2
# builds of the 16 specialised gradient kernels slow, and the test is of
# semantics, not speed.
CFLAGS="-std=c99 -O1 -ffp-contract=off -fno-math-errno -Wall -Wextra -Wno-psabi"
DEFS="-DFR_SIMDE_EMU -DFR_TEST_TABLE=fr_kernels_avx512 -Icsrc"

builds="portable"
if grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw f16c /proc/cpuinfo 2>/dev/null; then
    builds="portable native"
fi
flags_of() {
    case $1 in
    portable) echo "-DFR_TEST_F16_NAN_BITS=0" ;;
    native) echo "-mavx2 -mf16c" ;;
    esac
}

# Build the variants in parallel (each is one large translation unit).
pids=""
for b in $builds; do
    # shellcheck disable=SC2046,SC2086
    "$CC" $CFLAGS $(flags_of "$b") $DEFS csrc/fr_avx512.c csrc/fr_scalar.c tests/c/test_kernels.c \
        -lm -o "$OUT/test_avx512_emu_$b" &
    pids="$pids $!"
done
for p in $pids; do
    wait "$p"
done

pass=0
fail=0
for b in $builds; do
    echo "::: avx512 via SIMDe ($b build)"
    set +e
    "$OUT/test_avx512_emu_$b" >"$OUT/test_avx512_emu_$b.log"
    rc=$?
    set -e
    grep -v '^[0-9]* passed, [0-9]* failed$' "$OUT/test_avx512_emu_$b.log" || true
    last=$(tail -n 1 "$OUT/test_avx512_emu_$b.log")
    p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(echo "$last" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    if [ -z "$p" ]; then # it crashed before its summary line
        echo "avx512_emu: the $b build exited with status $rc" >&2
        p=0
        f=1
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
    fi
    pass=$((pass + p))
    fail=$((fail + f))
done
echo "(AVX-512 intrinsics emulated by SIMDe: this tests the code, not the hardware)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
