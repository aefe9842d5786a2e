"""Threads: concurrent calls give exactly the serial results, and the GIL is released.

* 8 Python threads call every kernel and regularizer entry point (value,
  gradient into separate ``out`` arrays, value_and_gradient with and without
  ``accumulate``, prox into separate outs and in place) on arrays shared by all
  threads and on arrays of their own, large enough (>= 4096 elements) that the
  GIL is released; every result must equal, bit for bit, the serial result
  computed before the threads start, and the shared inputs must not change.
* The GIL is released while a kernel runs: with the switch interval raised to
  1 s, a Python thread can only run while another thread holds the GIL if that
  thread lets it go. A counter thread makes progress during one big kernel call
  (and, as the control, makes none during a GIL-holding Python loop).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import fastreg
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
# the GIL is released while a kernel runs


def _progress_during(call: Callable[[], Any]) -> int:
    """How far a counter thread gets while ``call`` runs in this thread.

    With the switch interval at 1 s, the counter thread (which gives the GIL up
    on every iteration, in time.sleep(0)) cannot run while this thread holds
    the GIL unless this thread releases it: the count is exactly 0 for a call
    that keeps the GIL (and takes well under 1 s), however the OS schedules.
    """
    counter = [0]
    stop = threading.Event()
    running = threading.Event()

    def count() -> None:
        while not stop.is_set():
            counter[0] += 1
            running.set()
            time.sleep(0)

    old = sys.getswitchinterval()
    # Set the interval before the counter thread exists: a thread already
    # waiting for the GIL keeps the timeout it started waiting with.
    sys.setswitchinterval(1.0)
    t = threading.Thread(target=count)
    try:
        t.start()
        running.wait()
        time.sleep(0.01)
        c0 = counter[0]
        call()
        c1 = counter[0]
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(old)
    return c1 - c0


def _hold_gil() -> int:
    s = 0
    for i in range(400_000):
        s += i
    return s


@pytest.fixture(scope="module")
def big() -> np.ndarray:
    return np.ones(50_000_000, dtype=np.float32)


@pytest.mark.parametrize(
    "name",
    [
        "control: GIL-holding loop",
        "kernels.sum_abs",
        "kernels.sum_abs_squares",
        "L1L2()",
        "L1L2.gradient(out)",
        "L1L2.value_and_gradient(acc)",
        "L1.prox(out=x)",
    ],
)
def test_gil_released_during_kernels(name: str, big: np.ndarray) -> None:
    reg = R.L1L2(0.01, 0.02)
    part = big[:8_000_000]
    out = np.zeros_like(part)
    calls: dict[str, Callable[[], Any]] = {
        "control: GIL-holding loop": _hold_gil,
        "kernels.sum_abs": lambda: K.sum_abs(big),
        "kernels.sum_abs_squares": lambda: K.sum_abs_squares(big),
        "L1L2()": lambda: reg(big),
        "L1L2.gradient(out)": lambda: reg.gradient(part, out=out),
        "L1L2.value_and_gradient(acc)": lambda: reg.value_and_gradient(
            part, out=out, accumulate=True
        ),
        "L1.prox(out=x)": lambda: R.L1(0.0).prox(out, 1.0, out=out),
    }
    call = calls[name]
    if name.startswith("control"):
        # the method discriminates: a call that keeps the GIL lets nothing run
        for _ in range(3):
            assert _progress_during(call) == 0
        return
    # a loaded machine may not schedule the counter thread within one call:
    # a few attempts; a call that keeps the GIL gives 0 in every one of them
    progress = [_progress_during(call) for _ in range(5)]
    assert max(progress) > 0, progress
