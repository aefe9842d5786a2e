"""The convolution engine of the Conv layers: argument tuples, padding plan, im2col."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def _normalize_tuple(value: Any, n: int, name: str, allow_zero: bool = False) -> tuple:
    """Keras's ``conv_utils.normalize_tuple``: an int or n ints → a tuple of n ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        out = (int(value),) * n
    else:
        try:
            out = tuple(value)
        except TypeError:
            raise ValueError(
                f"The `{name}` argument must be a tuple of {n} integers. Received: {value!r}"
            ) from None
        if len(out) != n or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in out
        ):
            raise ValueError(
                f"The `{name}` argument must be a tuple of {n} integers. Received: {value!r}"
            )
        out = tuple(int(v) for v in out)
    bad = [v for v in out if (v < 0 if allow_zero else v <= 0)]
    if bad:
        req = ">= 0" if allow_zero else "> 0"
        raise ValueError(
            f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value!r} "
            f"including {set(bad)} that does not satisfy the requirement `{req}`."
        )
    return out


def _padding_plan(
    spatial: Sequence[int | None],
    kernel_size: tuple,
    strides: tuple,
    dilation_rate: tuple,
    padding: str,
    layer_name: str,
) -> tuple[list, tuple]:
    """Per spatial axis: (pad_before, pad_after) and the output length (TF rules)."""
    pads: list[tuple[int, int]] = []
    outs: list[int | None] = []
    plan = zip(spatial, kernel_size, strides, dilation_rate, strict=True)
    for n, k, s, d in plan:
        eff = (k - 1) * d + 1
        if n is None:
            pads.append((0, 0))
            outs.append(None)
        elif padding == "valid":
            if n < eff:
                raise ValueError(
                    "One of the dimensions in the output is <= 0 due to downsampling in "
                    f"{layer_name}. Consider increasing the input size. Received input "
                    f"spatial shape {tuple(spatial)} with kernel_size {kernel_size} "
                    f"and dilation_rate {dilation_rate}, which would produce an "
                    "output shape with a zero or negative value in a dimension."
                )
            pads.append((0, 0))
            outs.append((n - eff) // s + 1)
        elif padding == "same":
            out = -(-n // s)
            total = max((out - 1) * s + eff - n, 0)
            pads.append((total // 2, total - total // 2))  # extra pad at the end, as TF
            outs.append(out)
        else:  # causal: all the padding before
            pads.append((eff - 1, 0))
            outs.append(-(-n // s))
    return pads, tuple(outs)


def _conv_forward(
    x: np.ndarray,
    kernel: np.ndarray,
    strides: tuple,
    dilations: tuple,
    pads: list[tuple[int, int]],
    out_sizes: tuple,
) -> np.ndarray:
    """N-D cross-correlation, channels-last: ``x`` ``(N, *spatial, C)``, ``kernel`` ``(*k, C, F)``.

    im2col: a strided sliding-window view of the padded input gives every
    patch; one matrix product per batch chunk (chunks keep the patch copy
    under ~32 MiB) contracts ``(*k, C)``.
    """
    rank = len(strides)
    ksize = kernel.shape[:rank]
    channels, filters = kernel.shape[rank], kernel.shape[rank + 1]
    n = x.shape[0]
    out = np.zeros((n, *out_sizes, filters), dtype=x.dtype)
    if out.size == 0:
        return out
    if any(p != (0, 0) for p in pads):
        x = np.pad(x, [(0, 0), *pads, (0, 0)])
    eff = tuple((k - 1) * d + 1 for k, d in zip(ksize, dilations, strict=True))
    win = np.lib.stride_tricks.sliding_window_view(x, eff, axis=tuple(range(1, rank + 1)))
    index = (
        (slice(None),)
        + tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out_sizes, strides, strict=True))
        + (slice(None),)
        + tuple(slice(None, None, d) for d in dilations)
    )
    win = win[index]  # (N, *out, C, *k)
    win = np.moveaxis(win, rank + 1, -1)  # (N, *out, *k, C): matches kernel's order
    cols = math.prod(ksize) * channels
    kmat = kernel.reshape(cols, filters)
    per_sample = math.prod(out_sizes)
    chunk = max(1, (32 << 20) // max(1, per_sample * cols * x.dtype.itemsize))
    flat_out = out.reshape(n, per_sample, filters)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        patches = win[start:stop].reshape((stop - start) * per_sample, cols)
        np.matmul(patches, kmat, out=flat_out[start:stop].reshape(-1, filters))
    return out
