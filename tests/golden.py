"""Reader for tests/data/golden/keras2.json (format: the README.md beside it).

Shared by the regularizer and layer test modules: rebuilding inputs,
decoding tagged arguments, and comparing numeric results and errors with
the per-dtype tolerances the golden file specifies.
"""

from __future__ import annotations

import inspect
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

# The golden cases are reference data recorded from real Keras 2 (see the
# README beside the file); the repository carries its own copy so that a clone
# with nothing beside it can run the tests. FASTREG_GOLDEN points at another
# copy (e.g. a newer recording) without editing the tree.
GOLDEN = Path(__file__).resolve().parent / "data" / "golden" / "keras2.json"


def golden_path() -> Path:
    path = Path(os.environ.get("FASTREG_GOLDEN") or GOLDEN)
    if not path.is_file():
        raise FileNotFoundError(f"golden cases not found: {path}")
    return path


_DATA: dict | None = None


def data() -> dict:
    global _DATA
    if _DATA is None:
        _DATA = json.loads(golden_path().read_text())
    return _DATA


def cases(*kinds: str) -> list[dict]:
    return [c for c in data()["cases"] if c["kind"] in kinds]


def params(*kinds: str) -> list:
    """pytest parameters (one per case, id = case id)."""
    return [pytest.param(c, id=c["id"]) for c in cases(*kinds)]


def _conv(o: Any) -> Any:
    if isinstance(o, list):
        return [_conv(i) for i in o]
    return float(o) if isinstance(o, str) else o


def make_input(spec: dict) -> np.ndarray:
    """Rebuild an input array exactly as the golden README says, and verify it."""
    dt = spec.get("dtype", "float32")
    if "data" in spec:
        x = np.array(_conv(spec["data"]), dtype=np.float64)
    else:
        rng = np.random.Generator(np.random.PCG64(spec["seed"]))
        lo, hi = spec.get("low", -1.0), spec.get("high", 1.0)
        x = lo + (hi - lo) * rng.random(tuple(spec["shape"]))
        if spec.get("int"):
            x = np.floor(x)
    check = spec.get("check")
    if dt == "bfloat16":
        ml_dtypes = pytest.importorskip("ml_dtypes")
        if check:
            _verify(x, check)
        return x.astype(ml_dtypes.bfloat16)
    out = x.astype(dt)
    if check:
        _verify(out, check)
    return out


def _verify(x: np.ndarray, check: dict) -> None:
    s = float(np.sum(x.astype(np.float64)))
    want = check["sum"]
    if want == "nan":
        assert math.isnan(s), "golden input check failed (generator changed?)"
    else:
        assert s == pytest.approx(float(want), rel=1e-12, abs=1e-12), "golden input check"
    first = [float(v) for v in x.astype(np.float64).ravel()[: len(check["first"])]]
    for a, b in zip(first, _conv(check["first"]), strict=False):
        assert (math.isnan(a) and math.isnan(b)) or a == b, "golden input check (first)"


def hand_over(spec: dict, x: np.ndarray) -> Any:
    """The input as the case's `kind` says it reaches fastreg."""
    kind = spec.get("kind", "tensor")
    if kind == "list":
        return x.tolist()
    if kind == "scalar":
        return float(x)
    return x


def decode(v: Any) -> Any:
    """Decode $float / $np / $tensor tags (recursively)."""
    if isinstance(v, dict):
        if "$float" in v:
            return float(v["$float"])
        if "$np" in v:
            return np.dtype(v["$np"]).type(_conv(v["v"]))
        if "$tensor" in v:
            return np.asarray(_conv(v["v"]), dtype=v["$tensor"])
        return {k: decode(i) for k, i in v.items()}
    if isinstance(v, list):
        return [decode(i) for i in v]
    return v


def build_reg(spec: dict) -> Any:
    from fastreg import regularizers as R

    cls = getattr(R, spec["name"])
    return cls(*decode(spec.get("args", [])), **decode(spec.get("kwargs", {})))


