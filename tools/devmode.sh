#!/usr/bin/env bash
# The test suite under Python's development mode with every warning an error:
#   python -X dev -W error -m pytest
# -X dev turns on the debug memory allocator hooks (buffer over/underflow and
# use-after-free checks on Python allocations), faulthandler, ResourceWarning
# and the asyncio debug checks; -W error makes any warning (DeprecationWarning,
# RuntimeWarning from NumPy, ResourceWarning, ...) fail the run.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-python}"
exec "$PY" -X dev -W error -m pytest "$@"
