"""Keras 2 activation functions, in NumPy, for :mod:`fastreg.layers`.

The names are the ones users write in Keras configs (``activation="relu"``).
Every function takes an array and returns an array of the same shape and
float dtype; like TensorFlow they compute silently in IEEE arithmetic
(overflow gives ``inf``, NaN propagates, no NumPy warnings).

>>> import numpy as np
>>> from fastreg import activations
>>> activations.get("hard_sigmoid")(np.array([-3.0, 0.0, 1.0], np.float32))
array([0. , 0.5, 0.7], dtype=float32)
>>> activations.serialize(activations.get(None))
'linear'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from fastreg._serialization import Family

__all__ = [
    "deserialize",
    "elu",
    "exponential",
    "gelu",
    "get",
    "hard_sigmoid",
    "linear",
    "relu",
    "selu",
    "serialize",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "swish",
    "tanh",
]


def _quiet() -> np.errstate:
    """IEEE arithmetic without NumPy warnings, as TensorFlow computes."""
    return np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore")


def _float(x: Any) -> np.ndarray:
    """``x`` as a float array (Python numbers and lists become float32, as TF)."""
    a = np.asarray(x)
    if a.dtype.kind == "f":
        return a
    if a.dtype.kind in "biu":
        return a.astype(np.float32)
    raise TypeError(f"Activations take floating-point input; got dtype {a.dtype}")


def linear(x: Any) -> Any:
    """The identity (``activation=None`` means this).

    >>> linear(np.array([-1.0, 2.0]))
    array([-1.,  2.])
    """
    return x


def relu(x: Any, alpha: float = 0.0, max_value: float | None = None, threshold: float = 0.0):
    """Rectified linear unit, with Keras 2's optional ``alpha``, ``max_value``, ``threshold``.

    ``f(x) = x`` for ``x > threshold`` (capped at ``max_value``), else
    ``alpha * (x - threshold)``.

    >>> relu(np.array([-2.0, 0.5, 3.0], np.float32))
    array([0. , 0.5, 3. ], dtype=float32)
    >>> relu(np.array([-2.0, 0.5, 3.0]), alpha=0.5, max_value=1.0)
    array([-1. ,  0.5,  1. ])
    """
    x = _float(x)
    with _quiet():
        if threshold != 0:
            out = np.where(x > threshold, x, 0)
        else:
            out = np.maximum(x, 0)
        if max_value is not None:
            out = np.clip(out, 0, max_value)
        if alpha:
            out = out - alpha * np.maximum(threshold - x, 0)
    return np.asarray(out, dtype=x.dtype)


def sigmoid(x: Any) -> np.ndarray:
    """Logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow.

    >>> sigmoid(np.array([0.0, 1000.0, -1000.0], np.float32))
    array([0.5, 1. , 0. ], dtype=float32)
    """
    x = _float(x)
    with _quiet():
        e = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return np.asarray(out, dtype=x.dtype)


def tanh(x: Any) -> np.ndarray:
    """Hyperbolic tangent.

    >>> tanh(np.array([0.0], np.float32))
    array([0.], dtype=float32)
    """
    x = _float(x)
    return np.tanh(x)


def softmax(x: Any, axis: int = -1) -> np.ndarray:
    """Softmax over ``axis`` (the last by default), computed stably.

    Raises:
        ValueError: for a 0-d or 1-D input (Keras 2: "Cannot apply softmax to
            a tensor that is 1D").

    >>> softmax(np.array([[0.0, 0.0]], np.float32))
    array([[0.5, 0.5]], dtype=float32)
    """
    x = _float(x)
    if x.ndim <= 1:
        raise ValueError(f"Cannot apply softmax to a tensor that is 1D. Received input: {x}")
    with _quiet():
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        out = e / np.sum(e, axis=axis, keepdims=True)
    return np.asarray(out, dtype=x.dtype)


def elu(x: Any, alpha: float = 1.0) -> np.ndarray:
    """Exponential linear unit: ``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)``.

    >>> elu(np.array([-1.0, 2.0]))
    array([-0.63212056,  2.        ])
    """
    x = _float(x)
    with _quiet():
        out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    return np.asarray(out, dtype=x.dtype)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x: Any) -> np.ndarray:
    """Scaled exponential linear unit (Klambauer et al., 2017).

    >>> selu(np.array([1.0]))
    array([1.05070099])
    """
    x = _float(x)
    with _quiet():
        out = _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0)))
    return np.asarray(out, dtype=x.dtype)


def softplus(x: Any) -> np.ndarray:
    """``log(exp(x) + 1)``, computed without overflow.

    >>> softplus(np.array([0.0, 1000.0], np.float32))
    array([6.931472e-01, 1.000000e+03], dtype=float32)
    """
    x = _float(x)
    with _quiet():
        return np.asarray(np.logaddexp(0, x), dtype=x.dtype)


def softsign(x: Any) -> np.ndarray:
    """``x / (|x| + 1)``.

    >>> softsign(np.array([-1.0, 3.0]))
    array([-0.5 ,  0.75])
    """
    x = _float(x)
    with _quiet():
        return np.asarray(x / (np.abs(x) + 1), dtype=x.dtype)


def swish(x: Any) -> np.ndarray:
    """``x * sigmoid(x)`` (also called SiLU).

    >>> swish(np.array([0.0, 1.0]))
    array([0.        , 0.73105858])
    """
    x = _float(x)
    with _quiet():
        return np.asarray(x * sigmoid(x), dtype=x.dtype)


silu = swish


# --- erf, vectorised (NumPy has none) --------------------------------------
# |x| < 0.5: the Maclaurin series (relative accuracy near 0); 0.5 <= |x| < 6:
# least-squares Chebyshev fits (degree 18, 200 nodes) of math.erf on five
# intervals, made once at import;
# |x| >= 6: erf = ±1 to double precision. Max error a few ulp of float64
# (tests/test_layers.py checks it against math.erf).
_ERF_SERIES = np.array(
    [2 / math.sqrt(math.pi) * (-1) ** n / (math.factorial(n) * (2 * n + 1)) for n in range(16)]
)
_ERF_PIECES = []
_NODES = np.cos(np.pi * (np.arange(200) + 0.5) / 200)
for _lo, _hi in ((0.5, 1.25), (1.25, 2.0), (2.0, 3.0), (3.0, 4.25), (4.25, 6.0)):
    _mid, _half = (_lo + _hi) / 2, (_hi - _lo) / 2
    _vals = np.array([math.erf(_mid + _half * float(t)) for t in _NODES])
    _ERF_PIECES.append((_lo, _hi, _mid, _half, np.polynomial.chebyshev.chebfit(_NODES, _vals, 18)))


def _erf(x: np.ndarray) -> np.ndarray:
    """Vectorised float64 erf (see the note above)."""
    x = np.asarray(x, dtype=np.float64)
    a = np.abs(x)
    out = np.ones_like(x)
    small = a < 0.5
    if np.any(small):
        s = a[small]
        out[small] = s * np.polynomial.polynomial.polyval(s * s, _ERF_SERIES)
    for lo, hi, mid, half, coef in _ERF_PIECES:
        m = (a >= lo) & (a < hi)
        if np.any(m):
            out[m] = np.polynomial.chebyshev.chebval((a[m] - mid) / half, coef)
    out[np.isnan(x)] = np.nan
    return np.copysign(out, x)


def gelu(x: Any, approximate: bool = False) -> np.ndarray:
    """Gaussian error linear unit; Keras 2's default is the exact erf form.

    ``0.5·x·(1 + erf(x/√2))``, or with ``approximate=True``
    ``0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))``.

    >>> gelu(np.array([0.0, 1.0]))
    array([0.        , 0.84134475])
    """
    x = _float(x)
    with _quiet():
        xd = x.astype(np.float64)
        if approximate:
            out = 0.5 * xd * (1 + np.tanh(math.sqrt(2 / math.pi) * (xd + 0.044715 * xd**3)))
        else:
            out = 0.5 * xd * (1 + _erf(xd / math.sqrt(2)))
    return np.asarray(out, dtype=x.dtype)


def exponential(x: Any) -> np.ndarray:
    """``exp(x)`` (overflow gives inf, silently).

    >>> exponential(np.array([0.0]))
    array([1.])
    """
    x = _float(x)
    with _quiet():
        return np.exp(x)


def hard_sigmoid(x: Any) -> np.ndarray:
    """Keras 2's piecewise-linear sigmoid: ``clip(0.2·x + 0.5, 0, 1)``.

    >>> hard_sigmoid(np.array([-5.0, 0.0, 2.0]))
    array([0. , 0.5, 0.9])
    """
    x = _float(x)
    with _quiet():
        return np.asarray(np.clip(0.2 * x + 0.5, 0, 1), dtype=x.dtype)


_BY_NAME: dict[str, Callable[..., Any]] = {
    "linear": linear,
    "relu": relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softmax": softmax,
    "elu": elu,
    "selu": selu,
    "softplus": softplus,
    "softsign": softsign,
    "swish": swish,
    "silu": swish,
    "gelu": gelu,
    "exponential": exponential,
    "hard_sigmoid": hard_sigmoid,
}
# what None means in get(), serialize() and deserialize() (Keras: no activation)
_FAMILY = Family("activation function", "keras.activations", _BY_NAME, default=linear)


def serialize(activation: Callable[..., Any] | None) -> Any:
    """The name Keras 2 writes in configs: ``'relu'``, ``'linear'`` (for None), ...

    Custom functions give their registered ``"Package>name"`` or
    ``__name__``; instances of custom classes (with ``get_config``) give the
    dict every family uses for custom objects.

    Raises:
        ValueError: for anything that is not a function or a serializable object.

    >>> serialize(relu)
    'relu'
    """
    return _FAMILY.serialize(activation)


def deserialize(name: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """The activation function named ``name`` (custom objects and the registry first).

    Accepts a name, or a serialized dict: Keras's function form
    ``{"class_name": "function", "config": "relu", ...}`` or a class's
    ``{"class_name", "config"}``. ``None`` gives :func:`linear`.

    Raises:
        ValueError: for an unknown name or a malformed dict.

    >>> deserialize("tanh") is tanh
    True
    """
    return _FAMILY.deserialize(name, custom_objects)


def get(identifier: Any) -> Any:
    """An activation function from a name, a serialized dict, a callable or None.

    ``None`` gives :func:`linear`; callables are returned as they are (a
    class is instantiated, as every family does).

    Raises:
        ValueError: for an unknown name, or an identifier of another type.

    >>> get(None) is linear, get("relu") is relu
    (True, True)
    >>> get("bogus")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: Unknown activation function: 'bogus'. ...
    """
    return _FAMILY.get(identifier)
