"""What `python -m bench` times, and how.

A *cell* is one (dtype, n). For each cell the suite builds a list of *cases*
(implementation x op x variant, each a statement string timed with ``timeit``
against locals ``x``, ``g`` and ``t``), checks every case's result once against a
float64 reference, calibrates each case to blocks of ``block_s`` seconds, then runs
``rounds`` rounds; each round times one block of every case, in a freshly shuffled
order, so slow drifts and neighbour noise hit every implementation alike. Per case
we keep the per-round ns/call; reports use medians and same-round ratios.
"""

from __future__ import annotations

import math
import random
import statistics
import sys
import time
import timeit
from dataclasses import dataclass, field

import numpy as np

OPS = ("sum_abs", "sum_squares", "L1", "L2", "L1L2", "value_and_gradient")
PEERS = ("numpy", "scipy", "torch", "tensorflow")
IMPLS = ("fastreg", *PEERS)

# Arrays are bound as locals in timeit's inner function (fast, and lets a statement
# say ``g += ...``); everything else is looked up in the case's globals.
_SETUP = "x = _x; g = _g; t = _t"

# NumPy idioms: (op, statement[, short label for the tables]).
NUMPY_CASES = (
    ("sum_abs", "np.abs(x).sum()"),
    ("sum_abs", "np.add.reduce(np.abs(x))"),
    ("sum_abs", "np.sum(np.abs(x))"),
    ("sum_abs", "np.add.reduce(np.abs(x, out=t))"),
    ("sum_squares", "np.dot(x, x)"),
    ("sum_squares", "x @ x"),
    ("sum_squares", "np.vdot(x, x)"),
    ("sum_squares", "np.sum(np.square(x))"),
    ("L1", "0.01*np.sum(np.abs(x))", "Keras-style 0.01*np.sum(np.abs(x))"),
    ("L1", "0.01*np.add.reduce(np.abs(x))"),
    ("L1", "0.01*np.add.reduce(np.abs(x, out=t))", "0.01*add.reduce(abs(x, out=t))"),
    ("L2", "0.01*np.sum(np.square(x))", "Keras-style 0.01*np.sum(np.square(x))"),
    ("L2", "0.01*np.dot(x, x)"),
    (
        "L1L2",
        "0.01*np.sum(np.abs(x)) + 0.01*np.sum(np.square(x))",
        "Keras-style np.sum(abs) + np.sum(square)",
    ),
    (
        "L1L2",
        "0.01*np.add.reduce(np.abs(x)) + 0.01*np.dot(x, x)",
        "0.01*add.reduce(abs(x)) + 0.01*dot(x, x)",
    ),
    (
        "L1L2",
        "0.01*np.add.reduce(np.abs(x, out=t)) + 0.01*np.dot(x, x)",
        "0.01*add.reduce(abs(x, out=t)) + 0.01*dot",
    ),
    (
        "value_and_gradient",
        "v = 0.01*np.add.reduce(np.abs(x)) + 0.01*np.dot(x, x); g += 0.01*np.sign(x); g += 0.02*x",
        "abs+dot; g += 0.01*sign(x); g += 0.02*x",
    ),
    (
        "value_and_gradient",
        "v = 0.01*np.add.reduce(np.abs(x, out=t)) + 0.01*np.dot(x, x); "
        "np.sign(x, out=t); t *= 0.01; g += t; np.multiply(x, 0.02, out=t); g += t",
        "abs+dot; sign, scale, add via scratch t",
    ),
)
KERAS_EXPR = "0.01*np.sum(np.abs(x)) + 0.01*np.sum(np.square(x))"

# SciPy BLAS, with {p} the dtype prefix (s / d).
SCIPY_CASES = (
    ("sum_abs", "{p}asum(x)"),
    ("sum_squares", "{p}dot(x, x)"),
    ("L1", "0.01*{p}asum(x)"),
    ("L2", "0.01*{p}dot(x, x)"),
    ("L1L2", "0.01*{p}asum(x) + 0.01*{p}dot(x, x)"),
    (
        "value_and_gradient",
        "v = 0.01*{p}asum(x) + 0.01*{p}dot(x, x); np.sign(x, out=t); "
        "{p}axpy(t, g, a=0.01); {p}axpy(x, g, a=0.02)",
        "{p}asum+{p}dot; sign(x, out=t); 2 {p}axpy into g",
    ),
)

