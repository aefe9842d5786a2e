"""The random initializers: uniform, normal, variance scaling, orthogonal (private).

All are public in :mod:`fastreg.initializers`, whose name they carry as
``__module__`` (pickles made before this module existed name that path).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fastreg._initializer_base import Initializer, as_dtype, as_shape


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
        dt = as_dtype(dtype, floating=False)
        rng = self._rng()
        if dt.kind in "iu":
            return rng.integers(int(self.minval), int(self.maxval), as_shape(shape)).astype(dt)
        return rng.uniform(self.minval, self.maxval, as_shape(shape)).astype(as_dtype(dtype))

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
        out = self._rng().normal(self.mean, self.stddev, as_shape(shape))
        return out.astype(as_dtype(dtype))

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
        out = self._truncated(self._rng(), as_shape(shape), self.mean, self.stddev)
        return out.astype(as_dtype(dtype))

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
        shape = as_shape(shape)
        dt = as_dtype(dtype)
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


class _Preset(VarianceScaling):
    _ARGS: tuple[float, str, str] = (1.0, "fan_in", "uniform")

    def __init__(self, seed: int | None = None) -> None:
        scale, mode, distribution = self._ARGS
        super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class GlorotUniform(_Preset):
    """Uniform on ``±sqrt(6 / (fan_in + fan_out))`` (``"glorot_uniform"``, Dense's default).

    >>> bool(abs(GlorotUniform(seed=0)((2, 4))).max() <= 1.0)
    True
    """

    _ARGS = (1.0, "fan_avg", "uniform")


class GlorotNormal(_Preset):
    """Truncated normal, stddev ``sqrt(2 / (fan_in + fan_out))`` (``"glorot_normal"``).

    >>> GlorotNormal(seed=0)((3, 3)).dtype
    dtype('float32')
    """

    _ARGS = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_Preset):
    """Uniform on ``±sqrt(6 / fan_in)`` (``"he_uniform"``).

    >>> bool(abs(HeUniform(seed=0)((6, 2))).max() <= 1.0)
    True
    """

    _ARGS = (2.0, "fan_in", "uniform")


class HeNormal(_Preset):
    """Truncated normal, stddev ``sqrt(2 / fan_in)`` (``"he_normal"``).

    >>> HeNormal(seed=0)((4,)).shape
    (4,)
    """

    _ARGS = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_Preset):
    """Uniform on ``±sqrt(3 / fan_in)`` (``"lecun_uniform"``).

    >>> bool(abs(LecunUniform(seed=0)((3, 2))).max() <= 1.0)
    True
    """

    _ARGS = (1.0, "fan_in", "uniform")


class LecunNormal(_Preset):
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
        shape = as_shape(shape)
        dt = as_dtype(dtype)
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


# The public path, for pickles (also those made before the split) and reprs.
for _cls in (
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
):
    _cls.__module__ = "fastreg.initializers"
