"""``python -m bench.tensors``: the cost of passing a torch tensor instead of its NumPy view.

For small and mid-size CPU tensors, each call is timed with the tensor
itself and with the cheapest NumPy route a user would otherwise write by
hand (``t.numpy()`` in, ``torch.from_numpy`` out where the result is a new
array). The two are timed in alternation, many rounds; medians and the
ratio tensor time / NumPy-route time are reported (1.0: passing the tensor
costs nothing extra).

    python -m bench.tensors                 # n = 16 and 4096, float32
    python -m bench.tensors --targets       # with the goal: ratio <= 2.0

Needs torch (the CPU wheel); says so and exits cleanly without it.
"""

from __future__ import annotations

import argparse
import statistics

from bench import _env
from bench.threads import per_call

_env.setup()

GOAL = 2.0  # issue "Beyond NumPy": small tensors cost <= 2x the NumPy path


def _cases(fastreg, torch, n: int) -> dict:
    reg = fastreg.L1L2(0.01, 0.01)
    t = torch.linspace(-1.0, 1.0, n)
    g = torch.zeros(n)
    y = torch.zeros(n)
    return {
        "reg(t)": (lambda: reg(t), lambda: reg(t.numpy())),
        "value_and_gradient(t, out=g, acc)": (
            lambda: reg.value_and_gradient(t, out=g, accumulate=True),
            lambda: reg.value_and_gradient(t.numpy(), out=g.numpy(), accumulate=True),
        ),
        "gradient(t)": (
            lambda: reg.gradient(t),
            lambda: torch.from_numpy(reg.gradient(t.numpy())),
        ),
        "prox(t, 0.1, out=y)": (
            lambda: reg.prox(t, 0.1, out=y),
            lambda: reg.prox(t.numpy(), 0.1, out=y.numpy()),
        ),
    }


def measure(fastreg, torch, sizes, rounds: int, reps: int) -> list[dict]:
    rows = []
    for n in sizes:
        for name, (tensor, numpy_route) in _cases(fastreg, torch, n).items():
            tensor()
            numpy_route()
            a: list[float] = []
            b: list[float] = []
            for _ in range(rounds):
                a.append(per_call(tensor, reps))
                b.append(per_call(numpy_route, reps))
            rows.append(
                {"n": n, "op": name, "tensor": statistics.median(a), "numpy": statistics.median(b)}
            )
    return rows


def report(rows, targets: bool) -> None:
    head = f"{'n':>6} {'call':<34} {'tensor us':>10} {'numpy us':>10} {'ratio':>6}"
    print(head + ("  goal" if targets else ""))
    for r in rows:
        ratio = r["tensor"] / r["numpy"]
        line = f"{r['n']:>6} {r['op']:<34} {r['tensor'] * 1e6:>10.2f} {r['numpy'] * 1e6:>10.2f}"
        line += f" {ratio:>6.2f}"
        if targets:
            line += f"  <= {GOAL:.1f} {'PASS' if ratio <= GOAL else 'MISS'}"
        print(line)
    print("ratio = time with the tensor / time through t.numpy() (and torch.from_numpy)")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.tensors", description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="16,4096", help="element counts")
    ap.add_argument("--rounds", type=int, default=15, help="alternating rounds per call")
    ap.add_argument("--reps", type=int, default=2000, help="calls per round")
    ap.add_argument("--targets", action="store_true", help="show the goal column")
    args = ap.parse_args(argv)
    fastreg = _env.import_fastreg()
    try:
        import torch
    except ImportError:
        print("torch is not installed (pip install torch, the CPU wheel): nothing to measure")
        return
    torch.set_num_threads(1)
    sizes = [int(s) for s in args.sizes.split(",")]
    from bench._header import cpu as _cpu

    active = fastreg.simd_info()["active"]
    print(f"# fastreg {fastreg.__version__}; {_cpu()}; simd {active}; torch {torch.__version__}")
    report(measure(fastreg, torch, sizes, args.rounds, args.reps), args.targets)


if __name__ == "__main__":
    main()
