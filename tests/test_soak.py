"""Soak: many calls of every public entry point with steady memory.

For each entry point (kernels, every regularizer call, gradient,
value_and_gradient, prox, the error paths, get/serialize/deserialize round
trips) the test makes a warm-up batch, then measures after every further batch:

* ``tracemalloc``'s traced memory (Python objects and NumPy data buffers, which
  NumPy reports to tracemalloc), after ``gc.collect()``;
* the process RSS (``/proc/self/statm``), which also sees C ``malloc`` leaks;
* ``sys.getrefcount`` of the input, ``out`` and regularizer objects (a leaked
  reference grows them by one per call).

and asserts that none of them grows beyond a small slack. The default run makes
20 000 calls of each; ``-m slow`` makes the full million.
"""

from __future__ import annotations

import gc
import os
import sys
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from fastreg import kernels as K
from fastreg import regularizers as R


@pytest.fixture(autouse=True)
def _slow_only_when_selected(request: pytest.FixtureRequest) -> None:
    """``slow`` tests run under ``-m slow`` (``make test-slow``), not in the default run."""
    if request.node.get_closest_marker("slow") and "slow" not in (
        request.config.getoption("markexpr") or ""
    ):
        pytest.skip("slow: run with -m slow (make test-slow)")


PAGE = os.sysconf("SC_PAGE_SIZE")
# Under AddressSanitizer (tools/sanitize.sh) freed memory sits in ASan's quarantine,
# so RSS grows with every allocation and says nothing about leaks; the other
# measures (live blocks, tracemalloc, reference counts) still apply.
UNDER_ASAN = "libasan" in os.environ.get("LD_PRELOAD", "")
BATCHES = 5  # measured batches after the warm-up batch
TRACED = 3  # of which the last ones run under tracemalloc


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


X32 = (np.arange(16, dtype=np.float32) - 7.5) * 0.25
X64_STRIDED = np.linspace(-3.0, 3.0, 64)[::-4]
X16 = np.arange(16, dtype=np.float16).reshape(4, 4)
XBIG = np.linspace(-1.0, 1.0, 5000, dtype=np.float32)  # over the GIL threshold
XINT = np.arange(16)
XSWAP = X32.astype(X32.dtype.newbyteorder(">" if np.little_endian else "<"))
L1, L2, L1L2 = R.L1(0.01), R.L2(0.02), R.L1L2(0.01, 0.02)
ORTH = R.OrthogonalRegularizer(0.01)
G32 = np.empty_like(X32)
GBIG = np.empty_like(XBIG)
P32 = np.empty_like(X32)
IN_PLACE = X32.copy()


def _raises(fn: Callable[[], Any], exc: type[BaseException]) -> Callable[[], None]:
    def call() -> None:
        try:
            fn()
        except exc:
            return
        raise AssertionError("expected an error")

    return call


def _roundtrip() -> None:
    for reg in (L1, L1L2, ORTH):
        back = R.deserialize(R.serialize(reg))
        if back.get_config() != reg.get_config():
            raise AssertionError("round trip")


def _legacy_roundtrip() -> None:
    back = R.deserialize(R.serialize(L2, use_legacy_format=True))
    if back.get_config() != L2.get_config():
        raise AssertionError("legacy round trip")


# name -> (call, objects whose refcount must stay put, cost class): the default run
# makes 20 000 // cost calls (20 000 for the C-backed calls; fewer for the Python
# paths: slow-path conversions, errors, serialization, OrthogonalRegularizer's
# NumPy code); -m slow makes 1 000 000 of each
ENTRY: dict[str, tuple[Callable[[], Any], tuple[Any, ...], int]] = {
    "kernels.sum_abs": (lambda: K.sum_abs(X32), (X32,), 1),
    "kernels.sum_squares(strided f64)": (lambda: K.sum_squares(X64_STRIDED), (X64_STRIDED,), 1),
    "kernels.sum_abs_squares(f16)": (lambda: K.sum_abs_squares(X16), (X16,), 1),
    "kernels.sum_abs(nogil size)": (lambda: K.sum_abs(XBIG), (XBIG,), 1),
    "L1()": (lambda: L1(X32), (X32, L1), 1),
    "L2()": (lambda: L2(X64_STRIDED), (X64_STRIDED, L2), 1),
    "L1L2()": (lambda: L1L2(X16), (X16, L1L2), 1),
    "L1L2(list)": (lambda: L1L2([1.0, -2.0, 3.0]), (L1L2,), 2),
    "L1(byte-swapped)": (lambda: L1(XSWAP), (XSWAP, L1), 2),
    "Orthogonal()": (lambda: ORTH(X16), (X16, ORTH), 10),
    "Orthogonal.gradient": (lambda: ORTH.gradient(X16), (X16, ORTH), 10),
    "L1.gradient": (lambda: L1.gradient(X32), (X32, L1), 1),
    "L1L2.gradient(out)": (lambda: L1L2.gradient(X32, out=G32), (X32, G32, L1L2), 1),
    "L2.gradient(out, nogil size)": (lambda: L2.gradient(XBIG, out=GBIG), (XBIG, GBIG, L2), 1),
    "L1L2.value_and_gradient": (
        lambda: L1L2.value_and_gradient(X64_STRIDED),
        (X64_STRIDED, L1L2),
        1,
    ),
    "L1L2.value_and_gradient(acc)": (
        lambda: L1L2.value_and_gradient(X32, out=G32, accumulate=True),
        (X32, G32, L1L2),
        1,
    ),
    "L1.prox(out)": (lambda: L1.prox(X32, 0.1, out=P32), (X32, P32, L1), 1),
    "L1L2.prox(out=x)": (lambda: L1L2.prox(IN_PLACE, 0.0, out=IN_PLACE), (IN_PLACE, L1L2), 1),
    "L2.prox": (lambda: L2.prox(X16, 0.5), (X16, L2), 1),
    "error: kernels int": (_raises(lambda: K.sum_abs(XINT), TypeError), (XINT,), 2),
    "error: L1 int": (_raises(lambda: L1(XINT), TypeError), (XINT, L1), 2),
    "kernels byte-swapped": (lambda: K.sum_abs(XSWAP), (XSWAP,), 2),
    "error: gradient out shape": (
        _raises(lambda: L1.gradient(X32, out=GBIG), ValueError),
        (X32, GBIG, L1),
        2,
    ),
    "error: bad factor": (_raises(lambda: R.L1(float("nan")), ValueError), (), 2),
    "get('l1_l2')": (lambda: R.get("l1_l2"), (), 2),
    "get/serialize/deserialize": (_roundtrip, (L1, L1L2, ORTH), 4),
    "serialize legacy round trip": (_legacy_roundtrip, (L2,), 4),
    "from_config(get_config)": (lambda: R.L1L2.from_config(L1L2.get_config()), (L1L2,), 2),
}


