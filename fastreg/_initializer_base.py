"""The base ``Initializer`` and the shape and dtype rules of every initializer (private).

:class:`Initializer` is public as ``fastreg.initializers.Initializer`` (its
``__module__`` says so, for pickles and reprs).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fastreg import backend


def as_shape(shape: Any) -> tuple[int, ...]:
    if shape is None:
        return ()
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        out = tuple(int(d) for d in shape)
    except TypeError:
        raise TypeError(f"shape must be a tuple of integers, got {shape!r}") from None
    if any(d < 0 for d in out):
        raise ValueError(f"shape must not have negative dimensions, got {out}")
    return out


def as_dtype(dtype: Any, *, floating: bool = True) -> np.dtype:
    dt = np.dtype(backend.floatx() if dtype is None else dtype)
    if floating and dt.kind != "f":
        raise ValueError(f"Expected a floating-point dtype for this initializer, got {dt}")
    return dt


class Initializer:
    """Base class: ``__call__(shape, dtype=None)``, ``get_config``, ``from_config``.

    Subclass it (and register it with
    :func:`fastreg.utils.register_keras_serializable`) for a custom
    initializer usable by name; any plain callable ``f(shape, dtype=None)``
    also works where an initializer is expected.

    >>> class Halves(Initializer):
    ...     def __call__(self, shape, dtype=None):
    ...         return np.full(shape, 0.5, dtype=dtype or "float32")
    >>> Halves()((2,))
    array([0.5, 0.5], dtype=float32)
    """

    # the public path: pickles (also those made before the split) and reprs name it
    __module__ = "fastreg.initializers"

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> np.ndarray:
        raise NotImplementedError("Initializer subclasses must implement __call__")

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, as a dict."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        """An instance built from :meth:`get_config`'s output."""
        config = dict(config)
        config.pop("dtype", None)  # Keras 1 configs carried it
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
