"""The slice of ``keras.backend`` that regularizers depend on: ``floatx``."""

from __future__ import annotations

import numpy as np

_FLOATX = "float32"
_ALLOWED = ("float16", "float32", "float64")


def floatx() -> str:
    """The default float type, as a string (``"float32"`` unless changed).

    Regularizer factors are stored rounded to it, and Python lists and
    numbers are converted to it, as in Keras 2.

    >>> floatx()
    'float32'
    """
    return _FLOATX


def set_floatx(value: str) -> None:
    """Set the default float type: ``"float16"``, ``"float32"`` or ``"float64"``.

    Raises:
        ValueError: for any other value.
    """
    global _FLOATX
    if value not in _ALLOWED:
        raise ValueError(f"Unknown floatx type: {value!r}; expected one of {_ALLOWED}")
    _FLOATX = str(value)


def cast_to_floatx(x: object) -> np.ndarray:
    """``x`` as a 0-d (or n-d) NumPy array of dtype ``floatx()``."""
    return np.asarray(x, dtype=_FLOATX)
