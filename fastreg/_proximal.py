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
    """``prox`` for the C-backed regularizers (mixed into L1, L2, L1L2)."""

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

    def prox(self, x: Any, step: float, out: np.ndarray | None = None) -> np.ndarray:
        """The proximal map of ``step * penalty`` at ``x``.

        ``argmin_z step*penalty(z) + ½‖z − x‖²``: L1 soft-thresholds by
        ``step*l1`` (exact zeros inside the threshold, signs kept, NaN stays
        NaN); L2 divides by ``1 + 2*step*l2``; L1L2 does both, in that order.
        Computed in ``x``'s dtype (float16 and bfloat16 in float32, rounded
        once).

        Args:
            x: The weights (same input rules as calling the regularizer).
            step: The step size: a finite real number ≥ 0 that fits in a
                float (0 gives ``x`` back, whatever the factors).
            out: Optional array for the result (same shape and dtype,
                writeable); ``out=x`` updates ``x`` in place.

        Returns:
            The result array (``out`` when given).

        Raises:
            ValueError: for an invalid ``step``, or when ``1 + 2*step*l2`` is
                not positive (negative ``l2``); ``out`` errors as
                :meth:`gradient`.
        """
        s = _check_step(step)
        a, b, terms, _ = self._params()  # type: ignore[attr-defined]
        if s == 0.0:  # the identity, also for a factor stored as inf (0*inf is nan)
            return self._prox(x, 0.0, 1.0, out)  # type: ignore[attr-defined]
        d = 1.0 + 2.0 * s * b
        if terms & _core.FR_SQ and not d > 0.0:
            raise ValueError(
                f"prox is undefined for step={s!r} with l2={b!r}: 1 + 2*step*l2 must be positive"
            )
        return self._prox(x, s * a, d, out)  # type: ignore[attr-defined]


def _check_step(step: Any) -> float:
    try:
        if type(step) is float or type(step) is int:
            # the usual step: skip the isinstance chain below (~0.5 us per prox call)
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
