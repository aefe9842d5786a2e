#!/usr/bin/env bash
# The default test run N times in a row (default 10) while two busy loops keep
# both cores at 100 %: no test's verdict may depend on load or scheduling.
# Usage: tools/load_soak.sh [N]        (PY=python to pick the interpreter)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python}
runs=${1:-10}
pids=""
for _ in 1 2; do
    (while :; do :; done) &
    pids="$pids $!"
done
trap 'kill $pids 2>/dev/null' EXIT
failed=0
for r in $(seq 1 "$runs"); do
    start=$(date +%s)
    if "$PY" -m pytest -q -p no:cacheprovider >"/tmp/fastreg-soak-$r.log" 2>&1; then
        verdict=passed
    else
        verdict=FAILED
        failed=$((failed + 1))
    fi
    echo "run $r: $verdict in $(($(date +%s) - start)) s, load $(cut -d' ' -f1 /proc/loadavg):" \
        "$(tail -n 1 "/tmp/fastreg-soak-$r.log")"
done
echo "::: $((runs - failed)) of $runs runs passed under load"
[ "$failed" = 0 ]
