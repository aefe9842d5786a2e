"""Tables, speed targets, JSON records and the plot of `python -m bench`.

One ratio convention everywhere (tables, JSON, plot): **speedup = the other's time /
fastreg's time**, so above 1 fastreg is faster (2.00x: fastreg takes half the time).
"""

from __future__ import annotations

import json
import statistics
import textwrap
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


def fmt_speedup(r: float | None) -> str:
    """A speedup (other's time / fastreg's time) with 3 significant digits at most."""
    if r is None or r != r:
        return "-"
    if r >= 100:
        return f"{r:.0f}x"
    if r >= 10:
        return f"{r:.1f}x"
    return f"{r:.3f}x" if r < 0.1 else f"{r:.2f}x"


def speedup(other: float | None, fastreg: float | None) -> float | None:
    """other's time / fastreg's time: above 1, fastreg is faster."""
    return other / fastreg if other and fastreg else None


WIDTH = 120  # every line of the report fits in this many columns
_INDENT = " " * 11  # continuation lines line up under the header's values ("key      : ")


def fit(lines: list[str], width: int = WIDTH) -> list[str]:
    """Wrap lines longer than width at spaces (never truncate them)."""
    out = []
    for line in lines:
        if len(line) <= width:
            out.append(line)
            continue
        indent = _INDENT if line[9:11] == ": " else "    "
        out += textwrap.wrap(
            line, width, subsequent_indent=indent, break_on_hyphens=False, break_long_words=True
        )
    return out


def quartiles(vals) -> list[float]:
    if len(vals) < 2:
        return [vals[0]] * 3
    return statistics.quantiles(vals, n=4, method="inclusive")


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
        """The fastest of the probe's load widths: the read ceiling for this array."""
        cands = [c for c in self.cases if c.impl == "probe" and c.samples]
        return min(cands, key=lambda c: c.median()) if cands else None

    def probe_width(self, p) -> str:
        """The loads of probe case p: "64B" (aligned to their width) or "64B u" (unaligned)."""
        width = p.label.split(", ")[1].split("-")[0]
        return f"{width}B" + ("" if p.aligned else " u")

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
    """One JSON object per timed case. Speedups follow the tables: other's time /
    fastreg's time. fastreg records carry ``speedup_vs_<impl>`` (against that library's
    fastest variant of the op) and ``speedup_vs_best_peer``; every other record carries
    ``fastreg_speedup`` (its own time / fastreg's time at the reported SIMD level)."""
    out = []
    for cell in cells:
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
                "probe_gbps": probe_gbps,
            }
            if c.op in OPS:
                rec["pct_probe"] = (
                    100 * gbps / probe_gbps if probe_gbps and c.op != "value_and_gradient" else None
                )
                if c.impl == "fastreg":
                    for impl in PEERS:
                        b = cell.best(impl, c.op)
                        rec[f"speedup_vs_{impl}"] = speedup(b.median() if b else None, med)
                    bp = cell.best(PEERS, c.op)
                    rec["speedup_vs_best_peer"] = speedup(bp.median() if bp else None, med)
                else:
                    fr = cell.fastreg(c.op)
                    rec["fastreg_speedup"] = speedup(med, fr.median() if fr else None)
            rec.update(meta)
            out.append(rec)
    return out


def write_json(path: str, recs: list[dict]) -> None:
    with open(path, "w") as f:
        json.dump(recs, f, indent=1, allow_nan=False, default=str)
        f.write("\n")


# ---------------------------------------------------------------------------
# tables

LEGEND = (
    "speedup = the other implementation's time / fastreg's time: above 1 fastreg is faster "
    "(2.00x: fastreg takes half the time). Times are medians per call. read ceiling: the C "
    "probe's bandwidth on the same array and the loads that reached it (width; u = unaligned, "
    "at the array's own address; see 'probe' above); %ceil: fastreg's GB/s as a share of it. "
    "The keys name the fastest variants, listed under each table."
)