def soak(
    call: Callable[[], Any],
    watched: tuple[Any, ...],
    calls: int,
    report: dict[str, Any] | None = None,
) -> None:
    """``calls`` calls in BATCHES + 1 batches (the first one warms up).

    RSS, ``sys.getallocatedblocks()`` (live pymalloc blocks: every leaked Python
    object is one) and reference counts are measured around every batch; the last
    TRACED batches also run under tracemalloc (which slows calls down 3-5x), the
    first of them as its baseline.
    """
    batch = max(calls // (BATCHES + 1), 1)

    def run() -> None:
        for _ in range(batch):
            call()

    refs = [sys.getrefcount(o) for o in watched]
    run()  # warm-up: caches, free lists, lazily created objects
    gc.collect()
    blocks0, rss0 = sys.getallocatedblocks(), rss()
    blocks, rsses, traced = [], [], []
    traced0 = 0
    try:
        for i in range(BATCHES):
            if i == BATCHES - TRACED:
                tracemalloc.start()
            run()
            gc.collect()
            if i == BATCHES - TRACED:
                traced0 = tracemalloc.get_traced_memory()[0]
            elif i > BATCHES - TRACED:
                traced.append(tracemalloc.get_traced_memory()[0] - traced0)
            blocks.append(sys.getallocatedblocks() - blocks0)
            rsses.append(rss() - rss0)
    finally:
        tracemalloc.stop()
    refs_after = [sys.getrefcount(o) for o in watched]
    n_all, n_traced = batch * BATCHES, batch * (TRACED - 1)
    if report is not None:
        report.update(blocks=blocks, rss=rsses, traced=traced, n_all=n_all, n_traced=n_traced)
    # One leaked object per call would be n blocks and >= 16n traced bytes.
    assert blocks[-1] <= 500 + n_all // 200, f"live blocks grew by {blocks} over {n_all} calls"
    assert traced[-1] <= 16 * 1024 + n_traced // 4, (
        f"traced memory grew by {traced} bytes over {n_traced} calls"
    )
    if not UNDER_ASAN:
        assert max(rsses) <= 8 * 2**20 + 2 * n_all, f"RSS grew by {rsses} bytes over {n_all} calls"
    assert refs_after == refs, f"reference counts {refs} -> {refs_after}"


@pytest.mark.parametrize("name", list(ENTRY))
def test_soak_default(name: str) -> None:
    call, watched, cost = ENTRY[name]
    soak(call, watched, 20_000 // cost)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ENTRY))
def test_soak_million(name: str) -> None:
    call, watched, _ = ENTRY[name]
    soak(call, watched, 1_000_000)


def test_soak_detects_a_leak() -> None:
    """The measurement can fail: a call that keeps one small object per call is caught."""
    kept: list[Any] = []
    with pytest.raises(AssertionError, match="live blocks grew"):
        soak(lambda: kept.append(K.sum_abs(X32)), (), 20_000)
    kept.clear()
    grow = bytearray()  # no new objects, just memory: invisible to the block count
    with pytest.raises(AssertionError, match="traced memory grew"):
        soak(lambda: grow.extend(b"x" * 100), (), 6_000)
    grow.clear()
    arr = X32.copy()
    held: list[Any] = []
    with pytest.raises(AssertionError):
        soak(lambda: held.append(arr), (arr,), 6_000)
