"""The float32 -> float64 widening probe (bench/widen.c): issue 13, item 4.

``python -m bench --widening`` prints it alone, ``--targets`` after the goals. It
times the canonical sums of fr_contract.h over an L1-resident (2048 elements) and an
L2-resident (65536) float32 array with each exact widening, at each SIMD level the CPU
has, in cycles per element (the core clock timed with a chain of dependent integer adds
in the same rounds) and ns per element; process CPU time, medians over interleaved
rounds. Before timing, every exact variant's sums are checked bit for bit against
``fastreg.kernels`` at the same level on data with zeros, subnormals, inf and NaN.
"""

from __future__ import annotations

import ctypes
import statistics
import time
from pathlib import Path

import numpy as np

from bench import _probe

SOURCE = Path(__file__).with_name("widen.c")
FLAGS = (["-O3", "-ffp-contract=off"],)
LEVELS = {"avx512": 1, "avx2": 0}
# widen.c's variant numbers: (name, column title, exact)
VARIANTS = (
    (0, "vcvtps2pd", True),
    (1, "int zext", True),
    (2, "no check", False),
    (3, "int pairs", True),
    (4, "f64 input", True),
)
WHAT = ((1, "sum |x|"), (3, "|x| + x^2"))
SIZES = (2048, 65536)
CACHE = {2048: "L1", 65536: "L2"}


class Widen:
    def __init__(self, lib: ctypes.CDLL, compiler: str, flags: list[str], path: Path):
        self.lib, self.compiler, self.flags = lib, compiler, flags
        lib.widen_run.restype = ctypes.c_longlong
        lib.widen_run.argtypes = (
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_size_t,
            ctypes.c_void_p,
        )
        lib.widen_clock.restype = ctypes.c_uint64
        lib.widen_clock.argtypes = (ctypes.c_uint64,)
        lib.widen_has.restype = ctypes.c_int
        lib.widen_has.argtypes = (ctypes.c_int,)
        self.levels = [lv for lv, code in LEVELS.items() if lib.widen_has(code)]

    def run(self, level: str, variant: int, what: int, x: np.ndarray, reps: int = 1):
        """(sum |x|, sum x^2, blocks redone with vcvtps2pd)."""
        out = np.zeros(2)
        sp = self.lib.widen_run(
            LEVELS[level], variant, what, x.ctypes.data, x.size, reps, out.ctypes.data
        )
        if sp < 0:
            raise ValueError("widen_run refused the arguments")
        return float(out[0]), float(out[1]), int(sp)

    def ns_per_cycle(self) -> float:
        iters = 1_000_000
        t0 = time.process_time_ns()
        self.lib.widen_clock(iters)
        return (time.process_time_ns() - t0) / (4 * iters)


def load() -> tuple[Widen | None, str]:
    built, why = _probe.build(SOURCE, FLAGS, prefix="widen")
    if built is None:
        return None, why
    return Widen(*built), ""


