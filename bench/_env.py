"""Process set-up that has to happen before NumPy (and fastreg) are imported.

Two things, both idempotent and both run from ``bench/__init__.py`` (which Python
imports before ``bench/__main__.py`` and pytest imports before ``bench/conftest.py``):

* Pin every BLAS / OpenMP thread pool to one thread. SciPy's and NumPy's OpenBLAS
  start a thread per core by default; on a 2-core machine that makes ``?asum`` and
  ``?ddot`` timings depend on what the other core is doing.
* Avoid the source-tree shadow: after a plain ``pip install .`` the repository's
  ``fastreg/`` directory (which has no compiled ``_core`` extension) sits on
  ``sys.path`` when you run from the repository root, and would hide the installed
  package. If so, import fastreg with the repository root left out of ``sys.path``.

This module imports nothing heavy.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "GOTO_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "FASTREG_NUM_THREADS",  # the main tables are single-thread; bench/threads.py sets its own
)

REPO_ROOT = Path(__file__).resolve().parent.parent

_state: dict = {}


def pin_threads() -> dict:
    """Set the thread-count variables to 1 (once); remember what was there before."""
    if "pinned" not in _state:
        _state["numpy_preloaded"] = "numpy" in sys.modules
        _state["overridden"] = {
            k: os.environ[k] for k in THREAD_VARS if os.environ.get(k, "1") != "1"
        }
        for k in THREAD_VARS:
            os.environ[k] = "1"
        _state["pinned"] = True
    return _state


def _has_extension(pkg: Path) -> bool:
    try:
        names = os.listdir(pkg)
    except OSError:
        return False
    return any(n.startswith("_core.") and n.endswith((".so", ".pyd")) for n in names)


def _shadowing_dirs() -> set[Path]:
    out = set()
    for d in {REPO_ROOT, Path.cwd().resolve()}:
        pkg = d / "fastreg"
        if (pkg / "__init__.py").exists() and not _has_extension(pkg):
            out.add(d)
    return out


def import_fastreg():
    """Import fastreg, preferring the installed package over an unbuilt source tree."""
    if "fastreg_shadow" not in _state:
        shadow = _shadowing_dirs()
        _state["fastreg_shadow"] = sorted(str(d) for d in shadow)
        if shadow and "fastreg" not in sys.modules:
            saved = list(sys.path)

            def shadows(entry: str) -> bool:
                try:
                    return Path(entry or ".").resolve() in shadow
                except OSError:
                    return False

            sys.path[:] = [e for e in sys.path if not shadows(e)]
            try:
                import fastreg  # noqa: F401
            except ImportError as err:
                raise ImportError(
                    "bench: ./fastreg is an unbuilt source tree and no installed fastreg was "
                    "found. Install it (`pip install .`) or build it in place "
                    "(`pip install -e .`)."
                ) from err
            finally:
                sys.path[:] = saved
    import fastreg

    return fastreg


def setup() -> dict:
    pin_threads()
    return _state
