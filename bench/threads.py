"""``python -m bench.threads``: fastreg with 1 thread against N threads.

For each size, the thread counts are timed in alternation (one call with 1
thread, one with 2, ...), many rounds, and the median of each is reported
with the ratio 1-thread / N-thread time (> 1: threads help). Alternating
keeps a neighbour's load on a shared machine from landing on one count
only; the numbers are still noisy there.

    python -m bench.threads                       # 1M, 4M, 16M float32, 1 vs 2
    python -m bench.threads --threads 1,2 --sizes 1M,4M,16M
    python -m bench.threads --sweep               # the parallel threshold

Each size also gets a row "read probe": bench/probe.c's streaming read of the
same array, by 1 thread and by N Python threads that each read one contiguous
share (ctypes releases the GIL, so they run at once; their start-up is in
the time, which favours fastreg at small sizes). The "of probe" columns give
each op's memory traffic (bytes read + bytes written) per second at N
threads as a fraction of the N-thread probe's read rate.

Each op also gets a row "+pause": the same call timed after a 1 ms pause
(not timed) before each call, so that the pool's workers have gone to sleep
and every call wakes them, as in a training loop that does other work
between calls. Threads must not make those calls slower either.

``--targets`` adds the goals of the "every core" work: 2 threads at least
1.7x one thread's speed at 1M and 4M float32, at least 90 % of the 2-thread
probe at 16M, and never slower than 1 thread (>= 0.97x).

``--sweep`` times the sizes of 1 .. 8 superblocks (128 Ki elements each)
with every size allowed to go parallel (fastreg._core._set_parallel_min(2)):
the smallest size where 2 threads are reliably faster is the threshold
(PAR_MIN_DEFAULT in csrc/fr_threads.c).
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from bench import _env

_env.setup()

import numpy as np  # noqa: E402

SUPER = 2048 * 64  # elements in a superblock


def _size(tok: str) -> int:
    tok = tok.strip()
    mult = {"k": 1 << 10, "m": 1 << 20}.get(tok[-1:].lower(), 1)
    return int(float(tok[:-1] if mult > 1 else tok) * mult)


# memory traffic of each op, in passes over the array: reads + writes
TRAFFIC = {"L1L2(x)": 1, "value_and_gradient(acc)": 3, "prox(out=x)": 2, "read probe": 1}


def _ops(fastreg, n: int, dtype: str) -> dict:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n).astype(dtype)
    w = x.copy()
    g = np.zeros_like(x)
    reg = fastreg.L1L2(1e-4, 1e-4)
    return {
        "L1L2(x)": lambda: reg(x),
        "value_and_gradient(acc)": lambda: reg.value_and_gradient(x, out=g, accumulate=True),
        "prox(out=x)": lambda: reg.prox(w, 1e-3, out=w),
    }


class ReadProbe:
    """bench/probe.c's read of an array by 1 .. N threads (one contiguous share each)."""

    def __init__(self, probe, x: np.ndarray, threads: int):
        self.probe, self.x = probe, x
        self.pool = ThreadPoolExecutor(max_workers=max(threads, 1))
        self.threads = 1

    def _read(self, lo: int, hi: int) -> int:
        return self.probe.read(self.x.ctypes.data + lo, hi - lo, 1)

    def __call__(self) -> None:
        nbytes, t = self.x.nbytes, self.threads
        cut = [nbytes * i // t // 64 * 64 for i in range(t)] + [nbytes]
        if t == 1:
            self._read(0, nbytes)
            return
        for f in [self.pool.submit(self._read, cut[i], cut[i + 1]) for i in range(t)]:
            f.result()


def per_call(fn, reps: int) -> float:
    """Wall seconds per call of fn, over reps calls (bench.tensors uses it too)."""
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


PAUSE = 0.001  # s: longer than the workers' spin (0.1 ms), as between a training loop's calls


def per_call_after_pause(fn, reps: int) -> float:
    """Wall seconds per call of fn, each call after a PAUSE (not timed): idle workers."""
    total = 0.0
    for _ in range(reps):
        time.sleep(PAUSE)
        t = time.perf_counter()
        fn()
        total += time.perf_counter() - t
    return total / reps


def _use(fastreg, reader, t: int) -> None:
    """t threads for the next timing: the probe's own, or fastreg's pool."""
    if reader is not None:
        reader.threads = t
    else:
        fastreg.set_num_threads(t)


def _alternate(fastreg, reader, threads, rounds: int, timed) -> dict[int, float]:
    """Median of timed() per thread count, the counts alternating round by round."""
    times: dict[int, list[float]] = {t: [] for t in threads}
    for _ in range(rounds):
        for t in threads:
            _use(fastreg, reader, t)
            times[t].append(timed())
    return {t: statistics.median(v) for t, v in times.items()}


def measure(fastreg, sizes, threads, dtype: str, rounds: int, budget: float, probe=None):
    rows = []
    for n in sizes:
        ops = _ops(fastreg, n, dtype)
        reader = None
        if probe is not None:
            reader = ReadProbe(probe, np.ones(n, dtype), max(threads))
            ops["read probe"] = reader
        for name, fn in ops.items():
            _use(fastreg, reader if fn is reader else None, 1)
            fn()
            one = per_call(fn, 3)
            reps = max(1, int(budget / rounds / max(one, 1e-7) / len(threads)))
            who = reader if fn is reader else None
            nbytes = n * np.dtype(dtype).itemsize * TRAFFIC[name]
            med = _alternate(fastreg, who, threads, rounds, partial(per_call, fn, reps))
            rows.append({"n": n, "op": name, "median": med, "bytes": nbytes})
            if fn is reader:
                continue
            # the same op after a pause before each call: the pool starts asleep
            med = _alternate(fastreg, None, threads, rounds, partial(per_call_after_pause, fn, 10))
            rows.append({"n": n, "op": name + " +pause", "median": med, "bytes": nbytes})
        if reader is not None:
            reader.pool.shutdown()
    return rows


def goals(rows, threads) -> list[str]:
    """The "every core" goals at 2 threads (PASS / MISS), for --targets."""
    if 2 not in threads or threads[0] != 1:
        return ["goals: need --threads 1,2"]
    probe = {r["n"]: r for r in rows if r["op"] == "read probe"}
    out = ["## goals at 2 threads (speedup = 1-thread time / 2-thread time, same rounds)"]
    for r in rows:
        if r["op"] == "read probe":
            continue
        n, med = r["n"], r["median"]
        speed = med[1] / med[2]
        checks = [("never slower", speed, 0.97)]
        if n in (1 << 20, 1 << 22) and not r["op"].endswith("+pause"):
            checks.append(("2 threads vs 1", speed, 1.7))
        if n == 1 << 24 and n in probe and not r["op"].endswith("+pause"):
            p = probe[n]
            frac = (r["bytes"] / med[2]) / (p["bytes"] / p["median"][2])
            checks.append(("of the 2-thread read probe", frac, 0.9))
        for what, got, need in checks:
            verdict = "PASS" if got >= need else "MISS"
            out.append(f"{n:>9} {r['op']:<30} {what:<27} {got:6.2f}  >= {need:<4}  {verdict}")
    return out


def report(rows, threads, dtype: str) -> None:
    base = threads[0]
    head = f"{'n':>9} {'op':<30}" + "".join(f" {f'{t} thr us':>11}" for t in threads)
    head += "".join(f" {f'{base}/{t}':>7}" for t in threads[1:])
    head += f" {'GB/s':>7} {'of probe':>8}"
    print(f"# {dtype}, medians of alternating rounds; GB/s (bytes read + written) and the")
    print(f"# fraction of the read probe's rate, both at {threads[-1]} threads")
    print(head)
    probe = {r["n"]: r for r in rows if r["op"] == "read probe"}
    for r in rows:
        med, last = r["median"], threads[-1]
        line = f"{r['n']:>9} {r['op']:<30}" + "".join(f" {med[t] * 1e6:>11.1f}" for t in threads)
        line += "".join(f" {med[base] / med[t]:>7.2f}" for t in threads[1:])
        rate = r["bytes"] / med[last]
        line += f" {rate / 1e9:>7.1f}"
        p = probe.get(r["n"])
        if p is not None:
            line += f" {rate / (p['bytes'] / p['median'][last]):>8.2f}"
        print(line)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.threads", description=__doc__.split("\n")[0])
    ap.add_argument("--threads", default="1,2", help="thread counts, the first is the base")
    ap.add_argument("--sizes", default="1M,4M,16M", help="element counts, e.g. 1M,4M,16M")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--rounds", type=int, default=15, help="alternating rounds per op")
    ap.add_argument("--budget", type=float, default=2.0, help="seconds per op and size")
    ap.add_argument("--sweep", action="store_true", help="1 .. 8 superblocks, all parallel")
    ap.add_argument("--targets", action="store_true", help="also check the goals (PASS / MISS)")
    ap.add_argument("--no-probe", action="store_true", help="leave out the read probe rows")
    args = ap.parse_args(argv)
    fastreg = _env.import_fastreg()
    from bench import _probe
    from bench._header import cpu as _cpu
    from fastreg import _core

    probe, why = (None, "--no-probe") if args.no_probe else _probe.load()

    threads = [int(t) for t in args.threads.split(",")]
    sizes = [_size(s) for s in args.sizes.split(",")]
    prev = fastreg.get_num_threads()
    prev_min = None
    if args.sweep:
        sizes = [k * SUPER for k in range(1, 9)]
        prev_min = _core._set_parallel_min(2)
    try:
        active = fastreg.simd_info()["active"]
        print(f"# fastreg {fastreg.__version__}; {_cpu()}; simd {active}")
        if probe is None:
            print(f"# no read probe: {why}")
        rows = measure(fastreg, sizes, threads, args.dtype, args.rounds, args.budget, probe)
        report(rows, threads, args.dtype)
        if args.targets:
            print("\n".join(goals(rows, threads)))
    finally:
        fastreg.set_num_threads(prev)
        if prev_min is not None:
            _core._set_parallel_min(prev_min)


if __name__ == "__main__":
    main()
