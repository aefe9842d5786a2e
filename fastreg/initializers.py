"""Keras 2 weight initializers, in NumPy, for :mod:`fastreg.layers`.

Each initializer is a callable ``init(shape, dtype=None) -> ndarray``
(``dtype`` defaults to :func:`fastreg.backend.floatx`) with Keras 2's
arguments, defaults and ``get_config``. The random ones take ``seed=``: a
seeded initializer gives the same values on every call, an unseeded one
draws fresh values from NumPy's default generator.

Fan-in and fan-out follow Keras: a 2-D ``(in, out)`` kernel uses its two
dimensions; a convolution kernel ``kernel_size + (in_channels, filters)``
multiplies both by the receptive field ``prod(kernel_size)``.

>>> from fastreg import initializers
>>> initializers.get("ones")((2, 2))
array([[1., 1.],
       [1., 1.]], dtype=float32)
>>> w = initializers.get("glorot_uniform")
>>> w.get_config()
{'seed': None}
>>> a = initializers.GlorotUniform(seed=3)((3, 3, 4, 8))
>>> bool(abs(a).max() <= (6 / (9 * 4 + 9 * 8)) ** 0.5)
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from fastreg._initializer_base import Initializer, as_dtype, as_shape
from fastreg._random_initializers import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
)
from fastreg._serialization import Family

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "deserialize",
    "get",
    "serialize",
]


class Zeros(Initializer):
    """All zeros (``"zeros"``).

    >>> Zeros()((2,), dtype="float64")
    array([0., 0.])
    """

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> np.ndarray:
        return np.zeros(as_shape(shape), dtype=as_dtype(dtype, floating=False))


class Ones(Initializer):
    """All ones (``"ones"``).

    >>> Ones()((1, 2))
    array([[1., 1.]], dtype=float32)
    """

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> np.ndarray:
        return np.ones(as_shape(shape), dtype=as_dtype(dtype, floating=False))


class Constant(Initializer):
    """A constant ``value`` (``"constant"``; default 0).

    >>> Constant(3.0)((2,))
    array([3., 3.], dtype=float32)
    """

    def __init__(self, value: Any = 0) -> None:
        self.value = value

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> np.ndarray:
        return np.full(as_shape(shape), self.value, dtype=as_dtype(dtype, floating=False))

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class Identity(Initializer):
    """``gain`` times the identity matrix (``"identity"``), 2-D shapes only.

    >>> Identity()((2, 3))
    array([[1., 0., 0.],
           [0., 1., 0.]], dtype=float32)
    """

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> np.ndarray:
        shape = as_shape(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        return (self.gain * np.eye(*shape)).astype(as_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


_CLASSES = (
    Zeros,
    Ones,
    Constant,
    RandomUniform,
    RandomNormal,
    TruncatedNormal,
    VarianceScaling,
    GlorotUniform,
    GlorotNormal,
    HeUniform,
    HeNormal,
    LecunUniform,
    LecunNormal,
    Orthogonal,
    Identity,
)


def _snake(name: str) -> str:
    """``"GlorotUniform"`` → ``"glorot_uniform"``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# Keras's names: each class name and its snake_case form
_FAMILY = Family(
    "initializer",
    "keras.initializers",
    {name: c for c in _CLASSES for name in (c.__name__, _snake(c.__name__))},
)


def serialize(initializer: Any) -> Any:
    """Keras 2's serialized form of an initializer.

    Built-ins give ``{"module": "keras.initializers", "class_name", "config",
    "registered_name": None}``; custom classes ``"module": None`` and their
    ``registered_name`` (``"Package>name"``, or the class name when
    unregistered); functions give their registered name or ``__name__``;
    None gives None.

    Raises:
        ValueError: for anything that is not an initializer or a function.

    >>> serialize(Zeros())
    {'module': 'keras.initializers', 'class_name': 'Zeros', 'config': {}, 'registered_name': None}
    """
    return _FAMILY.serialize(initializer)


def deserialize(config: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """An initializer from a name or a serialized dict (either Keras form).

    Names are looked up in ``custom_objects``, the active
    ``custom_object_scope``, the registry, then the built-in names; a class
    named by a string is instantiated with no arguments.

    Raises:
        ValueError: for an unknown name or a malformed dict.

    >>> deserialize({"class_name": "Constant", "config": {"value": 2.0}})
    Constant(value=2.0)
    """
    return _FAMILY.deserialize(config, custom_objects)


def get(identifier: Any) -> Any:
    """An initializer from a name, a serialized dict, a class, an instance or a callable.

    Raises:
        ValueError: for an unknown name, or an identifier of another type.

    >>> get("he_normal")
    HeNormal(seed=None)
    >>> get("bogus")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: Unknown initializer: 'bogus'. ...
    """
    return _FAMILY.get(identifier)
