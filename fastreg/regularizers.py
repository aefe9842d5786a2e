"""Keras-exact weight regularizers for NumPy: a drop-in for ``tf.keras.regularizers``.

Change ``from tensorflow.keras import regularizers`` to
``from fastreg import regularizers`` and every value, dtype, config, error and
serialized dict is what Keras 2 (as documented for TF 2.4) gives; the
contract is ``SEMANTICS.md`` in the project's shared spec. ``L1``, ``L2`` and
``L1L2`` run on SIMD C kernels; calling one on a float ndarray goes straight
to C. Beyond Keras, the built-in regularizers have ``gradient``,
``value_and_gradient`` and (``L1``, ``L2``, ``L1L2``) ``prox`` for NumPy
training loops.

>>> import numpy as np
>>> from fastreg import regularizers
>>> print(regularizers.L2(2.0)(np.ones((5, 5))))
50.0
>>> regularizers.L1(0.01).get_config()
{'l1': 0.009999999776482582}
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

from fastreg import _convert, _core, _slow, backend, utils

__all__ = [
    "L1",
    "L1L2",
    "L2",
    "OrthogonalRegularizer",
    "Regularizer",
    "deserialize",
    "get",
    "l1",
    "l1_l2",
    "l2",
    "orthogonal_regularizer",
    "serialize",
]


_F = TypeVar("_F", bound=Callable[..., Any])


def _keras_signature(fn: _F) -> _F:
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


def _show(x: Any) -> str:
    """``f"{x}"``, or a description of an int too long to print (> 4300 digits)."""
    try:
        return f"{x}"
    except ValueError:  # Python's int-to-str digit limit
        return f"{'-' if x < 0 else ''}<an int of {abs(x).bit_length()} bits>"


def _check_penalty_number(x: Any) -> None:
    """Keras 2's constructor check: a finite Python ``int`` or ``float``.

    An int too large for a float is refused as infinite (Keras 2's own check
    raises OverflowError on it).
    """
    if not isinstance(x, (float, int)):
        raise ValueError(
            f"Value {_show(x)} is not a valid regularization penalty number, "
            "expected an int or float value."
        )
    try:
        bad = math.isinf(x) or math.isnan(x)
    except OverflowError:  # an int too large for a float
        bad = True
    if bad:
        raise ValueError(
            f"Value {_show(x)} is not a valid regularization penalty number, "
            "an infinite number or NaN are not valid values."
        )


def _to_floatx(x: Any) -> np.ndarray:
    """A validated factor stored as Keras 2 does: a 0-d array of ``floatx()``."""
    with np.errstate(over="ignore"):  # L1(1e40) stores inf, as Keras 2
        if isinstance(x, int) and not isinstance(x, bool):
            try:
                x = float(x)
            except OverflowError:
                x = math.copysign(math.inf, x)
        return np.array(x, dtype=backend.floatx())


def _assigned_factor(value: Any, name: str) -> np.ndarray:
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
    _check_penalty_number(v)
    return _to_floatx(v)


def _fmt(a: Any) -> str:
    """Shortest readable form of a stored factor (``0.01``, not 0.00999...)."""
    v = np.asarray(a)
    return str(v[()]) if v.ndim == 0 else repr(a)


# ---- base class ----------------------------------------------------------------


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


# ---- L1 / L2 / L1L2 -------------------------------------------------------------


class _Proximal:
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
            f"step must be a finite real number >= 0, got {_show(step)} (too large for a float)"
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


class L1(_core.Penalty, _Proximal, Regularizer):
    """L1 penalty: ``l1 * sum(abs(x))``.

    The factor is stored rounded to ``floatx()`` (float32 by default) as a 0-d
    NumPy array, as in Keras 2; assigning ``.l1`` changes it (rounded the same
    way; ``reg.l1 *= 0.5`` works too). Writing into the stored array without
    assigning (``reg.l1[...] = v``) does not reach the C state. The result is
    a 0-d value of ``x``'s float dtype; the sum is accumulated in higher
    precision and rounded once.

    Args:
        l1: The factor, a Python ``int`` or ``float`` (finite; negative
            values are accepted, as in Keras 2). ``None`` means 0.01.
        **kwargs: Only the legacy ``l=`` (overrides ``l1``).

    Raises:
        ValueError: if ``l1`` is not an int or float, or is inf or NaN.
        TypeError: for any keyword other than ``l``.

    >>> import numpy as np
    >>> reg = L1(0.5)
    >>> reg
    L1(l1=0.5)
    >>> print(reg(np.array([[1.0, -2.0], [3.0, -4.0]], np.float32)))
    5.0
    >>> reg.gradient(np.array([-2.0, 0.0, 3.0]))
    array([-0.5,  0. ,  0.5])
    >>> reg.prox(np.array([-2.0, 0.25, 3.0]), step=1.0)
    array([-1.5,  0. ,  2.5])
    """

    @_keras_signature
    def __init__(self, l1: float | None = 0.01, **kwargs: Any) -> None:
        l1 = kwargs.pop("l", l1)  # backwards compatibility, as Keras 2
        if kwargs:
            raise TypeError(f"Argument(s) not recognized: {kwargs}")
        l1 = 0.01 if l1 is None else l1
        _check_penalty_number(l1)
        self._l1 = _to_floatx(l1)
        self._set(float(self._l1), 0.0, _core.FR_ABS, False)

    @property
    def l1(self) -> np.ndarray:
        """The factor: a 0-d array of ``floatx()``; assignable."""
        return self._l1

    @l1.setter
    def l1(self, value: Any) -> None:
        self._l1 = _assigned_factor(value, "l1")
        self._set(float(self._l1), 0.0, _core.FR_ABS, False)

    def get_config(self) -> dict[str, Any]:
        """``{"l1": float}``."""
        return {"l1": float(self._l1)}

    def __repr__(self) -> str:
        return f"L1(l1={_fmt(self._l1)})"


class L2(_core.Penalty, _Proximal, Regularizer):
    """L2 penalty: ``l2 * sum(square(x))`` (no ½).

    Stored, rounded and computed as :class:`L1`.

    Args:
        l2: The factor, a Python ``int`` or ``float`` (finite; negative
            accepted). ``None`` means 0.01.
        **kwargs: Only the legacy ``l=`` (overrides ``l2``).

    Raises:
        ValueError: if ``l2`` is not an int or float, or is inf or NaN.
        TypeError: for any keyword other than ``l``.

    >>> import numpy as np
    >>> reg = L2(2.0)
    >>> print(reg(np.ones((5, 5))))
    50.0
    >>> value, grad = reg.value_and_gradient(np.array([1.0, -3.0]))
    >>> print(value, grad)
    20.0 [  4. -12.]
    >>> reg.prox(np.array([5.0, -10.0]), step=1.0)
    array([ 1., -2.])
    """

    @_keras_signature
    def __init__(self, l2: float | None = 0.01, **kwargs: Any) -> None:
        l2 = kwargs.pop("l", l2)
        if kwargs:
            raise TypeError(f"Argument(s) not recognized: {kwargs}")
        l2 = 0.01 if l2 is None else l2
        _check_penalty_number(l2)
        self._l2 = _to_floatx(l2)
        self._set(0.0, float(self._l2), _core.FR_SQ, False)

    @property
    def l2(self) -> np.ndarray:
        """The factor: a 0-d array of ``floatx()``; assignable."""
        return self._l2

    @l2.setter
    def l2(self, value: Any) -> None:
        self._l2 = _assigned_factor(value, "l2")
        self._set(0.0, float(self._l2), _core.FR_SQ, False)

    def get_config(self) -> dict[str, Any]:
        """``{"l2": float}``."""
        return {"l2": float(self._l2)}

    def __repr__(self) -> str:
        return f"L2(l2={_fmt(self._l2)})"


class L1L2(_core.Penalty, _Proximal, Regularizer):
    """L1 and L2 penalties: ``l1 * sum(abs(x)) + l2 * sum(square(x))``.

    As Keras: the result starts at 0 in ``x``'s dtype and a term is added
    only when its factor is non-zero, so ``L1L2(0, 0)`` gives exactly 0 even
    for NaN or inf input.

    Args:
        l1: The L1 factor (``None`` means 0.0).
        l2: The L2 factor (``None`` means 0.0).

    Raises:
        ValueError: if a factor is not an int or float, or is inf or NaN.

    >>> import numpy as np
    >>> reg = L1L2(l1=0.5, l2=0.25)
    >>> reg
    L1L2(l1=0.5, l2=0.25)
    >>> print(reg(np.array([1.0, -2.0, 2.0], np.float32)))
    4.75
    >>> reg.gradient(np.array([1.0, -2.0, 0.0]))
    array([ 1. , -1.5,  0. ])
    """

    @_keras_signature
    def __init__(self, l1: float | None = 0.0, l2: float | None = 0.0) -> None:
        l1 = 0.0 if l1 is None else l1
        l2 = 0.0 if l2 is None else l2
        _check_penalty_number(l1)
        _check_penalty_number(l2)
        self._l1 = _to_floatx(l1)
        self._l2 = _to_floatx(l2)
        self._sync()

    def _sync(self) -> None:
        a = float(self._l1)
        b = float(self._l2)
        # Keras 2 tests the truthiness of each stored factor (so -0.0 is off)
        self._set(a, b, (_core.FR_ABS if a else 0) | (_core.FR_SQ if b else 0), True)

    @property
    def l1(self) -> np.ndarray:
        """The L1 factor: a 0-d array of ``floatx()``; assignable."""
        return self._l1

    @l1.setter
    def l1(self, value: Any) -> None:
        self._l1 = _assigned_factor(value, "l1")
        self._sync()

    @property
    def l2(self) -> np.ndarray:
        """The L2 factor: a 0-d array of ``floatx()``; assignable."""
        return self._l2

    @l2.setter
    def l2(self, value: Any) -> None:
        self._l2 = _assigned_factor(value, "l2")
        self._sync()

    def get_config(self) -> dict[str, Any]:
        """``{"l1": float, "l2": float}``."""
        return {"l1": float(self._l1), "l2": float(self._l2)}

    def __repr__(self) -> str:
        return f"L1L2(l1={_fmt(self._l1)}, l2={_fmt(self._l2)})"


# ---- OrthogonalRegularizer ----------------------------------------------------------

_ORTH_EPS = 1e-12  # tf.math.l2_normalize's epsilon (on the sum of squares)


class OrthogonalRegularizer(Regularizer):
    """Penalises non-orthogonal rows (or columns) of a rank-2 array.

    Keras 2's tensor semantics: each row (``mode="rows"``) or column
    (``mode="columns"``) is normalised with ``v * rsqrt(max(sum(v**2), 1e-12))``,
    and the result is ``factor * 0.5 * sum(|offdiag(P)|) / (n*(n-1)/2)`` with
    ``P`` the matrix of dot products of the ``n`` normalised vectors (the
    mean absolute cosine similarity over pairs, times ``factor``). One
    vector, or none, gives NaN (0/0), as Keras. float16 and bfloat16 are
    computed in float32 and rounded once.

    Args:
        factor: A Python ``int`` or ``float`` (finite; no ``None`` default).
        mode: ``"rows"`` or ``"columns"``.

    Raises:
        ValueError: for a bad factor, or a mode other than ``"rows"`` or
            ``"columns"``.

    >>> import numpy as np
    >>> reg = OrthogonalRegularizer(factor=1.0, mode="rows")
    >>> x = np.array([[1, 1, 1, 1], [2, 0, 0, 0], [0, 0, 3, 1]], np.float32)
    >>> print(reg(x))
    0.3774852
    >>> print(reg(np.eye(3)))
    0.0
    >>> reg.gradient(np.eye(2)).shape
    (2, 2)
    """

    @_keras_signature
    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        _check_penalty_number(factor)
        self.factor = _to_floatx(factor)
        if mode not in ("rows", "columns"):
            raise ValueError(
                'Invalid value for argument `mode`. Expected one of {"rows", "columns"}. '
                f"Received: mode={mode}"
            )
        self.mode = str(mode)

    def _input(self, inputs: Any) -> np.ndarray:
        x = _convert.as_float_array(inputs)
        if x.ndim != 2:
            raise ValueError(
                "Inputs to OrthogonalRegularizer must have rank 2. "
                f"Received: inputs.shape == {tuple(x.shape)}"
            )
        return x

    def _forward(self, x: np.ndarray, need_grad: bool) -> tuple[Any, np.ndarray | None]:
        """(value, gradient or None) for a validated rank-2 float array.

        The value is rounded to x's dtype; the gradient is left in the compute
        dtype (float32 for float16/bfloat16) for the caller to round once.
        """
        ct = np.float32 if x.dtype.itemsize < 4 else x.dtype.type
        v = x.astype(ct, copy=False)
        columns = self.mode != "rows"
        if columns:
            v = v.T
        size = v.shape[0]
        with np.errstate(all="ignore"):
            ss = np.sum(np.square(v), axis=1)
            r = ct(1.0) / np.sqrt(np.maximum(ss, ct(_ORTH_EPS)))
            n = v * r[:, None]
            p = n @ n.T
            p = p * (ct(1.0) - np.eye(size, dtype=ct))
            total = np.sum(np.abs(p), dtype=ct)
            num_pairs = size * (size - 1.0) / 2.0
            half = ct(np.asarray(self.factor) * 0.5)
            value = x.dtype.type(half * total / ct(num_pairs))
            if not need_grad:
                return value, None
            # d/dP_ij of c*|P_ij| (i != j) is c*sign(P_ij); P = N N^T
            c = half / ct(num_pairs)
            s = c * np.sign(p) * (ct(1.0) - np.eye(size, dtype=ct))
            g_n = (s + s.T) @ n
            # back through N = v * rsqrt(max(ss, eps)): r * (g_n - N (g_n . N)) where
            # ss >= eps (tf.maximum's gradient goes to ss on ties), r * g_n below it
            # (r is the constant 1e6 there). Projecting on N rather than v keeps the
            # exact zeros, e.g. for parallel rows.
            dot = np.where(ss >= ct(_ORTH_EPS), np.sum(g_n * n, axis=1), ct(0.0))
            g = r[:, None] * (g_n - n * dot[:, None])
        if columns:
            g = g.T
        return value, g

    def __call__(self, x: Any) -> Any:
        """The penalty of the rank-2 array ``x``: a 0-d value of its dtype."""
        return self._forward(self._input(x), False)[0]

    def gradient(self, x: Any, out: np.ndarray | None = None) -> np.ndarray:
        """The analytic gradient of the penalty with respect to ``x``.

        ``sign(0)`` is taken as 0; a row (column) whose squared norm is below
        the 1e-12 epsilon is scaled by a constant, as in the forward pass.

        Args:
            x: A rank-2 float array (same input rules as calling).
            out: Optional array for the result (same shape and dtype, writeable).

        Returns:
            The gradient array (``out`` when given).
        """
        return self.value_and_gradient(x, out)[1]

    def value_and_gradient(
        self, x: Any, out: np.ndarray | None = None, accumulate: bool = False
    ) -> tuple[Any, np.ndarray]:
        """The penalty (exactly ``self(x)``) and its gradient.

        Args:
            x: A rank-2 float array.
            out: Optional array for the gradient.
            accumulate: Add the gradient into ``out`` instead of overwriting it.

        Returns:
            ``(value, gradient)``.
        """
        a = self._input(x)
        if out is None and accumulate:
            raise ValueError("accumulate=True needs an out= array to add into")
        if out is not None:
            _core._check_out(a, out)
        value, g = self._forward(a, True)
        if g is None:  # pragma: no cover - _forward always returns it here
            raise AssertionError("no gradient")
        if accumulate and out is not None:
            with np.errstate(all="ignore"):
                g = out.astype(g.dtype) + g
        g = g.astype(a.dtype)
        if out is None:
            return value, g
        np.copyto(out, g)
        return value, out

    def get_config(self) -> dict[str, Any]:
        """``{"factor": float, "mode": str}``."""
        return {"factor": float(self.factor), "mode": self.mode}

    def __repr__(self) -> str:
        return f"OrthogonalRegularizer(factor={_fmt(self.factor)}, mode={self.mode!r})"


l1 = L1
l2 = L2
orthogonal_regularizer = OrthogonalRegularizer


@_keras_signature
def l1_l2(l1: float | None = 0.01, l2: float | None = 0.01) -> L1L2:
    """An :class:`L1L2` with Keras 2's function defaults (0.01 each).

    Args:
        l1: The L1 factor.
        l2: The L2 factor.

    Returns:
        ``L1L2(l1=l1, l2=l2)``.

    >>> l1_l2()
    L1L2(l1=0.01, l2=0.01)
    """
    return L1L2(l1=l1, l2=l2)


# ---- get / serialize / deserialize ---------------------------------------------

_BUILTIN_CLASSES: tuple[type, ...] = (L1, L2, L1L2, OrthogonalRegularizer)

# The names strings and dict class names can use (the same table for get()
# and deserialize()). Module functions such as "serialize" are not in it.
_BUILTINS: dict[str, Any] = {
    "Regularizer": Regularizer,
    "L1": L1,
    "l1": L1,
    "L2": L2,
    "l2": L2,
    "L1L2": L1L2,
    "l1l2": L1L2,  # Keras 3's alias, accepted for interop
    "l1_l2": l1_l2,
    "OrthogonalRegularizer": OrthogonalRegularizer,
    "orthogonal_regularizer": OrthogonalRegularizer,
}


def _unknown(name: Any) -> ValueError:
    return ValueError(
        f"Unknown regularizer: {name!r}. Please ensure this object is registered with "
        "`fastreg.utils.register_keras_serializable`, passed in `custom_objects`, or "
        "in an active `fastreg.utils.custom_object_scope`."
    )


def _lookup(name: str, custom_objects: Mapping[str, Any] | None) -> Any:
    return utils.get_registered_object(name, custom_objects, _BUILTINS)


@_keras_signature
def serialize(regularizer: Any, use_legacy_format: bool = False) -> dict[str, Any] | Any:
    """Serialize a regularizer to a JSON-able dict (Keras 2's format).

    Built-ins give ``{"module": "keras.regularizers", "class_name", "config",
    "registered_name": None}``, which real Keras reads back; custom classes
    carry ``"module": None`` and their ``registered_name`` (``"Package>name"``
    when registered). ``use_legacy_format=True`` gives TF 2.4's
    ``{"class_name", "config"}`` (a custom class's ``class_name`` is then its
    registered name), and a plain function becomes its (registered) name.

    Args:
        regularizer: A regularizer instance, a function, or None.
        use_legacy_format: Produce TF 2.4's two-key format.

    Returns:
        The dict (legacy format: a dict, or a string for functions), or None.

    Raises:
        NotImplementedError: when the object's ``get_config`` raises it.
        ValueError: for anything that is not a regularizer or a function.

    >>> serialize(L1(0.5))
    {'module': 'keras.regularizers', 'class_name': 'L1', 'config': {'l1': 0.5}, \
'registered_name': None}
    >>> serialize(L1(0.5), use_legacy_format=True)
    {'class_name': 'L1', 'config': {'l1': 0.5}}
    """
    if regularizer is None:
        return None
    if hasattr(regularizer, "get_config") and not inspect.isclass(regularizer):
        config = regularizer.get_config()
        cls = type(regularizer)
        registered = utils._GLOBAL_CUSTOM_NAMES.get(cls)
        builtin = cls in _BUILTIN_CLASSES or cls is Regularizer
        if use_legacy_format:
            return {"class_name": registered or cls.__name__, "config": config}
        if builtin and registered is None:
            return {
                "module": "keras.regularizers",
                "class_name": cls.__name__,
                "config": config,
                "registered_name": None,
            }
        return {
            "module": None,
            "class_name": cls.__name__,
            "config": config,
            "registered_name": registered or cls.__name__,
        }
    if callable(regularizer) and hasattr(regularizer, "__name__"):
        name = utils.get_registered_name(regularizer)
        if use_legacy_format:
            return name
        return {
            "module": "builtins",
            "class_name": "function",
            "config": name,
            "registered_name": "function",
        }
    raise ValueError(f"Cannot serialize {regularizer!r}: not a regularizer or a function")


def _from_dict(config: dict[str, Any], custom_objects: Mapping[str, Any] | None) -> Any:
    if "class_name" not in config or "config" not in config:
        raise ValueError(
            f"Improper config format for {config}. "
            "Expecting python dict contains `class_name` and `config` as keys"
        )
    class_name = config["class_name"]
    inner = config["config"]
    registered = config.get("registered_name")
    if class_name == "function" and registered == "function":
        # a serialized plain function: config is its (registered) name
        if not isinstance(inner, str):
            raise ValueError(
                f"Improper config format for {config}: a function's config is its name"
            )
        fn = _lookup(inner, custom_objects)
        if fn is None:
            raise _unknown(inner)
        return fn
    if not isinstance(class_name, str):
        raise ValueError(f"Improper config format for {config}: class_name must be a string")
    if not isinstance(inner, dict):
        raise ValueError(
            f"Improper config format for {config}: config must be a dict, "
            f"got {type(inner).__name__}"
        )
    obj = None
    if isinstance(registered, str):
        obj = _lookup(registered, custom_objects)
    if obj is None:
        obj = _lookup(class_name, custom_objects)
    if obj is None:
        raise _unknown(class_name)
    if inspect.isclass(obj) and hasattr(obj, "from_config"):
        with utils.custom_object_scope(custom_objects):
            return obj.from_config(inner)
    if callable(obj):
        # a function that builds the regularizer (l1_l2); the config holds its kwargs
        return obj(**inner)
    raise _unknown(class_name)


@_keras_signature
def deserialize(config: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """Rebuild a regularizer from :func:`serialize`'s output, or from a name.

    Accepts both dict forms (with or without ``"module"`` /
    ``"registered_name"``), names (``"l1"``, ``"L1L2"``, ``"l1_l2"`` →
    ``L1L2(0.01, 0.01)``, ``"l1l2"``, ``"Package>name"``, or names in
    ``custom_objects`` / an active ``custom_object_scope``). A class named by
    a string is instantiated with no arguments; a function is returned as it
    is. Objects that are already callables are returned unchanged.

    Args:
        config: A dict, a string, None, or a callable.
        custom_objects: Extra ``{name: class_or_function}`` to look names up in.

    Returns:
        The regularizer (or function), or None for None.

    Raises:
        ValueError: for unknown names, malformed dicts, numbers, lists and
            other values that do not describe a regularizer.
        TypeError: when the config holds unknown arguments.

    >>> deserialize({"class_name": "L1", "config": {"l1": 0.5}})
    L1(l1=0.5)
    >>> deserialize("l1_l2")
    L1L2(l1=0.01, l2=0.01)
    """
    if config is None:
        return None
    if isinstance(config, str):
        if config == "l1_l2":
            # Keras 2's special case: the function's defaults, not the class's
            return L1L2(l1=0.01, l2=0.01)
        obj = _lookup(config, custom_objects)
        if obj is None:
            raise _unknown(config)
        return obj() if inspect.isclass(obj) else obj
    if isinstance(config, dict):
        return _from_dict(config, custom_objects)
    if callable(config):
        return config
    raise ValueError(f"Could not interpret serialized regularizer: {config!r}")


@_keras_signature
def get(identifier: Any) -> Any:
    """Retrieve a regularizer from a name, a dict, a class or a callable.

    ``None`` → None; an instance or a function → itself; a string or a dict
    → what :func:`deserialize` gives, as it is (as Keras 2: a class named in
    a ``custom_object_scope`` is instantiated even if its instances are not
    callable); a class → an instance made with no arguments.

    Args:
        identifier: What to interpret.

    Returns:
        A regularizer (or the given function), or None.

    Raises:
        ValueError: ``"Could not interpret regularizer identifier: …"`` for
            numbers, lists and other non-callables; ``"Unknown regularizer:
            …"`` for unknown names (module functions such as ``"serialize"``
            included).

    >>> get("l1")
    L1(l1=0.01)
    >>> get(None) is None
    True
    """
    if identifier is None:
        return None
    if isinstance(identifier, (dict, str)):
        # Keras 2 returns what deserialize gives without judging it
        # (tf-keras object_registration_test.test_custom_object_scope)
        return deserialize(identifier)
    if inspect.isclass(identifier):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier}")
