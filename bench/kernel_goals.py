"""The issue-13 speed goals, timed and printed by ``python -m bench --targets`` only.

Its own cells, timed the way the main tables are (``bench._suite.run_cell``: calibrated
blocks, shuffled rounds, process CPU time, one thread), with the cases the goals need:

* fastreg at its AVX-512 and AVX2 levels (forced with ``fastreg.set_simd`` before each
  block) for every op and the float64/float32 prox, n >= 4K: the level ratio;
* numba one-pass loops (bench/_numba.py), fastmath off and on, the faster of the two in
  each round being the one compared: ``L1L2(x)`` and the fused value_and_gradient on
  float32 with float64 accumulators, and the float64 prox;
* SciPy's ``sasum(x) + sdot(x, x)`` (the stretch goal).

Every goal is a minimum speedup (other's time / fastreg's time, computed round by round,
median over rounds), as in the main goal table; the issue states them as a maximum of
fastreg's time over the other's (<= 1.0), which is the same bound.
"""

from __future__ import annotations

import random
import statistics
import time

from bench import _numba, _suite
from bench._report import fmt_n, fmt_speedup, fmt_time, quartiles
from bench._suite import Case, log

QUICK_SIZES = (4096, 65536, 1 << 20, 1 << 24)
FULL_SIZES = (4096, 65536, 1 << 18, 1 << 20, 1 << 22, 1 << 24)
LEVELS = ("avx512", "avx2")  # the level ratio: the first over the second

# (op, fastreg statement) of the level comparison; prox writes t, keeping x intact
LEVEL_CASES = (
    ("sum_abs", "sum_abs(x)"),
    ("sum_squares", "sum_squares(x)"),
    ("L1", "l1(x)"),
    ("L2", "l2(x)"),
    ("L1L2", "l1l2(x)"),
    ("value_and_gradient", "l1l2.value_and_gradient(x, out=g, accumulate=True)"),
    ("prox", "l1l2.prox(x, STEP, out=t)"),
)
STEP = 0.5  # prox step: threshold t = STEP*0.01, divisor d = 1 + 2*STEP*0.01
NUMBA_CASES = (  # (op, dtype, first n, last n, statement with {v} the variant)
    ("L1L2", "float32", 4096, 1 << 20, "nb['{v}']['l1l2'](x, 0.01, 0.01)"),
    ("value_and_gradient", "float32", 1 << 20, 1 << 24, "nb['{v}']['vag'](x, g, 0.01, 0.01)"),
    ("prox", "float64", 4096, 1 << 20, "nb['{v}']['prox'](x, t, STEP*0.01, 1 + 2*STEP*0.01)"),
)
COMPOSITE = "0.01*sasum(x) + 0.01*sdot(x, x)"


def cells_wanted(sizes) -> list[tuple[str, int]]:
    """float32 at every size; float64 up to 1M (prox) and at 16M for the level ratio."""
    return [(d, n) for d in ("float32", "float64") for n in sizes]


def build(x, g, t, fastreg, levels, nb, blas) -> list[Case]:
    from fastreg.kernels import sum_abs, sum_squares

    dtype, n = str(x.dtype), x.size
    glb = {
        "_x": x,
        "_g": g,
        "_t": t,
        "sum_abs": sum_abs,
        "sum_squares": sum_squares,
        "l1": fastreg.L1(0.01),
        "l2": fastreg.L2(0.01),
        "l1l2": fastreg.L1L2(0.01, 0.01),
        "STEP": STEP,
        "nb": nb,
        "_set_simd": fastreg.set_simd,
    }
    cases = []
    for lv in levels:
        for op, stmt in LEVEL_CASES:
            cases.append(Case("fastreg", op, stmt, glb, simd=lv))
    if nb:
        for op, dt, lo, hi, stmt in NUMBA_CASES:
            if dt == dtype and lo <= n <= hi:
                for v in _numba.VARIANTS:
                    cases.append(Case("numba", op, stmt.format(v=v), glb, label=v))
    if blas is not None and dtype == "float32" and n <= 1 << 20:
        cases.append(Case("scipy", "L1L2", COMPOSITE, dict(glb, sasum=blas.sasum, sdot=blas.sdot)))
    return cases


