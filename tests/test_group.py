"""fastreg.ParamGroup: one call over many weights, checked against per-weight calls.

Every expected value is built here from the single-array API (``reg(W)``,
``reg.gradient``, ``reg.value_and_gradient``, ``reg.prox``) and plain NumPy
arithmetic on the documented formulas, and compared bit for bit: the group
must be exactly those calls, in one pass. Errors must come before any write.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import fastreg
from fastreg import L1, L1L2, L2, OrthogonalRegularizer, ParamGroup, _core
from fastreg import regularizers as R

# tiny (<= 32: the tiny path of fr_reduce), a block and a bit, a bias, more
# than one superblock (131072 elements), Fortran order, empty
SHAPES = [(7,), (3, 700), (10,), (400, 350), (33, 65), (0, 4)]


def _weights(seed: int, dtype: Any = np.float32) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    ws = [(rng.standard_normal(s) * 2).astype(dtype) for s in SHAPES]
    ws[4] = np.asfortranarray(ws[4])
    ws[1][0, ::5] = 0.0  # sign(0) = 0 in the gradient, exact zeros in the prox
    return ws


def _regs() -> list[Any]:
    return [L1(0.01), L1L2(1e-4, 1e-3), None, L2(1e-3), L1L2(0.02, 0.0), L1(0.5)]


def _grads(ws: list[np.ndarray], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    grads = [np.empty_like(w) for w in ws]  # the weight's memory order
    for g in grads:
        g[...] = rng.standard_normal(g.shape)
    return grads


def _copy(arrays: list[np.ndarray]) -> list[np.ndarray]:
    return [a.copy(order="A") for a in arrays]


def _total(ws: list[np.ndarray], regs: list[Any]) -> float:
    """The documented total: float(reg(W)) added in order from 0.0."""
    total = 0.0
    for w, r in zip(ws, regs, strict=True):
        if r is not None:
            total += float(r(w))
    return total


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(
        x.dtype == y.dtype and x.tobytes("A") == y.tobytes("A") for x, y in zip(a, b, strict=True)
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_penalty_is_the_sum_of_the_calls(dtype: Any) -> None:
    ws, regs = _weights(1, dtype), _regs()
    group = ParamGroup(ws, regs)
    assert group.penalty() == _total(ws, regs)
    assert type(group.penalty()) is float


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_gradients_is_value_and_gradient_accumulate(dtype: Any) -> None:
    ws, regs = _weights(2, dtype), _regs()
    grads = _grads(ws, 3)
    expected = _copy(grads)
    for w, r, e in zip(ws, regs, expected, strict=True):
        if r is not None:
            r.value_and_gradient(w, out=e, accumulate=True)
    before = _copy(ws)
    total = ParamGroup(ws, regs).add_gradients(grads)
    assert total == _total(ws, regs)
    assert _same(grads, expected)
    assert _same(ws, before)  # the weights are only read


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_step_is_the_numpy_update(dtype: Any, momentum: float) -> None:
    ws, regs = _weights(4, dtype), _regs()
    group = ParamGroup(ws, regs)
    ref = _copy(ws)
    vel = [np.zeros_like(w) for w in ws]
    for step in range(3):
        grads = _grads(ws, 10 + step)
        kept = _copy(grads)
        expected_total = _total(ref, regs)
        for w, r, g, v in zip(ref, regs, grads, vel, strict=True):
            u = g if r is None else g + r.gradient(w)
            if momentum:
                v *= dtype(momentum)
                v += u
                u = v
            w -= 0.05 * u
        assert group.sgd_step(grads, 0.05, momentum=momentum) == expected_total
        assert _same(ws, ref), f"step {step}"
        assert _same(grads, kept)  # gradients are only read


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prox_step_is_prox_of_the_gradient_step(dtype: Any) -> None:
    ws, regs = _weights(5, dtype), _regs()
    grads = _grads(ws, 6)
    expected_total = _total(ws, regs)
    ref = _copy(ws)
    for i, (w, r, g) in enumerate(zip(ref, regs, grads, strict=True)):
        z = w - 0.1 * g
        ref[i] = z if r is None else r.prox(z, 0.1)
    assert ParamGroup(ws, regs).prox_step(grads, 0.1) == expected_total
    assert _same(ws, ref)


def test_prox_step_makes_exact_zeros() -> None:
    w = np.array([0.3, -0.04, 0.02, -2.0, 0.0], dtype=np.float32)
    g = np.zeros_like(w)
    ParamGroup([w], L1(1.0)).prox_step([g], 0.05)  # threshold 0.05
    t = np.float32(0.05)
    assert w.tolist() == [np.float32(0.3) - t, 0.0, 0.0, -(np.float32(2.0) - t), 0.0]
    assert np.signbit(w[1])  # soft-thresholding keeps the sign of -0.04


def test_step_zero_is_the_identity_for_prox() -> None:
    ws, regs = _weights(7), _regs()
    before = _copy(ws)
    ParamGroup(ws, regs).prox_step(_grads(ws, 8), 0)
    assert _same(ws, before)


def _run_all(seed: int) -> tuple[list[float], list[np.ndarray]]:
    ws, regs = _weights(seed), _regs()
    group = ParamGroup(ws, regs)
    grads = _grads(ws, seed + 1)
    totals = [group.penalty(), group.add_gradients(grads)]
    totals.append(group.sgd_step(grads, 0.01, momentum=0.5))
    totals.append(group.sgd_step(grads, 0.01, momentum=0.5))
    totals.append(group.prox_step(grads, 0.01))
    return totals, ws + grads


def test_bit_identical_across_simd_levels_and_threads() -> None:
    levels = [n for n in fastreg.simd_info()["detected"] if n in fastreg.simd_info()["compiled"]]
    prev_level = fastreg.set_simd(levels[0])
    prev_threads = fastreg.set_num_threads(1)
    prev_min = _core._set_parallel_min(2)  # the 140k-element weight splits in 2
    try:
        base = _run_all(20)
        for level in levels:
            fastreg.set_simd(level)
            for threads in (1, 2, 3):
                fastreg.set_num_threads(threads)
                totals, arrays = _run_all(20)
                assert totals == base[0], (level, threads)
                assert _same(arrays, base[1]), (level, threads)
    finally:
        _core._set_parallel_min(prev_min)
        fastreg.set_num_threads(prev_threads)
        fastreg.set_simd(prev_level)


def test_one_regularizer_for_all_and_names() -> None:
    ws = _weights(9)
    reg = L2(0.01)
    assert ParamGroup(ws, reg).penalty() == _total(ws, [reg] * len(ws))
    assert ParamGroup(ws, "l2").penalty() == _total(ws, [R.get("l2")] * len(ws))
    assert ParamGroup(ws).penalty() == 0.0
    assert ParamGroup([], None).penalty() == 0.0


# ---- the Python fallback -----------------------------------------------------


class Quartic(R.Regularizer):
    """A custom regularizer with a gradient: 0.25 * sum(x**4)."""

    def __call__(self, x: Any) -> Any:
        return np.float32(0.25) * np.sum(np.asarray(x) ** 4)

    def gradient(self, x: Any) -> Any:
        return np.asarray(x) ** 3


class LoudL2(L2):
    """A subclass whose own __call__ must be the one used."""

    def __call__(self, x: Any) -> Any:
        return super().__call__(x) * 2


def test_fallbacks_use_their_own_methods() -> None:
    ws = _weights(11)
    regs = [Quartic(), LoudL2(0.01), None, L2(1e-3), OrthogonalRegularizer(0.1), L1(0.5)]
    group = ParamGroup(ws, regs)
    assert group.penalty() == _total(ws, regs)
    grads = _grads(ws, 12)
    expected = _copy(grads)
    for w, r, e in zip(ws, regs, expected, strict=True):
        if r is not None:
            e += np.asarray(r.gradient(w), dtype=e.dtype)
    assert group.add_gradients(grads) == _total(ws, regs)
    assert _same(grads, expected)


def test_float16_weights_take_the_numpy_path() -> None:
    ws = [w.astype(np.float16) for w in _weights(13)[:3]]
    regs = _regs()[:3]
    grads = _grads(ws, 14)
    ref = _copy(ws)
    expected_total = _total(ws, regs)
    for w, r, g in zip(ref, regs, grads, strict=True):
        u = g if r is None else g + r.gradient(w)
        w -= 0.1 * u
    assert ParamGroup(ws, regs).sgd_step(grads, 0.1) == expected_total
    assert _same(ws, ref)


def test_function_regularizer_values_and_missing_gradient() -> None:
    ws = _weights(15)[:3]

    def fn(x: Any) -> Any:
        return 0.5 * np.sum(np.abs(x))

    regs = [fn, L2(0.1), None]
    group = ParamGroup(ws, regs)
    assert group.penalty() == _total(ws, regs)
    grads = _grads(ws, 16)
    before_w, before_g = _copy(ws), _copy(grads)
    with pytest.raises(TypeError, match=r"weights\[0\].*gradient\(\).*add_gradients"):
        group.add_gradients(grads)
    with pytest.raises(TypeError, match=r"gradient\(\).*sgd_step"):
        group.sgd_step(grads, 0.1)
    with pytest.raises(TypeError, match=r"prox\(\).*prox_step"):
        group.prox_step(grads, 0.1)
    assert _same(ws, before_w) and _same(grads, before_g)  # nothing was written


# ---- errors, before anything is written --------------------------------------


def test_construction_errors() -> None:
    w = np.ones(4, dtype=np.float32)
    with pytest.raises(ValueError, match="2 regularizers for 1 weights"):
        ParamGroup([w], [None, None])
    with pytest.raises(TypeError, match=r"weights\[0\] must be a NumPy array"):
        ParamGroup([[1.0, 2.0]])
    with pytest.raises(TypeError, match="float16, float32 or float64"):
        ParamGroup([np.ones(3, dtype=np.int32)])
    ro = np.ones(3)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        ParamGroup([ro])
    with pytest.raises(ValueError, match="contiguous"):
        ParamGroup([np.ones((4, 4))[:, ::2]])
    big = np.ones(10)
    with pytest.raises(ValueError, match=r"weights\[0\] and weights\[1\] share memory"):
        ParamGroup([big[:6], big[5:]])


def _bad_step_cases(ws: list[np.ndarray]) -> list[tuple[str, Any, Any, type, str]]:
    good = _grads(ws, 30)
    wrong_shape = list(good)
    wrong_shape[1] = np.zeros((700, 3), dtype=np.float32)
    wrong_dtype = list(good)
    wrong_dtype[3] = good[3].astype(np.float64)
    wrong_order = list(good)
    wrong_order[1] = np.asfortranarray(good[1])
    aliased = list(good)
    aliased[3] = ws[3]
    crossed = list(good)
    crossed[0] = ws[2][:7]  # the bias's memory, as the 7-element gradient
    not_array = list(good)
    not_array[2] = [0.0] * 10
    return [
        ("sgd", good[:-1], 0.1, ValueError, "5 gradients for 6 weights"),
        ("sgd", wrong_shape, 0.1, ValueError, r"grads\[1\] has shape"),
        ("sgd", wrong_dtype, 0.1, TypeError, r"grads\[3\] has dtype float64"),
        ("sgd", wrong_order, 0.1, ValueError, r"grads\[1\] must be contiguous"),
        ("sgd", aliased, 0.1, ValueError, r"weights\[3\] and grads\[3\] share memory"),
        ("prox", crossed, 0.1, ValueError, "share memory"),
        ("sgd", not_array, 0.1, TypeError, r"grads\[2\] must be a NumPy array"),
        ("sgd", good, float("nan"), ValueError, "lr must be a finite real number"),
        ("sgd", good, -0.1, ValueError, "lr must be a finite real number"),
        ("prox", good, float("inf"), ValueError, "lr must be"),
        ("sgd", good, True, ValueError, "lr must be"),
        ("sgd", good, "0.1", ValueError, "lr must be"),
    ]


@pytest.mark.parametrize("case", range(12))
def test_step_errors_write_nothing(case: int) -> None:
    ws = _weights(31)
    group = ParamGroup(ws, _regs())
    op, grads, lr, exc, match = _bad_step_cases(ws)[case]
    before_w, before_g = _copy(ws), [np.array(g, copy=True) for g in grads]
    with pytest.raises(exc, match=match):
        if op == "sgd":
            group.sgd_step(grads, lr)
        else:
            group.prox_step(grads, lr)
    assert _same(ws, before_w)
    assert all(np.array_equal(np.asarray(g), b) for g, b in zip(grads, before_g, strict=True))


def test_more_step_errors() -> None:
    ws = _weights(32)
    group = ParamGroup(ws, _regs())
    grads = _grads(ws, 33)
    with pytest.raises(ValueError, match="momentum must be"):
        group.sgd_step(grads, 0.1, momentum=-0.5)
    ro = _copy(grads)
    ro[4].flags.writeable = False
    with pytest.raises(ValueError, match=r"grads\[4\] is read-only"):
        group.add_gradients(ro)
    group.sgd_step(ro, 0.0)  # a step only reads them: fine
    ws[3].flags.writeable = False
    with pytest.raises(ValueError, match=r"weights\[3\] is no longer"):
        group.sgd_step(grads, 0.1)
    ws[3].flags.writeable = True
    neg = ParamGroup([ws[0]], L2(-1.0))
    before = ws[0].copy()
    with pytest.raises(ValueError, match="1 \\+ 2\\*lr\\*l2 must be positive"):
        neg.prox_step([grads[0]], 1.0)
    assert np.array_equal(ws[0], before)


# ---- from_layers --------------------------------------------------------------


def test_from_layers_takes_each_weights_regularizer() -> None:
    from fastreg import layers

    d1 = layers.Dense(8, input_dim=5, kernel_regularizer=L1L2(1e-3, 1e-2))
    d2 = layers.Dense(3, kernel_regularizer=L2(0.1), bias_regularizer=L1(0.2))
    d2(d1(np.ones((4, 5), dtype=np.float32)))
    group = ParamGroup.from_layers([d1, d2])
    assert all(
        w is v
        for w, v in zip(group.weights, d1.trainable_weights + d2.trainable_weights, strict=True)
    )
    assert len(group) == 4
    assert group.regularizers == [
        d1.kernel_regularizer,
        None,
        d2.kernel_regularizer,
        d2.bias_regularizer,
    ]
    weight_losses = [float(v) for v in d1.losses + d2.losses]
    total = 0.0
    for v in weight_losses:
        total += v
    assert group.penalty() == total


# ---- the per-call fast paths (cached span order, inline checks) ---------------


def test_cached_order_still_catches_overlap_and_changes() -> None:
    # steps with the same arrays cache the order of their addresses; a new
    # grad in the same order that overlaps another array must still be refused
    rng = np.random.default_rng(40)
    buf = np.zeros(64, dtype=np.float32)
    ws = [rng.standard_normal(16).astype(np.float32) for _ in range(3)]
    group = ParamGroup(ws, L1L2(0.01, 0.02))
    gs = [buf[0:16], buf[32:48], np.zeros(16, np.float32)]
    for _ in range(3):
        group.add_gradients(gs)
    before_w, before_g = _copy(ws), buf.copy()
    bad = [buf[0:16], buf[8:24], gs[2]]  # same address order, grads[0] and [1] overlap
    with pytest.raises(ValueError, match=r"grads\[0\] and grads\[1\] share memory"):
        group.add_gradients(bad)
    crossed = [gs[0], gs[1], ws[2]]
    with pytest.raises(ValueError, match=r"share memory"):
        group.sgd_step(crossed, 0.1)
    assert _same(ws, before_w) and np.array_equal(buf, before_g)
    # a tuple or a generator is taken as a list; the cache serves the next call
    total = group.add_gradients(tuple(gs))
    assert total == group.add_gradients(g for g in gs) == _total(ws, [L1L2(0.01, 0.02)] * 3)


def test_group_checks_each_call_after_fast_calls() -> None:
    ws = [np.ones(8, np.float32), np.ones((2, 4), np.float64)]
    group = ParamGroup(ws, L2(0.5))
    gs = [np.zeros(8, np.float32), np.zeros((2, 4), np.float64)]
    for _ in range(2):
        group.sgd_step(gs, 0.0)
    gs[1].shape = (4, 2)  # reshaped in place: the same memory, another shape
    with pytest.raises(ValueError, match=r"grads\[1\] has shape"):
        group.add_gradients(gs)
    gs[1].shape = (2, 4)
    gs[0].flags.writeable = False
    with pytest.raises(ValueError, match=r"grads\[0\] is read-only"):
        group.add_gradients(gs)
    group.prox_step(gs, 0.1)  # read only: fine
    ws[0].resize(4, refcheck=False)  # the group reads the new size
    with pytest.raises(ValueError, match=r"grads\[0\] has shape"):
        group.add_gradients([np.zeros(8, np.float32), gs[1]])
    assert group.penalty() == _total(ws, [L2(0.5)] * 2)
    ws[1].dtype = np.int64  # a weight's dtype changed in place (a view of its bytes)
    with pytest.raises(TypeError, match=r"weights\[1\] is no longer float32 or float64"):
        group.sgd_step([np.zeros(4, np.float32), np.zeros((2, 4), np.int64)], 0.1)
    ws[1].dtype = np.float16  # the grads' dtype follows, and still a clear error
    before = ws[0].copy()
    with pytest.raises(TypeError, match=r"its dtype is now float16"):
        group.add_gradients([np.zeros(4, np.float32), np.zeros((2, 16), np.float16)])
    assert np.array_equal(ws[0], before)


def test_group_keeps_its_own_lists() -> None:
    ws = [np.ones(4, np.float32), np.ones(4, np.float32)]
    regs = [L1(1.0), None]
    group = ParamGroup(ws, regs)
    ws.append(np.ones(4, np.float32))
    regs[1] = L1(1.0)
    assert len(group) == 2 and group.penalty() == 4.0
    c = _core.Group([ws[0]], [None], [True])
    with pytest.raises(ValueError, match="differ in length"):
        _core.Group([ws[0]], [None, None], [True])
    assert c.step(_core.GROUP_VALUE, None, 0.0, 0.0, None, None) == 0.0


@pytest.mark.parametrize("lr", [0.1, 1, np.float32(0.1), -0.0, 0.0])
def test_rate_fast_path_matches_check(lr: Any) -> None:
    ws = _weights(41)
    a, b = _copy(ws), _copy(ws)
    grads = _grads(ws, 42)
    ta = ParamGroup(a, _regs()).sgd_step(grads, lr, momentum=0.0)
    tb = ParamGroup(b, _regs()).sgd_step(grads, float(lr), momentum=0)
    assert ta == tb and _same(a, b)
    with pytest.raises(ValueError, match="momentum must be"):
        ParamGroup(a, _regs()).sgd_step(grads, lr, momentum=float("nan"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_weights_at_every_level_are_the_single_calls(dtype: Any) -> None:
    """Weights of 1 .. 33 elements (the kernels' tiny entries end at 32), with
    zeros, -0, subnormals, inf and NaN: the group's penalty and add_gradients
    are bit for bit reg(W) and value_and_gradient(W, out=g, accumulate=True)
    at every SIMD level (a few big weights make the call go parallel)."""
    rng = np.random.default_rng(60)
    tiny = float(np.finfo(dtype).smallest_subnormal)
    special = np.array([0.0, -0.0, tiny, -3 * tiny, np.inf, -np.inf, np.nan], dtype)
    ws = []
    for n in range(1, 34):
        w = (rng.standard_normal(n) * 3).astype(dtype)
        w[rng.integers(0, n, size=max(1, n // 4))] = special[n % len(special)]
        ws.append(w)
    ws += [rng.standard_normal(40_000).astype(dtype) for _ in range(4)]
    regs = [[L1(0.01), L2(0.03), L1L2(0.02, 0.005), None][i % 4] for i in range(len(ws))]
    grads = _grads(ws, 61)
    levels = [n for n in fastreg.simd_info()["detected"] if n in fastreg.simd_info()["compiled"]]
    prev_level, prev_threads = fastreg.set_simd(levels[0]), fastreg.get_num_threads()
    try:
        for level in levels:
            fastreg.set_simd(level)
            expected = _copy(grads)
            for w, r, e in zip(ws, regs, expected, strict=True):
                if r is not None:
                    r.value_and_gradient(w, out=e, accumulate=True)
            # each weight's value on its own (the total of all is NaN) ...
            for w, r in zip(ws, regs, strict=True):
                single = np.float64(_total([w], [r])).tobytes()
                assert np.float64(ParamGroup([w], [r]).penalty()).tobytes() == single
                g = np.zeros_like(w)
                assert np.float64(ParamGroup([w], [r]).add_gradients([g])).tobytes() == single
            # ... and all of them in one call: totals compared as bits (NaN == NaN)
            want = np.float64(_total(ws, regs)).tobytes()
            for threads in (1, 2):
                fastreg.set_num_threads(threads)
                group, got = ParamGroup(ws, regs), _copy(grads)
                assert np.float64(group.penalty()).tobytes() == want, (level, threads)
                assert np.float64(group.add_gradients(got)).tobytes() == want, (level, threads)
                assert _same(got, expected), (level, threads)
    finally:
        fastreg.set_num_threads(prev_threads)
        fastreg.set_simd(prev_level)
