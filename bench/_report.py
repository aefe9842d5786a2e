"""Tables, speed targets, JSON records and the plot of `python -m bench`."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass

from bench._suite import KERAS_EXPR, OPS, PEERS

OP_TITLES = {
    "sum_abs": "sum_abs: sum |x|  (fastreg.kernels.sum_abs)",
    "sum_squares": "sum_squares: sum x^2  (fastreg.kernels.sum_squares)",
    "L1": "L1(0.01)(x)",
    "L2": "L2(0.01)(x)",
    "L1L2": "L1L2(0.01, 0.01)(x)",
    "value_and_gradient": "L1L2(0.01, 0.01).value_and_gradient(x, out=g, accumulate=True)",
}


def fmt_n(n: int) -> str:
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20}M"
    return str(n)


def fmt_time(ns: float | None) -> str:
    if ns is None or ns != ns:
        return "-"
    if ns < 1e3:
        return f"{ns:.0f} ns"
    if ns < 1e6:
        return f"{ns / 1e3:.3g} us"
    if ns < 1e9:
        return f"{ns / 1e6:.3g} ms"
    return f"{ns / 1e9:.3g} s"


def fmt_ratio(r: float | None) -> str:
    if r is None:
        return "-"
    return f"{r:.3f}x" if r < 0.1 else f"{r:.2f}x"


def quartiles(vals) -> list[float]:
    if len(vals) < 2:
        return [vals[0]] * 3
    return statistics.quantiles(vals, n=4, method="inclusive")


def short(s: str, width: int) -> str:
    return s if len(s) <= width else s[: width - 1] + "~"


# ---------------------------------------------------------------------------
# per-cell analysis


@dataclass
class Cell:
    dtype: str
    n: int
    nbytes: int
    align: int
    cases: list
    default_simd: str | None = None

    def traffic(self, op: str) -> int:
        # value_and_gradient(accumulate=True) reads x and g and writes g
        return 3 * self.nbytes if op == "value_and_gradient" else self.nbytes

    def ok(self, impl=None, op=None):
        return [
            c
            for c in self.cases
            if c.check == "ok"
            and c.samples
            and (impl is None or c.impl in ((impl,) if isinstance(impl, str) else impl))
            and (op is None or c.op == op)
        ]

    def best(self, impl, op):
        cands = self.ok(impl, op)
        return min(cands, key=lambda c: c.median()) if cands else None

    def probe(self):
        return next((c for c in self.cases if c.impl == "probe" and c.samples), None)

    def probe_gbps(self) -> float | None:
        p = self.probe()
        return self.nbytes / p.median() if p else None

    def fastreg(self, op, simd=None):
        simd = simd or self.default_simd
        return next(
            (
                c
                for c in self.cases
                if c.impl == "fastreg" and c.op == op and c.simd == simd and c.samples
            ),
            None,
        )

    def find(self, impl, op, stmt):
        return next(
            (
                c
                for c in self.cases
                if c.impl == impl and c.op == op and c.stmt == stmt and c.samples
            ),
            None,
        )


def records(cells: list[Cell], meta: dict) -> list[dict]:
    out = []
    for cell in cells:
        best_np = {op: cell.best("numpy", op) for op in OPS}
        best_peer = {op: cell.best(PEERS, op) for op in OPS}
        probe_gbps = cell.probe_gbps()
        for c in cell.cases:
            if not c.samples:
                continue
            med = c.median()
            q = quartiles(c.samples)
            traffic = cell.nbytes if c.impl == "probe" else cell.traffic(c.op)
            gbps = traffic / med
            rec = {
                "impl": c.impl,
                "op": c.op,
                "variant": c.variant,
                "stmt": c.shown,
                "simd": c.simd,
                "dtype": cell.dtype,
                "n": cell.n,
                "bytes": traffic,
                "ns_per_call": med,
                "ns_min": min(c.samples),
                "ns_q1": q[0],
                "ns_q3": q[2],
                "ns_per_call_wall": statistics.median(c.samples_wall),
                "ns_per_call_cpu": statistics.median(c.samples_cpu),
                "gbps": gbps,
                "rounds": len(c.samples),
                "calls_per_block": c.number,
                "check": c.check,
                "align64": cell.align,
            }
            if c.op in OPS:
                bn, bp = best_np[c.op], best_peer[c.op]
                rec["ratio_numpy_best"] = med / bn.median() if bn else None
                rec["ratio_best_peer"] = med / bp.median() if bp else None
                rec["pct_probe"] = (
                    100 * gbps / probe_gbps if probe_gbps and c.op != "value_and_gradient" else None
                )
            rec.update(meta)
            out.append(rec)
    return out


def write_json(path: str, recs: list[dict]) -> None:
    with open(path, "w") as f:
        json.dump(recs, f, indent=1, allow_nan=False, default=str)
        f.write("\n")


# ---------------------------------------------------------------------------
# tables


def summary(cells: list[Cell], ops=OPS) -> list[str]:
    lines = []
    hdr = (
        f"{'dtype':<8}{'n':>6} {'read probe':>10} | {'fastreg':>9} {'GB/s':>6} {'%probe':>6} | "
        f"{'numpy best':>9} {'variant':<34} | {'best peer':>9} {'impl: variant':<34} | "
        f"{'/numpy':>7} {'/peer':>6}"
    )
    for op in ops:
        rows = []
        for cell in cells:
            fr = cell.fastreg(op)
            bn, bp = cell.best("numpy", op), cell.best(PEERS, op)
            if not (fr or bn or bp):
                continue
            pg = cell.probe_gbps()
            frt = fr.median() if fr else None
            gbps = cell.traffic(op) / frt if frt else None
            pct = (
                f"{100 * gbps / pg:5.0f}%"
                if gbps and pg and op != "value_and_gradient"
                else "     -"
            )
            flag = "" if (fr is None or fr.check == "ok") else " !"
            rows.append(
                f"{cell.dtype:<8}{fmt_n(cell.n):>6} "
                f"{(f'{pg:.1f} GB/s' if pg else '-'):>10} | "
                f"{fmt_time(frt):>9} {(f'{gbps:.2f}' if gbps else '-'):>6} {pct} | "
                f"{fmt_time(bn.median() if bn else None):>9} "
                f"{short(bn.variant, 34) if bn else '-':<34} | "
                f"{fmt_time(bp.median() if bp else None):>9} "
                f"{short(f'{bp.impl}: {bp.variant}', 34) if bp else '-':<34} | "
                f"{fmt_ratio(frt / bn.median() if frt and bn else None):>7} "
                f"{fmt_ratio(frt / bp.median() if frt and bp else None):>6}{flag}"
            )
        if rows:
            lines += ["", f"## {OP_TITLES[op]}", hdr, "-" * len(hdr), *rows]
    return lines


def detail(cells: list[Cell]) -> list[str]:
    lines = ["", "## every variant (median ns/call [q1-q3], ratio to NumPy's best / best peer)"]
    for cell in cells:
        lines.append(
            f"\n{cell.dtype} n={cell.n} ({cell.nbytes} bytes, data address % 64 = {cell.align})"
        )
        p = cell.probe()
        if p:
            lines.append(
                f"  {'probe':<10} {'read':<18} {fmt_time(p.median()):>9}  "
                f"{cell.probe_gbps():7.2f} GB/s  {p.label}"
            )
        for op in OPS:
            bn, bp = cell.best("numpy", op), cell.best(PEERS, op)
            for c in sorted(
                (c for c in cell.cases if c.op == op and c.samples), key=lambda c: c.median()
            ):
                q = quartiles(c.samples)
                spread = f"[{fmt_time(q[0])}-{fmt_time(q[2])}]"
                lines.append(
                    f"  {c.impl:<10} {op:<18} {fmt_time(c.median()):>9} {spread:<22} "
                    f"{fmt_ratio(c.median() / bn.median() if bn else None):>7} "
                    f"{fmt_ratio(c.median() / bp.median() if bp else None):>7}  {c.shown}"
                    + (f" [{c.simd}]" if c.simd else "")
                    + ("" if c.check == "ok" else f"   !! {c.check}")
                )
    return lines


def simd_table(cells: list[Cell], levels: list[str]) -> list[str]:
    if len(levels) < 2:
        return []
    hdr = f"{'op':<19}{'dtype':<8}{'n':>6} " + " ".join(f"{lv:>14}" for lv in levels)
    lines = [
        "",
        "## fastreg at every SIMD level (median ns/call, ratio to the default level "
        f"{cells[0].default_simd if cells else ''})",
        hdr,
        "-" * len(hdr),
    ]
    for op in OPS:
        for cell in cells:
            base = cell.fastreg(op)
            cols = []
            for lv in levels:
                c = cell.fastreg(op, lv)
                if c and base:
                    cols.append(f"{fmt_time(c.median())} {c.median() / base.median():.2f}x")
                else:
                    cols.append("-")
            lines.append(
                f"{op:<19}{cell.dtype:<8}{fmt_n(cell.n):>6} " + " ".join(f"{s:>14}" for s in cols)
            )
    return lines


# ---------------------------------------------------------------------------
# speed targets (issues 2 and 3): same-run, same-round ratios

_ASUM, _DOT = "{p}asum(x)", "{p}dot(x, x)"
_COMPOSITE = "0.01*{p}asum(x) + 0.01*{p}dot(x, x)"

# (dtype, n, fastreg op, peer, goal, issue); peer = ("probe",) | (impl, op, stmt) |
# ("best", impls, op). Goals "<= r" on fastreg time / peer time; "probe" rows are
# ">= pct" of the probe's bandwidth.
TARGETS = (
    ("float32", 16, "sum_abs", ("scipy", "sum_abs", _ASUM), 0.40, 2),
    ("float32", 4096, "sum_abs", ("scipy", "sum_abs", _ASUM), 0.70, 2),
    ("float32", 65536, "sum_abs", ("scipy", "sum_abs", _ASUM), 0.80, 2),
    ("float32", 65536, "sum_squares", ("scipy", "sum_squares", _DOT), 0.50, 2),
    ("float64", 65536, "sum_abs", ("scipy", "sum_abs", _ASUM), 0.90, 2),
    ("float64", 65536, "sum_squares", ("scipy", "sum_squares", _DOT), 0.70, 2),
    ("float32", 1 << 24, "sum_abs", ("probe",), 90.0, 2),
    ("float32", 1 << 24, "sum_abs", ("scipy", "sum_abs", _ASUM), 1.05, 2),
    ("float32", 1 << 24, "sum_squares", ("probe",), 90.0, 2),
    ("float32", 1 << 24, "sum_squares", ("scipy", "sum_squares", _DOT), 1.05, 2),
    ("float32", 16, "L1L2", ("scipy", "sum_abs", _ASUM), 0.50, 3),
    ("float32", 16, "L1L2", ("numpy", "L1L2", KERAS_EXPR), 1 / 40, 3),
    ("float32", 1 << 24, "L1L2", ("scipy", "L1L2", _COMPOSITE), 0.60, 3),
    (
        "float32",
        1 << 22,
        "value_and_gradient",
        ("best", ("numpy", "scipy"), "value_and_gradient"),
        0.30,
        3,
    ),
)


def _paired(a, b) -> list[float]:
    return [x / y for x, y in zip(a.samples, b.samples, strict=False)]


def targets(cells: list[Cell]) -> tuple[list[str], list[dict]]:
    by_key = {(c.dtype, c.n): c for c in cells}
    hdr = f"{'target':<58} {'measured':>9} {'[q1 - q3]':<17} {'goal':>9}  result"
    lines = [
        "",
        "## speed targets (issues #2, #3): fastreg vs peer, ratio of the two times "
        "in each round, median over rounds",
        hdr,
        "-" * len(hdr),
    ]
    rows = []
    for dtype, n, op, peer, goal, issue in TARGETS:
        p = "s" if dtype == "float32" else "d"
        cell = by_key.get((dtype, n))
        fr = cell.fastreg(op) if cell else None
        frname = {
            "sum_abs": "sum_abs",
            "sum_squares": "sum_squares",
            "L1L2": "L1L2(x)",
            "value_and_gradient": "value_and_gradient(acc)",
        }[op]
        if peer[0] == "probe":
            label = f"n={fmt_n(n)} {dtype}: {frname} % of C read probe"
            pc = cell.probe() if cell else None
            goal_s = f">= {goal:.0f}%"
        elif peer[0] == "best":
            label = f"n={fmt_n(n)} {dtype}: {frname} / best NumPy+BLAS"
            pc = cell.best(peer[1], peer[2]) if cell else None
            goal_s = f"<= {goal:.2f}x"
        else:
            stmt = peer[2].format(p=p)
            name = "NumPy Keras expr" if peer[2] == KERAS_EXPR else stmt.replace("0.01*", "")
            label = f"n={fmt_n(n)} {dtype}: {frname} / {name}"
            pc = cell.find(peer[0], peer[1], stmt) if cell else None
            goal_s = f"<= {goal:.3f}x" if goal < 0.1 else f"<= {goal:.2f}x"
        row = {"target": label, "goal": goal_s, "issue": issue, "dtype": dtype, "n": n, "op": op}
        if cell is None:
            row.update(result="n/a", why=f"n={n} {dtype} not run")
        elif fr is None:
            row.update(result="n/a", why="fastreg not run")
        elif pc is None:
            why = {"scipy": "SciPy not installed or not timed", "probe": "C probe unavailable"}
            row.update(result="n/a", why=why.get(peer[0], "peer not run"))
        else:
            if peer[0] == "probe":
                vals = [100 * v for v in _paired(pc, fr)]
            else:
                vals = _paired(fr, pc)
            med = statistics.median(vals)
            q = quartiles(vals)
            if peer[0] == "probe":
                ok = med >= goal
                meas, spread = f"{med:.1f}%", f"[{q[0]:.1f} - {q[2]:.1f}]"
            else:
                ok = med <= goal
                meas, spread = fmt_ratio(med), f"[{fmt_ratio(q[0])} - {fmt_ratio(q[2])}]"
            result = "PASS" if ok else "MISS"
            if fr.check != "ok":
                result = "BAD (fastreg result wrong)"
            row.update(measured=med, q1=q[0], q3=q[2], result=result, peer=pc.variant)
            lines.append(f"{short(label, 58):<58} {meas:>9} {spread:<17} {goal_s:>9}  {result}")
            rows.append(row)
            continue
        lines.append(f"{short(label, 58):<58} {'-':>9} {'':<17} {goal_s:>9}  n/a ({row['why']})")
        rows.append(row)
    return lines, rows


# ---------------------------------------------------------------------------
# plot


def plot(cells: list[Cell], path: str, levels: list[str], title: str) -> str:
    """Draw GB/s against n; returns "" or why it could not."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return (
            "matplotlib is not installed: pip install matplotlib "
            "(or pip install 'fastreg[plot]'); no plot written"
        )
    dtypes = sorted({c.dtype for c in cells})
    fig, axes = plt.subplots(
        len(OPS),
        len(dtypes),
        figsize=(6.5 * len(dtypes), 3.2 * len(OPS)),
        squeeze=False,
        sharex=True,
    )
    for j, dt in enumerate(dtypes):
        dc = sorted((c for c in cells if c.dtype == dt), key=lambda c: c.n)
        for i, op in enumerate(OPS):
            ax = axes[i][j]
            series = {}
            for cell in dc:
                tr = cell.traffic(op)
                for lv in levels:
                    c = cell.fastreg(op, lv)
                    if c:
                        lab = "fastreg" + (f" [{lv}]" if len(levels) > 1 else "")
                        series.setdefault(lab, []).append((cell.n, tr / c.median()))
                for impl in PEERS:
                    c = cell.best(impl, op)
                    if c:
                        series.setdefault(f"{impl} (best)", []).append((cell.n, tr / c.median()))
                pg = cell.probe_gbps()
                if pg and op != "value_and_gradient":
                    series.setdefault("C read probe (ceiling)", []).append((cell.n, pg))
            for lab, pts in series.items():
                xs, ys = zip(*pts, strict=True)
                style = {"ls": "--", "color": "k", "lw": 1} if lab.startswith("C read") else {}
                ax.plot(xs, ys, marker="o", ms=3, label=lab, **style)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.set_title(f"{op} {dt}", fontsize=9)
            ax.set_ylabel(
                "GB/s" + (" (x, g read + g write)" if op == "value_and_gradient" else " of x"),
                fontsize=8,
            )
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=6)
            if i == len(OPS) - 1:
                ax.set_xlabel("n (elements)")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return ""