TORCH_CASES = (
    ("sum_abs", "tx.abs().sum()"),
    ("sum_abs", "torch.linalg.vector_norm(tx, 1)"),
    ("sum_squares", "torch.dot(tx, tx)"),
    ("L1", "0.01*tx.abs().sum()"),
    ("L2", "0.01*torch.dot(tx, tx)"),
    ("L1L2", "0.01*tx.abs().sum() + 0.01*torch.dot(tx, tx)"),
    (
        "value_and_gradient",
        "v = 0.01*tx.abs().sum() + 0.01*torch.dot(tx, tx); "
        "tg.add_(torch.sign(tx), alpha=0.01); tg.add_(tx, alpha=0.02)",
        "abs().sum()+dot; tg.add_(sign); tg.add_(t)",
    ),
)

TF_CASES = (
    ("sum_abs", "tf.reduce_sum(tf.abs(c))"),
    ("sum_squares", "tf.reduce_sum(tf.square(c))"),
    ("L1", "tf_L1(c)", "tf.keras L1(0.01)(c)"),
    ("L2", "tf_L2(c)", "tf.keras L2(0.01)(c)"),
    ("L1L2", "tf_L1L2(c)", "tf.keras L1L2(0.01, 0.01)(c)"),
    (
        "value_and_gradient",
        "v = tf_L1L2(c); gv.assign_add(0.01*tf.sign(c) + 0.02*c)",
        "tf.keras L1L2(c); gv.assign_add(...)",
    ),
)
# what the tf_* names in TF_CASES are
TF_NAMES = {
    "tf_L1": "tf.keras.regularizers.L1(0.01)",
    "tf_L2": "tf.keras.regularizers.L2(0.01)",
    "tf_L1L2": "tf.keras.regularizers.L1L2(0.01, 0.01)",
}

FASTREG_CASES = (
    ("sum_abs", "sum_abs(x)"),
    ("sum_squares", "sum_squares(x)"),
    ("L1", "l1(x)", "L1(0.01)(x)"),
    ("L2", "l2(x)", "L2(0.01)(x)"),
    ("L1L2", "l1l2(x)", "L1L2(0.01, 0.01)(x)"),
    (
        "value_and_gradient",
        "l1l2.value_and_gradient(x, out=g, accumulate=True)",
        "L1L2(0.01, 0.01).value_and_gradient(x, out=g, accumulate=True)",
    ),
)


def _clocks() -> complex:
    """Both clocks in one value, so timeit's ``t1 - t0`` subtracts both: real = wall
    (perf_counter) ns, imag = process CPU time ns (which leaves out the time other
    processes held this CPU; the benchmark runs on one thread)."""
    return complex(time.perf_counter_ns(), time.process_time_ns())


@dataclass
class Case:
    impl: str
    op: str
    stmt: str
    glb: dict
    label: str = ""
    simd: str | None = None  # fastreg: the level forced before each block
    grad: str | None = None  # expression giving the gradient array after a check run
    reset: str | None = None  # statement zeroing the gradient before a check run
    number: int = 1
    samples: list = field(default_factory=list)  # ns per call, one per round (chosen clock)
    samples_wall: list = field(default_factory=list)
    samples_cpu: list = field(default_factory=list)
    check: str = "ok"
    runner: object = None  # callable(number) -> complex ns (see _clocks), built lazily

    def __post_init__(self):
        self.label = self.label or self.stmt

    @property
    def shown(self) -> str:
        """The timed statement, with the helper names of the TF cases spelled out."""
        s = self.stmt
        for short_name, full in TF_NAMES.items():
            s = s.replace(short_name + "(", full + "(")
        return s

    @property
    def variant(self) -> str:
        return f"{self.label} [{self.simd}]" if self.simd else self.label

    def run(self, number: int) -> tuple[float, float]:
        """Time ``number`` calls: (wall seconds, process CPU seconds)."""
        if self.runner is None:
            timer = timeit.Timer(self.stmt, _SETUP, timer=_clocks, globals=self.glb).timeit
            if self.simd:
                set_simd = self.glb["_set_simd"]
                level = self.simd

                def runner(k, timer=timer):
                    set_simd(level)
                    return timer(k)

                self.runner = runner
            else:
                self.runner = timer
        d = self.runner(number)
        return d.real / 1e9, d.imag / 1e9

    def median(self) -> float:
        return statistics.median(self.samples)


@dataclass
class ProbeCase(Case):
    """The C read probe on x at one load width (``simd`` holds the probe's level), with
    loads aligned to their width or at x's own address."""

    aligned: bool = True

    def run(self, number: int) -> tuple[float, float]:
        probe, x = self.glb["_probe"], self.glb["_x"]
        t0 = _clocks()
        probe.read(x.ctypes.data, x.nbytes, number, self.simd, self.aligned)
        d = _clocks() - t0
        return d.real / 1e9, d.imag / 1e9


# ---------------------------------------------------------------------------
# peers, loaded lazily


def _why(e: Exception, name: str) -> str:
    if isinstance(e, ImportError) and (e.name or "").split(".")[0] == name:
        return "not installed"
    return f"import failed ({type(e).__name__}: {e})"


