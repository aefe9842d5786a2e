"""dask arrays (fastreg._interop): lazy results, fixed-order sums, a real process cluster."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fastreg import _core
from fastreg import kernels as K
from fastreg import regularizers as R

da = pytest.importorskip("dask.array", reason="dask is not installed (pip install fastreg[dask])")
import dask  # noqa: E402

REGS = [R.L1(0.3), R.L2(0.2), R.L1L2(0.1, 0.05), R.L1L2(0.0, 0.0)]


def _data(dtype=np.float64, shape=(37, 53), seed=3):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * 3).astype(dtype)


def _refuse(dsk, keys, **kwargs):
    raise AssertionError("a fastreg call computed its dask input")


def test_nothing_is_computed_until_asked():
    x = da.from_array(_data(), chunks=(10, 20))
    reg = R.L1L2(0.1, 0.05)
    with dask.config.set(scheduler=_refuse):
        lazy = [
            reg(x),
            reg.gradient(x),
            reg.prox(x, 0.5),
            *reg.value_and_gradient(x),
            K.sum_abs(x),
            K.sum_squares(x),
            *K.sum_abs_squares(x),
            R.OrthogonalRegularizer(0.1)(x),
        ]
        assert all(isinstance(v, da.Array) for v in lazy)
        with pytest.raises(AssertionError, match="computed"):
            lazy[0].compute()  # the scheduler above really is the one in use


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("reg", REGS, ids=repr)
def test_values_match_numpy(reg, dtype):
    a = _data(dtype)
    x = da.from_array(a, chunks=(10, 20))
    v = reg(x)
    assert v.shape == () and v.dtype == a.dtype
    got = v.compute(scheduler="threads")
    assert got.dtype == a.dtype
    # the chunk sums, added exactly: within float64 rounding of the whole-array sums
    sa, ss = (float(s) for s in dask.compute(*K.sum_abs_squares(x)))
    want_sa, want_ss = K.sum_abs_squares(a)
    assert sa == pytest.approx(want_sa, rel=1e-14) and ss == pytest.approx(want_ss, rel=1e-14)
    code = {np.float16: _core.FR_F16, np.float32: _core.FR_F32, np.float64: _core.FR_F64}[dtype]
    assert float(got) == reg._value_in(code, sa, ss)  # the value is Keras's rounding of them
    np.testing.assert_allclose(float(got), float(reg(a)), rtol=1e-14 if dtype is np.float64 else 0)
    for lazy, eager in (
        (reg.gradient(x), reg.gradient(a)),
        (reg.prox(x, 0.5), reg.prox(a, 0.5)),
        (reg.value_and_gradient(x)[1], reg.gradient(a)),
    ):
        res = lazy.compute()
        assert res.dtype == a.dtype
        np.testing.assert_array_equal(res, eager)  # elementwise: bit for bit


def test_bit_identical_across_runs_and_schedulers():
    a = _data(np.float32, (200, 300))
    x = da.from_array(a, chunks=(23, 41))
    reg = R.L1L2(0.1, 0.05)
    runs = [reg(x).compute(scheduler=s) for s in ("threads", "sync", "threads", "processes")]
    assert len({r.tobytes() for r in runs}) == 1
    sums = [dask.compute(*K.sum_abs_squares(x), scheduler=s) for s in ("threads", "sync")]
    assert sums[0] == sums[1]


def test_bfloat16_and_zero_dim():
    ml_dtypes = pytest.importorskip("ml_dtypes", reason="bfloat16 needs ml_dtypes")
    a = _data(ml_dtypes.bfloat16, (8, 9))
    reg = R.L1L2(0.25, 0.5)
    x = da.from_array(a, chunks=4)
    assert reg(x).compute().tobytes() == reg(a).tobytes()  # small: the sums are exact
    np.testing.assert_array_equal(reg.gradient(x).compute(), reg.gradient(a))
    assert float(K.sum_abs(x).compute()) == K.sum_abs(a)
    z = da.from_array(np.array(-2.5))
    assert float(R.L1(0.5)(z).compute()) == 1.25


def test_errors():
    x = da.from_array(_data(), chunks=10)
    reg = R.L2(0.5)
    with pytest.raises(TypeError, match="immutable"):
        reg.gradient(x, out=np.zeros(x.shape))
    with pytest.raises(ValueError, match="accumulate"):
        reg.value_and_gradient(x, accumulate=True)
    for bad in (da.arange(5), da.ones(3, dtype=bool)):
        with pytest.raises(TypeError, match="int64|bool"):
            reg(bad)
        with pytest.raises(TypeError, match="int64|bool"):
            K.sum_abs(bad)
    with pytest.raises(ValueError, match="rank 2"):
        R.OrthogonalRegularizer(0.1)(da.ones(4, chunks=2))


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal(mode):
    a = _data(np.float32, (30, 12))
    reg = R.OrthogonalRegularizer(0.5, mode=mode)
    for chunks in ((7, 12), (30, 5), (8, 5)):
        x = da.from_array(a, chunks=chunks)
        v = reg(x)
        assert v.dtype == np.float32
        np.testing.assert_allclose(float(v.compute()), float(reg(a)), rtol=1e-5)
        value, g = reg.value_and_gradient(x)
        np.testing.assert_allclose(g.compute(), reg.gradient(a), rtol=1e-4, atol=1e-7)


def test_local_cluster_with_worker_processes():
    distributed = pytest.importorskip(
        "distributed", reason="distributed is not installed (pip install fastreg[dask])"
    )
    a = _data(np.float32, (120, 64))
    x = da.from_array(a, chunks=(25, 32))
    reg = R.L1L2(0.1, 0.05)
    local = reg(x).compute(scheduler="threads")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            worker_dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        value, grad, prox, sa = client.compute(
            [reg(x), reg.gradient(x), reg.prox(x, 0.5), K.sum_abs(x)], sync=True
        )
        pids = client.run(lambda: __import__("os").getpid())
    assert len(set(pids.values())) == 2  # two worker processes really ran
    assert value.tobytes() == local.tobytes()
    np.testing.assert_array_equal(grad, reg.gradient(a))
    np.testing.assert_array_equal(prox, reg.prox(a, 0.5))
    assert math.isclose(float(sa), K.sum_abs(a), rel_tol=1e-14)
