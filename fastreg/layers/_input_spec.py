"""Keras's ``InputSpec``: the input shapes a layer accepts."""

from __future__ import annotations

from typing import Any

import numpy as np


def _shape_tuple(x: Any) -> tuple | None:
    if isinstance(x, (np.ndarray, np.generic)):
        return tuple(x.shape)
    if isinstance(x, (bool, int, float)):
        return ()
    shape = getattr(x, "shape", None)
    return None if shape is None else tuple(shape)


class _InputSpec:
    """Keras's ``InputSpec`` (the parts the built-in layers use)."""

    def __init__(
        self,
        ndim: int | None = None,
        min_ndim: int | None = None,
        axes: dict[int, int] | None = None,
    ) -> None:
        self.ndim = ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})

    def check(self, shape: tuple, layer_name: str, index: int = 0) -> None:
        """Raise Keras 2's ValueError when ``shape`` does not fit."""
        ndim = len(shape)
        head = f'Input {index} of layer "{layer_name}" is incompatible with the layer: '
        if self.ndim is not None and ndim != self.ndim:
            raise ValueError(
                f"{head}expected ndim={self.ndim}, found ndim={ndim}. "
                f"Full shape received: {tuple(shape)}"
            )
        if self.min_ndim is not None and ndim < self.min_ndim:
            raise ValueError(
                f"{head}expected min_ndim={self.min_ndim}, found ndim={ndim}. "
                f"Full shape received: {tuple(shape)}"
            )
        for axis, value in self.axes.items():
            if value is None:
                continue
            if -ndim <= axis < ndim and shape[axis] is not None and shape[axis] != value:
                raise ValueError(
                    f"{head}expected axis {axis} of input shape to have value {value}, "
                    f"but received input with shape {tuple(shape)}"
                )
