"""Instructions per call of the small-call path, counted by callgrind.

    python tools/callgrind_calls.py [--calls N]      (make callgrind)

Four calls at n = 16 float32: kernels.sum_abs(x), L1L2(0.01, 0.01)(x),
reg.value_and_gradient(x, out=g, accumulate=True) and reg.prox(x, 0.01, out=y);
a ParamGroup.add_gradients step over 32 such weights at one thread (a step's
fixed cost); and, as a yardstick that is not fastreg, CPython's own
``(1).to_bytes(1, byteorder='big', signed=False)``: a C method called in the
form of value_and_gradient(x, out=g, accumulate=True), one positional and
two keyword arguments, doing next to nothing. Each runs in its own
process under `valgrind --tool=callgrind` twice, with a short and a long
loop; the difference of the two totals divided by the extra calls is the
cost of one call with import, set-up and first-call warm-up taken out.
The same is measured for an empty call (``f = lambda: None``): the loop
and the lambda around each call. The "net" column takes it out: the cost
of the expression itself (``reg(x)``, arguments and keywords included),
which is what the goals of the "every core" issue count.

Instruction counts, not time: they do not depend on the machine's load, so
a change of a few per cent is visible (PYTHONHASHSEED=0 keeps the dict
layouts, and so the interpreter's work, the same from run to run; one
OpenBLAS / OpenMP thread, so that no idle BLAS thread's spinning is
counted).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

CALLS = {
    "sum_abs(x)": "f = lambda: kernels.sum_abs(x)",
    "L1L2(0.01,0.01)(x)": "reg = L1L2(0.01, 0.01)\nf = lambda: reg(x)",
    "value_and_gradient(acc)": (
        "reg = L1L2(0.01, 0.01)\ng = np.zeros_like(x)\n"
        "f = lambda: reg.value_and_gradient(x, out=g, accumulate=True)"
    ),
    "prox(x, 0.01, out=y)": (
        "reg = L1L2(0.01, 0.01)\ny = np.zeros_like(x)\nf = lambda: reg.prox(x, 0.01, out=y)"
    ),
    # a ParamGroup step's fixed cost: 32 weights of 16, one thread
    "ParamGroup(32x16).add_gradients": (
        "import fastreg\nfastreg.set_num_threads(1)\n"
        "ws = [x + i for i in range(32)]\ngs = [np.zeros_like(x) for _ in range(32)]\n"
        "group = fastreg.ParamGroup(ws, L1L2(0.01, 0.01))\nf = lambda: group.add_gradients(gs)"
    ),
    # not fastreg: a C method of CPython's called with one positional and
    # two keyword arguments, the form of value_and_gradient(x, out=, accumulate=)
    "(CPython: 1 .to_bytes(1, ...))": (
        "f = lambda: (1).to_bytes(1, byteorder='big', signed=False)"
    ),
}

CHILD = """
import numpy as np
from fastreg import kernels
from fastreg.regularizers import L1L2
x = np.linspace(-1.0, 1.0, 16, dtype=np.float32)
{setup}
for _ in range({loops}):
    f()
"""

WARM = 1000  # calls in the short run: import and first-call costs cancel out


def total_instructions(setup: str, loops: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        env = dict(os.environ, PYTHONHASHSEED="0", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-c",
                CHILD.format(setup=setup, loops=loops),
            ],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        text = open(out).read()
    m = re.search(r"^(?:summary|totals):\s*(\d+)", text, re.M)
    if not m:
        raise RuntimeError("no instruction total in the callgrind output")
    return int(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=200_000, help="extra calls in the long run")
    args = ap.parse_args()
    import fastreg

    def per_call(setup: str) -> float:
        short = total_instructions(setup, WARM)
        long = total_instructions(setup, WARM + args.calls)
        return (long - short) / args.calls

    print(
        f"n = 16 float32, {args.calls} calls; under valgrind, whose CPU has no AVX-512, "
        f"fastreg runs AVX2 at most (here outside it: {fastreg.simd_info()['active']})"
    )
    empty = per_call("f = lambda: None")
    print(f"{'(empty call: loop + lambda)':34s} {empty:8.1f}")
    print(f"{'instructions per call':34s} {'total':>8s} {'net':>8s}")
    for name, setup in CALLS.items():
        total = per_call(setup)
        print(f"{name:34s} {total:8.1f} {total - empty:8.1f}")


if __name__ == "__main__":
    main()
