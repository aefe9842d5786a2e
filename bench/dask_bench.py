"""``python -m bench.dask_bench``: a regularizer's value on a big dask array.

    python -m bench.dask_bench [--size 2GiB] [--chunk 64MiB] [--repeat 3] [--no-cluster]

A float32 array of --size bytes in --chunk chunks; ``L1L2(0.01, 0.01)(x)``
timed (best of --repeat) three ways: one fastreg call on the whole ndarray in
memory (the baseline), dask's threaded scheduler on that array, and a
``distributed.LocalCluster`` with 2 worker processes (1 thread each) on the
array generated and persisted on the workers first (so that shipping 2 GiB
to them is not what is timed). Throughput is bytes read per second;
"overhead per chunk" is (dask time - NumPy time) / chunks, i.e. what each
chunk costs beyond the kernel on one core (negative when two cores beat
one). Needs ``pip install 'fastreg[dask]'``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from bench import _env

_env.setup()

UNITS = {"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def _bytes(tok: str) -> int:
    t = tok.strip().lower()
    for unit in sorted(UNITS, key=len, reverse=True):
        if t.endswith(unit):
            return int(float(t[: -len(unit)]) * UNITS[unit])
    return int(t)


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _line(name: str, seconds: float, nbytes: int, chunks: int, base: float) -> str:
    over = (seconds - base) / chunks * 1e3
    return (
        f"{name:34s} {seconds * 1e3:10.1f} ms  {nbytes / seconds / 1e9:7.2f} GB/s  "
        f"{over:+8.3f} ms/chunk"
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.dask_bench", description=__doc__)
    ap.add_argument("--size", default="2GiB", help="array size in bytes (e.g. 256MiB, 2GiB)")
    ap.add_argument("--chunk", default="64MiB", help="chunk size in bytes")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-cluster", action="store_true", help="skip the LocalCluster run")
    args = ap.parse_args(argv)

    import dask
    import dask.array as da

    import fastreg
    from fastreg import regularizers

    n = _bytes(args.size) // 4
    per_chunk = max(1, _bytes(args.chunk) // 4)
    reg = regularizers.L1L2(0.01, 0.01)
    nbytes = n * 4
    print(
        f"fastreg dask benchmark: float32, {nbytes / 2**20:.0f} MiB in "
        f"{per_chunk * 4 / 2**20:.0f} MiB chunks; dask {dask.__version__}; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    )
    a = np.random.default_rng(0).standard_normal(n, dtype=np.float32)
    x = da.from_array(a, chunks=per_chunk)
    chunks = x.npartitions
    print(f"{chunks} chunks")

    base = _best(lambda: reg(a), args.repeat)
    threads = fastreg.get_num_threads()
    print(_line(f"ndarray, one call ({threads} fastreg threads)", base, nbytes, chunks, base))
    lazy = reg(x)
    t = _best(lambda: lazy.compute(scheduler="threads"), args.repeat)
    print(_line("dask threaded scheduler", t, nbytes, chunks, base))
    assert float(lazy.compute(scheduler="threads")) == float(lazy.compute(scheduler="sync"))
    a = x = lazy = None  # free the array before the cluster makes its own

    if args.no_cluster:
        return
    from distributed import Client, LocalCluster, wait

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            memory_limit=0,
        ) as cluster,
        Client(cluster) as client,
    ):
        xs = da.random.default_rng(0).standard_normal(n, dtype=np.float32, chunks=per_chunk)
        xs = client.persist(xs)
        wait(xs)
        lazy = reg(xs)
        t = _best(lambda: lazy.compute(), args.repeat)
        print(_line("LocalCluster, 2 worker processes", t, nbytes, chunks, base))


if __name__ == "__main__":
    main()
