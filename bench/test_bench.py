"""pytest-benchmark: fastreg against NumPy (and SciPy BLAS when installed).

    pytest bench/ --benchmark-only                       # time
    pytest bench/ --benchmark-only --benchmark-autosave  # keep for later comparison
    pytest bench/ --benchmark-only --benchmark-compare   # against the last saved run

One benchmark per (op, dtype, n, impl), grouped by op, dtype and n, with stable
ids so ``--benchmark-compare`` lines up runs across commits. Sizes: 16, 4096 and
1M elements, or ``FASTREG_BENCH_SIZES=16,65536,...``. Every benchmark also checks
its result, so ``--benchmark-disable`` is a quick smoke test.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import pytest

pytest.importorskip("pytest_benchmark")

from bench import _env  # noqa: E402
from bench._suite import references  # noqa: E402

fastreg = _env.import_fastreg()
from fastreg.kernels import sum_abs, sum_squares  # noqa: E402

SIZES = tuple(
    int(s) for s in os.environ.get("FASTREG_BENCH_SIZES", "16,4096,1048576").split(",") if s
)
DTYPES = ("float32", "float64")
OPS = ("sum_abs", "sum_squares", "L1", "L2", "L1L2", "value_and_gradient")
IMPLS = ("fastreg", "numpy", "scipy")


@functools.lru_cache(maxsize=4)
def arrays(dtype: str, n: int):
    rng = np.random.default_rng(n)
    x = rng.standard_normal(n).astype(dtype)
    return x, np.zeros_like(x), np.empty_like(x), references(x)


def _fastreg(op, x, g, t):
    if op == "sum_abs":
        return "sum_abs(x)", sum_abs, (x,), {}
    if op == "sum_squares":
        return "sum_squares(x)", sum_squares, (x,), {}
    if op == "value_and_gradient":
        reg = fastreg.L1L2(0.01, 0.01)
        return (
            "L1L2(0.01, 0.01).value_and_gradient(x, out=g, accumulate=True)",
            reg.value_and_gradient,
            (x,),
            {"out": g, "accumulate": True},
        )
    reg = {
        "L1": lambda: fastreg.L1(0.01),
        "L2": lambda: fastreg.L2(0.01),
        "L1L2": lambda: fastreg.L1L2(0.01, 0.01),
    }[op]()
    return f"{op}(...)(x)", reg, (x,), {}


def _numpy(op, x, g, t):
    def vag(x, g, t):
        v = 0.01 * np.add.reduce(np.abs(x, out=t)) + 0.01 * np.dot(x, x)
        np.sign(x, out=t)
        t *= 0.01
        g += t
        np.multiply(x, 0.02, out=t)
        g += t
        return v

    table = {
        "sum_abs": ("np.add.reduce(np.abs(x))", lambda x: np.add.reduce(np.abs(x))),
        "sum_squares": ("np.dot(x, x)", lambda x: np.dot(x, x)),
        "L1": ("0.01*np.sum(np.abs(x))", lambda x: 0.01 * np.sum(np.abs(x))),
        "L2": ("0.01*np.sum(np.square(x))", lambda x: 0.01 * np.sum(np.square(x))),
        "L1L2": (
            "0.01*np.sum(np.abs(x)) + 0.01*np.sum(np.square(x))",
            lambda x: 0.01 * np.sum(np.abs(x)) + 0.01 * np.sum(np.square(x)),
        ),
    }
    if op == "value_and_gradient":
        return "abs/dot value; sign, scale, add into g with a scratch buffer", vag, (x, g, t), {}
    name, fn = table[op]
    return name, fn, (x,), {}


def _scipy(op, x, g, t):
    blas = pytest.importorskip("scipy.linalg.blas")
    p = "s" if x.dtype == np.float32 else "d"
    asum, dot, axpy = (getattr(blas, p + f) for f in ("asum", "dot", "axpy"))

    def vag(x, g, t):
        v = 0.01 * asum(x) + 0.01 * dot(x, x)
        np.sign(x, out=t)
        axpy(t, g, a=0.01)
        axpy(x, g, a=0.02)
        return v

    table = {
        "sum_abs": (f"{p}asum(x)", asum, (x,)),
        "sum_squares": (f"{p}dot(x, x)", dot, (x, x)),
        "L1": (f"0.01*{p}asum(x)", lambda x: 0.01 * asum(x), (x,)),
        "L2": (f"0.01*{p}dot(x, x)", lambda x: 0.01 * dot(x, x), (x,)),
        "L1L2": (
            f"0.01*{p}asum(x) + 0.01*{p}dot(x, x)",
            lambda x: 0.01 * asum(x) + 0.01 * dot(x, x),
            (x,),
        ),
        "value_and_gradient": (
            f"{p}asum + {p}dot value; sign into scratch, 2x {p}axpy into g",
            vag,
            (x, g, t),
        ),
    }
    name, fn, args = table[op]
    return name, fn, args, {}


MAKERS = {"fastreg": _fastreg, "numpy": _numpy, "scipy": _scipy}


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("op", OPS)
def test_bench(benchmark, op, dtype, n, impl):
    x, g, t, refs = arrays(dtype, n)
    g[...] = 0
    variant, fn, args, kwargs = MAKERS[impl](op, x, g, t)
    benchmark.group = f"{op} {dtype} n={n}"
    benchmark.extra_info.update(
        impl=impl,
        op=op,
        variant=variant,
        dtype=dtype,
        n=n,
        bytes=x.nbytes,
        simd=fastreg.simd_info()["active"] if impl == "fastreg" else None,
    )
    result = benchmark(fn, *args, **kwargs)
    if isinstance(result, tuple):
        result = result[0]
    tol = 1e-2 if dtype == "float32" else 1e-6
    assert float(result) == pytest.approx(refs[op], rel=tol), (impl, variant)
