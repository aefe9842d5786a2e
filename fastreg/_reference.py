"""Pure-NumPy twin of the C kernels: the test oracle, bit for bit.

It follows the canonical algorithm of ``csrc/fr_contract.h`` with NumPy
operations whose rounding is fixed: elements in memory ("K") order, blocks
of ``BLOCK`` elements, every element converted exactly to float64,
``np.cumsum`` for the sequential per-lane sums, float64 superblock and total
sums, then the fold-halves combine. The C kernels of every SIMD
level must return exactly these bits; ``math.fsum`` checks the accuracy of
both separately.

It is slow (a few temporaries per call) and meant for tests, and as the
readable statement of what the kernels compute.
"""

from __future__ import annotations

import numpy as np

LANES64 = 32
BLOCK = 2048
SUPER = 64

_KERNEL_DTYPES = (np.float16, np.float32, np.float64)


def _sequence(x: np.ndarray) -> np.ndarray:
    """The elements in the order the kernels read them, as float64."""
    x = np.asarray(x)
    if x.dtype.type not in _KERNEL_DTYPES:
        raise TypeError(f"reference kernels take float16/32/64, got {x.dtype}")
    # memory order: negative-stride axes read forwards in memory, then the
    # axes by decreasing stride (a stable sort, so zero strides go innermost)
    for axis in range(x.ndim):
        if x.strides[axis] < 0:
            x = np.flip(x, axis)
    order = sorted(range(x.ndim), key=lambda ax: -x.strides[ax])
    v = np.ravel(x.transpose(order), order="C")
    # every dtype is summed as float64 (the conversion is exact)
    return v.astype(np.float64)


def _fold(t: np.ndarray) -> float:
    t = t.copy()
    h = t.size // 2
    while h >= 1:
        t[:h] = t[:h] + t[h : 2 * h]
        h //= 2
    return float(t[0])


def _canonical_sum(v: np.ndarray) -> float:
    """Sum of per-element values v (already |x| or x*x) in the kernel order."""
    lanes = LANES64
    if v.size == 0:
        return 0.0
    nblocks = -(-v.size // BLOCK)
    padded = np.zeros(nblocks * BLOCK, dtype=v.dtype)
    padded[: v.size] = v
    lane = np.cumsum(padded.reshape(nblocks, BLOCK // lanes, lanes), axis=1)
    block_sums = lane[:, -1, :]
    nsuper = -(-nblocks // SUPER)
    sup = np.zeros((nsuper * SUPER, lanes))
    sup[:nblocks] = block_sums
    s = np.cumsum(sup.reshape(nsuper, SUPER, lanes), axis=1)[:, -1, :]
    total = np.cumsum(s, axis=0)[-1]
    return _fold(total)


def sum_abs(x: np.ndarray) -> float:
    """sum |x| exactly as the C kernels compute it."""
    return _canonical_sum(np.abs(_sequence(x)))


def sum_squares(x: np.ndarray) -> float:
    """sum x*x exactly as the C kernels compute it."""
    v = _sequence(x)
    return _canonical_sum(v * v)


def sum_abs_squares(x: np.ndarray) -> tuple[float, float]:
    return sum_abs(x), sum_squares(x)


def _compute_dtype(x: np.ndarray) -> type:
    return np.float32 if x.dtype == np.float16 else x.dtype.type


def gradient(x: np.ndarray, a: float, b: float, terms: int, out=None, accumulate=False):
    """out = [out +] a*sign(x) + b*x for the terms that are on (1: a, 2: b).

    Computed in x's dtype (float16: in float32, rounded once), as the kernels.
    """
    x = np.asarray(x)
    ct = _compute_dtype(x)
    v: np.ndarray = x.astype(ct)
    af, bf = ct(a), ct(b)
    with np.errstate(all="ignore"):
        sgn = np.where(v > 0, af, np.where(v < 0, -af, af * v)).astype(ct)
        if terms == 3:
            g = sgn + bf * v
        elif terms == 1:
            g = sgn
        elif terms == 2:
            g = bf * v
        else:
            g = np.zeros_like(v)
        if accumulate:
            if terms == 0:
                return out.copy()
            g = out.astype(ct) + g
    return g.astype(x.dtype)


def prox(x: np.ndarray, t: float, d: float, terms: int) -> np.ndarray:
    """Soft-threshold by t (term 1), then multiply by r = ct(1) / ct(d) (term 2).

    ct is the compute dtype (float32 for float16 and float32); r is rounded
    once, in ct, and each product on its own: not v / d, which differs in
    the last bit for some v (and costs a division per element in C).
    """
    x = np.asarray(x)
    ct = _compute_dtype(x)
    v: np.ndarray = x.astype(ct)
    with np.errstate(all="ignore"):
        if terms & 1:
            m = np.abs(v) - ct(t)
            pos = np.where(m > 0, m, np.where(np.isnan(m), m, ct(0)))
            v = np.copysign(pos, v).astype(ct)
        if terms & 2:
            r = ct(1) / ct(d)
            v = (v * r).astype(ct)
    return v.astype(x.dtype)


def scale_in_dtype(dtype: np.dtype, total: float, factor: float):
    """dtype(factor) * dtype(total), rounded in dtype (Keras's last step)."""
    t = np.dtype(dtype).type
    with np.errstate(all="ignore"):
        return t(t(factor) * t(total))