def load_peers(wanted) -> tuple[dict, dict]:
    """Import the peer libraries that are wanted and installed: (modules, notes)."""
    mods, notes = {}, {}
    if "scipy" in wanted:
        try:
            from scipy.linalg import blas

            mods["scipy"] = blas
        except ImportError as e:
            notes["scipy"] = _why(e, "scipy")
    if "torch" in wanted:
        try:
            import torch

            torch.set_num_threads(1)
            try:
                torch.set_num_interop_threads(1)
            except RuntimeError:
                pass
            mods["torch"] = torch
        except Exception as e:  # noqa: BLE001 - a broken install is reported, not fatal
            notes["torch"] = _why(e, "torch")
    if "tensorflow" in wanted:
        try:
            import os

            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            import tensorflow as tf

            try:
                tf.config.threading.set_intra_op_parallelism_threads(1)
                tf.config.threading.set_inter_op_parallelism_threads(1)
            except RuntimeError:
                pass
            mods["tensorflow"] = tf
        except Exception as e:  # noqa: BLE001 - a broken install is reported, not fatal
            notes["tensorflow"] = _why(e, "tensorflow")
    return mods, notes


# ---------------------------------------------------------------------------
# cases of one cell


def make_arrays(dtype: str, n: int, seed: int):
    rng = np.random.default_rng(seed + n)
    x = rng.standard_normal(n, dtype=np.float64).astype(dtype)
    g = np.zeros_like(x)
    t = np.empty_like(x)
    t.fill(0)  # touch the pages now, not inside the first timed call
    return x, g, t


def build_cases(x, g, t, *, fastreg, simd_levels, peers, probe, impls) -> list[Case]:
    dtype = x.dtype
    base = {"np": np, "_x": x, "_g": g, "_t": t}
    cases: list[Case] = []
    if probe is not None:
        for level, aligned in probe.variants():
            where = "aligned" if aligned else "unaligned"
            cases.append(
                ProbeCase(
                    "probe",
                    "read",
                    "probe_read(x)",
                    dict(base, _probe=probe),
                    label=f"C streaming read, {probe.load_bytes(level)}-byte loads, {where}",
                    simd=level,
                    aligned=aligned,
                )
            )
    if "fastreg" in impls:
        from fastreg.kernels import sum_abs, sum_squares

        glb = dict(
            base,
            sum_abs=sum_abs,
            sum_squares=sum_squares,
            l1=fastreg.L1(0.01),
            l2=fastreg.L2(0.01),
            l1l2=fastreg.L1L2(0.01, 0.01),
            _set_simd=fastreg.set_simd,
        )
        for level in simd_levels:
            for op, stmt, *label in FASTREG_CASES:
                cases.append(
                    Case(
                        "fastreg",
                        op,
                        stmt,
                        glb,
                        simd=level,
                        label=label[0] if label else "",
                        grad="g" if op == "value_and_gradient" else None,
                    )
                )
    if "numpy" in impls:
        for op, stmt, *label in NUMPY_CASES:
            cases.append(
                Case(
                    "numpy",
                    op,
                    stmt,
                    base,
                    label=label[0] if label else "",
                    grad="g" if op == "value_and_gradient" else None,
                )
            )
    if "scipy" in peers:
        blas = peers["scipy"]
        p = {np.dtype(np.float32): "s", np.dtype(np.float64): "d"}.get(dtype)
        if p:
            glb = dict(base)
            for name in ("asum", "dot", "axpy"):
                glb[p + name] = getattr(blas, p + name)
            for op, stmt, *label in SCIPY_CASES:
                cases.append(
                    Case(
                        "scipy",
                        op,
                        stmt.format(p=p),
                        glb,
                        label=label[0].format(p=p) if label else "",
                        grad="g" if op == "value_and_gradient" else None,
                    )
                )
    if "torch" in peers:
        torch = peers["torch"]
        glb = dict(base, torch=torch, tx=torch.from_numpy(x), tg=torch.from_numpy(g))
        for op, stmt, *label in TORCH_CASES:
            cases.append(
                Case(
                    "torch",
                    op,
                    stmt,
                    glb,
                    label=label[0] if label else "",
                    grad="g" if op == "value_and_gradient" else None,
                )
            )
    if "tensorflow" in peers:
        tf = peers["tensorflow"]
        regs = tf.keras.regularizers
        glb = dict(
            base,
            tf=tf,
            c=tf.constant(x),
            gv=tf.Variable(np.zeros_like(x)),
            tf_L1=regs.L1(0.01),
            tf_L2=regs.L2(0.01),
            tf_L1L2=regs.L1L2(0.01, 0.01),
        )
        for op, stmt, *label in TF_CASES:
            vag = op == "value_and_gradient"
            cases.append(
                Case(
                    "tensorflow",
                    op,
                    stmt,
                    glb,
                    label=label[0] if label else "",
                    grad="gv.numpy()" if vag else None,
                    reset="gv.assign(tf.zeros_like(gv))" if vag else None,
                )
            )
    return cases


