#!/usr/bin/env bash
# The wheel is built against NumPy 2 (build isolation); check that it runs,
# and passes the test suite, under NumPy 1.26 at run time.
set -euo pipefail
cd "$(dirname "$0")/.."
out=tools/out/numpy1
rm -rf "$out" && mkdir -p "$out"
python3 -m venv "$out/venv"
"$out/venv/bin/pip" install -q 'numpy>=1.26,<2' 'pytest>=7.4' 'hypothesis>=6.100' \
    'pytest-benchmark>=4.0' 'ml_dtypes>=0.3,<0.5'
"$out/venv/bin/pip" wheel -q --no-deps -w "$out/wheel" .
"$out/venv/bin/pip" install -q --no-deps "$out"/wheel/fastreg-*.whl
"$out/venv/bin/python" -c "import numpy, fastreg; print('numpy', numpy.__version__, fastreg.simd_info())"
# run the tests against the installed wheel, not the source tree
cp -r tests csrc pyproject.toml README.md "$out/"
mkdir -p "$out/tools" && cp tools/*.sh "$out/tools/"
cd "$out" && venv/bin/python -m pytest -q -p no:cacheprovider tests "$@"