def check_data(n: int = 8192, seed: int = 7) -> list[np.ndarray]:
    """Normal data; the same with zeros, a subnormal, inf and NaN; all subnormal."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n).astype(np.float32)
    sp = x.copy()
    sp[100:200] = 0
    sp[7] = np.float32(1e-45)
    sp[5] = np.inf
    sp[n - 3] = np.nan
    tiny = (x * np.float32(1e-40)).astype(np.float32)
    return [x, sp, tiny]


def exact(w: Widen, fastreg) -> tuple[bool, list[str]]:
    """Every exact variant's sums equal fastreg's at the same level, bit for bit."""
    from fastreg.kernels import sum_abs, sum_squares

    bad = []
    old = fastreg.simd_info()["active"]
    try:
        for level in w.levels:
            fastreg.set_simd(level)
            for x in check_data():
                want = (sum_abs(x), sum_squares(x))
                for v, name, is_exact in VARIANTS:
                    if not is_exact or v == 4:
                        continue
                    a, s, _ = w.run(level, v, 3, x)
                    for got, ref in zip((a, s), want, strict=True):
                        if not (got == ref or (got != got and ref != ref)):
                            bad.append(f"{level} {name}: {got!r} != {ref!r}")
    finally:
        fastreg.set_simd(old)
    return not bad, bad


def measure(w: Widen, rounds: int = 15) -> tuple[dict, dict, float]:
    """{(what, n, level, variant): median cycles/element}, {same key: the per-round
    cycles/element}, median ns per cycle."""
    rng = np.random.default_rng(11)
    arrays = {}
    for n in SIZES:
        x = rng.standard_normal(n).astype(np.float32)
        arrays[n] = (x, x.astype(np.float64))
    keys = [
        (what, n, lv, v) for what, _ in WHAT for n in SIZES for lv in w.levels for v, *_ in VARIANTS
    ]
    samples: dict = {k: [] for k in keys}
    clock = []
    order = list(keys)
    for r in range(rounds):
        cyc = w.ns_per_cycle()
        clock.append(cyc)
        np.random.default_rng(r).shuffle(order)
        for key in order:
            what, n, lv, v = key
            x = arrays[n][1 if v == 4 else 0]
            reps = max(1, 4_000_000 // n)
            t0 = time.process_time_ns()
            w.run(lv, v, what, x, reps)
            samples[key].append((time.process_time_ns() - t0) / reps / n / cyc)
    med = {k: statistics.median(s) for k, s in samples.items()}
    return med, samples, statistics.median(clock)


def report(cpu: str | None = None, rounds: int = 15) -> list[str]:
    import fastreg

    w, why = load()
    title = "## exact float32 -> float64 widening: the C probe bench/widen.c"
    if w is None:
        return [title, f"unavailable: {why}"]
    if not w.levels:
        return [title, "unavailable: this CPU has neither AVX2 nor AVX-512F"]
    ok, bad = exact(w, fastreg)
    med, samples, ns_cyc = measure(w, rounds)
    lines = [title]
    if cpu:
        lines.append(f"cpu      : {cpu}")
    lines += [
        f"clock    : {1 / ns_cyc:.2f} GHz (a chain of dependent integer adds, same rounds); "
        f"built by {Path(w.compiler).name} {' '.join(w.flags)}",
        "exact    : "
        + (
            "every exact variant's sums equal fastreg.kernels' bit for bit at each level "
            "(normal data; zeros, a subnormal, inf, NaN; all subnormal)"
            if ok
            else "NO: " + "; ".join(bad[:4])
        ),
        "variants : vcvtps2pd = the kernels' widening; int zext = |x| bits zero-extended, "
        "<< 29, * 2^896 (exact for every finite x, subnormals and zeros included; a max of "
        "the bits finds inf/NaN, whose block is summed again with vcvtps2pd); no check = the "
        "same without that check (wrong for inf/NaN: a lower bound); int pairs = 2 floats per "
        "64-bit word, and + shift, no shuffle (lanes permuted, un-permuted at the flush); "
        "f64 input = float64 data, no widening, summed as the float64 kernels do (mul, "
        "then add). sum |x| alone is summed as |x| * 2^-896 and scaled at the flush (exact).",
        f"cycles per element (ns per element), median of {rounds} rounds; 32 float64 lanes in "
        "the kernels' registers (AVX-512 4 zmm, AVX2 8 ymm per sum), blocks of 2048; lane "
        "additions as each level's kernel adds (AVX-512: FMAs with exact products, AVX2: mul "
        "then add)",
    ]
    hdr = f"{'sums':<10} {'n':>9} {'level':<7}" + "".join(f" {name:>13}" for _, name, _ in VARIANTS)
    lines += [hdr, "-" * len(hdr)]
    wins = []
    for what, wname in WHAT:
        for n in SIZES:
            for lv in w.levels:
                cols = []
                for v, _name, _ in VARIANTS:
                    c = med[(what, n, lv, v)]
                    cols.append(f"{c:.3f} ({c * ns_cyc:.3f})")
                lines.append(
                    f"{wname:<10} {n:>6} {CACHE[n]} {lv:<7}" + "".join(f" {s:>13}" for s in cols)
                )
                cvt = samples[(what, n, lv, 0)]
                for v, name, ex in VARIANTS[1:4]:
                    other = samples[(what, n, lv, v)]
                    r = statistics.median(a / b for a, b in zip(cvt, other, strict=True))
                    if ex and r >= 1.10:
                        wins.append(f"{wname} n={n} {lv}: {name} {r:.2f}x")
    lines.append(
        "exact widenings at least 10 % faster than vcvtps2pd (vcvtps2pd's time / theirs, "
        "same round, median): " + ("; ".join(wins) if wins else "none")
    )
    return lines
