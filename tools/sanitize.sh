#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer run of the test suite.
#
# Builds fastreg in a private copy of the working tree (never in the tree
# itself: an instrumented _core.so there would break everyone else's runs),
# with the C kernels (FASTREG_CFLAGS) and the Cython extension (CFLAGS /
# LDFLAGS) both instrumented, then runs pytest there with libasan preloaded
# into the (uninstrumented) Python interpreter. Exits non-zero on a test
# failure or on any sanitizer report.
#
#   tools/sanitize.sh                    # the default test run (-m "not slow")
#   tools/sanitize.sh tests/test_fuzz.py -m slow   # any pytest arguments
#
# Env: PY (python to use, default: python), FASTREG_SANITIZE_DIR (the copy,
# default /tmp/fr-asan), SANITIZE_KEEP=1 to reuse an existing build,
# SANITIZE_RECOVER=1 for a survey build (/tmp/fr-asan-recover) that lists
# every UBSan site instead of stopping at the first.
set -euo pipefail

SRC="$(cd "$(dirname "$0")/.." && pwd)"
if [ "${SANITIZE_RECOVER:-0}" = 1 ]; then
    DEST="${FASTREG_SANITIZE_DIR:-/tmp/fr-asan-recover}"
else
    DEST="${FASTREG_SANITIZE_DIR:-/tmp/fr-asan}"
fi
PY="${PY:-python}"
LOG="$DEST.log"
t0=$(date +%s)

case "$DEST" in "$SRC" | "$SRC"/*)
    echo "sanitize.sh: FASTREG_SANITIZE_DIR must be outside the source tree" >&2
    exit 2 ;;
esac

SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
if [ "${SANITIZE_RECOVER:-0}" = 1 ]; then
    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fsanitize-recover=undefined"
fi
if [ "${SANITIZE_KEEP:-0}" != 1 ] || [ ! -d "$DEST" ]; then
    echo "::: copying $SRC -> $DEST"
    rm -rf "$DEST"
    mkdir -p "$DEST"
    tar -C "$SRC" --exclude=./.git --exclude=./build --exclude=./.venv --exclude='./.venv-*' \
        --exclude='*.so' --exclude=./fastreg/_core.c --exclude=.hypothesis \
        --exclude=.pytest_cache --exclude=__pycache__ --exclude=./tools/out -cf - . |
        tar -C "$DEST" -xf -
    echo "::: building with $SAN"
    (
        cd "$DEST"
        FASTREG_CFLAGS="$SAN -g" FASTREG_LDFLAGS="-fsanitize=address,undefined" \
            CFLAGS="$SAN -g" LDFLAGS="-fsanitize=address,undefined" \
            "$PY" setup.py -q build_clib build_ext --inplace >"$DEST/build.log" 2>&1 ||
            { cat "$DEST/build.log"; exit 1; }
    )
fi
t1=$(date +%s)

LIBASAN="$(gcc -print-file-name=libasan.so)"
[ -e "$LIBASAN" ] || { echo "sanitize.sh: libasan not found ($LIBASAN)" >&2; exit 2; }
export LD_PRELOAD="$LIBASAN"
# CPython leaks by design at exit; everything else is fatal.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0:strict_string_checks=1:check_initialization_order=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
if [ "${SANITIZE_RECOVER:-0}" = 1 ]; then
    # survey mode: report every UBSan finding and keep going (needs a build
    # made with SANITIZE_RECOVER=1, which compiles with -fsanitize-recover)
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=0"
fi
export PYTHONFAULTHANDLER=1

cd "$DEST"
# The copy must be what Python imports (not the editable install of $SRC), and
# it must really be instrumented.
"$PY" - "$DEST" <<'EOF'
import sys, fastreg, fastreg._core as c
dest = sys.argv[1]
assert fastreg.__file__.startswith(dest), f"imported {fastreg.__file__}, not the copy in {dest}"
data = open(c.__file__, "rb").read()
assert b"__asan_" in data and b"__ubsan_" in data, "the extension is not instrumented"
print("::: instrumented", c.__file__)
EOF

if [ $# -eq 0 ]; then
    set -- -m "not slow"
fi
echo "::: pytest $* (log: $LOG)"
set +e
# --capture=sys: the sanitizers write to fd 2, which pytest's default fd
# capture would swallow when a report kills the process
"$PY" -m pytest -q -p no:cacheprovider --capture=sys "$@" 2>&1 | tee "$LOG"
status=${PIPESTATUS[0]}
set -e

t2=$(date +%s)
PAT="ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer|SUMMARY: UndefinedBehaviorSanitizer"
reports=$(grep -cE "$PAT" "$LOG" || true)
echo "::: build $((t1 - t0)) s, tests $((t2 - t1)) s, sanitizer report lines: $reports, pytest exit: $status"
if [ "$reports" != 0 ]; then
    echo "::: sanitizer reports (distinct sites):"
    grep -E "$PAT" "$LOG" | sed -E 's/0x[0-9a-f]+/0x…/g' | sort | uniq -c | sort -rn | head -30
    exit 1
fi
exit "$status"
