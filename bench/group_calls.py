"""``python -m bench.group_calls``: how back-to-back ParamGroup steps spread in time.

The training benchmark's 32 x 4096 float32 ``add_gradients``, called many times in a row
(a training loop's steps), each call timed on its own: percentiles and a histogram of
the wall time per call at 1 thread and at fastreg's default thread count. A median near
the 1-thread one at 2 threads means the pool sat out most calls (its back-off after a
stalled worker, csrc/fr_threads.c); the tail shows the stalls themselves.

    python -m bench.group_calls [--calls 20000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import fastreg
from bench.training import step_arrays
from fastreg._threads import default_num_threads

EDGES_US = (0, 5, 10, 15, 20, 25, 30, 40, 60, 100, float("inf"))


def call_times(threads: int, calls: int, warm: int = 1000) -> np.ndarray:
    """Wall microseconds of each of `calls` add_gradients steps at `threads` threads."""
    reg, ws, gs = step_arrays(np.random.default_rng(1))
    group = fastreg.ParamGroup(ws, reg)
    prev = fastreg.set_num_threads(threads)
    try:
        clock = time.perf_counter_ns
        out = np.empty(warm + calls)
        for i in range(warm + calls):
            t = clock()
            group.add_gradients(gs)
            out[i] = clock() - t
    finally:
        fastreg.set_num_threads(prev)
    return out[warm:] / 1000.0


def report(times: np.ndarray, threads: int) -> list[str]:
    p = np.percentile(times, [5, 25, 50, 75, 95, 99])
    counts, _ = np.histogram(times, bins=EDGES_US)
    hist = "  ".join(
        f"<{hi:g}: {c}" if hi != float("inf") else f">={lo:g}: {c}"
        for lo, hi, c in zip(EDGES_US[:-1], EDGES_US[1:], counts, strict=True)
    )
    return [
        f"{threads} thread(s): percentiles 5/25/50/75/95/99 "
        + " / ".join(f"{v:.1f}" for v in p)
        + " us",
        f"  calls per bin (us): {hist}",
    ]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=20000)
    args = ap.parse_args(argv)
    print(
        "# 32 x 4096 float32 ParamGroup.add_gradients, back to back, wall time per call; "
        f"{fastreg.simd_info()['active']}"
    )
    for threads in sorted({1, default_num_threads()}):
        for line in report(call_times(threads, args.calls), threads):
            print(line)


if __name__ == "__main__":
    main()
