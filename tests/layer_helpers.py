"""Helpers for the layer tests: golden layer checks and a direct convolution.

``conv_reference`` is deliberately naive (Python loops over the batch,
every output position and every kernel tap, in float64) so that it checks
the vectorised forward pass in ``fastreg.layers`` independently. Its
padding follows TensorFlow's documented rule, written out here on its own:
"same" gives ``ceil(n / stride)`` outputs and pads ``max((out - 1) * stride
+ effective_kernel - n, 0)`` in total, ``total // 2`` before and the rest
(the odd extra one) after; "causal" pads ``effective_kernel - 1`` before.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from golden import check_numeric

# Tolerances the golden README gives for `dense` cases: (rtol, atol).
OUTPUT_TOL = {"float64": (1e-10, 1e-12), "float32": (1e-5, 1e-6), "float16": (1e-2, 1e-2)}
LOSS_TOL = {"float64": (1e-10, 1e-15), "float32": (1e-5, 1e-7), "float16": (1e-2, 1e-3)}


def check_output(y: Any, want: dict) -> None:
    """A golden layer output: exact dtype and shape, the float64 sum, the first values."""
    assert isinstance(y, np.ndarray), type(y)
    assert y.dtype.name == want["dtype"], (y.dtype, want["dtype"])
    assert list(y.shape) == want["shape"], (y.shape, want["shape"])
    rtol, atol = OUTPUT_TOL[want["dtype"]]
    s = float(np.sum(y.astype(np.float64)))
    assert abs(s - want["sum"]) <= atol * y.size + rtol * abs(want["sum"]), (s, want["sum"])
    first = y.astype(np.float64).ravel()[: len(want["first"])]
    for got, exp in zip(first, want["first"], strict=True):
        assert abs(got - exp) <= atol + rtol * abs(exp), (list(first), want["first"])


def check_losses(got: list, want: list, tol_table: dict | None = None) -> None:
    """``layer.losses`` against a golden list of numeric results, in order."""
    assert isinstance(got, list), type(got)
    assert len(got) == len(want), (got, want)
    for g, w in zip(got, want, strict=True):
        tol = tol_table.get(w["dtype"]) if tol_table else None
        check_numeric(g, w, tol=tol)


def values(losses: list) -> list[float]:
    """Loss values as Python floats (for readable assertions)."""
    return [float(np.asarray(v)) for v in losses]


def same_pads(n: int, k: int, s: int, d: int) -> tuple[int, tuple[int, int]]:
    eff = (k - 1) * d + 1
    out = -(-n // s)
    total = max((out - 1) * s + eff - n, 0)
    return out, (total // 2, total - total // 2)


def conv_reference(
    x: np.ndarray,
    kernel: np.ndarray,
    bias: np.ndarray | None,
    strides: tuple,
    padding: str,
    data_format: str,
    dilation: tuple,
) -> np.ndarray:
    """Direct N-D cross-correlation in float64 (TF/Keras conventions), loops everywhere."""
    rank = kernel.ndim - 2
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    n_batch = x.shape[0]
    spatial = x.shape[1 : 1 + rank]
    ksize = kernel.shape[:rank]
    filters = kernel.shape[-1]
    outs, before = [], []
    for n, k, s, d in zip(spatial, ksize, strides, dilation, strict=True):
        eff = (k - 1) * d + 1
        if padding == "valid":
            outs.append((n - eff) // s + 1)
            before.append(0)
        elif padding == "same":
            out, (b, _) = same_pads(n, k, s, d)
            outs.append(out)
            before.append(b)
        elif padding == "causal":
            outs.append(-(-n // s))
            before.append(eff - 1)
        else:
            raise AssertionError(padding)
    y = np.zeros((n_batch, *outs, filters))
    for b in range(n_batch):
        for pos in itertools.product(*(range(o) for o in outs)):
            acc = np.zeros(filters)
            for tap in itertools.product(*(range(k) for k in ksize)):
                idx = []
                inside = True
                axes = zip(pos, tap, strides, dilation, before, spatial, strict=True)
                for p, t, s, d, lo, n in axes:
                    i = p * s + t * d - lo
                    if not 0 <= i < n:
                        inside = False
                        break
                    idx.append(i)
                if inside:
                    acc += x[(b, *idx)] @ kernel[tap]
            y[(b, *pos)] = acc
    if bias is not None:
        y = y + np.asarray(bias, dtype=np.float64)
    if data_format == "channels_first":
        y = np.moveaxis(y, -1, 1)
    return y


def assert_close(got: np.ndarray, want: np.ndarray, rtol: float, atol: float) -> None:
    got64 = np.asarray(got, dtype=np.float64)
    assert got64.shape == want.shape, (got64.shape, want.shape)
    bad = np.abs(got64 - want) > atol + rtol * np.abs(want)
    assert not bad.any(), (
        f"{int(bad.sum())} of {bad.size} values differ; max abs err "
        f"{float(np.max(np.abs(got64 - want))) if want.size else 0.0}"
    )


def fans_product(shape: tuple) -> tuple[int, int]:
    """Keras's fan_in/fan_out for a kernel shape (receptive field included)."""
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive
