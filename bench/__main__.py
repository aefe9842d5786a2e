"""``python -m bench``: fastreg against NumPy, SciPy BLAS, torch and tf.keras.

Run it from the repository root. See bench/README.md for how to read the output.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

from bench import _env, _header

_env.setup()  # before NumPy: pin BLAS/OpenMP threads (idempotent; bench/__init__ did it)

FULL_SIZES = (16, 256, 4096, 65536, 1 << 20, 1 << 22, 1 << 24)
QUICK_SIZES = (16, 4096, 65536, 1 << 22, 1 << 24)
DTYPES = ("float32", "float64")
BIG = 1 << 20  # from this many elements on, fewer rounds (each call is ~0.1 ms or more)


def _size(tok: str) -> int:
    tok = tok.strip()
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(tok[-1:].lower(), 1)
    num = tok[:-1] if mult > 1 else tok
    try:
        n = int(float(num) * mult)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad size {tok!r} (use e.g. 16,4K,1M)") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"size must be >= 1: {tok!r}")
    return n


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m bench",
        description="Time fastreg's kernels and regularizers against NumPy, SciPy BLAS, torch "
        "and tf.keras on this machine (single thread), with a C read-bandwidth probe.",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="fewer sizes and rounds, every op still run: n = 16, 4096, 65536, 4M, "
        "16M (float64 up to 4M); under 90 s on a loaded 2-core VM",
    )
    ap.add_argument("--json", metavar="PATH", help="write every measurement as a JSON list")
    ap.add_argument(
        "--simd",
        default="default",
        metavar="LEVELS",
        help="fastreg SIMD levels to time: 'default' (the active one), 'all' "
        "(every level this CPU and build have), or a list, e.g. avx2,sse2",
    )
    ap.add_argument(
        "--plot",
        metavar="PATH.png",
        help="draw GB/s against n with the read ceiling (needs matplotlib)",
    )
    ap.add_argument(
        "--sizes",
        metavar="N,N,...",
        type=lambda s: [_size(t) for t in s.split(",")],
        help="element counts (suffixes K, M = 2^10, 2^20); default 16,256,4096,65536,1M,4M,16M",
    )
    ap.add_argument(
        "--dtypes", default=",".join(DTYPES), metavar="D,D", help="float32,float64 (default both)"
    )
    ap.add_argument(
        "--impls",
        default="fastreg,numpy,scipy,torch,tensorflow",
        metavar="I,I",
        help="implementations to time (default all that are installed)",
    )
    ap.add_argument(
        "--rounds",
        type=int,
        help="rounds per size (default 25, or 9 from 1M elements on; quick 15 / 5)",
    )
    ap.add_argument(
        "--block-ms", type=float, help="calibrated block length (default 1.5, quick 1.0)"
    )
    ap.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="what the tables report: process CPU time (default; leaves out time "
        "other processes held the CPU) or wall-clock time; JSON has both",
    )
    ap.add_argument("--detail", action="store_true", help="also print every variant")
    ap.add_argument(
        "--targets",
        action="store_true",
        help="also print the project's own speed goals with PASS/MISS (for developers and CI), "
        "with issue 13's: numba one-pass loops, AVX-512 vs AVX2, the float32 widening probe",
    )
    ap.add_argument(
        "--widening",
        action="store_true",
        help="only run the C probe of exact float32 -> float64 widenings (bench/widen.c): "
        "ns and cycles per element of each, at each SIMD level",
    )
    ap.add_argument(
        "--training",
        action="store_true",
        help="run the training benchmark instead (bench/training.py): ParamGroup steps and "
        "a NumPy MLP, against per-array calls, NumPy and torch",
    )
    ap.add_argument(
        "--no-training",
        action="store_true",
        help="leave out the short training summary at the end of the default run "
        "(bench/training.py's small configuration, about a second)",
    )
    ap.add_argument("--seed", type=int, default=12345)
    args = ap.parse_args(argv)
    args.dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    bad = [d for d in args.dtypes if d not in DTYPES]
    if bad:
        ap.error(f"--dtypes: unsupported {bad} (choose from {', '.join(DTYPES)})")
    args.impls = [i.strip() for i in args.impls.split(",") if i.strip()]
    from bench._suite import IMPLS

    bad = [i for i in args.impls if i not in IMPLS]
    if bad:
        ap.error(f"--impls: unknown {bad} (choose from {', '.join(IMPLS)})")
    # --quick without --sizes skips float64 at 16M (the slowest cell; no speed goal needs it)
    args.skip = {("float64", 1 << 24)} if args.quick and args.sizes is None else set()
    if args.sizes is None:
        args.sizes = list(QUICK_SIZES if args.quick else FULL_SIZES)
    if args.rounds is not None and args.rounds < 1:
        ap.error("--rounds must be >= 1")
    small, big = (15, 5) if args.quick else (25, 9)
    args.rounds_small, args.rounds_big = (args.rounds, args.rounds) if args.rounds else (small, big)
    args.block_s = (args.block_ms or (1.0 if args.quick else 1.5)) / 1e3
    return args


# ---------------------------------------------------------------------------


def _noise(cells) -> str:
    import statistics

    r = [
        statistics.median(c.samples_wall) / statistics.median(c.samples_cpu)
        for cell in cells
        for c in cell.cases
        if c.samples_cpu and min(c.samples_cpu) > 0
    ]
    try:
        load = f"load average at end {os.getloadavg()[0]:.2f}; "
    except OSError:
        load = ""
    if not r:
        return load
    return (
        load + f"wall / CPU time per case: median {statistics.median(r):.2f}, max "
        f"{max(r):.2f} (1.00 on a quiet machine; more = other processes took this CPU)"
    )


def _levels(spec: str, info: dict) -> list[str]:
    avail = [lv for lv in info["compiled"] if lv in info["detected"]]
    if spec == "default":
        return [info["active"]]
    if spec == "all":
        return [info["active"]] + [lv for lv in reversed(avail) if lv != info["active"]]
    want = [s.strip() for s in spec.split(",") if s.strip()]
    bad = [lv for lv in want if lv not in avail]
    if bad:
        raise SystemExit(
            f"--simd: {bad} not available here (this CPU and build: {', '.join(avail)})"
        )
    return want


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.training:
        from bench import training

        return training.main(quick=args.quick, targets=args.targets)
    if args.widening:
        from bench import _report, _widen

        _env.import_fastreg()  # the exactness check compares with fastreg's kernels
        print("\n".join(_report.fit(_widen.report(cpu=_header.cpu()))), flush=True)
        return 0
    t_start = time.perf_counter()
    try:
        fastreg = _env.import_fastreg()
    except ImportError as e:
        print(f"bench: cannot import fastreg: {e}", file=sys.stderr)
        return 2
    import numpy as np

    from bench import _probe, _report, _suite
    from bench._suite import log

    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            log(
                "bench: --plot: matplotlib is not installed (pip install matplotlib); "
                "the run goes on without a plot"
            )
            args.plot = None

    info = fastreg.simd_info()
    levels = _levels(args.simd, info) if "fastreg" in args.impls else []
    initial_level = info["active"]
    default_level = levels[0] if levels else initial_level  # the one the tables report
    peers, notes = _suite.load_peers([i for i in args.impls if i not in ("fastreg", "numpy")])
    probe, probe_why = _probe.load()
    floor = _suite.harness_floor()
    head = _header.header(args, fastreg, np, peers, notes, probe, probe_why, levels, floor)
    head.append(
        "sizes    : "
        + "; ".join(
            f"{d} n = "
            + ", ".join(
                _report.fmt_n(n) for n in sorted(set(args.sizes)) if (d, n) not in args.skip
            )
            for d in args.dtypes
        )
    )
    print("\n".join(_report.fit(head)), flush=True)
    if probe is None:
        log(f"bench: probe unavailable: {probe_why}")

    rng = random.Random(args.seed)
    cells = []
    todo = [(d, n) for d in args.dtypes for n in sorted(set(args.sizes)) if (d, n) not in args.skip]
    tty = sys.stderr.isatty()
    try:
        for i, (dtype, n) in enumerate(todo, 1):
            t0 = time.perf_counter()
            x, g, t = _suite.make_arrays(dtype, n, args.seed)
            cases = _suite.build_cases(
                x,
                g,
                t,
                fastreg=fastreg,
                simd_levels=levels,
                peers=peers,
                probe=probe,
                impls=args.impls,
            )
            rounds = args.rounds_small if n < BIG else args.rounds_big
            prefix = (
                f"[{i}/{len(todo)}] {dtype} n={n}: {len(cases)} cases x {rounds} rounds"
                f" (elapsed {time.perf_counter() - t_start:.0f} s)"
            )
            log(prefix + " ... checking", end="\r" if tty else "\n")
            refs = _suite.references(x)
            for c in cases:
                c.check = _suite.check_case(c, refs)
                if c.check != "ok":
                    log(
                        f"\nbench: WRONG RESULT {c.impl} {c.op} {dtype} n={n}: {c.variant}: "
                        f"{c.check}"
                    )
            if levels:
                fastreg.set_simd(initial_level)

            def progress(r, total, prefix=prefix):
                if tty:
                    log(f"{prefix} ... round {r}/{total}   ", end="\r")

            _suite.run_cell(
                cases,
                rounds=rounds,
                block_s=args.block_s,
                rng=rng,
                clock=args.clock,
                progress=progress,
                warm=True,
            )
            if levels:
                fastreg.set_simd(initial_level)
            log(f"{prefix} ... {time.perf_counter() - t0:.1f} s      ")
            for c in cases:  # free the arrays (and peer tensors) of this cell
                c.glb = None
                c.runner = None
            cells.append(
                _report.Cell(
                    dtype, n, x.nbytes, x.ctypes.data % 64, cases, default_level if levels else None
                )
            )
            del x, g, t, cases
    except KeyboardInterrupt:
        log("\nbench: interrupted; reporting what was measured")
        args.no_training = True
    finally:
        if levels:
            fastreg.set_simd(initial_level)
    training_lines, training_ok = _training_summary(args)

    out = _report.summary(cells)
    out += _report.simd_table(cells, levels)
    if args.detail:
        out += _report.detail(cells)
    if args.targets:
        from bench import _widen, kernel_goals

        out += _report.targets(cells)[0]
        i13, i13_levels, i13_note = kernel_goals.measure(args, fastreg, peers)
        out += kernel_goals.goals(i13, i13_levels, i13_note)[0]
        out += [""] + _widen.report(cpu=None)
    out += training_lines
    wall = time.perf_counter() - t_start
    out += ["", _report.alignment(cells), f"wall time {wall:.1f} s; " + _noise(cells)]
    print("\n".join(_report.fit(out)), flush=True)

    if args.json:
        meta = {
            "date": head[0].split(", ", 1)[1],
            "simd_active": default_level,
            "clock": args.clock,
            "fastreg_version": getattr(fastreg, "__version__", None),
        }
        _report.write_json(args.json, _report.records(cells, meta))
        log(f"bench: wrote {args.json}")
    if args.plot:
        why = _report.plot(
            cells,
            args.plot,
            levels,
            head[0].lstrip("# ") + " | " + head[1].split(":", 1)[1].split(";")[0].strip(),
        )
        log(f"bench: {why}" if why else f"bench: wrote {args.plot}")
    bad = [c for cell in cells for c in cell.cases if c.check != "ok"]
    if bad:
        log(f"bench: {len(bad)} case(s) returned wrong results; see '!' marks")
    if not training_ok:
        log("bench: the training summary's losses are WRONG; see its lines")
    return 0


def _training_summary(args: argparse.Namespace) -> tuple[list[str], bool]:
    """bench/training.py's short section of the default run (lines, losses ok)."""
    if args.no_training or "fastreg" not in args.impls:
        return [], True
    from bench import training

    try:
        return training.summary()
    except Exception as e:  # a report without it beats no report
        return ["", f"training summary failed: {type(e).__name__}: {e}"], False


if __name__ == "__main__":
    sys.exit(main())
