"""The worker pool (csrc/fr_threads.c): big arrays split over threads.

* Every result is bit-identical for 1 .. 8 threads on every SIMD level, and
  equal to the pure-NumPy twin (fastreg._reference): reductions, regularizer
  values, gradient, value_and_gradient (stored and accumulated) and prox,
  for float16/32/64 with odd sizes, strides, negative strides and Fortran
  order. The arrays are 3 .. 6 superblocks, with the parallel threshold
  lowered to 2 superblocks so that all of them are split.
* set_num_threads / get_num_threads / FASTREG_NUM_THREADS, with their errors.
* threadpoolctl sees the pool and limits it.
* A child made by fork() (multiprocessing's "fork" start method) computes
  with threads and gets the parent's bits.
* No oversubscription: the pool starts num_threads - 1 workers however many
  callers there are, and none for small arrays (counted in /proc/self/task).
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import fastreg
from fastreg import _core
from fastreg import _reference as ref
from fastreg import kernels as K
from fastreg import regularizers as R

SUPER_N = ref.BLOCK * ref.SUPER  # elements in a superblock
L1, L2, STEP = 0.25, 0.125, 0.5  # exact in every dtype: the twin needs no factor rounding
THREADS = range(1, 9)


@pytest.fixture(autouse=True)
def _split_small():
    """Split arrays from 2 superblocks on, and restore the thread count."""
    prev_min = _core._set_parallel_min(2)
    prev = fastreg.get_num_threads()
    try:
        yield
    finally:
        _core._set_parallel_min(prev_min)
        fastreg.set_num_threads(prev)


def _data(n: int, dtype, seed: int) -> np.ndarray:
    """Values over many magnitudes (so a change in the order of additions shows
    in the bits), with zeros and -0.0."""
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(n) * 10.0 ** rng.uniform(-3, 3, n)
    if np.dtype(dtype) == np.float16:
        v = np.clip(v, -6e4, 6e4)
    v[::1001] = 0.0
    v[7::1003] = -0.0
    return v.astype(dtype)


_LAYOUT_CACHE: dict[tuple[str, int], dict[str, np.ndarray]] = {}


def _layouts(dtype, supers: int = 3) -> dict[str, np.ndarray]:
    """Arrays of supers .. supers + 1 superblocks (odd sizes) in every layout."""
    key = (np.dtype(dtype).name, supers)
    if key not in _LAYOUT_CACHE:
        n = supers * SUPER_N + 777
        base = _data(3 * n, dtype, 1)
        rows = 1023
        f2 = np.asfortranarray(_data(rows * (n // rows + 5), dtype, 2).reshape(rows, -1))
        _LAYOUT_CACHE[key] = {
            "contiguous": _data(n, dtype, 0),
            "strided": base[1::3],
            "negative": base[::-2][: n + SUPER_N // 3],
            "fortran": f2,
            "fortran-view": f2[::-1, 3:],
        }
    return _LAYOUT_CACHE[key]


LAYOUTS = list(_layouts(np.float32))
DTYPES = [np.float16, np.float32, np.float64]
REGS = {"L1": lambda: R.L1(L1), "L2": lambda: R.L2(L2), "L1L2": lambda: R.L1L2(L1, L2)}
TERMS = {"L1": 1, "L2": 2, "L1L2": 3}


def _bits(v) -> bytes:
    a = np.asarray(v)
    return np.ascontiguousarray(a).tobytes() + str(a.dtype).encode()


def _results(x: np.ndarray) -> dict[str, bytes]:
    """Every entry point on x, as bytes."""
    acc0 = _data(x.size, x.dtype, 9).reshape(x.shape)
    res = {
        "sum_abs": _bits(K.sum_abs(x)),
        "sum_squares": _bits(K.sum_squares(x)),
        "sum_abs_squares": _bits(K.sum_abs_squares(x)),
    }
    for name, make in REGS.items():
        reg = make()
        res[f"{name}()"] = _bits(reg(x))
        res[f"{name}.gradient"] = _bits(reg.gradient(x))
        v, g = reg.value_and_gradient(x)
        res[f"{name}.vg.value"], res[f"{name}.vg.grad"] = _bits(v), _bits(g)
        out = acc0.copy()
        v, g = reg.value_and_gradient(x, out=out, accumulate=True)
        res[f"{name}.vg(acc).value"], res[f"{name}.vg(acc).grad"] = _bits(v), _bits(out)
        res[f"{name}.prox"] = _bits(reg.prox(x, STEP))
        w = x.copy()
        reg.prox(w, STEP, out=w)
        res[f"{name}.prox(out=x)"] = _bits(w)
    return res


def _reference(x: np.ndarray) -> dict[str, bytes]:
    """The same entries from the twin."""
    dt = x.dtype
    acc0 = _data(x.size, x.dtype, 9).reshape(x.shape)
    with np.errstate(all="ignore"):
        sa, ss = ref.sum_abs(x), ref.sum_squares(x)
        res = {
            "sum_abs": _bits(sa),
            "sum_squares": _bits(ss),
            "sum_abs_squares": _bits((sa, ss)),
        }
        for name, terms in TERMS.items():
            a, b = (L1 if terms & 1 else 0.0), (L2 if terms & 2 else 0.0)
            if name == "L1":
                value = ref.scale_in_dtype(dt, sa, L1)
            elif name == "L2":
                value = ref.scale_in_dtype(dt, ss, L2)
            else:
                value = dt.type(0)
                value = dt.type(value + ref.scale_in_dtype(dt, sa, L1))
                value = dt.type(value + ref.scale_in_dtype(dt, ss, L2))
            grad = ref.gradient(x, a, 2.0 * b, terms)
            res[f"{name}()"] = res[f"{name}.vg.value"] = res[f"{name}.vg(acc).value"] = _bits(value)
            res[f"{name}.gradient"] = res[f"{name}.vg.grad"] = _bits(grad)
            acc = ref.gradient(x, a, 2.0 * b, terms, out=acc0, accumulate=True)
            res[f"{name}.vg(acc).grad"] = _bits(acc)
            p = ref.prox(x, STEP * a, 1.0 + 2.0 * STEP * b, terms)
            res[f"{name}.prox"] = res[f"{name}.prox(out=x)"] = _bits(p)
    return res


_REF_CACHE: dict[tuple[str, str], dict[str, bytes]] = {}


def _check_thread_counts(x: np.ndarray, key: tuple, counts) -> None:
    if key not in _REF_CACHE:
        _REF_CACHE[key] = _reference(x)
    want = _REF_CACHE[key]
    fastreg.set_num_threads(1)
    one = _results(x)
    for name in want:
        assert one[name] == want[name], f"1 thread, {name} differs from the twin"
    for n in counts:
        fastreg.set_num_threads(n)
        got = _results(x)
        for name in want:
            assert got[name] == one[name], f"{n} threads, {name} differs from 1 thread"


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_same_bits_for_every_thread_count(simd_level, dtype, layout):
    """3 .. 4 superblocks: 1 .. 4 threads are every split there is (more
    threads than pieces use one per piece, which 8 checks)."""
    x = _layouts(dtype)[layout]
    assert 3 * SUPER_N < x.size < 5 * SUPER_N
    _check_thread_counts(x, (np.dtype(dtype).name, layout), (2, 3, 4, 8))


@pytest.mark.parametrize("layout", ["contiguous", "negative", "fortran-view"])
def test_same_bits_1_to_8_threads(simd_level, layout):
    """8 .. 9 superblocks of float32: each of 1 .. 8 threads gets pieces."""
    x = _layouts(np.float32, 8)[layout]
    assert x.size > 8 * SUPER_N
    _check_thread_counts(x, ("float32-8", layout), THREADS[1:])


def test_set_get_num_threads():
    prev = fastreg.set_num_threads(3)
    assert fastreg.get_num_threads() == 3
    assert fastreg.set_num_threads(np.int64(5)) == 3
    assert fastreg.set_num_threads(prev) == 5
    assert fastreg.get_num_threads() == prev


@pytest.mark.parametrize("bad", [0, -1, 257, 10**30])
def test_set_num_threads_out_of_range(bad):
    prev = fastreg.get_num_threads()
    with pytest.raises(ValueError, match=r"1 \.\. 256"):
        fastreg.set_num_threads(bad)
    assert fastreg.get_num_threads() == prev


@pytest.mark.parametrize("bad", [1.0, 2.5, "2", None, True])
def test_set_num_threads_not_an_int(bad):
    prev = fastreg.get_num_threads()
    with pytest.raises(TypeError, match="must be an int"):
        fastreg.set_num_threads(bad)
    assert fastreg.get_num_threads() == prev


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k != "FASTREG_NUM_THREADS"}
    e.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=e, capture_output=True, text=True
    )


def test_env_and_default():
    show = "import fastreg; print(fastreg.get_num_threads())"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    r = _python(show)
    assert r.returncode == 0 and int(r.stdout) == cores, r.stderr
    r = _python(show, FASTREG_NUM_THREADS=" 3 ")
    assert r.returncode == 0 and int(r.stdout) == 3, r.stderr
    r = _python(show, FASTREG_NUM_THREADS="")
    assert r.returncode == 0, r.stderr
    for bad in ("two", "0", "1.5", "999"):
        r = _python(show, FASTREG_NUM_THREADS=bad)
        assert r.returncode != 0
        assert "ValueError: FASTREG_NUM_THREADS" in r.stderr, r.stderr


def test_threadpoolctl_sees_and_limits_the_pool():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not hasattr(threadpoolctl, "register"):
        pytest.skip("threadpoolctl < 3.5 has no register()")
    fastreg.set_num_threads(3)
    ours = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "fastreg"]
    assert len(ours) == 1 and ours[0]["num_threads"] == 3
    assert ours[0]["version"] == fastreg.__version__
    with threadpoolctl.threadpool_limits(limits=1):
        assert fastreg.get_num_threads() == 1
    assert fastreg.get_num_threads() == 3
    with threadpoolctl.threadpool_limits(limits=2, user_api="fastreg"):
        assert fastreg.get_num_threads() == 2
    assert fastreg.get_num_threads() == 3


@pytest.mark.parametrize("first", ["fastreg", "threadpoolctl"])
def test_threadpoolctl_either_import_order(first):
    pytest.importorskip("threadpoolctl")
    second = "threadpoolctl" if first == "fastreg" else "fastreg"
    r = _python(
        f"""
        import {first}, {second}
        import fastreg, threadpoolctl
        info = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "fastreg"]
        print(len(info), info[0]["num_threads"])
        """,
        FASTREG_NUM_THREADS="2",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1", "2"]


def _child_sums(x: np.ndarray) -> tuple[bytes, bytes]:
    fastreg.set_num_threads(2)
    _core._set_parallel_min(2)
    v, g = R.L1L2(L1, L2).value_and_gradient(x)
    return _bits(K.sum_abs_squares(x)), _bits(v) + _bits(g)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # 3.12+: fork of a threaded process
@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork start method"
)
def test_fork_child_uses_threads():
    x = _data(4 * SUPER_N + 3, np.float32, 5)
    fastreg.set_num_threads(2)
    want = _child_sums(x)  # the parent's pool has started its worker
    with multiprocessing.get_context("fork").Pool(2) as pool:
        got = pool.map(_child_sums, [x, x, x])
    assert got == [want] * 3


def test_workers_never_exceed_the_setting():
    """3 threads: 2 workers, also with 4 callers at once (a busy pool makes a
    caller compute alone); small arrays start none, nor does one big call
    after none. Counted in a fresh process."""
    if not os.path.isdir("/proc/self/task"):
        pytest.skip("needs /proc/self/task")
    r = _python(
        """
        import os, threading, time
        import numpy as np
        import fastreg
        tasks = lambda: len(os.listdir("/proc/self/task"))
        base = tasks()
        small = np.ones(200_000, np.float32)
        for _ in range(50):
            fastreg.L1L2(0.1, 0.1).value_and_gradient(small)
        print(tasks() - base)
        big = np.ones(2_000_000, np.float32)
        fastreg.kernels.sum_abs(big)  # alone: no worker is awake (fr_threads.c, COLD_MIN)
        print(tasks() - base)
        for _ in range(200):  # a call right after a big call starts them (one is enough)
            fastreg.kernels.sum_abs(big)
            if tasks() - base == 2:
                break
        print(tasks() - base)
        def work():
            for _ in range(20):
                fastreg.kernels.sum_abs(big)
        ts = [threading.Thread(target=work) for _ in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        # a joined thread may still be leaving /proc for a moment
        for _ in range(1000):
            if tasks() - base <= 2:
                break
            time.sleep(0.01)
        print(tasks() - base)
        """,
        FASTREG_NUM_THREADS="3",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0", "0", "2", "2"]


def test_concurrent_callers_same_bits():
    """Python threads sharing the pool (one gets it, the others compute alone)
    all get the 1-thread bits."""
    x = _layouts(np.float32)["negative"]
    fastreg.set_num_threads(1)
    want = _results(x)
    fastreg.set_num_threads(2)
    got: list = []

    def work():
        got.append(_results(x))

    ts = [threading.Thread(target=work) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert got == [want] * 4


def test_idle_workers_sleep():
    # A worker looks for the next job for a short while (fr_threads.c,
    # SPIN_NS = 0.1 ms), then sleeps: an idle process burns no CPU. The
    # check can only err towards passing (a loaded machine gives a spinning
    # thread less CPU), never fail a pool that sleeps.
    import time

    prev = fastreg.set_num_threads(2)
    try:
        x = np.ones(6 << 17, np.float32)  # 6 superblocks: parallel
        for _ in range(3):
            R.L1L2(0.1, 0.1)(x)
        time.sleep(0.05)  # past the spin
        cpu = time.process_time()
        time.sleep(0.5)
        assert time.process_time() - cpu < 0.1
    finally:
        fastreg.set_num_threads(prev)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="CPU masks are Linux's")
def test_workers_keep_their_cpu_mask():
    # A worker woken onto its caller's CPU moves itself off it by narrowing
    # its CPU mask for a moment (fr_threads.c, leave_cpu). The second of two
    # calls after an idle gap wakes the workers; afterwards every thread must have
    # the mask it started with, and a process held to one CPU (where there
    # is nowhere to move) must still get the one-thread bits.
    code = """
        import os, time, numpy as np, fastreg
        from fastreg import _core, regularizers as R
        cpus = sorted(os.sched_getaffinity(0))
        if {one}:
            os.sched_setaffinity(0, cpus[:1])
        mask = os.sched_getaffinity(0)
        task = "/proc/self/task"
        before = {{t: os.sched_getaffinity(int(t)) for t in os.listdir(task)}}  # BLAS's
        x = np.random.default_rng(0).standard_normal(6 << 17).astype(np.float32)
        reg = R.L1L2(0.01, 0.02)
        fastreg.set_num_threads(1)
        want = reg(x).tobytes()
        fastreg.set_num_threads(2)
        for _ in range(100):
            time.sleep(0.002)  # past the workers' spin: they sleep
            assert reg(x).tobytes() == want  # alone (fr_threads.c, COLD_MIN)
            assert reg(x).tobytes() == want  # right after it: wakes the workers
        workers = set(os.listdir(task)) - set(before)
        assert workers, "the pool did not start"
        deadline = time.monotonic() + 30
        for tid in os.listdir(task):
            want_mask = before.get(tid, mask)
            # a worker the last call woke may be moving right now (its mask
            # narrowed for a moment, the caller does not wait for it): wait
            # for the move to end, not for a time
            while os.sched_getaffinity(int(tid)) != want_mask and time.monotonic() < deadline:
                time.sleep(0.001)
            assert os.sched_getaffinity(int(tid)) == want_mask, tid
        print("ok")
    """
    for one in (False, True):
        r = _python(code.format(one=one))
        assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