def summary(cells: list[Cell], ops=OPS) -> list[str]:
    """One table per op, one row per (dtype, n); variants named by key under each table."""
    lines = ["", *textwrap.wrap(LEGEND, WIDTH)]
    hdr = (
        f"{'dtype':<8}{'n':>6} {'read ceiling':>16} | {'fastreg':>9} {'GB/s':>7} {'%ceil':>6} | "
        f"{'NumPy best':>10} {'speedup':>8} {'key':<3} | "
        f"{'best other':>10} {'speedup':>8} {'key':<3}"
    )
    for op in ops:
        rows, keys = [], {}  # keys: variant label -> letter, in order of first use

        def key(c, keys=keys):
            name = f"{c.impl}: {c.variant}"
            return keys.setdefault(name, chr(ord("a") + len(keys)) if len(keys) < 26 else "?")

        for cell in cells:
            fr = cell.fastreg(op)
            bn, bp = cell.best("numpy", op), cell.best(PEERS, op)
            if not (fr or bn or bp):
                continue
            pg, pc = cell.probe_gbps(), cell.probe()
            ceiling = f"{pg:.1f} GB/s {cell.probe_width(pc)}" if pg else "-"
            frt = fr.median() if fr else None
            gbps = cell.traffic(op) / frt if frt else None
            pct = f"{100 * gbps / pg:.0f}%" if gbps and pg and op != "value_and_gradient" else "-"
            flag = "" if (fr is None or fr.check == "ok") else " !"
            bnt, bpt = (bn.median() if bn else None), (bp.median() if bp else None)
            rows.append(
                f"{cell.dtype:<8}{fmt_n(cell.n):>6} "
                f"{ceiling:>16} | "
                f"{fmt_time(frt):>9} {(f'{gbps:.2f}' if gbps else '-'):>7} {pct:>6} | "
                f"{fmt_time(bnt):>10} {fmt_speedup(speedup(bnt, frt)):>8} "
                f"{key(bn) if bn else '-':<3} | "
                f"{fmt_time(bpt):>10} {fmt_speedup(speedup(bpt, frt)):>8} "
                f"{key(bp) if bp else '-':<3}{flag}".rstrip()
            )
        if rows:
            legend = [f"  {k}: {name}" for name, k in keys.items()]
            lines += ["", f"## {OP_TITLES[op]}", hdr, "-" * len(hdr), *rows, *legend]
    return lines


def detail(cells: list[Cell]) -> list[str]:
    lines = [
        "",
        "## every variant: median per call [q1-q3], fastreg's speedup over it "
        "(its time / fastreg's time)",
    ]
    for cell in cells:
        lines.append(
            f"\n{cell.dtype} n={cell.n} ({cell.nbytes} bytes, data address % 64 = {cell.align})"
        )
        for p in sorted(
            (c for c in cell.cases if c.impl == "probe" and c.samples), key=lambda c: c.median()
        ):
            lines.append(
                f"  {'probe':<10} {'read':<18} {fmt_time(p.median()):>9}  "
                f"{cell.nbytes / p.median():7.2f} GB/s  {p.variant}"
            )
        for op in OPS:
            fr = cell.fastreg(op)
            for c in sorted(
                (c for c in cell.cases if c.op == op and c.samples), key=lambda c: c.median()
            ):
                q = quartiles(c.samples)
                spread = f"[{fmt_time(q[0])}-{fmt_time(q[2])}]"
                lines.append(
                    f"  {c.impl:<10} {op:<18} {fmt_time(c.median()):>9} {spread:<22} "
                    f"{fmt_speedup(speedup(c.median(), fr.median() if fr else None)):>8}  "
                    + c.shown
                    + (f" [{c.simd}]" if c.simd else "")
                    + ("" if c.check == "ok" else f"   !! {c.check}")
                )
    return lines


