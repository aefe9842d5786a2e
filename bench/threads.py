"""``python -m bench.threads``: fastreg with 1 thread against N threads.

For each size, the thread counts are timed in alternation (one call with 1
thread, one with 2, ...), many rounds, and the median of each is reported
with the ratio 1-thread / N-thread time (> 1: threads help). Alternating
keeps a neighbour's load on a shared machine from landing on one count
only; the numbers are still noisy there.

    python -m bench.threads                       # 1M, 4M, 16M float32, 1 vs 2
    python -m bench.threads --threads 1,2 --sizes 1M,4M,16M
    python -m bench.threads --sweep               # the parallel threshold

``--sweep`` times the sizes of 1 .. 8 superblocks (128 Ki elements each)
with every size allowed to go parallel (fastreg._core._set_parallel_min(2)):
the smallest size where 2 threads are reliably faster is the threshold
(PAR_MIN_DEFAULT in csrc/fr_threads.c).
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench import _env

_env.setup()

import numpy as np  # noqa: E402

SUPER = 2048 * 64  # elements in a superblock


def _size(tok: str) -> int:
    tok = tok.strip()
    mult = {"k": 1 << 10, "m": 1 << 20}.get(tok[-1:].lower(), 1)
    return int(float(tok[:-1] if mult > 1 else tok) * mult)


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


def _time(fn, reps: int) -> float:
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def measure(fastreg, sizes, threads, dtype: str, rounds: int, budget: float) -> list[dict]:
    rows = []
    for n in sizes:
        for name, fn in _ops(fastreg, n, dtype).items():
            fn()
            fastreg.set_num_threads(1)
            one = _time(fn, 3)
            reps = max(1, int(budget / rounds / max(one, 1e-7) / len(threads)))
            times: dict[int, list[float]] = {t: [] for t in threads}
            for _ in range(rounds):
                for t in threads:
                    fastreg.set_num_threads(t)
                    times[t].append(_time(fn, reps))
            med = {t: statistics.median(v) for t, v in times.items()}
            rows.append({"n": n, "op": name, "median": med})
    return rows


def report(rows, threads, dtype: str) -> None:
    base = threads[0]
    head = f"{'n':>9} {'op':<24}" + "".join(f" {f'{t} thr us':>11}" for t in threads)
    head += "".join(f" {f'{base}/{t}':>7}" for t in threads[1:])
    print(f"# {dtype}, medians of alternating rounds")
    print(head)
    for r in rows:
        med = r["median"]
        line = f"{r['n']:>9} {r['op']:<24}" + "".join(f" {med[t] * 1e6:>11.1f}" for t in threads)
        line += "".join(f" {med[base] / med[t]:>7.2f}" for t in threads[1:])
        print(line)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.threads", description=__doc__.split("\n")[0])
    ap.add_argument("--threads", default="1,2", help="thread counts, the first is the base")
    ap.add_argument("--sizes", default="1M,4M,16M", help="element counts, e.g. 1M,4M,16M")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--rounds", type=int, default=15, help="alternating rounds per op")
    ap.add_argument("--budget", type=float, default=2.0, help="seconds per op and size")
    ap.add_argument("--sweep", action="store_true", help="1 .. 8 superblocks, all parallel")
    args = ap.parse_args(argv)
    fastreg = _env.import_fastreg()
    from fastreg import _core

    threads = [int(t) for t in args.threads.split(",")]
    sizes = [_size(s) for s in args.sizes.split(",")]
    prev = fastreg.get_num_threads()
    prev_min = None
    if args.sweep:
        sizes = [k * SUPER for k in range(1, 9)]
        prev_min = _core._set_parallel_min(2)
    try:
        print(f"# fastreg {fastreg.__version__}, SIMD {fastreg.simd_info()['active']}")
        rows = measure(fastreg, sizes, threads, args.dtype, args.rounds, args.budget)
        report(rows, threads, args.dtype)
    finally:
        fastreg.set_num_threads(prev)
        if prev_min is not None:
            _core._set_parallel_min(prev_min)


if __name__ == "__main__":
    main()
