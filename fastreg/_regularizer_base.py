"""The base ``Regularizer`` and the factor rules shared by the built-ins (private).

:class:`Regularizer` is public as ``fastreg.regularizers.Regularizer`` (its
``__module__`` says so, for pickles and reprs); the helpers validate and
store penalty factors as Keras 2 does.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from fastreg import backend

_F = TypeVar("_F", bound=Callable[..., Any])


def keras_signature(fn: _F) -> _F:
    """Show Keras's plain signature (no annotations) to ``inspect.signature``.

    The annotations stay on the function for type checkers; only
    ``__signature__`` is set, so ``str(inspect.signature(L1))`` reads
    ``(l1=0.01, **kwargs)`` exactly as in Keras.
    """
    sig = inspect.signature(fn)
    params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    fn.__signature__ = sig.replace(  # type: ignore[attr-defined]
        parameters=params, return_annotation=inspect.Signature.empty
    )
    return fn


# ---- factors ------------------------------------------------------------------


def show(x: Any) -> str:
    """``f"{x}"``, or a description of an int too long to print (> 4300 digits)."""
    try:
        return f"{x}"
    except ValueError:  # Python's int-to-str digit limit
        return f"{'-' if x < 0 else ''}<an int of {abs(x).bit_length()} bits>"


def check_penalty_number(x: Any) -> None:
    """Keras 2's constructor check: a finite Python ``int`` or ``float``.

    An int too large for a float is refused as infinite (Keras 2's own check
    raises OverflowError on it).
    """
    if not isinstance(x, (float, int)):
        raise ValueError(
            f"Value {show(x)} is not a valid regularization penalty number, "
            "expected an int or float value."
        )
    try:
        bad = math.isinf(x) or math.isnan(x)
    except OverflowError:  # an int too large for a float
        bad = True
    if bad:
        raise ValueError(
            f"Value {show(x)} is not a valid regularization penalty number, "
            "an infinite number or NaN are not valid values."
        )


def to_floatx(x: Any) -> np.ndarray:
    """A validated factor stored as Keras 2 does: a 0-d array of ``floatx()``."""
    with np.errstate(over="ignore"):  # L1(1e40) stores inf, as Keras 2
        if isinstance(x, int) and not isinstance(x, bool):
            try:
                x = float(x)
            except OverflowError:
                x = math.copysign(math.inf, x)
        return np.array(x, dtype=backend.floatx())


def assigned_factor(value: Any, name: str) -> np.ndarray:
    """A factor assigned to an attribute (``reg.l1 = 0.001``).

    Looser than the constructor: NumPy real scalars and 0-d real arrays are
    accepted too, since that is what the attributes hold. Non-finite values
    are refused before rounding, as in the constructor.
    """
    v: float | int
    if isinstance(value, (np.ndarray, np.generic)):
        a = np.asarray(value)
        if a.ndim != 0 or a.dtype.kind not in "iuf":
            raise ValueError(
                f"{name} must be a real number (int, float or a 0-d real array); "
                f"got {type(value).__name__} of dtype {a.dtype} and shape {a.shape}"
            )
        v = float(a)
    elif isinstance(value, (int, float)):
        v = value
    elif isinstance(value, numbers.Real):
        try:
            v = float(value)
        except OverflowError:  # e.g. Fraction(10**400): as large an int is refused
            v = math.inf
    else:
        raise ValueError(
            f"{name} must be a real number (int, float or a 0-d real array); "
            f"got {type(value).__name__}"
        )
    check_penalty_number(v)
    return to_floatx(v)


def fmt(a: Any) -> str:
    """Shortest readable form of a stored factor (``0.01``, not 0.00999...)."""
    v = np.asarray(a)
    return str(v[()]) if v.ndim == 0 else repr(a)


class Regularizer:
    """Base class of regularizers, as ``tf.keras.regularizers.Regularizer``.

    A regularizer is a callable that maps a weight array to a scalar penalty.
    Subclass it and implement ``__call__`` (and ``get_config`` if the
    regularizer is to be serialized). The base class itself returns ``0.0``.

    >>> import numpy as np
    >>> class L2Regularizer(Regularizer):
    ...     def __init__(self, l2=0.0):
    ...         self.l2 = l2
    ...     def __call__(self, x):
    ...         return self.l2 * np.sum(np.square(x))
    ...     def get_config(self):
    ...         return {"l2": float(self.l2)}
    >>> print(L2Regularizer(l2=0.5)(np.ones((5, 5), np.float32)))
    12.5
    >>> L2Regularizer.from_config({"l2": 0.5}).l2
    0.5
    """

    # the public path: pickles (also those made before the split) and reprs name it
    __module__ = "fastreg.regularizers"

    def __call__(self, x: Any) -> Any:
        """Compute the penalty of ``x``: ``0.0`` for the base class."""
        return 0.0

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        """Create a regularizer from its config: ``cls(**config)``."""
        return cls(**config)

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments as a dict of Python values.

        Raises:
            NotImplementedError: in the base class (Keras's message).
        """
        raise NotImplementedError(f"{self} does not implement get_config()")
