"""How many threads fastreg's kernels use, and threadpoolctl support.

The pool is C (``csrc/fr_threads.c``): arrays of at least 5 superblocks
(128 Ki elements each, so 640 Ki elements) are split into superblocks over
it, and the partial sums are added in superblock order, so every result is
bit-identical for any thread count. This module checks arguments, reads
``FASTREG_NUM_THREADS`` at import, and lets threadpoolctl see the pool.

threadpoolctl (an optional dependency) finds thread pools by scanning the
shared libraries loaded in the process; fastreg's extension module
``_core.*.so`` exports ``fr_get_num_threads`` / ``fr_set_num_threads`` for
it. Importing threadpoolctl costs ~20 ms, so fastreg does not import it: the
controller is registered when the program imports threadpoolctl itself
(right away if it already has).
"""

from __future__ import annotations

import operator
import os
import sys
from typing import Any

from fastreg import _core

ENV = "FASTREG_NUM_THREADS"
MAX_THREADS: int = _core.MAX_THREADS


def _count(n: Any, what: str) -> int:
    """n as a thread count, or TypeError / ValueError naming `what`."""
    if isinstance(n, bool):
        raise TypeError(f"{what} must be an int, got bool")
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"{what} must be an int, got {type(n).__name__}") from None
    if not 1 <= n <= MAX_THREADS:
        raise ValueError(f"{what} must be 1 .. {MAX_THREADS}, got {n}")
    return n


def set_num_threads(n: int) -> int:
    """Use up to ``n`` threads for big arrays; returns the previous count.

    Results do not depend on it (bit-identical for every count). Arrays
    under 640 Ki (655,360) elements always run in the calling thread. ``n``
    is an int from 1 to 256: a bool, float or str raises TypeError, anything
    out of range ValueError. The setting is process-wide.
    """
    return _core._set_num_threads(_count(n, "number of threads"))


def get_num_threads() -> int:
    """The number of threads big arrays may use (see :func:`set_num_threads`)."""
    return _core._get_num_threads()


def default_num_threads() -> int:
    """The cores this process may run on (its CPU affinity), at most MAX_THREADS."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        n = os.cpu_count() or 1
    return max(1, min(n, MAX_THREADS))


def from_env(value: str | None) -> int:
    """The count ``FASTREG_NUM_THREADS=value`` asks for (unset or empty: the default)."""
    if value is None or not value.strip():
        return default_num_threads()
    try:
        n = int(value.strip())
    except ValueError:
        raise ValueError(
            f"{ENV}: expected a whole number of threads 1 .. {MAX_THREADS}, got {value!r}"
        ) from None
    return _count(n, ENV)


def _controller_class(threadpoolctl: Any) -> type:
    class FastregController(threadpoolctl.LibController):
        """threadpoolctl's view of fastreg's pool (``threadpool_limits(1)`` limits it)."""

        user_api = "fastreg"
        internal_api = "fastreg"
        filename_prefixes = ("_core",)  # fastreg/_core.cpython-*.so
        check_symbols = ("fr_get_num_threads", "fr_set_num_threads")

        def get_num_threads(self) -> int | None:
            get = getattr(self.dynlib, "fr_get_num_threads", None)
            return get() if get is not None else None

        def set_num_threads(self, num_threads: int) -> None:
            set_ = getattr(self.dynlib, "fr_set_num_threads", None)
            if set_ is not None:
                set_(max(1, min(int(num_threads), MAX_THREADS)))

        def get_version(self) -> str | None:
            # called before check_symbols is: only fastreg's module has them
            if getattr(self.dynlib, "fr_get_num_threads", None) is None:
                return None
            import fastreg

            return getattr(fastreg, "__version__", None)

    return FastregController


def _register(threadpoolctl: Any) -> None:
    """Register the controller (threadpoolctl >= 3.5 has ``register``)."""
    if hasattr(threadpoolctl, "register") and hasattr(threadpoolctl, "LibController"):
        threadpoolctl.register(_controller_class(threadpoolctl))


class _OnImport:
    """A sys.meta_path entry that registers the controller once threadpoolctl
    has been imported, and then takes itself out."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "threadpoolctl":
            return None
        sys.meta_path.remove(self)
        import importlib.util

        spec = importlib.util.find_spec(name)
        loader = spec.loader if spec is not None else None
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        exec_module = loader.exec_module

        def exec_and_register(module: Any) -> None:
            exec_module(module)
            try:
                _register(module)
            except Exception:  # an incompatible threadpoolctl must not break its import
                pass

        loader.exec_module = exec_and_register  # type: ignore[method-assign]
        return spec


def init() -> None:
    """At import: apply FASTREG_NUM_THREADS (or the default), hook threadpoolctl."""
    _core._set_num_threads(from_env(os.environ.get(ENV)))
    if "threadpoolctl" in sys.modules:
        _register(sys.modules["threadpoolctl"])
    elif not any(isinstance(f, _OnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _OnImport())
