#!/usr/bin/env bash
# Run the whole pytest suite once per SIMD level this machine can execute,
# each time with FASTREG_SIMD=<level>: the level is then the default of
# every fastreg call in that run, and the simd_level fixture keeps to it.
#
# Usage: tools/test_isa.sh [pytest args...]     (PY=python3 to pick Python)
# Exit status: non-zero if any level's run failed.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python}

levels=$(FASTREG_SIMD= "$PY" -c '
import fastreg
info = fastreg.simd_info()
print(" ".join(n for n in info["detected"] if n in info["compiled"]))
') || {
    echo "test_isa: cannot import fastreg (build it first: make build)" >&2
    exit 2
}

failed=""
for level in $levels; do
    echo "::: FASTREG_SIMD=$level"
    if ! FASTREG_SIMD=$level "$PY" -m pytest "$@"; then
        failed="$failed $level"
    fi
done
echo "::: levels run: $levels"
if [ -n "$failed" ]; then
    echo "::: FAILED at:$failed"
    exit 1
fi
echo "::: all levels passed"