def tolerance(dtype: str, case: dict | None = None) -> tuple[float, float]:
    if case is not None and "tol" in case:
        return case["tol"]["rtol"], case["tol"]["atol"]
    t = data()["meta"]["suggested_tolerance"][dtype]
    return t["rtol"], t["atol"]


def check_numeric(got: Any, want: dict, case: dict | None = None, tol=None) -> None:
    """A numeric golden result: 0-d value of the exact dtype, within tolerance."""
    if want["dtype"] == "python_float":
        assert type(got) is float, f"expected a Python float, got {type(got)}"
        dtype_tol = "float64"
    else:
        assert isinstance(got, (np.ndarray, np.generic)), f"expected a 0-d NumPy value: {got!r}"
        assert np.ndim(got) == 0, f"expected a 0-d value, got shape {np.shape(got)}"
        assert np.asarray(got).dtype.name == want["dtype"], (
            f"dtype {np.asarray(got).dtype.name} != {want['dtype']}"
        )
        dtype_tol = want["dtype"]
    g = float(np.asarray(got).astype(np.float64))
    w = want["value"]
    if w == "nan":
        assert math.isnan(g), f"expected nan, got {g}"
        return
    if w in ("inf", "-inf"):
        assert g == float(w), f"expected {w}, got {g}"
        return
    rtol, atol = tol if tol is not None else tolerance(dtype_tol, case)
    assert abs(g - w) <= atol + rtol * abs(w), f"got {g!r}, want {w!r} (rtol {rtol}, atol {atol})"


_BUILTIN_BASES = {
    "ValueError": ValueError,
    "TypeError": TypeError,
    "AttributeError": AttributeError,
    "NotImplementedError": NotImplementedError,
    "Exception": Exception,
}


def check_error(exc: BaseException, want: dict) -> None:
    """A golden error: right builtin base, and the message rule if one is given."""
    err = want["error"]
    base = _BUILTIN_BASES[err["builtin_base"]]
    assert isinstance(exc, base), f"{type(exc).__name__}: {exc} is not a {base.__name__}"
    rule = err.get("message_check")
    msg = str(exc)
    if rule == "equals":
        assert msg == err["message"], f"message {msg!r} != {err['message']!r}"
    elif rule == "prefix_any":
        assert any(msg.startswith(p) for p in err["message_prefixes"]), msg
    elif rule == "contains":
        assert err["message_contains"] in msg, msg


def run_expect(fn, want: dict, case: dict | None = None):
    """Call fn(); if want is an error, check it raised that; else return the result."""
    if isinstance(want, dict) and "error" in want:
        with pytest.raises(Exception) as info:
            fn()
        check_error(info.value, want)
        return None
    return fn()


def _plain_reg_fn(x):
    """The module-level function the golden file calls `_plain_reg_fn`."""
    return 0.0


def describe(r: Any) -> dict:
    from fastreg import regularizers as R

    if r is None:
        return {"returns": "None"}
    if isinstance(r, str):
        return {"returns": "str", "value": r}
    if inspect.isclass(r):
        return {"returns": "class", "name": r.__name__}
    if isinstance(r, R.Regularizer):
        try:
            cfg = r.get_config()
        except NotImplementedError:
            cfg = "NotImplementedError"
        return {"returns": "instance", "class_name": type(r).__name__, "config": cfg}
    if callable(r):
        return {"returns": "callable", "name": r.__name__}
    raise AssertionError(f"cannot describe {r!r}")


def exact_equal(got: Any, want: Any) -> bool:
    """Structured equality: same keys, floats as Python floats equal to the bit."""
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and set(got) == set(want)
            and all(exact_equal(got[k], want[k]) for k in want)
        )
    if isinstance(want, list):
        return (
            isinstance(got, (list, tuple))
            and len(got) == len(want)
            and all(exact_equal(a, b) for a, b in zip(got, want, strict=True))
        )
    if isinstance(want, float):
        return type(got) is float and (got == want or (math.isnan(got) and math.isnan(want)))
    if want is None:
        return got is None
    return type(got) is type(want) and got == want
