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

import math
from typing import Any

import numpy as np

from fastreg import backend, utils

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


def _shape(shape: Any) -> tuple[int, ...]:
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


def _dtype(dtype: Any, *, floating: bool = True) -> np.dtype:
    dt = np.dtype(backend.floatx() if dtype is None else dtype)
    if floating and dt.kind != "f":
        raise ValueError(f"Expected a floating-point dtype for this initializer, got {dt}")
    return dt


def _compute_fans(shape: tuple[int, ...]) -> tuple[float, float]:
    """Keras's ``_compute_fans``: (fan_in, fan_out) of a weight shape."""
    if len(shape) < 1:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


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


class _Random(Initializer):
    """Shared seeding: a seeded initializer repeats its values (Keras 2)."""

    def __init__(self, seed: int | None = None) -> None:
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise ValueError(f"seed must be an integer or None, got {seed!r}")
        self.seed = None if seed is None else int(seed)

    def _rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    def _truncated(self, rng: np.random.Generator, shape: tuple, mean: float, std: float):
        """Normal(mean, std) resampled outside two standard deviations, as TF."""
        out = rng.standard_normal(shape)
        bad = np.abs(out) > 2
        while np.any(bad):  # expected ~5% redraws per round
            out[bad] = rng.standard_normal(int(bad.sum()))
            bad = np.abs(out) > 2
        return mean + std * out


class Zeros(Initializer):
    """All zeros (``"zeros"``).

    >>> Zeros()((2,), dtype="float64")
    array([0., 0.])
    """

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> np.ndarray:
        return np.zeros(_shape(shape), dtype=_dtype(dtype, floating=False))


class Ones(Initializer):
    """All ones (``"ones"``).

    >>> Ones()((1, 2))
    array([[1., 1.]], dtype=float32)
    """

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> np.ndarray:
        return np.ones(_shape(shape), dtype=_dtype(dtype, floating=False))