# ---------------------------------------------------------------------------
# correctness check (one call per case, outside the timing)


def references(x) -> dict:
    x64 = x.astype(np.float64)
    a = math.fsum(np.abs(x64)) if x.size <= 1 << 20 else float(np.sum(np.abs(x64)))
    s = float(np.dot(x64, x64))
    return {
        "sum_abs": a,
        "sum_squares": s,
        "L1": 0.01 * a,
        "L2": 0.01 * s,
        "L1L2": 0.01 * a + 0.01 * s,
        "value_and_gradient": 0.01 * a + 0.01 * s,
        "_grad": 0.01 * np.sign(x64) + 0.02 * x64,
    }


def _as_float(v) -> float:
    if isinstance(v, tuple):
        v = v[0]
    if hasattr(v, "numpy") and not isinstance(v, np.ndarray):
        v = v.numpy()
    return float(v)


def check_case(case: Case, refs: dict) -> str:
    if case.impl == "probe":
        case.run(1)
        return "ok"
    x, g, t = case.glb["_x"], case.glb["_g"], case.glb["_t"]
    ns = dict(case.glb, x=x, g=g, t=t)
    if case.simd:
        case.glb["_set_simd"](case.simd)
    g[...] = 0
    if case.reset:
        exec(case.reset, ns)
    try:
        try:
            code = compile(case.stmt, "<case>", "eval")
        except SyntaxError:
            exec(case.stmt, ns)
            value = ns["v"]
        else:
            value = eval(code, ns)
        value = _as_float(value)
        grad = np.array(eval(case.grad, ns)) if case.grad else None
    except Exception as e:  # noqa: BLE001 - reported in the table, never fatal
        return f"error: {type(e).__name__}: {e}"
    finally:
        g[...] = 0
    # float32 data: peers accumulate in float32. float64: Keras stores the factors
    # rounded to floatx (float32), a 3e-8 relative change.
    tol = 1e-2 if x.dtype.itemsize <= 4 else 1e-6
    ref = refs[case.op]
    if not (abs(value - ref) <= tol * abs(ref) + 1e-30):
        return f"value {value:.9g} != {ref:.9g}"
    if grad is not None and not np.allclose(grad, refs["_grad"], rtol=1e-5, atol=1e-6):
        return "gradient differs from 0.01*sign(x) + 0.02*x"
    return "ok"


# ---------------------------------------------------------------------------
# timing


def calibrate(case: Case, block_s: float, warm: bool = False) -> int:
    if not warm:
        case.run(1)  # warm-up (check_case already called it once when warm)
    number = 1
    while True:
        dt = case.run(number)[1]
        if dt >= block_s / 8 or number >= 1 << 24:
            break
        number *= 8
    return max(1, round(number * block_s / max(dt, 1e-9)))


def run_cell(
    cases: list[Case],
    *,
    rounds: int,
    block_s: float,
    rng: random.Random,
    clock: str = "cpu",
    progress=None,
    warm: bool = False,
) -> None:
    """Calibrate, then time ``rounds`` shuffled rounds of one block per case.

    Both clocks are recorded; ``clock`` picks the one the report uses. "cpu" is the
    process CPU time: on a shared machine it leaves out the time other processes held
    this CPU (the benchmark is single-threaded, so otherwise it equals wall time).
    """
    cases = [c for c in cases if not c.check.startswith("error")]  # they raise: not timed
    for case in cases:
        case.number = calibrate(case, block_s, warm)
    order = list(cases)
    for r in range(rounds):
        rng.shuffle(order)
        for case in order:
            wall, cpu = case.run(case.number)
            case.samples_wall.append(wall / case.number * 1e9)
            case.samples_cpu.append(cpu / case.number * 1e9)
        if progress:
            progress(r + 1, rounds)
    for case in cases:
        case.samples = case.samples_cpu if clock == "cpu" else case.samples_wall


def harness_floor() -> tuple[float, float]:
    """ns per iteration of an empty timeit loop, and of ``len(x)`` on a 16-element array."""
    x = np.zeros(16)
    out = []
    for stmt in ("pass", "len(x)"):
        timer = timeit.Timer(stmt, "x = _x", globals={"_x": x})
        n = 100_000
        out.append(min(timer.timeit(n) for _ in range(7)) / n * 1e9)
    return out[0], out[1]


def log(msg: str, end: str = "\n") -> None:
    sys.stderr.write(msg + end)
    sys.stderr.flush()
