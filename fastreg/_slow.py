"""The slow path: dtypes the C kernels do not read (bfloat16), through them.

Also the door to ``fastreg._interop`` for deferred inputs (torch, dask, lists).

Bottleneck's split: ``fastreg._core`` is the fast path for native float16,
float32 and float64 arrays; this module takes what is left (today bfloat16,
from ``ml_dtypes``) and computes it with the same kernels on an exact
float32 copy (every bfloat16 is a float32). It orchestrates only: the sums
come from the kernels and the value's rounding in bfloat16 from
``fr_penalty_value`` (``Penalty._value_in`` with ``FR_BF16``), so no
arithmetic of the penalty lives here. ``fastreg._reference`` is the other
twin: the pure-NumPy oracle of the canonical algorithm for the tests.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fastreg import _convert, _core, _interop


def value(pen: Any, x: np.ndarray) -> Any:
    """``pen(x)`` for bfloat16 x: the sums of the float32 copy, the value rounded in bfloat16.

    A deferred input (torch, dask, a list: see fastreg._convert) goes to its route.
    """
    if _convert.is_deferred(x):
        return _interop.value(pen, x[()])
    terms = pen._params()[2]
    wide = x.astype(np.float32)  # exact
    sa = _core.sum_abs(wide) if terms & _core.FR_ABS else 0.0
    ss = _core.sum_squares(wide) if terms & _core.FR_SQ else 0.0
    return x.dtype.type(pen._value_in(_core.FR_BF16, sa, ss))


def elementwise(
    pen: Any, x: np.ndarray, out: Any, flags: int, prox: bool, t: float, d: float
) -> Any:
    """gradient / value_and_gradient / prox for bfloat16 x.

    Computed by the float32 kernels on an exact float32 copy and rounded once
    to bfloat16 (accumulation included), as the kernels do for float16.
    A deferred input (torch, dask, a list) goes to its route.
    """
    if _convert.is_deferred(x):
        return _interop.elementwise(pen, x[()], out, flags, prox, t, d)
    accumulate = bool(flags & _core.FR_ACC)
    if out is None:
        if accumulate:
            raise ValueError("accumulate=True needs an out= array to add into")
    else:
        _core._check_out(x, out)
    wide = x.astype(np.float32)
    if prox:
        res = pen._prox(wide, t, d)
    elif accumulate:
        wide_out = out.astype(np.float32)
        pen.value_and_gradient(wide, out=wide_out, accumulate=True)
        res = wide_out
    else:
        res = pen.gradient(wide)
    if out is None:
        out = res.astype(x.dtype)
    else:
        np.copyto(out, res.astype(x.dtype))
    if flags & _core.FR_VALUE:
        return value(pen, x), out
    return out
