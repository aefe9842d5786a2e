"""Relative error of fastreg's float32 sums against math.fsum, by length.

Usage: python -m bench.accuracy

For each n, the worst of sum_abs and sum_squares against math.fsum of the
float64 values (a float32 value and its square are exact in float64), for
uniform, normal and constant data. Constant arrays are the hard case for any
float32 accumulation: every lane rounds the same way, so nothing averages out.
"""

from __future__ import annotations

import math

import numpy as np

from bench import _env

_env.import_fastreg()  # the installed package, not an unbuilt ./fastreg
from fastreg.kernels import sum_abs, sum_squares  # noqa: E402

SIZES = (100, 2048, 10**5, 10**6, 10**7)
KINDS = ("uniform", "normal", "constant 0.1", "constant 1.1")


def data(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "uniform":
        return rng.uniform(0.0, 1.0, n).astype(np.float32)
    if kind == "normal":
        return rng.standard_normal(n).astype(np.float32)
    return np.full(n, float(kind.split()[1]), np.float32)


def worst_error(x: np.ndarray) -> float:
    w = x.astype(np.float64)
    ea, es = math.fsum(np.abs(w)), math.fsum(w * w)
    return max(abs(sum_abs(x) - ea) / ea, abs(sum_squares(x) - es) / es)


def main() -> None:
    rng = np.random.default_rng(1)
    print(f"{'n':>10} " + " ".join(f"{k:>14}" for k in KINDS))
    for n in SIZES:
        errs = [worst_error(data(k, n, rng)) for k in KINDS]
        print(f"{n:>10} " + " ".join(f"{e:>14.1e}" for e in errs))


if __name__ == "__main__":
    main()