class Constant(Initializer):
    """A constant ``value`` (``"constant"``; default 0).

    >>> Constant(3.0)((2,))
    array([3., 3.], dtype=float32)
    """

    def __init__(self, value: Any = 0) -> None:
        self.value = value

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> np.ndarray:
        return np.full(_shape(shape), self.value, dtype=_dtype(dtype, floating=False))

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class RandomUniform(_Random):
    """Uniform on ``[minval, maxval)`` (``"random_uniform"``; default ±0.05).

    >>> a = RandomUniform(-1.0, 1.0, seed=0)((1000,))
    >>> bool(a.min() >= -1 and a.max() < 1), a.dtype.name
    (True, 'float32')
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval = minval
        self.maxval = maxval

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> np.ndarray:
        dt = _dtype(dtype, floating=False)
        rng = self._rng()
        if dt.kind in "iu":
            return rng.integers(int(self.minval), int(self.maxval), _shape(shape)).astype(dt)
        return rng.uniform(self.minval, self.maxval, _shape(shape)).astype(_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(_Random):
    """Normal(``mean``, ``stddev``) (``"random_normal"``; default 0, 0.05).

    >>> RandomNormal(seed=1)((2, 3)).shape
    (2, 3)
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean = mean
        self.stddev = stddev

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> np.ndarray:
        out = self._rng().normal(self.mean, self.stddev, _shape(shape))
        return out.astype(_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(_Random):
    """Normal(``mean``, ``stddev``) redrawn outside ``mean ± 2·stddev`` (``"truncated_normal"``).

    >>> a = TruncatedNormal(stddev=1.0, seed=2)((10000,))
    >>> bool(abs(a).max() <= 2)
    True
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean = mean
        self.stddev = stddev

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> np.ndarray:
        out = self._truncated(self._rng(), _shape(shape), self.mean, self.stddev)
        return out.astype(_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(_Random):
    """Keras's ``VarianceScaling``: the base of the Glorot, He and LeCun families.

    ``scale`` is divided by ``fan_in``, ``fan_out`` or their mean
    (``mode``); ``distribution`` ``"truncated_normal"`` uses stddev
    ``sqrt(scale)/0.8796…``, ``"untruncated_normal"`` ``sqrt(scale)``,
    ``"uniform"`` the limit ``sqrt(3·scale)``.

    Raises:
        ValueError: for a non-positive scale, an unknown mode or distribution.

    >>> VarianceScaling(2.0, "fan_in", "uniform").get_config()
    {'scale': 2.0, 'mode': 'fan_in', 'distribution': 'uniform', 'seed': None}
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
    ) -> None:
        super().__init__(seed)
        if scale <= 0.0:
            raise ValueError(f"`scale` must be positive float. Received: scale={scale}.")
        allowed_modes = {"fan_in", "fan_out", "fan_avg"}
        if mode not in allowed_modes:
            raise ValueError(
                f"Invalid `mode` argument: {mode}. Please use one of the {allowed_modes}."
            )
        distribution = distribution.lower()
        if distribution == "normal":  # compatibility with Keras 1
            distribution = "truncated_normal"
        allowed = {"uniform", "truncated_normal", "untruncated_normal"}
        if distribution not in allowed:
            raise ValueError(
                f"Invalid `distribution` argument: {distribution}.Allowed distributions: {allowed}."
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> np.ndarray:
        shape = _shape(shape)
        dt = _dtype(dtype)
        fan_in, fan_out = _compute_fans(shape)
        if self.mode == "fan_in":
            scale = self.scale / max(1.0, fan_in)
        elif self.mode == "fan_out":
            scale = self.scale / max(1.0, fan_out)
        else:
            scale = self.scale / max(1.0, (fan_in + fan_out) / 2.0)
        rng = self._rng()
        if self.distribution == "truncated_normal":
            # 0.879... = stddev of a standard normal truncated to (-2, 2)
            out = self._truncated(rng, shape, 0.0, math.sqrt(scale) / 0.87962566103423978)
        elif self.distribution == "untruncated_normal":
            out = rng.normal(0.0, math.sqrt(scale), shape)
        else:
            limit = math.sqrt(3.0 * scale)
            out = rng.uniform(-limit, limit, shape)
        return out.astype(dt)

    def get_config(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
        }


class _Family(VarianceScaling):
    _ARGS: tuple[float, str, str] = (1.0, "fan_in", "uniform")

    def __init__(self, seed: int | None = None) -> None:
        scale, mode, distribution = self._ARGS
        super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class GlorotUniform(_Family):
    """Uniform on ``±sqrt(6 / (fan_in + fan_out))`` (``"glorot_uniform"``, Dense's default).

    >>> bool(abs(GlorotUniform(seed=0)((2, 4))).max() <= 1.0)
    True
    """

    _ARGS = (1.0, "fan_avg", "uniform")


class GlorotNormal(_Family):
    """Truncated normal, stddev ``sqrt(2 / (fan_in + fan_out))`` (``"glorot_normal"``).

    >>> GlorotNormal(seed=0)((3, 3)).dtype
    dtype('float32')
    """

    _ARGS = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_Family):
    """Uniform on ``±sqrt(6 / fan_in)`` (``"he_uniform"``).

    >>> bool(abs(HeUniform(seed=0)((6, 2))).max() <= 1.0)
    True
    """

    _ARGS = (2.0, "fan_in", "uniform")


class HeNormal(_Family):
    """Truncated normal, stddev ``sqrt(2 / fan_in)`` (``"he_normal"``).

    >>> HeNormal(seed=0)((4,)).shape
    (4,)
    """

    _ARGS = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_Family):
    """Uniform on ``±sqrt(3 / fan_in)`` (``"lecun_uniform"``).

    >>> bool(abs(LecunUniform(seed=0)((3, 2))).max() <= 1.0)
    True
    """

    _ARGS = (1.0, "fan_in", "uniform")


class LecunNormal(_Family):
    """Truncated normal, stddev ``sqrt(1 / fan_in)`` (``"lecun_normal"``).

    >>> LecunNormal(seed=0)((2, 2)).shape
    (2, 2)
    """

    _ARGS = (1.0, "fan_in", "truncated_normal")


