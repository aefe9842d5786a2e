"""The step rules of ``prox`` (private): what a step may be, and the errors.

``_core.Penalty.prox`` checks a plain float step itself and hands any other
step here; both raise the documented messages from this module. It imports
nothing of fastreg's C side, so ``_core`` can import it at load time.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from fastreg._regularizer_base import show


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
