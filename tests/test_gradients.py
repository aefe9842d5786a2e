"""Beyond Keras: gradient, value_and_gradient and prox.

Oracles: the bit-exact reference twin (``fastreg._reference``), the closed
forms of SEMANTICS.md's "Beyond Keras" table written out in NumPy, and
central finite differences in float64.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fastreg import _reference as ref
from fastreg import regularizers as R

FLOATS = [np.float16, np.float32, np.float64]
KINDS = ["L1", "L2", "L1L2"]


def make(kind, l1=0.3, l2=0.7):
    return {"L1": lambda: R.L1(l1), "L2": lambda: R.L2(l2), "L1L2": lambda: R.L1L2(l1, l2)}[kind]()


def coeffs(reg):
    """(a, b, terms) of the reference gradient: a*sign(x) + b*x, from the config."""
    cfg = reg.get_config()
    a = cfg.get("l1", 0.0)
    l2 = cfg.get("l2", 0.0)
    if isinstance(reg, R.L1):
        terms = 1
    elif isinstance(reg, R.L2):
        terms = 2
    else:
        terms = (1 if a else 0) | (2 if l2 else 0)
    return a, 2.0 * l2, terms


def same_bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def sample(dtype, shape=(7, 9), seed=0, specials=True):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 2).astype(dtype)
    if specials and x.size >= 6:
        flat = x.reshape(-1)
        flat[:6] = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e-3]
    return x


# ---- gradient -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kind", KINDS)
def test_gradient_matches_reference_bits(dtype, kind):
    reg = make(kind)
    for x in (sample(dtype), sample(dtype, (5000,), 1), sample(dtype, (3, 4, 5), 2)[:, ::-2].T):
        a, b, terms = coeffs(reg)
        assert same_bits(reg.gradient(x), ref.gradient(x, a, b, terms))


@pytest.mark.parametrize("dtype", FLOATS)
def test_gradient_closed_forms(dtype):
    x = sample(dtype, specials=False)
    x.reshape(-1)[:2] = [0.0, -0.0]
    l1, l2 = np.float32(0.3), np.float32(0.7)
    ct = np.float32 if dtype == np.float16 else dtype
    xc = x.astype(ct)
    g1 = R.L1(0.3).gradient(x)
    np.testing.assert_array_equal(g1, (ct(l1) * np.sign(xc)).astype(dtype))
    assert g1.dtype == dtype and g1.shape == x.shape
    assert np.all(g1.reshape(-1)[:2] == 0)  # sign(0) = 0
    g2 = R.L2(0.7).gradient(x)
    np.testing.assert_array_equal(g2, (ct(2 * float(l2)) * xc).astype(dtype))
    g12 = R.L1L2(0.3, 0.7).gradient(x)
    np.testing.assert_array_equal(
        g12, (ct(l1) * np.sign(xc) + ct(2 * float(l2)) * xc).astype(dtype)
    )


def test_gradient_nan_and_zero_factor():
    x = np.array([np.nan, 1.0, -2.0, 0.0], np.float32)
    g = R.L1(0.5).gradient(x)
    assert np.isnan(g[0]) and list(g[1:]) == [0.5, -0.5, 0.0]
    # L1L2(0, 0): no term is on, the gradient is exactly 0 even at NaN
    np.testing.assert_array_equal(R.L1L2(0.0, 0.0).gradient(x), np.zeros(4, np.float32))
    # only the non-zero term of L1L2
    np.testing.assert_array_equal(R.L1L2(0.0, 0.5).gradient(x[1:]), x[1:])
    np.testing.assert_array_equal(
        R.L1L2(0.5, 0.0).gradient(x[1:]), np.array([0.5, -0.5, 0.0], np.float32)
    )


def fd_grad(f, x, h=1e-6, relative=False):
    """Central differences; with relative=True the step is h*|x_i| per element."""
    g = np.empty_like(x)
    for i in np.ndindex(x.shape):
        hi = h * abs(x[i]) if relative else h
        xp, xm = x.copy(), x.copy()
        xp[i] += hi
        xm[i] -= hi
        g[i] = (float(f(xp)) - float(f(xm))) / (xp[i] - xm[i])
    return g


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_finite_differences_float64(kind):
    rng = np.random.default_rng(5)
    x = rng.uniform(0.1, 2.0, (4, 6)) * rng.choice([-1.0, 1.0], (4, 6))  # away from 0
    reg = make(kind)
    np.testing.assert_allclose(reg.gradient(x), fd_grad(reg, x), rtol=1e-6, atol=1e-8)


def test_gradient_of_lists_and_bfloat16():
    g = R.L2(0.5).gradient([[1.0, -2.0]])
    assert g.dtype == np.float32 and g.tolist() == [[1.0, -2.0]]
    ml_dtypes = pytest.importorskip("ml_dtypes")
    bf = ml_dtypes.bfloat16
    x = sample(np.float32, (6, 5), 3).astype(bf)
    for kind in KINDS:
        reg = make(kind)
        a, b, terms = coeffs(reg)
        g = reg.gradient(x)
        assert g.dtype == bf
        want = ref.gradient(x.astype(np.float32), a, b, terms).astype(bf)  # float32, rounded once
        assert same_bits(g, want)


# ---- value_and_gradient -----------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kind", KINDS + ["L1L2_00"])
@pytest.mark.parametrize("shape", [(), (0,), (13,), (9000,), (4, 5, 6)])
def test_value_and_gradient_is_call_plus_gradient(dtype, kind, shape):
    reg = R.L1L2(0.0, 0.0) if kind == "L1L2_00" else make(kind)
    x = sample(dtype, shape, 4)
    v, g = reg.value_and_gradient(x)
    assert same_bits(v, reg(x))
    assert isinstance(v, np.generic) and v.dtype == dtype
    assert same_bits(g, reg.gradient(x))


def _ref_value(reg, x):
    """The value from the reference twin's sums, rounded as Keras does (L1L2: from 0)."""
    cfg = reg.get_config()
    l1, l2, dt = cfg.get("l1", 0.0), cfg.get("l2", 0.0), x.dtype
    with np.errstate(all="ignore"):
        if isinstance(reg, R.L1):
            return ref.scale_in_dtype(dt, ref.sum_abs(x), l1)
        if isinstance(reg, R.L2):
            return ref.scale_in_dtype(dt, ref.sum_squares(x), l2)
        v = dt.type(0)
        if l1:
            v = dt.type(v + ref.scale_in_dtype(dt, ref.sum_abs(x), l1))
        if l2:
            v = dt.type(v + ref.scale_in_dtype(dt, ref.sum_squares(x), l2))
        return v