class Orthogonal(_Random):
    """A (semi-)orthogonal matrix times ``gain`` (``"orthogonal"``).

    Shapes of rank > 2 are flattened to ``(prod(shape[:-1]), shape[-1])``,
    as in Keras.

    Raises:
        ValueError: for a shape of rank < 2.

    >>> q = Orthogonal(seed=0)((3, 3))
    >>> bool(np.allclose(q.T @ q, np.eye(3), atol=1e-6))
    True
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> np.ndarray:
        shape = _shape(shape)
        dt = _dtype(dtype)
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.where(np.diag(r) < 0, -1.0, 1.0)  # make it unique (as TF)
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).astype(dt)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (``"identity"``), 2-D shapes only.

    >>> Identity()((2, 3))
    array([[1., 0., 0.],
           [0., 1., 0.]], dtype=float32)
    """

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape: Any, dtype: Any = None, **kwargs: Any) -> np.ndarray:
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        return (self.gain * np.eye(*shape)).astype(_dtype(dtype))

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


_CLASSES: dict[str, type] = {
    c.__name__: c
    for c in (
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
}
_ALIASES: dict[str, type] = {
    "zeros": Zeros,
    "ones": Ones,
    "constant": Constant,
    "random_uniform": RandomUniform,
    "random_normal": RandomNormal,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal,
    "identity": Identity,
}


def serialize(initializer: Any) -> Any:
    """Keras 2's serialized form of an initializer.

    Built-in and registered classes give the dict
    ``{"module", "class_name", "config", "registered_name"}``; functions
    give their registered name or ``__name__``; None gives None.

    >>> serialize(Zeros())
    {'module': 'keras.initializers', 'class_name': 'Zeros', 'config': {}, 'registered_name': None}
    """
    if initializer is None:
        return None
    if isinstance(initializer, Initializer) or hasattr(initializer, "get_config"):
        cls = type(initializer)
        builtin = _CLASSES.get(cls.__name__) is cls
        return {
            "module": "keras.initializers" if builtin else cls.__module__,
            "class_name": cls.__name__,
            "config": initializer.get_config(),
            "registered_name": None if builtin else utils.get_registered_name(cls),
        }
    if callable(initializer):
        return utils.get_registered_name(initializer)
    raise ValueError(f"Cannot serialize initializer {initializer!r}")


def deserialize(config: Any, custom_objects: dict | None = None) -> Any:
    """An initializer from a name or a serialized dict (either Keras form).

    Raises:
        ValueError: for an unknown name or a malformed dict.

    >>> deserialize({"class_name": "Constant", "config": {"value": 2.0}})
    Constant(value=2.0)
    """
    if isinstance(config, str):
        found = utils.get_registered_object(config, custom_objects)
        if found is None:
            found = _ALIASES.get(config) or _CLASSES.get(config)
        if found is None:
            raise ValueError(
                f"Unknown initializer: {config!r}. Known names: "
                f"{', '.join(sorted(_ALIASES))} (or the class names, or a custom object "
                "registered with fastreg.utils.register_keras_serializable)."
            )
        return found() if isinstance(found, type) else found
    if isinstance(config, dict):
        if "class_name" not in config or "config" not in config:
            raise ValueError(f"Improper config format for an initializer: {config!r}")
        name = config.get("registered_name") or config["class_name"]
        cls = utils.get_registered_object(name, custom_objects)
        if cls is None:
            cls = utils.get_registered_object(config["class_name"], custom_objects)
        if cls is None:
            cls = _CLASSES.get(config["class_name"]) or _ALIASES.get(config["class_name"])
        if cls is None:
            raise ValueError(f"Unknown initializer: {config['class_name']!r}")
        inner = config["config"]
        if not isinstance(cls, type):
            return cls
        if hasattr(cls, "from_config"):
            return cls.from_config(inner)
        return cls(**inner)
    raise ValueError(f"Could not interpret initializer identifier: {config!r}")


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
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")
