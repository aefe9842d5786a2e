"""``prox`` and the slow-path hooks of the C-backed regularizers L1, L2 and L1L2 (private).

Beyond Keras: the proximal map of ``step * penalty``, for NumPy training
loops (SEMANTICS.md, "Beyond Keras").
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from fastreg import _core, _slow
from fastreg._regularizer_base import show


class Proximal:
    """The Python hooks of the C-backed regularizers (mixed into L1, L2, L1L2)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # L1, L2, L1L2 and their subclasses are called through vectorcall
        # (see fastreg/_core.pyx); a subclass that overrides __call__ is not.
        super().__init_subclass__(**kwargs)
        _core._enable_vectorcall(cls)

    # The slow path of _core.Penalty (bfloat16 input): see fastreg/_slow.py.
    def _call_slow(self, x: np.ndarray) -> Any:
        return _slow.value(self, x)

    def _elementwise_slow(
        self, x: np.ndarray, out: Any, flags: int, prox: bool, t: float, d: float
    ) -> Any:
        return _slow.elementwise(self, x, out, flags, prox, t, d)

    # prox itself is _core.Penalty.prox: a float step is checked there in C,
    # any other step by check_step below, and undefined() raises its error.


def undefined(s: float, b: float) -> None:
    """Raise prox's error for a step where ``1 + 2*step*l2`` is not positive."""
    raise ValueError(
        f"prox is undefined for step={s!r} with l2={b!r}: 1 + 2*step*l2 must be positive"
    )


def check_step(step: Any) -> float:
    """``step`` as a float, or prox's documented ValueError."""
    try:
        if type(step) is float or type(step) is int:
            s = float(step)
        else:
            s = _check_step_kind(step)
    except OverflowError:  # an int (or Fraction) beyond float range
        raise ValueError(
            f"step must be a finite real number >= 0, got {show(step)} (too large for a float)"
        ) from None
    if not (math.isfinite(s) and s >= 0.0):
        raise ValueError(f"step must be a finite real number >= 0, got {s!r}")
    return s


def _check_step_kind(step: Any) -> float:
    if isinstance(step, (bool, np.bool_)):
        raise ValueError(f"step must be a finite real number >= 0, got {step!r}")
    if isinstance(step, (np.ndarray, np.generic)):
        a = np.asarray(step)
        if a.ndim != 0 or a.dtype.kind not in "iuf":
            raise ValueError(
                f"step must be a finite real number >= 0, got an array of dtype "
                f"{a.dtype} and shape {a.shape}"
            )
        s = float(a)
    elif isinstance(step, numbers.Real):
        s = float(step)
    else:
        raise ValueError(f"step must be a finite real number >= 0, got {type(step).__name__}")
    return s