def _tiny_layouts(base, n):
    """n elements of base as the layouts the driver tells apart: one run (the tiny
    path up to 32), strided, reversed, a 2-d run and a transposed (Fortran) one."""
    out = {"contiguous": base[:n].copy(), "strided": base[: 2 * n : 2], "reversed": base[:n][::-1]}
    if n and n % 2 == 0:
        out["2d"] = base[:n].reshape(2, n // 2).copy()
        out["transposed"] = base[:n].reshape(2, n // 2).copy().T
    return out


@pytest.mark.parametrize("dtype", FLOATS)
def test_value_and_gradient_tiny_path_bits(simd_level, dtype):
    """n = 0 .. 2*FR_LANES64 (the one-call tiny kernel covers 1 .. 32, float32/64): the
    value is the reference's and reg(x)'s, the gradient the reference's, for every
    out mode (none, separate, accumulate, x itself, a strided out), with NaN, inf,
    -0 and subnormals, on every SIMD level."""
    rng = np.random.default_rng(64)
    edges = _edge_values(dtype)
    base = (rng.standard_normal(128) * 3).astype(dtype)
    base[::5] = rng.choice(edges, size=base[::5].size)
    plain = (rng.standard_normal(128) * 3).astype(dtype)  # no NaN: a finite value too
    regs = [make("L1"), make("L2"), make("L1L2"), R.L1L2(0.0, 0.5), R.L1L2(0.0, 0.0)]
    for n in range(0, 65):
        for src in (base, plain):
            for name, x in _tiny_layouts(src, n).items():
                for reg in regs:
                    a, b, terms = coeffs(reg)
                    want_v = _ref_value(reg, x)
                    with np.errstate(all="ignore"):  # float16's rounding may overflow
                        want_g = ref.gradient(x, a, b, terms)
                    where = (n, name, reg.get_config())
                    v, g = reg.value_and_gradient(x)
                    assert _bits_or_nan(v, want_v) and same_bits(v, reg(x)), where
                    assert isinstance(v, np.generic) and v.dtype == dtype, where
                    assert _bits_or_nan(g, want_g), where
                    acc0 = np.flip(rng.standard_normal(x.shape)).astype(dtype)
                    for accumulate in (False, True):
                        out = acc0.copy()
                        v, res = reg.value_and_gradient(x, out=out, accumulate=accumulate)
                        with np.errstate(all="ignore"):
                            want = ref.gradient(x, a, b, terms, out=acc0, accumulate=accumulate)
                            want_y = ref.gradient(x, a, b, terms, out=x, accumulate=accumulate)
                        assert res is out and _bits_or_nan(v, want_v), (where, accumulate)
                        assert _bits_or_nan(out, want), (where, accumulate)
                        # a strided out (the iterator path) and out = x itself
                        big = np.zeros((2,) + x.shape, dtype)
                        sout = big[1]
                        sout[...] = acc0
                        v, res = reg.value_and_gradient(x, out=sout, accumulate=accumulate)
                        assert _bits_or_nan(v, want_v) and _bits_or_nan(sout, want), (
                            where,
                            "strided",
                        )
                        y = x.copy(order="K")  # the same memory order, so the same sums
                        v, res = reg.value_and_gradient(y, out=y, accumulate=accumulate)
                        assert res is y and _bits_or_nan(v, want_v), (where, "x itself")
                        assert _bits_or_nan(y, want_y), (where, "x itself")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kind", KINDS + ["L1L2_00"])
def test_accumulate(dtype, kind):
    reg = R.L1L2(0.0, 0.0) if kind == "L1L2_00" else make(kind)
    x = sample(dtype, (8, 33), 6)
    grads = np.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    before = grads.copy()
    a, b, terms = coeffs(reg)
    v, out = reg.value_and_gradient(x, out=grads, accumulate=True)
    assert out is grads
    assert same_bits(v, reg(x))
    assert same_bits(out, ref.gradient(x, a, b, terms, out=before, accumulate=True))
    with pytest.raises(ValueError, match="accumulate=True needs an out"):
        reg.value_and_gradient(x, accumulate=True)


def test_accumulate_bfloat16_rounds_once():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    bf = ml_dtypes.bfloat16
    x = sample(np.float32, (4, 8), 8, specials=False).astype(bf)
    g0 = np.random.default_rng(2).standard_normal(x.shape).astype(bf)
    out = g0.copy()
    reg = R.L1L2(0.3, 0.7)
    v, res = reg.value_and_gradient(x, out=out, accumulate=True)
    assert res is out and same_bits(v, reg(x))
    a, b, terms = coeffs(reg)
    want = ref.gradient(
        x.astype(np.float32), a, b, terms, out=g0.astype(np.float32), accumulate=True
    ).astype(bf)
    assert same_bits(out, want)


# ---- out= ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method", ["gradient", "value_and_gradient", "prox"], ids=["grad", "vg", "prox"]
)
@pytest.mark.parametrize("kind", KINDS + ["Orth"])
def test_out_errors(method, kind):
    reg = R.OrthogonalRegularizer(0.1) if kind == "Orth" else make(kind)
    if method == "prox" and kind == "Orth":
        assert not hasattr(reg, "prox")
        return
    call = {
        "gradient": lambda x, out: reg.gradient(x, out=out),
        "value_and_gradient": lambda x, out: reg.value_and_gradient(x, out=out),
        "prox": lambda x, out: reg.prox(x, 0.1, out=out),
    }[method]
    x = np.ones((3, 4), np.float32)
    with pytest.raises(TypeError, match="out must be a numpy.ndarray, got list"):
        call(x, [[0.0] * 4] * 3)
    with pytest.raises(TypeError, match="out has dtype float64, but the result has dtype float32"):
        call(x, np.zeros((3, 4)))
    with pytest.raises(TypeError, match="dtype"):
        call(x, np.zeros((3, 4), ">f4"))
    with pytest.raises(ValueError, match=r"out has shape \(4, 3\), but the result has shape"):
        call(x, np.zeros((4, 3), np.float32))
    ro = np.zeros((3, 4), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        call(x, ro)
    shared = np.lib.stride_tricks.as_strided(np.zeros(4, np.float32), (3, 4), (0, 4))
    with pytest.raises(ValueError, match="share memory"):
        call(x, shared)
    good = np.empty((3, 4), np.float32)
    res = call(x, good)
    assert (res[1] if method == "value_and_gradient" else res) is good


@pytest.mark.parametrize("dtype", FLOATS)
def test_out_layouts_and_in_place(dtype):
    x = sample(dtype, (6, 10), 9)
    reg = R.L1L2(0.3, 0.7)
    want = reg.gradient(x.copy())
    out = np.zeros((10, 6), dtype).T  # another layout
    assert reg.gradient(x, out=out) is out
    assert same_bits(np.ascontiguousarray(out), want)
    y = x.copy()
    assert reg.gradient(y, out=y) is y  # in place
    assert same_bits(y, want)


def test_partial_overlap_reads_the_original_values():
    buf = np.arange(1.0, 21.0, dtype=np.float32)
    x, out = buf[:-1], buf[1:]  # out starts one element later in the same memory
    want = R.L2(0.5).gradient(x.copy())
    R.L2(0.5).gradient(x, out=out)
    np.testing.assert_array_equal(buf[1:], want)
    buf = np.arange(1.0, 21.0, dtype=np.float64)
    xw = buf[::-1]  # same memory, reversed
    want = R.L1(0.5).prox(xw.copy(), 2.0)
    R.L1(0.5).prox(xw, 2.0, out=buf)
    np.testing.assert_array_equal(buf, want)


# ---- prox ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kind", KINDS + ["L1L2_00"])
@pytest.mark.parametrize("step", [0.0, 0.1, 1.0, 3.5])
def test_prox_matches_reference_bits(dtype, kind, step):
    reg = R.L1L2(0.0, 0.0) if kind == "L1L2_00" else make(kind)
    x = sample(dtype, (11, 13), 12)
    cfg = reg.get_config()
    l1, l2 = cfg.get("l1", 0.0), cfg.get("l2", 0.0)
    _, _, terms = coeffs(reg)
    got = reg.prox(x, step)
    assert got.dtype == dtype and got.shape == x.shape
    assert same_bits(got, ref.prox(x, step * l1, 1.0 + 2.0 * step * l2, terms))


def test_prox_closed_forms_float64():
    x = np.array([-3.0, -0.5, -0.25, 0.0, 0.25, 0.5, 3.0, np.nan, np.inf])
    t = 0.5  # step 2 * l1 0.25
    got = R.L1(0.25).prox(x, 2.0)
    want = np.sign(x) * np.maximum(np.abs(x) - t, 0.0)
    np.testing.assert_array_equal(got, want)
    assert np.all(got[1:6] == 0.0)  # exact zeros inside the threshold
    got = R.L2(0.25).prox(x, 2.0)
    np.testing.assert_array_equal(got, x / (1 + 2 * 2.0 * 0.25))
    got = R.L1L2(0.25, 0.25).prox(x, 2.0)
    np.testing.assert_array_equal(got, want / 2.0)
    np.testing.assert_array_equal(R.L1(0.25).prox(x, 0.0), x)


@pytest.mark.parametrize("kind", KINDS)
def test_prox_optimality_float64(kind):
    """z = prox(x) satisfies (x - z)/step ∈ ∂penalty(z)."""
    rng = np.random.default_rng(13)
    x = rng.standard_normal(200) * 2
    step = 0.7
    reg = make(kind, 0.4, 0.3)
    cfg = reg.get_config()
    l1, l2 = cfg.get("l1", 0.0), cfg.get("l2", 0.0)
    z = reg.prox(x, step)
    r = (x - z) / step - 2 * l2 * z  # what is left for the l1 subgradient
    if l1:
        nz = z != 0
        np.testing.assert_allclose(r[nz], l1 * np.sign(z[nz]), atol=1e-12)
        assert np.all(np.abs(r[~nz]) <= l1 + 1e-12)
    else:
        np.testing.assert_allclose(r, 0, atol=1e-12)


def test_prox_in_place_and_out():
    x = np.array([-2.0, 0.1, 3.0], np.float32)
    want = R.L1(0.5).prox(x.copy(), 1.0)
    assert R.L1(0.5).prox(x, 1.0, out=x) is x
    np.testing.assert_array_equal(x, want)
    # L1L2(0, 0): identity, into a new array
    y = np.array([1.0, np.nan], np.float32)
    p = R.L1L2(0.0, 0.0).prox(y, 1.0)
    assert p is not y and same_bits(p, y)


def test_prox_bfloat16():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    bf = ml_dtypes.bfloat16
    x = sample(np.float32, (5, 7), 14).astype(bf)
    reg = R.L1L2(0.3, 0.7)
    got = reg.prox(x, 0.5)
    assert got.dtype == bf
    cfg = reg.get_config()
    want = ref.prox(x.astype(np.float32), 0.5 * cfg["l1"], 1 + 2 * 0.5 * cfg["l2"], 3).astype(bf)
    assert same_bits(got, want)
    assert reg.prox(x, 0.5, out=x) is x and same_bits(x, want)


@pytest.mark.parametrize(
    "step", [-0.1, math.nan, math.inf, "0.1", None, True, np.ones(2), 1j, np.array([0.5])]
)
def test_prox_step_validation(step):
    with pytest.raises(ValueError, match="step must be a finite real number >= 0"):
        R.L1(0.1).prox(np.ones(3), step)


def test_prox_step_kinds():
    x = np.array([2.0, -2.0])
    for step in (1, 1.0, np.float32(1.0), np.asarray(1.0), np.int64(1)):
        np.testing.assert_array_equal(R.L1(0.5).prox(x, step), [1.5, -1.5])


def test_prox_undefined_for_negative_l2():
    with pytest.raises(ValueError, match="1 \\+ 2\\*step\\*l2 must be positive"):
        R.L2(-1.0).prox(np.ones(3), 0.5)
    np.testing.assert_array_equal(R.L2(-1.0).prox(np.ones(2), 0.25), [2.0, 2.0])


# ---- prox's L2 term: a product with the rounded reciprocal ----------------------------
#
# The rule, for every dtype: r = ct(1) / ct(d), ct the compute dtype (float32 for
# float16 and float32), rounded once; then soft_threshold(x) * r, each product rounded
# on its own. Checked here against NumPy written out without fastreg._reference.


def _bits_or_nan(a, b) -> bool:
    """Same dtype and shape, NaN where the other is NaN, every other element's bits."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    na, nb = np.isnan(a), np.isnan(b)
    return bool(np.array_equal(na, nb) and a[~na].tobytes() == b[~nb].tobytes())


def _prox_by_rule(x, step, l1, l2):
    """soft_threshold(x, step*l1) * (ct(1) / ct(1 + 2*step*l2)) in NumPy."""
    ct = np.float32 if x.dtype == np.float16 else x.dtype.type
    v = x.astype(ct)
    with np.errstate(all="ignore"):
        if l1:
            v = np.copysign(np.maximum(np.abs(v) - ct(step * l1), ct(0)), v)
        r = ct(1) / ct(1.0 + 2.0 * step * l2)
        return (v * r).astype(x.dtype)


def _edge_values(dtype):
    fi = np.finfo(dtype)
    tiny = fi.smallest_subnormal
    return np.array(
        [
            0.0,
            -0.0,
            np.nan,
            -np.nan,
            np.inf,
            -np.inf,
            tiny,
            -tiny,
            3 * tiny,
            fi.tiny,
            -fi.tiny,
            fi.max,
            -fi.max,
            1.0,
            -1.0,
            5.0,
            7.0,
            0.1,
            -0.2,
            1e-3,
        ],
        dtype=dtype,
    )


def _rule_inputs(dtype):
    """Random, edge and non-contiguous arrays of sizes for the tiny path, blocks and threads."""
    rng = np.random.default_rng(31)
    out = {"edges": _edge_values(dtype)}
    for n in (7, 32, 33, 2051, 300_000):
        x = (rng.standard_normal(n) * 3).astype(dtype)
        x[::97] = rng.choice(_edge_values(dtype), size=x[::97].size)
        out[f"n={n}"] = x
    m = (rng.standard_normal((60, 70)) * 3).astype(dtype)
    out["strided"] = m[::3, 1::2]
    out["fortran"] = np.asfortranarray(m)
    out["reversed"] = m.reshape(-1)[::-1]
    return out


# (l1, l2, step): an inexact d; d = 1 (step 0: the identity); a subnormal r for float64
# (d just under 2^1024); d that overflows to inf (r = 0); d beyond float32's range only
# after rounding to float32 (r = 0 for float16/32, a tiny r for float64)
RULE_FACTORS = [
    (0.3, 0.7, 0.9),
    (0.0, 1.0, 1.0),
    (0.2, 0.35, 0.0),
    (0.0, 0.5, 1e308),
    (0.1, 5.0, 1e308),
    (0.0, 1e38, 5.0),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("l1, l2, step", RULE_FACTORS)
def test_prox_multiplies_by_the_rounded_reciprocal(simd_level, dtype, l1, l2, step):
    import fastreg
    from fastreg.training import ParamGroup

    reg = R.L1L2(l1, l2)
    cfg = reg.get_config()  # the factors as stored (float32-rounded)
    l1, l2 = cfg["l1"], cfg["l2"]
    previous = fastreg.set_num_threads(1)
    try:
        for name, x in _rule_inputs(dtype).items():
            want = _prox_by_rule(x, step, l1, l2)
            for threads in (1, 2):
                fastreg.set_num_threads(threads)
                got = reg.prox(x, step)
                assert _bits_or_nan(got, want), (name, threads)
            # prox_step with g = 0: w - lr*0 is w where lr is finite in the dtype
            if dtype != np.float16 and x.ndim == 1 and step <= float(np.finfo(dtype).max):
                w = x.copy()
                ParamGroup([w], reg).prox_step([np.zeros_like(w)], step)
                assert _bits_or_nan(w, want), (name, "prox_step")
    finally:
        fastreg.set_num_threads(previous)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prox_is_not_a_division(simd_level, dtype):
    """x * ct(1/3) is not x / 3: a return to division shows as one ulp here."""
    from fastreg.training import ParamGroup

    reg = R.L2(0.5)  # d = 1 + 2*step*0.5 = 3 at step 2
    x = np.arange(1, 200, dtype=dtype)
    with np.errstate(all="ignore"):
        mul, div = x * (dtype(1) / dtype(3)), x / dtype(3)
    differ = np.flatnonzero(mul != div)
    assert differ.size  # e.g. 5 * (1/3) = 1.6666666666666665, 5 / 3 = 1.6666666666666667
    ints = {np.float32: np.int32, np.float64: np.int64}[dtype]
    ulps = mul[differ].view(ints).astype(np.int64) - div[differ].view(ints).astype(np.int64)
    assert np.all(np.abs(ulps) == 1)
    got = reg.prox(x, 2.0)
    assert same_bits(got, mul) and not same_bits(got, div)
    w = x.copy()
    ParamGroup([w], reg).prox_step([np.zeros_like(w)], 2.0)
    assert same_bits(w, mul)


# ---- property tests --------------------------------------------------------------------


float_arrays = st.sampled_from(FLOATS).flatmap(
    lambda dt: hnp.arrays(
        dt,
        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=9),
        elements=st.one_of(
            st.floats(-1e3, 1e3, width=np.finfo(dt).bits),
            st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf]),
        ),
    )
)


@settings(max_examples=150, deadline=None)
@given(
    x=float_arrays,
    l1=st.floats(-2, 2, width=32),
    l2=st.floats(-2, 2, width=32),
    step=st.floats(0, 10),
)
def test_property_everything_matches_reference(x, l1, l2, step):
    keep = x.copy()
    reg = R.L1L2(l1, l2)
    a, b, terms = coeffs(reg)
    v, g = reg.value_and_gradient(x)
    assert same_bits(v, reg(x))
    assert same_bits(g, ref.gradient(x, a, b, terms))
    d = 1.0 + 2.0 * step * reg.get_config()["l2"]
    if terms & 2 and d <= 0:
        with pytest.raises(ValueError):
            reg.prox(x, step)
    else:
        assert same_bits(reg.prox(x, step), ref.prox(x, step * a, d, terms))
    assert same_bits(x, keep)


# ---- OrthogonalRegularizer -------------------------------------------------------------


@pytest.mark.parametrize("mode", ["rows", "columns"])
@pytest.mark.parametrize("shape", [(2, 3), (3, 3), (4, 7), (6, 2)])
def test_orthogonal_gradient_finite_differences(mode, shape):
    rng = np.random.default_rng(sum(shape))
    x = rng.uniform(-1, 1, shape)
    reg = R.OrthogonalRegularizer(0.3, mode)
    g = reg.gradient(x)
    assert g.dtype == np.float64 and g.shape == x.shape
    np.testing.assert_allclose(g, fd_grad(reg, x), rtol=1e-5, atol=1e-9)


def test_orthogonal_gradient_tiny_rows_finite_differences():
    # a row with norm below 1e-6 is scaled by a constant 1e6 (epsilon branch)
    x = np.array([[3e-7, -2e-7, 1e-7], [0.5, 1.0, -0.25], [0.2, -0.3, 0.9]])
    reg = R.OrthogonalRegularizer(1.0)
    np.testing.assert_allclose(
        reg.gradient(x), fd_grad(reg, x, h=1e-6, relative=True), rtol=1e-5, atol=1e-8
    )


def test_orthogonal_value_and_gradient():
    x = np.random.default_rng(3).uniform(-1, 1, (5, 4)).astype(np.float32)
    for mode in ("rows", "columns"):
        reg = R.OrthogonalRegularizer(0.2, mode)
        v, g = reg.value_and_gradient(x)
        assert same_bits(v, reg(x))
        assert same_bits(g, reg.gradient(x)) and g.dtype == np.float32
        out = np.ones_like(x)
        v2, res = reg.value_and_gradient(x, out=out, accumulate=True)
        assert res is out and same_bits(v2, v)
        np.testing.assert_array_equal(out, np.float32(1) + g)
        out2 = np.empty_like(x)
        assert reg.gradient(x, out=out2) is out2 and same_bits(out2, g)
        with pytest.raises(ValueError, match="accumulate=True needs an out"):
            reg.value_and_gradient(x, accumulate=True)


def test_orthogonal_gradient_float16_is_float32_rounded_once():
    x32 = np.random.default_rng(4).uniform(-1, 1, (4, 6)).astype(np.float16).astype(np.float32)
    reg = R.OrthogonalRegularizer(0.5, "columns")
    g16 = reg.gradient(x32.astype(np.float16))
    assert g16.dtype == np.float16
    assert same_bits(g16, reg.gradient(x32).astype(np.float16))


def test_orthogonal_gradient_degenerate():
    reg = R.OrthogonalRegularizer(1.0)
    assert np.all(np.isnan(reg.gradient(np.ones((1, 3)))))  # the value is nan (0/0)
    assert reg.gradient(np.ones((0, 3))).shape == (0, 3)
    assert reg.gradient(np.ones((3, 0))).shape == (3, 0)
    g = reg.gradient(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    assert np.all(np.isfinite(g))
    np.testing.assert_array_equal(reg.gradient(np.eye(3)), np.zeros((3, 3)))  # sign(0) = 0
    with pytest.raises(ValueError, match="must have rank 2"):
        reg.gradient(np.ones(3))
