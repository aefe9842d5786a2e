"""pytest-benchmark set-up for ``pytest bench/ --benchmark-only``.

Not part of the default test run (pytest's ``testpaths`` is ``tests``). Importing the
``bench`` package (which pytest does before this file) has already pinned the BLAS /
OpenMP thread pools to one thread; here fastreg is imported with the unbuilt source
tree, if any, left out of ``sys.path`` (see ``bench/_env.py``).
"""

from __future__ import annotations

import pytest

from bench import _env

_env.setup()
_env.import_fastreg()

# Defaults that differ from pytest-benchmark's, unless given on the command line:
DEFAULTS = {
    # ~100 benchmarks here: 0.15 s each instead of 1 s
    "benchmark_max_time": 0.15,
    # process CPU time instead of wall time: leaves out the time other processes held
    # this CPU (everything timed here is single-threaded; the BLAS pools are pinned) ...
    "benchmark_timer": "time.process_time",
    # ... and rounds of >= 0.2 ms, so that reading that clock (~1 us, a system call) is
    # spread over many calls instead of dominating a 16-element call
    "benchmark_min_time": 0.0002,
}


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    args = [str(a) for a in config.invocation_params.args]
    for dest, value in DEFAULTS.items():
        flag = "--" + dest.replace("_", "-")
        if hasattr(config.option, dest) and not any(a.startswith(flag) for a in args):
            setattr(config.option, dest, value)
