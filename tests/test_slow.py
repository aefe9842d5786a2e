"""The bfloat16 slow path (fastreg/_slow.py) and its rounding in C.

The value of a bfloat16 input is rounded by ``fr_penalty_value`` with
FR_BF16 (csrc/fr_penalty.c), not in Python: here it is checked against
ml_dtypes' own bfloat16 arithmetic (what Keras's bfloat16 computes), on
ties, subnormals, overflow and random values.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from fastreg import _core
from fastreg import regularizers as R

ml_dtypes = pytest.importorskip("ml_dtypes")
BF = ml_dtypes.bfloat16


def _round_bf16(d: float) -> float:
    """d rounded once to the nearest bfloat16 (ties to even), in exact rational arithmetic.

    Not ml_dtypes' own float64 -> bfloat16 cast: before 0.5 it went through
    float32 and so rounded twice (1 + 2**-8 + 2**-40 became 1.0).
    """
    if d == 0.0 or math.isnan(d) or math.isinf(d):
        return d
    _, e = math.frexp(d)  # |d| in [2**(e-1), 2**e): bfloat16 spacing 2**(e-8)
    e = max(e, -125)  # below float32's smallest normal the spacing stays 2**-133
    r = round(Fraction(d) * Fraction(2) ** (8 - e)) * Fraction(2) ** (e - 8)
    return math.copysign(math.inf, d) if abs(r) >= 2**128 else float(r)


def _keras_bf16(a: float, b: float, terms: int, l1l2: bool, sa: float, ss: float) -> float:
    """The value as bfloat16 arithmetic gives it (ml_dtypes), independently of fastreg.

    Each number is rounded once to bfloat16, then multiplied and added in
    bfloat16 arithmetic (float32 inside, rounded back), as Keras's bfloat16 does.
    """

    def bf(v: float) -> Any:
        return BF(_round_bf16(v))  # exact: the value is a bfloat16 already

    with np.errstate(all="ignore"):
        if not l1l2:
            return float(bf(a) * bf(sa)) if terms & 1 else float(bf(b) * bf(ss))
        v = BF(0.0)
        if terms & 1:
            v = v + bf(a) * bf(sa)
        if terms & 2:
            v = v + bf(b) * bf(ss)
        return float(v)


def _sums() -> list[float]:
    rng = np.random.default_rng(7)
    edge = [
        0.0,
        1.0,
        1.0 + 2**-8,
        1.0 + 2**-8 + 2**-40,
        1.0 + 3 * 2**-8,
        3.0 * 2**-9,
        2.0**-126,
        2.0**-130 + 2.0**-134,
        2.0**-133,
        2.0**-134,
        2.0**-134 + 2**-160,
        3.3895313892515355e38,
        3.39e38,
        3.4e38,
        1e300,
        math.inf,
        math.nan,
    ]
    return edge + list(rng.lognormal(0.0, 20.0, 400)) + list(rng.uniform(0, 10, 200))


@pytest.mark.parametrize(
    "make",
    [lambda: R.L1(0.01), lambda: R.L2(0.3), lambda: R.L1L2(0.01, 0.3), lambda: R.L1L2(1e-30, 7.0)],
    ids=["L1", "L2", "L1L2", "L1L2-tiny"],
)
def test_bf16_value_rounding_matches_ml_dtypes(make) -> None:
    reg = make()
    a, b, terms, l1l2 = reg._params()
    sums = _sums()
    for sa, ss in zip(sums, sums[::-1], strict=True):
        got = reg._value_in(_core.FR_BF16, sa, ss)
        want = _keras_bf16(a, b, terms, l1l2, sa, ss)
        assert (math.isnan(got) and math.isnan(want)) or got == want, (sa, ss, got, want)


def test_bf16_call_goes_through_the_slow_path() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((7, 129)).astype(BF)
    reg = R.L1L2(0.01, 0.02)
    v = reg(x)
    assert v.dtype == x.dtype
    wide = x.astype(np.float64)
    want = _keras_bf16(*reg._params(), float(np.abs(wide).sum()), float((wide * wide).sum()))
    assert float(v) == want
    g = np.zeros_like(x)
    value, out = reg.value_and_gradient(x, out=g, accumulate=True)
    assert out is g and float(value) == want
    assert np.array_equal(
        g.astype(np.float32), reg.gradient(x.astype(np.float32)).astype(BF).astype(np.float32)
    )