def check(case: Case, ref_value: float, ref_prox) -> str:
    """One call: the value (or prox result) against float64 NumPy; "ok" or why not."""
    import numpy as np

    x, g, t = case.glb["_x"], case.glb["_g"], case.glb["_t"]
    if case.simd:
        case.glb["_set_simd"](case.simd)
    g[...] = 0
    try:
        v = eval(case.stmt, dict(case.glb, x=x, g=g, t=t))
    except Exception as e:  # noqa: BLE001 - reported, never fatal
        return f"error: {type(e).__name__}: {e}"
    if case.op == "prox":
        ok = np.allclose(t, ref_prox, rtol=1e-5, atol=1e-7)
        return "ok" if ok else "prox differs from sign(x)*max(|x|-t, 0)/d"
    if case.op not in ("L1L2", "value_and_gradient"):
        return "ok"  # the level cases of the plain sums: checked by the main run and tests
    v = float(v[0] if isinstance(v, tuple) else v)
    if not abs(v - ref_value) <= 1e-5 * abs(ref_value):
        return f"value {v:.9g} != {ref_value:.9g}"
    if case.op == "value_and_gradient":
        want = 0.01 * np.sign(x) + 0.02 * x.astype(np.float64)
        if not np.allclose(g, want, rtol=1e-5, atol=1e-6):
            return "gradient differs from 0.01*sign(x) + 0.02*x"
    g[...] = 0
    return "ok"


def measure(args, fastreg, peers) -> tuple[dict, list[str], str]:
    """Time the issue-13 cells: ({(dtype, n): cases}, levels timed, numba note)."""
    import numpy as np

    info = fastreg.simd_info()
    avail = [lv for lv in info["compiled"] if lv in info["detected"]]
    levels = [lv for lv in LEVELS if lv in avail]
    nb, why = _numba.load()
    note = f"numba {_numba.version()}" if nb else why
    blas = peers.get("scipy")
    sizes = list(QUICK_SIZES if args.quick else FULL_SIZES)
    rng = random.Random(args.seed + 13)
    initial = info["active"]
    out: dict = {}
    todo = cells_wanted(sizes)
    t_start = time.perf_counter()
    try:
        for i, (dtype, n) in enumerate(todo, 1):
            x, g, t = _suite.make_arrays(dtype, n, args.seed)
            cases = build(x, g, t, fastreg, levels, nb, blas)
            x64 = x.astype(np.float64)
            ref_value = 0.01 * float(np.abs(x64).sum()) + 0.01 * float(np.dot(x64, x64))
            thr, d = STEP * 0.01, 1 + 2 * STEP * 0.01
            ref_prox = (np.sign(x64) * np.maximum(np.abs(x64) - thr, 0) / d).astype(x.dtype)
            for c in cases:
                c.check = check(c, ref_value, ref_prox)
                if c.check != "ok":
                    log(f"bench: issue 13: WRONG RESULT {c.impl} {c.op} {dtype} n={n}: {c.check}")
            fastreg.set_simd(initial)
            rounds = args.rounds_small if n < 1 << 20 else args.rounds_big
            log(
                f"[issue 13 {i}/{len(todo)}] {dtype} n={n}: {len(cases)} cases x {rounds} "
                f"rounds (elapsed {time.perf_counter() - t_start:.0f} s)"
            )
            _suite.run_cell(cases, rounds=rounds, block_s=args.block_s, rng=rng, clock=args.clock)
            fastreg.set_simd(initial)
            for c in cases:
                c.glb = None
                c.runner = None
            out[(dtype, n)] = cases
    except KeyboardInterrupt:
        log("\nbench: issue 13 interrupted; reporting what was measured")
    finally:
        fastreg.set_simd(initial)
    return out, levels, note


# ---------------------------------------------------------------------------
# the table


def _pick(cases, impl, op, simd=None):
    return [
        c
        for c in cases
        if c.impl == impl and c.op == op and (simd is None or c.simd == simd) and c.samples
    ]


def _ratio_rows(others, fr) -> list[float]:
    """Round by round: the fastest of `others` in that round / fastreg's time."""
    return [min(o.samples[r] for o in others) / fr.samples[r] for r in range(len(fr.samples))]


def _row(label, vals, goal) -> tuple[str, dict]:
    med = statistics.median(vals)
    q = quartiles(vals)
    res = "PASS" if med >= goal else "MISS"
    spread = f"[{fmt_speedup(q[0])} - {fmt_speedup(q[2])}]"
    line = f"{label:<60} {fmt_speedup(med):>7} {spread:<17} {'>= ' + fmt_speedup(goal):>9}  {res}"
    return line, {"target": label, "measured": med, "q1": q[0], "q3": q[2], "result": res}


