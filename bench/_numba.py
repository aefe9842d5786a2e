"""numba comparison kernels for the issue-13 goals (``python -m bench --targets``).

numba is optional (``pip install '.[numba]'``); :func:`load` says why it is missing
instead of failing. The loops are what a competent numba user would write for
fastreg's three hot operations, with the accumulators fastreg's accuracy promise needs
(float64 for float32 input):

* ``l1l2``: ``a*sum|x| + b*sum x^2`` of float32 ``x``, one pass, float64 accumulators;
* ``vag``: the fused ``value_and_gradient(x, out=g, accumulate=True)``: the same two
  sums plus ``g += a*sign(x) + b*x`` in float32, in one pass over ``x`` and ``g``;
* ``prox``: float64 soft-threshold then divide, ``out = sign(x)*max(|x| - t, 0)/d``
  (fastreg multiplies by 1/d rounded once instead: ``fastreg._reference.prox``).

Each comes twice, ``@njit(fastmath=False)`` and ``@njit(fastmath=True)``. Without
fastmath LLVM must keep the reduction's additions in order and cannot vectorise it;
with it the sums are reassociated (vectorised, faster, other bits) and the prox divides
by multiplying with 1/d, as fastreg does (its bits on finite data; fastmath=False divides
per element: last-bit differences).
The goals compare fastreg with the faster of the two in each round (:data:`VARIANTS`),
so numba is given its best showing; both are timed and listed.
"""

from __future__ import annotations

import numpy as np

VARIANTS = ("fastmath=False", "fastmath=True")

_cache: dict = {}


def _why(e: Exception) -> str:
    if isinstance(e, ImportError) and (e.name or "").split(".")[0] in ("numba", "llvmlite"):
        return "numba not installed (pip install '.[numba]')"
    return f"numba import failed ({type(e).__name__}: {e})"


def _build(njit, fastmath: bool) -> dict:
    jit = njit(fastmath=fastmath, nogil=True, cache=False)

    @jit
    def l1l2(x, a, b):
        sa = 0.0
        ss = 0.0
        for i in range(x.shape[0]):
            v = np.float64(x[i])
            sa += abs(v)
            ss += v * v
        return a * sa + b * ss

    @jit
    def vag(x, g, a, b):
        a32 = np.float32(a)
        b32 = np.float32(2.0 * b)
        sa = 0.0
        ss = 0.0
        for i in range(x.shape[0]):
            xi = x[i]
            v = np.float64(xi)
            sa += abs(v)
            ss += v * v
            g[i] += a32 * np.sign(xi) + b32 * xi
        return a * sa + b * ss

    @jit
    def prox(x, out, t, d):
        for i in range(x.shape[0]):
            v = x[i]
            m = abs(v) - t
            if m < 0.0:
                m = 0.0
            out[i] = np.sign(v) * m / d

    return {"l1l2": l1l2, "vag": vag, "prox": prox}


def load() -> tuple[dict | None, str]:
    """({variant: {"l1l2", "vag", "prox": compiled function}}, "") or (None, why not).

    The functions are compiled here, once, for the dtypes the benchmark uses (float32
    for l1l2 and vag, float64 for prox), so no timed call compiles."""
    if "kernels" in _cache:
        return _cache["kernels"], _cache["why"]
    try:
        from numba import njit
    except Exception as e:  # noqa: BLE001 - a broken install is reported, not fatal
        _cache.update(kernels=None, why=_why(e))
        return None, _cache["why"]
    kernels = {}
    try:
        x32 = np.linspace(-1, 1, 64, dtype=np.float32)
        x64 = x32.astype(np.float64)
        for v in VARIANTS:
            k = _build(njit, v.endswith("True"))
            k["l1l2"](x32, 0.01, 0.01)
            k["vag"](x32, np.zeros_like(x32), 0.01, 0.01)
            k["prox"](x64, np.empty_like(x64), 0.005, 1.01)
            kernels[v] = k
    except Exception as e:  # noqa: BLE001 - a compile failure is reported, not fatal
        _cache.update(kernels=None, why=f"numba could not compile ({type(e).__name__}: {e})")
        return None, _cache["why"]
    _cache.update(kernels=kernels, why="")
    return kernels, ""


def version() -> str:
    try:
        import numba

        return numba.__version__
    except Exception:  # noqa: BLE001 - informational only
        return "?"
