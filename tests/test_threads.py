"""Threads: concurrent calls give exactly the serial results, and the GIL is released.

* 8 Python threads call every kernel and regularizer entry point (value,
  gradient into separate ``out`` arrays, value_and_gradient with and without
  ``accumulate``, prox into separate outs and in place) on arrays shared by all
  threads and on arrays of their own, large enough (>= 4096 elements) that the
  GIL is released; every result must equal, bit for bit, the serial result
  computed before the threads start, and the shared inputs must not change.
* The GIL is released while a kernel runs on >= 4096 elements, and kept below
  that. This is read from CPython itself, not from how other threads get
  scheduled (which depends on the load and on how fast the kernel is): the
  shim's test-only probe (``_core._gil_probe``) calls ``PyGILState_Check()``
  inside each ``with nogil:`` block, next to the kernel call. Every entry
  point must reach exactly one such block and find the GIL released there.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import fastreg
from fastreg import _core
from fastreg import kernels as K
from fastreg import regularizers as R

N_THREADS = 8
ITERATIONS = 12
STEP = 0.125


def _bits(a: Any) -> bytes:
    """Bytes of a result in logical order (so layouts compare by value bits)."""
    if isinstance(a, tuple):
        return b"|".join(_bits(v) for v in a)
    if isinstance(a, float):
        return np.float64(a).tobytes()
    return np.ascontiguousarray(a).tobytes() + str(np.asarray(a).dtype).encode()


def _inputs(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    f32 = (rng.standard_normal(30_011) * 3).astype(np.float32)
    f64 = rng.standard_normal((67, 129)) * 1e3
    f16 = (rng.standard_normal(3 * 4099) * 5).astype(np.float16).reshape(3, 4099)
    f32[::997] = 0.0
    f32[12_345] = np.inf
    f64[5, ::7] = -0.0
    return {
        "f32": f32,
        "f64-F-reversed": np.asfortranarray(f64)[::-1],
        "f16-strided": f16[:, ::2],
        "f32-negative-steps": f32[::-2],
    }


REGS: dict[str, Callable[[], Any]] = {
    "L1": lambda: R.L1(0.01),
    "L2": lambda: R.L2(0.02),
    "L1L2": lambda: R.L1L2(0.01, 0.02),
}


def _ops(x: np.ndarray, outs: dict[str, np.ndarray]) -> dict[str, Any]:
    """Every entry point on x; results that live in ``outs`` are copied out."""
    res: dict[str, Any] = {
        "sum_abs": K.sum_abs(x),
        "sum_squares": K.sum_squares(x),
        "sum_abs_squares": K.sum_abs_squares(x),
    }
    for name, make in REGS.items():
        reg = make()
        res[f"{name}()"] = reg(x)
        res[f"{name}.gradient"] = reg.gradient(x)
        g = outs[f"{name}.g"]
        assert reg.gradient(x, out=g) is g
        res[f"{name}.gradient(out)"] = g.copy()
        v, g2 = reg.value_and_gradient(x, out=outs[f"{name}.vg"])
        res[f"{name}.value_and_gradient"] = (v, g2.copy())
        acc = outs[f"{name}.acc"]
        acc[...] = 0.5
        v, g3 = reg.value_and_gradient(x, out=acc, accumulate=True)
        res[f"{name}.value_and_gradient(acc)"] = (v, g3.copy())
        p = outs[f"{name}.p"]
        assert reg.prox(x, STEP, out=p) is p
        res[f"{name}.prox(out)"] = p.copy()
        mine = outs[f"{name}.inplace"]
        np.copyto(mine, x)
        assert reg.prox(mine, STEP, out=mine) is mine
        res[f"{name}.prox(out=x)"] = mine.copy()
    return res


def _outs(x: np.ndarray) -> dict[str, np.ndarray]:
    outs = {}
    for name in REGS:
        for k in ("g", "vg", "acc", "p", "inplace"):
            outs[f"{name}.{k}"] = np.empty_like(x)
    return outs


def _digest(res: dict[str, Any]) -> dict[str, bytes]:
    return {k: _bits(v) for k, v in res.items()}


def test_eight_threads_bitwise_equal_to_serial() -> None:
    shared = _inputs(1)
    own = [_inputs(100 + i) for i in range(N_THREADS)]
    for arrays in [shared, *own]:
        for x in arrays.values():
            assert x.size >= 4096
    shared_bytes = {k: np.array(v).tobytes() for k, v in shared.items()}
    expected_shared = {k: _digest(_ops(x, _outs(x))) for k, x in shared.items()}
    expected_own = [{k: _digest(_ops(x, _outs(x))) for k, x in arrays.items()} for arrays in own]

    barrier = threading.Barrier(N_THREADS)
    errors: list[str] = []
    done = [0] * N_THREADS

    def worker(i: int) -> None:
        try:
            outs = {k: _outs(x) for k, x in shared.items()}
            my_outs = {k: _outs(x) for k, x in own[i].items()}
            barrier.wait()
            for it in range(ITERATIONS):
                # alternate shared and own arrays so that both overlap in time
                for k in shared:
                    got = _digest(_ops(shared[k], outs[k]))
                    for op, b in got.items():
                        if b != expected_shared[k][op]:
                            errors.append(f"thread {i} iter {it} shared {k} {op}")
                    got = _digest(_ops(own[i][k], my_outs[k]))
                    for op, b in got.items():
                        if b != expected_own[i][k][op]:
                            errors.append(f"thread {i} iter {it} own {k} {op}")
                done[i] += 1
        except Exception as err:  # pragma: no cover - reported below
            errors.append(f"thread {i}: {type(err).__name__}: {err}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
        assert not t.is_alive(), "a thread hung"
    assert not errors, errors[:20]
    assert done == [ITERATIONS] * N_THREADS
    for k, v in shared.items():
        assert np.array(v).tobytes() == shared_bytes[k], f"shared input {k} changed"


def test_threads_while_the_simd_level_changes() -> None:
    """Results are bit-identical on every SIMD level, so switching the level
    (set_simd, process-wide) while 4 threads compute must not change any bit."""
    levels = [n for n in fastreg.simd_info()["detected"] if n in fastreg.simd_info()["compiled"]]
    x = _inputs(7)["f32-negative-steps"]
    want = _digest(_ops(x, _outs(x)))
    stop = threading.Event()
    errors: list[str] = []
    before = fastreg.simd_info()["active"]

    def switcher() -> None:
        i = 0
        while not stop.is_set():
            fastreg.set_simd(levels[i % len(levels)])
            i += 1
            time.sleep(0.0005)

    def worker() -> None:
        outs = _outs(x)
        for _ in range(15):
            if _digest(_ops(x, outs)) != want:
                errors.append("differs")

    sw = threading.Thread(target=switcher)
    ws = [threading.Thread(target=worker) for _ in range(4)]
    sw.start()
    try:
        for t in ws:
            t.start()
        for t in ws:
            t.join(timeout=300)
    finally:
        stop.set()
        sw.join()
        fastreg.set_simd(before)
    assert not errors


# ---------------------------------------------------------------------------
# the GIL is released while a kernel runs (read with the shim's GIL probe)

GIL_MIN = 4096  # fastreg/_core.pyx: from this many elements the GIL is released


def _entry_points(x: np.ndarray) -> dict[str, Callable[[], Any]]:
    """Every call that promises to release the GIL, each one kernel call on x."""
    out = np.zeros_like(x)
    calls: dict[str, Callable[[], Any]] = {
        "kernels.sum_abs": lambda: K.sum_abs(x),
        "kernels.sum_squares": lambda: K.sum_squares(x),
        "kernels.sum_abs_squares": lambda: K.sum_abs_squares(x),
    }
    for name, make in REGS.items():
        reg = make()
        calls[f"{name}()"] = lambda reg=reg: reg(x)
        calls[f"{name}.gradient"] = lambda reg=reg: reg.gradient(x)
        calls[f"{name}.gradient(out)"] = lambda reg=reg: reg.gradient(x, out=out)
        calls[f"{name}.value_and_gradient"] = lambda reg=reg: reg.value_and_gradient(x)
        calls[f"{name}.value_and_gradient(acc)"] = lambda reg=reg: reg.value_and_gradient(
            x, out=out, accumulate=True
        )
        calls[f"{name}.prox"] = lambda reg=reg: reg.prox(x, STEP)
        calls[f"{name}.prox(out=x)"] = lambda reg=reg: reg.prox(out, STEP, out=out)
    return calls


def _arrays(n: int) -> dict[str, np.ndarray]:
    """n-element arrays of each kernel dtype, one of them strided and 2-D."""
    rng = np.random.default_rng(n)
    base = rng.standard_normal(2 * n)
    return {
        "f16": base[:n].astype(np.float16),
        "f32": base[:n].astype(np.float32),
        "f64-strided": base.reshape(2, n)[:, ::2],
    }


def _probe_counts(call: Callable[[], Any]) -> tuple[int, int]:
    """(calls without the GIL, calls with it) the probe saw during call()."""
    _core._gil_probe(True)
    try:
        call()
    finally:
        counts = _core._gil_probe(False)
    return counts


def test_gil_probe_tells_held_from_released() -> None:
    """The probe is not blind: it sees the GIL held as well as released (else
    the test below would pass with every nogil removed), and counts nothing
    while it is off."""
    assert _probe_counts(_core._gil_probe_calibrate) == (1, 1)
    _core._gil_probe_calibrate()
    K.sum_abs(np.ones(2 * GIL_MIN))
    assert _core._gil_probe(False) == (0, 0)


@pytest.mark.parametrize("dtype", ["f16", "f32", "f64-strided"])
def test_gil_released_during_kernels(dtype: str) -> None:
    x = _arrays(3 * GIL_MIN + 5)[dtype]
    assert x.size >= GIL_MIN
    seen = {name: _probe_counts(call) for name, call in _entry_points(x).items()}
    # exactly one released-GIL kernel call each, and no GIL held inside it
    assert seen == dict.fromkeys(seen, (1, 0))


@pytest.mark.parametrize("n", [GIL_MIN, GIL_MIN - 1, 16])
def test_gil_threshold(n: int) -> None:
    """From GIL_MIN elements the GIL is released; below, the kernel runs with
    it held (releasing it costs more than the kernel) and no nogil block is
    entered, so the probe is not reached."""
    want = (1, 0) if n >= GIL_MIN else (0, 0)
    x = _arrays(n)["f32"]
    seen = {name: _probe_counts(call) for name, call in _entry_points(x).items()}
    assert seen == dict.fromkeys(seen, want)