def simd_table(cells: list[Cell], levels: list[str]) -> list[str]:
    if len(levels) < 2:
        return []
    default = cells[0].default_simd if cells else levels[0]
    hdr = f"{'op':<19}{'dtype':<8}{'n':>6} " + " ".join(f"{lv:>15}" for lv in levels)
    lines = [
        "",
        f"## fastreg at every SIMD level: median per call, and the speedup of the reported "
        f"level {default} over it",
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
                    cols.append(
                        f"{fmt_time(c.median())} {fmt_speedup(speedup(c.median(), base.median()))}"
                    )
                else:
                    cols.append("-")
            lines.append(
                f"{op:<19}{cell.dtype:<8}{fmt_n(cell.n):>6} " + " ".join(f"{s:>15}" for s in cols)
            )
    return lines


def alignment(cells: list[Cell]) -> str:
    """Where the timed arrays start relative to a 64-byte cache line."""
    if not cells:
        return ""
    by_align: dict[int, list[str]] = {}
    for c in cells:
        by_align.setdefault(c.align, []).append(f"{c.dtype} {fmt_n(c.n)}")
    if len(by_align) == 1:
        return f"arrays   : every x starts {next(iter(by_align))} bytes past a 64-byte boundary"
    return "arrays   : x's address % 64: " + "; ".join(
        f"{a} ({', '.join(names)})" for a, names in sorted(by_align.items())
    )


# ---------------------------------------------------------------------------
# the project's own speed goals (issues #2 and #3), printed with --targets only:
# same-run, same-round speedups

_ASUM, _DOT = "{p}asum(x)", "{p}dot(x, x)"
_COMPOSITE = "0.01*{p}asum(x) + 0.01*{p}dot(x, x)"

# (dtype, n, fastreg op, other, goal, issue); other = ("probe",) | (impl, op, stmt) |
# ("best", impls, op). Goals are minimum speedups (other's time / fastreg's time); the
# issues state them as a maximum of fastreg's time over the other's, hence the 1 / r.
# "probe" rows are a minimum % of the probe's bandwidth.
TARGETS = (
    ("float32", 16, "sum_abs", ("scipy", "sum_abs", _ASUM), 1 / 0.40, 2),
    ("float32", 4096, "sum_abs", ("scipy", "sum_abs", _ASUM), 1 / 0.70, 2),
    ("float32", 65536, "sum_abs", ("scipy", "sum_abs", _ASUM), 1 / 0.80, 2),
    ("float32", 65536, "sum_squares", ("scipy", "sum_squares", _DOT), 1 / 0.50, 2),
    ("float64", 65536, "sum_abs", ("scipy", "sum_abs", _ASUM), 1 / 0.90, 2),
    ("float64", 65536, "sum_squares", ("scipy", "sum_squares", _DOT), 1 / 0.70, 2),
    ("float32", 1 << 24, "sum_abs", ("probe",), 90.0, 2),
    ("float32", 1 << 24, "sum_abs", ("scipy", "sum_abs", _ASUM), 1 / 1.05, 2),
    ("float32", 1 << 24, "sum_squares", ("probe",), 90.0, 2),
    ("float32", 1 << 24, "sum_squares", ("scipy", "sum_squares", _DOT), 1 / 1.05, 2),
    ("float32", 16, "L1L2", ("scipy", "sum_abs", _ASUM), 1 / 0.50, 3),
    ("float32", 16, "L1L2", ("numpy", "L1L2", KERAS_EXPR), 40.0, 3),
    ("float32", 1 << 24, "L1L2", ("scipy", "L1L2", _COMPOSITE), 1 / 0.60, 3),
    (
        "float32",
        1 << 22,
        "value_and_gradient",
        ("best", ("numpy", "scipy"), "value_and_gradient"),
        1 / 0.30,
        3,
    ),
)


def _paired(a, b) -> list[float]:
    """a's time / b's time, round by round (both were timed in the same rounds)."""
    return [x / y for x, y in zip(a.samples, b.samples, strict=False)]


def targets(cells: list[Cell]) -> tuple[list[str], list[dict]]:
    by_key = {(c.dtype, c.n): c for c in cells}
    hdr = f"{'goal':<56} {'measured':>9} {'[q1 - q3]':<19} {'needed':>9}  result"
    lines = [
        "",
        "## speed goals (issues #2, #3): speedup = other's time / fastreg's time in the same "
        "round, median over rounds",
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
            label = f"n={fmt_n(n)} {dtype}: {frname} vs best NumPy+BLAS"
            pc = cell.best(peer[1], peer[2]) if cell else None
            goal_s = f">= {fmt_speedup(goal)}"
        else:
            stmt = peer[2].format(p=p)
            name = "NumPy Keras expr" if peer[2] == KERAS_EXPR else stmt.replace("0.01*", "")
            label = f"n={fmt_n(n)} {dtype}: {frname} vs {name}"
            pc = cell.find(peer[0], peer[1], stmt) if cell else None
            goal_s = f">= {fmt_speedup(goal)}"
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
                vals = [100 * v for v in _paired(pc, fr)]  # probe time / fastreg time
                q = quartiles(vals)
                med = statistics.median(vals)
                meas, spread = f"{med:.1f}%", f"[{q[0]:.1f} - {q[2]:.1f}]"
            else:
                vals = _paired(pc, fr)  # speedup, round by round
                q = quartiles(vals)
                med = statistics.median(vals)
                meas = fmt_speedup(med)
                spread = f"[{fmt_speedup(q[0])} - {fmt_speedup(q[2])}]"
            result = "PASS" if med >= goal else "MISS"
            if fr.check != "ok":
                result = "BAD (fastreg result wrong)"
            row.update(measured=med, q1=q[0], q3=q[2], result=result, peer=pc.variant)
            lines.append(f"{label:<56} {meas:>9} {spread:<19} {goal_s:>9}  {result}")
            rows.append(row)
            continue
        lines.append(f"{label:<56} {'-':>9} {'':<19} {goal_s:>9}  n/a ({row['why']})")
        rows.append(row)
    return lines, rows


# ---------------------------------------------------------------------------
# plot


# one colour per library in both panels (extra fastreg SIMD levels take the next ones)
COLORS = {"numpy": "C1", "scipy": "C2", "torch": "C3", "tensorflow": "C4"}


def plot(cells: list[Cell], path: str, levels: list[str], title: str) -> str:
    """Per op and dtype, two panels against n: GB/s with the read ceiling, and the speedup
    (other's time / fastreg's time, as in the tables) over each library's fastest variant.
    Returns "" or why it could not draw."""
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
        2 * len(dtypes),
        figsize=(5.5 * 2 * len(dtypes), 3.2 * len(OPS)),
        squeeze=False,
        sharex=True,
    )
    for j, dt in enumerate(dtypes):
        dc = sorted((c for c in cells if c.dtype == dt), key=lambda c: c.n)
        for i, op in enumerate(OPS):
            ax, sx = axes[i][2 * j], axes[i][2 * j + 1]
            series, speedups = {}, {}
            for cell in dc:
                tr = cell.traffic(op)
                for lv in levels:
                    c = cell.fastreg(op, lv)
                    if c:
                        lab = "fastreg" + (f" [{lv}]" if len(levels) > 1 else "")
                        series.setdefault(lab, []).append((cell.n, tr / c.median()))
                fr = cell.fastreg(op)
                for impl in PEERS:
                    c = cell.best(impl, op)
                    if c:
                        series.setdefault(f"{impl} (best)", []).append((cell.n, tr / c.median()))
                        if fr:
                            pt = (cell.n, speedup(c.median(), fr.median()))
                            speedups.setdefault(f"vs {impl} (best)", []).append(pt)
                pg = cell.probe_gbps()
                if pg and op != "value_and_gradient":
                    series.setdefault("C read probe (ceiling)", []).append((cell.n, pg))
            for lab, pts in series.items():
                xs, ys = zip(*pts, strict=True)
                style = {"ls": "--", "color": "k", "lw": 1} if lab.startswith("C read") else {}
                if lab.split()[0] in COLORS:
                    style["color"] = COLORS[lab.split()[0]]
                ax.plot(xs, ys, marker="o", ms=3, label=lab, **style)
            for lab, pts in speedups.items():
                xs, ys = zip(*pts, strict=True)
                sx.plot(xs, ys, marker="o", ms=3, label=lab, color=COLORS[lab.split()[1]])
            sx.axhline(1.0, color="k", lw=1, ls="--")
            ax.set_yscale("log")
            sx.set_yscale("log")
            ax.set_title(f"{op} {dt}: bandwidth", fontsize=9)
            sx.set_title(f"{op} {dt}: speedup (above 1: fastreg faster)", fontsize=9)
            ax.set_ylabel(
                "GB/s" + (" (x, g read + g write)" if op == "value_and_gradient" else " of x"),
                fontsize=8,
            )
            sx.set_ylabel("other's time / fastreg's time", fontsize=8)
            for a in (ax, sx):
                a.set_xscale("log", base=2)
                a.grid(True, which="both", alpha=0.3)
                if a.get_legend_handles_labels()[0]:
                    a.legend(fontsize=6)
                if i == len(OPS) - 1:
                    a.set_xlabel("n (elements)")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return ""