def goals(cells: dict, levels: list[str], note: str) -> tuple[list[str], list[dict]]:
    hdr = f"{'goal (issue 13)':<60} {'speedup':>7} {'[q1 - q3]':<17} {'needed':>9}  result"
    lines = [
        "",
        "## speed goals (issue 13): speedup = other's time / fastreg's time in the same round, "
        "median over rounds; numba: the faster of fastmath off/on in each round; one thread",
        f"numba    : {note}"
        + (
            "; @njit(fastmath=False): additions in order (not vectorised), the division "
            "itself; fastmath=True: reassociated, vectorised sums (other bits) and x*(1/d) "
            "in prox (fastreg's rule)"
            if not any(w in note for w in ("not installed", "failed", "could not"))
            else ""
        ),
        hdr,
        "-" * len(hdr),
    ]
    rows: list[dict] = []
    top = levels[0] if levels else None
    said: set = set()

    def add(label, others, fr, goal, why_missing):
        if fr is None or not others:
            lines.append(f"{label:<60} {'-':>7} {'':<17} {'>= ' + fmt_speedup(goal):>9}  n/a")
            if why_missing not in said:  # once per reason
                said.add(why_missing)
                lines.append(f"    ({why_missing})")
            rows.append({"target": label, "result": "n/a", "why": why_missing})
            return
        bad = [c for c in [fr, *others] if c.check != "ok"]
        line, row = _row(label, _ratio_rows(others, fr), goal)
        if bad:
            line = line.rsplit("  ", 1)[0] + "  BAD (wrong result)"
            row["result"] = "BAD"
        lines.append(line)
        rows.append(row)

    for (dtype, n), cases in cells.items():
        fr = next(iter(_pick(cases, "fastreg", "value_and_gradient", top)), None)
        if dtype == "float32" and n >= 1 << 20:
            nbc = _pick(cases, "numba", "value_and_gradient")
            label = f"n={fmt_n(n)} float32: value_and_gradient(acc) vs numba one-pass"
            add(label, nbc, fr, 1.0, note or "numba not timed")
    for (dtype, n), cases in cells.items():
        if dtype != "float32" or n > 1 << 20:
            continue
        fr = next(iter(_pick(cases, "fastreg", "L1L2", top)), None)
        add(
            f"n={fmt_n(n)} float32: L1L2(x) vs numba (float64 accumulator)",
            _pick(cases, "numba", "L1L2"),
            fr,
            1.0,
            note or "numba not timed",
        )
        add(
            f"n={fmt_n(n)} float32: L1L2(x) vs sasum+sdot (stretch)",
            _pick(cases, "scipy", "L1L2"),
            fr,
            1.0,
            "SciPy not installed",
        )
    for (dtype, n), cases in cells.items():
        if dtype != "float64" or n > 1 << 20:
            continue
        fr = next(iter(_pick(cases, "fastreg", "prox", top)), None)
        add(
            f"n={fmt_n(n)} float64: prox(x, step, out=t) vs numba",
            _pick(cases, "numba", "prox"),
            fr,
            1.0,
            note or "numba not timed",
        )
    if len(levels) < 2:
        lines.append(f"level ratio: n/a (this CPU and build run {', '.join(levels) or 'neither'})")
    else:
        lo = levels[1]
        for (dtype, n), cases in cells.items():
            for op, _ in LEVEL_CASES:
                fr = next(iter(_pick(cases, "fastreg", op, top)), None)
                add(
                    f"n={fmt_n(n)} {dtype}: {op} at {top} vs {lo}",
                    _pick(cases, "fastreg", op, lo),
                    fr,
                    1.0,
                    "level not timed",
                )
    lines += _numba_detail(cells)
    return lines, rows


def _numba_detail(cells: dict) -> list[str]:
    """Median per call of every numba variant beside fastreg's (no verdicts)."""
    out = []
    for (dtype, n), cases in cells.items():
        for op in ("L1L2", "value_and_gradient", "prox"):
            nbc = _pick(cases, "numba", op)
            fr = _pick(cases, "fastreg", op)
            if not nbc or not fr:
                continue
            frs = ", ".join(f"{c.simd} {fmt_time(c.median())}" for c in fr)
            nbs = ", ".join(f"{c.label} {fmt_time(c.median())}" for c in nbc)
            out.append(f"  {dtype} n={fmt_n(n)} {op}: fastreg {frs}; numba {nbs}")
    if out:
        out.insert(0, "medians per call (fastreg at each level; numba per fastmath setting):")
    return out
