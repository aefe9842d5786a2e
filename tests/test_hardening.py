"""Bad-input table: every public entry point against odd, hostile and broken input.

One parametrized table (``CASES``). Each row is ``(description, call, expect)``:

* ``call(w)`` makes the call; every input array it builds goes through ``w(...)``,
  which records the input's bytes so the test can check afterwards that the input
  is byte-for-byte unchanged (``out=`` arrays are not watched: writing them is the
  point);
* ``expect`` is either ``Raises(type, *fragments)`` (the documented error: its type,
  and a message naming the problem) or a checker of the result, computed
  independently of fastreg from the spec (the project spec's ``SEMANTICS.md``,
  ``API.md``): exact-arithmetic inputs (halves and small integers) make every sum,
  gradient and proximal step exact, so results are compared bit for bit.

The rows follow the spec, not the code: a row that fails is a bug to fix in the
code (or a spec change), never a row to loosen.
"""

from __future__ import annotations

import copy
import ctypes
import math
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from fastreg import kernels as K
from fastreg import regularizers as R

_MAXDIMS = 64 if int(np.__version__.split(".")[0]) >= 2 else 32

try:  # optional extra
    import ml_dtypes
except ImportError:  # pragma: no cover
    ml_dtypes = None


@pytest.fixture(autouse=True)
def _slow_only_when_selected(request: pytest.FixtureRequest) -> None:
    """``slow`` tests run under ``-m slow`` (``make test-slow``), not in the default run."""
    if request.node.get_closest_marker("slow") and "slow" not in (
        request.config.getoption("markexpr") or ""
    ):
        pytest.skip("slow: run with -m slow (make test-slow)")


FLOATS = (np.float16, np.float32, np.float64)
BAD_FACTOR = "is not a valid regularization penalty number"
SWAP = ">" if np.little_endian else "<"

# ---------------------------------------------------------------------------
# input watching: bytes of every input before and after the call


def _extent(a: np.ndarray) -> tuple[int, int]:
    """[lo, hi) byte addresses an array can touch (0, 0 if empty)."""
    if a.size == 0:
        return 0, 0
    ptr = a.__array_interface__["data"][0]
    lo = hi = ptr
    for n, s in zip(a.shape, a.strides, strict=True):
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return lo, hi + a.itemsize


class Watch:
    """Callable registry of inputs whose bytes must not change."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, Any]] = []

    def __call__(self, x: Any) -> Any:
        if isinstance(x, np.ndarray):
            lo, hi = _extent(x)
            self.items.append((x, (lo, ctypes.string_at(lo, hi - lo) if hi > lo else b"")))
        elif isinstance(x, np.generic):
            self.items.append((x, x.tobytes()))
        else:
            self.items.append((x, repr(copy.deepcopy(x))))
        return x

    def check(self) -> None:
        for x, before in self.items:
            if isinstance(x, np.ndarray):
                lo, data = before
                assert _extent(x)[0] == lo
                after = ctypes.string_at(lo, len(data)) if data else b""
                assert after == data, "an input array was modified"
            elif isinstance(x, np.generic):
                assert x.tobytes() == before
            else:
                assert repr(x) == before, "an input object was modified"


# ---------------------------------------------------------------------------
# expectations


class Raises:
    """The call raises ``exc``; its message contains one of ``fragments``."""

    def __init__(self, exc: Any, *fragments: str) -> None:
        self.exc = exc
        self.fragments = fragments

    def __repr__(self) -> str:
        return f"Raises({self.exc}, {self.fragments})"


def _same_float(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def py_float(expected: float) -> Callable[[Any], None]:
    """A Python float, bit for bit (any NaN matches any NaN)."""

    def check(r: Any) -> None:
        assert type(r) is float, type(r)
        assert _same_float(r, float(expected)), (r, expected)

    return check


def py_pair(sa: float, ss: float) -> Callable[[Any], None]:
    def check(r: Any) -> None:
        assert isinstance(r, tuple) and len(r) == 2
        py_float(sa)(r[0])
        py_float(ss)(r[1])

    return check


def scalar_of(dtype: Any, expected: Any) -> Callable[[Any], None]:
    """A 0-d value of ``dtype`` (compared by name, so byte order does not matter)."""
    name = np.dtype(dtype).name

    def check(r: Any) -> None:
        assert np.ndim(r) == 0, np.shape(r)
        assert np.asarray(r).dtype.name == name, (np.asarray(r).dtype, name)
        got, want = float(np.asarray(r)), float(expected)
        if math.isnan(want) or math.isnan(got):
            assert math.isnan(got) and math.isnan(want), (got, want)
        else:
            assert got == want, (got, want)

    return check


def approx_scalar_of(dtype: Any, expected: float) -> Callable[[Any], None]:
    """As ``scalar_of`` with the golden file's per-dtype tolerance (Orthogonal)."""
    name = np.dtype(dtype).name
    rtol = {"float16": 2e-3, "float32": 2e-6, "float64": 1e-12}.get(name, 1.6e-2)

    def check(r: Any) -> None:
        assert np.ndim(r) == 0
        assert np.asarray(r).dtype.name == name
        got = float(np.asarray(r))
        if math.isnan(expected):
            assert math.isnan(got), got
        else:
            assert math.isclose(got, expected, rel_tol=rtol, abs_tol=1e-7), (got, expected)

    return check


def _assert_array(r: Any, expected: np.ndarray, name: str) -> None:
    assert isinstance(r, np.ndarray), type(r)
    assert r.dtype.name == name, (r.dtype, name)
    assert r.shape == expected.shape, (r.shape, expected.shape)
    got = r.astype(np.float64)
    assert np.array_equal(got, expected, equal_nan=True), (got, expected)


def array_of(dtype: Any, expected: Any, same: Any = None) -> Callable[[Any], None]:
    """An ndarray of ``dtype`` equal to ``expected`` (NaN where NaN); ``same``: must be it."""
    name = np.dtype(dtype).name
    want = np.asarray(expected, dtype=np.float64)

    def check(r: Any) -> None:
        if same is not None:
            assert r is same(), "the result must be the out= array"
        _assert_array(r, want, name)

    return check


def pair_of(dtype: Any, value: Any, grad: Any, same: Any = None) -> Callable[[Any], None]:
    """(0-d value, gradient array) from value_and_gradient."""

    def check(r: Any) -> None:
        assert isinstance(r, tuple) and len(r) == 2
        scalar_of(dtype, value)(r[0])
        array_of(dtype, grad, same)(r[1])

    return check


def config_of(attr: str, value: float, call_on: Any = None, result: Any = None):
    """A regularizer whose ``attr`` stores ``value`` (float32) and, optionally,
    whose call on ``call_on`` gives ``result`` (a float32 0-d value)."""

    def check(r: Any) -> None:
        stored = getattr(r, attr)
        assert np.ndim(stored) == 0 and np.asarray(stored).dtype == np.float32
        assert float(stored) == value, (float(stored), value)
        cfg = r.get_config()[attr]
        assert type(cfg) is float and cfg == value, (cfg, value)
        if call_on is not None:
            scalar_of(np.float32, result)(r(call_on))

    return check


# ---------------------------------------------------------------------------
# the Keras / spec formulas, in NumPy (exact for the inputs used here)


def _t(dtype: Any) -> Any:
    return np.dtype(dtype).newbyteorder("=").type


def f32(v: float) -> float:
    with np.errstate(over="ignore"):
        return float(np.float32(v))


def val_l1(dt: Any, lv: np.ndarray, l1: float) -> Any:
    t = _t(dt)
    with np.errstate(all="ignore"):
        return t(t(f32(l1)) * t(np.sum(np.abs(lv))))


def val_l2(dt: Any, lv: np.ndarray, l2: float) -> Any:
    t = _t(dt)
    with np.errstate(all="ignore"):
        return t(t(f32(l2)) * t(np.sum(lv * lv)))


def val_l1l2(dt: Any, lv: np.ndarray, l1: float, l2: float) -> Any:
    t = _t(dt)
    v = t(0)
    with np.errstate(all="ignore"):
        if f32(l1):
            v = t(v + val_l1(dt, lv, l1))
        if f32(l2):
            v = t(v + val_l2(dt, lv, l2))
    return v


def val_orth(lv: np.ndarray, factor: float, mode: str = "rows") -> float:
    x = lv if mode == "rows" else lv.T
    n = x.shape[0]
    with np.errstate(all="ignore"):
        nrm = x / np.sqrt(np.maximum(np.sum(x * x, axis=1, keepdims=True), 1e-12))
        p = np.abs(nrm @ nrm.T)
        off = np.sum(p) - np.sum(np.diag(p))
        return float(f32(factor) * 0.5 * off / (n * (n - 1) / 2))


def grad(lv: np.ndarray, l1: float, l2: float) -> np.ndarray:
    """l1*sign(x) + 2*l2*x (only the non-zero terms), factors float32-rounded."""
    a, b = f32(l1), 2.0 * f32(l2)
    g = np.zeros_like(lv)
    with np.errstate(all="ignore"):
        if a:
            g = g + a * np.sign(lv)
        if b:
            g = g + b * lv
    return g


def prox(lv: np.ndarray, t: float, d: float) -> np.ndarray:
    """soft-threshold by t (t > 0), then multiply by 1/d (d != 1: here 2, exact)."""
    with np.errstate(all="ignore"):
        v = lv
        if t:
            v = np.where(np.isnan(v), v, np.sign(v) * np.maximum(np.abs(v) - t, 0.0))
        return v * (1.0 / d)


# ---------------------------------------------------------------------------
# inputs: the same logical values in many memory layouts

V = np.array(
    [
        [1.5, -2.0, 0.0, -0.5, 3.0],
        [-1.0, 0.5, 2.5, -3.5, 1.0],
        [0.0, -1.5, 2.0, 4.0, -0.5],
    ]
)
T3 = ((np.arange(24.0) - 11.5) * 0.5).reshape(2, 3, 4)


def _unaligned(lv: np.ndarray, dt: Any) -> np.ndarray:
    item = np.dtype(dt).itemsize
    buf = np.zeros(lv.size * item + 1, dtype=np.uint8)
    a = buf[1:].view(dt).reshape(lv.shape)
    a[...] = lv
    assert not a.flags.aligned
    return a


def _readonly(lv: np.ndarray, dt: Any) -> np.ndarray:
    a = lv.astype(dt)
    a.flags.writeable = False
    return a


def _reversed(lv: np.ndarray, dt: Any) -> np.ndarray:
    a = np.ascontiguousarray(lv[::-1, ::-1].astype(dt))
    return a[::-1, ::-1]


def _neg_steps(lv: np.ndarray, dt: Any) -> np.ndarray:
    big = np.full((lv.shape[0] * 2, lv.shape[1] * 3), 99.0, dtype=dt)
    a = big[::-2, ::-3]
    a[...] = lv
    return a


def _steps(lv: np.ndarray, dt: Any) -> np.ndarray:
    big = np.full((lv.shape[0] * 2, lv.shape[1] * 3), 99.0, dtype=dt)
    a = big[1::2, ::3]
    a[...] = lv
    return a


def _permuted3d(lv: np.ndarray, dt: Any) -> np.ndarray:
    c = np.ascontiguousarray(T3.transpose(1, 2, 0)[:, ::-1, :].astype(dt))
    return c[:, ::-1, :].transpose(2, 0, 1)


LAYOUTS: dict[str, Callable[[Any], np.ndarray]] = {
    "C": lambda dt: V.astype(dt),
    "F": lambda dt: np.asfortranarray(V.astype(dt)),
    "transposed": lambda dt: np.ascontiguousarray(V.T.astype(dt)).T,
    "negative-strides": lambda dt: _reversed(V, dt),
    "steps": lambda dt: _steps(V, dt),
    "negative-steps": lambda dt: _neg_steps(V, dt),
    "zero-stride": lambda dt: np.broadcast_to(V[1].astype(dt), (4, 5)),
    "zero-stride-col": lambda dt: np.broadcast_to(V[:, 1:2].astype(dt), (3, 6)),
    "unaligned": lambda dt: _unaligned(V, dt),
    "read-only": lambda dt: _readonly(V, dt),
    "byte-swapped": lambda dt: V.astype(np.dtype(dt).newbyteorder(SWAP)),
    "permuted-3d": lambda dt: _permuted3d(T3, dt),
    "byte-swapped-negative-steps": lambda dt: _neg_steps(V, np.dtype(dt).newbyteorder(SWAP)),
    "unaligned-F": lambda dt: _unaligned(V.T, dt).T,
    # one below NumPy's dimension limit (64 in NumPy 2, 32 in NumPy 1)
    "many-dims": lambda dt: V.astype(dt).reshape((1,) * (_MAXDIMS - 4) + (3, 1, 5)),
    "0-d": lambda dt: np.array(-2.5, dtype=dt),
    "1-element": lambda dt: np.array([3.5], dtype=dt),
    "empty": lambda dt: np.zeros((0, 5), dtype=dt),
    "empty-3d": lambda dt: np.zeros((2, 0, 3), dtype=dt),
}

# The layouts are checked once, so that a wrong maker cannot make a row vacuous.
for _name, _make in LAYOUTS.items():
    _x = _make(np.float32)
    if _name in (
        "C",
        "F",
        "transposed",
        "negative-strides",
        "steps",
        "negative-steps",
        "unaligned",
        "read-only",
        "byte-swapped",
        "byte-swapped-negative-steps",
        "unaligned-F",
    ):
        assert np.array_equal(_x, V), _name
    if _name == "permuted-3d":
        assert np.array_equal(_x, T3)
assert LAYOUTS["negative-steps"](np.float32).strides[0] < 0
assert LAYOUTS["zero-stride"](np.float32).strides[0] == 0

CASES: list[Any] = []


def row(desc: str, call: Callable[[Watch], Any], expect: Any, *marks: Any) -> None:
    CASES.append(pytest.param(call, expect, id=desc, marks=marks))


L1_, L2_ = 0.5, 0.25  # exact in every float dtype

# --- every entry point, every dtype, every layout: the right answer ---------

for _dtn in FLOATS:
    _dn = np.dtype(_dtn).name
    for _lay, _mk in LAYOUTS.items():
        _lv = np.array(_mk(_dtn), dtype=np.float64)  # logical values (NumPy's copy)
        _kswap = _lay.startswith("byte-swapped")
        _p = f"{_dn}-{_lay}-"

        def mk(mk=_mk, dt=_dtn):
            return mk(dt)

        sa, ss = float(np.sum(np.abs(_lv))), float(np.sum(_lv * _lv))
        # every layout, byte-swapped too: the kernels read a native copy of a swapped one
        # (one input policy for every entry point: fastreg/_convert.py)
        row(_p + "kernels.sum_abs", lambda w, mk=mk: K.sum_abs(w(mk())), py_float(sa))
        row(_p + "kernels.sum_squares", lambda w, mk=mk: K.sum_squares(w(mk())), py_float(ss))
        row(
            _p + "kernels.sum_abs_squares",
            lambda w, mk=mk: K.sum_abs_squares(w(mk())),
            py_pair(sa, ss),
        )
        row(_p + "L1", lambda w, mk=mk: R.L1(L1_)(w(mk())), scalar_of(_dtn, val_l1(_dtn, _lv, L1_)))
        row(_p + "L2", lambda w, mk=mk: R.L2(L2_)(w(mk())), scalar_of(_dtn, val_l2(_dtn, _lv, L2_)))
        row(
            _p + "L1L2",
            lambda w, mk=mk: R.L1L2(L1_, L2_)(w(mk())),
            scalar_of(_dtn, val_l1l2(_dtn, _lv, L1_, L2_)),
        )
        row(_p + "L1L2(0,0)", lambda w, mk=mk: R.L1L2(0.0, 0.0)(w(mk())), scalar_of(_dtn, 0.0))
        if _lv.ndim == 2:
            row(
                _p + "Orthogonal",
                lambda w, mk=mk: R.OrthogonalRegularizer(L1_)(w(mk())),
                approx_scalar_of(_dtn, val_orth(_lv, L1_)),
            )
        else:
            row(
                _p + "Orthogonal",
                lambda w, mk=mk: R.OrthogonalRegularizer(L1_)(w(mk())),
                Raises(
                    ValueError,
                    "Inputs to OrthogonalRegularizer must have rank 2. "
                    f"Received: inputs.shape == {_lv.shape}",
                ),
            )
        row(
            _p + "L1.gradient",
            lambda w, mk=mk: R.L1(L1_).gradient(w(mk())),
            array_of(_dtn, grad(_lv, L1_, 0.0)),
        )
        row(
            _p + "L2.gradient",
            lambda w, mk=mk: R.L2(L2_).gradient(w(mk())),
            array_of(_dtn, grad(_lv, 0.0, L2_)),
        )
        row(
            _p + "L1L2.gradient",
            lambda w, mk=mk: R.L1L2(L1_, L2_).gradient(w(mk())),
            array_of(_dtn, grad(_lv, L1_, L2_)),
        )
        row(
            _p + "L1L2(0,0).gradient",
            lambda w, mk=mk: R.L1L2(0.0, 0.0).gradient(w(mk())),
            array_of(_dtn, np.zeros_like(_lv)),
        )
        row(
            _p + "L1L2.value_and_gradient",
            lambda w, mk=mk: R.L1L2(L1_, L2_).value_and_gradient(w(mk())),
            pair_of(_dtn, val_l1l2(_dtn, _lv, L1_, L2_), grad(_lv, L1_, L2_)),
        )
        if not _kswap:
            _box: list[Any] = []

            def call_acc(w, mk=mk, box=_box):
                x = w(mk())
                out = np.ones(x.shape, dtype=x.dtype)
                box[:] = [out]
                return R.L1L2(L1_, L2_).value_and_gradient(x, out=out, accumulate=True)

            row(
                _p + "L1L2.value_and_gradient(accumulate)",
                call_acc,
                pair_of(
                    _dtn,
                    val_l1l2(_dtn, _lv, L1_, L2_),
                    1.0 + grad(_lv, L1_, L2_),
                    same=lambda box=_box: box[0],
                ),
            )
            _box2: list[Any] = []

            def call_out(w, mk=mk, box=_box2):
                x = w(mk())
                out = np.full(x.shape, 7.0, dtype=x.dtype)
                box[:] = [out]
                return R.L2(L2_).gradient(x, out=out)

            row(
                _p + "L2.gradient(out)",
                call_out,
                array_of(_dtn, grad(_lv, 0.0, L2_), same=lambda box=_box2: box[0]),
            )
        row(
            _p + "L1.prox",
            lambda w, mk=mk: R.L1(L1_).prox(w(mk()), 1.0),
            array_of(_dtn, prox(_lv, 0.5, 1.0)),
        )
        row(
            _p + "L2.prox",
            lambda w, mk=mk: R.L2(L2_).prox(w(mk()), 2.0),
            array_of(_dtn, prox(_lv, 0.0, 2.0)),
        )
        row(
            _p + "L1L2.prox",
            lambda w, mk=mk: R.L1L2(L1_, L2_).prox(w(mk()), 2.0),
            array_of(_dtn, prox(_lv, 1.0, 2.0)),
        )
        row(
            _p + "L1L2(0,0).prox",
            lambda w, mk=mk: R.L1L2(0.0, 0.0).prox(w(mk()), 2.0),
            array_of(_dtn, _lv),
        )

# --- refused input kinds: TypeError naming the dtype ------------------------

ENTRY: dict[str, Callable[[Any], Any]] = {
    "kernels.sum_abs": K.sum_abs,
    "kernels.sum_squares": K.sum_squares,
    "kernels.sum_abs_squares": K.sum_abs_squares,
    "L1": lambda x: R.L1(L1_)(x),
    "L2": lambda x: R.L2(L2_)(x),
    "L1L2": lambda x: R.L1L2(L1_, L2_)(x),
    "L1L2(0,0)": lambda x: R.L1L2(0.0, 0.0)(x),
    "Orthogonal": lambda x: R.OrthogonalRegularizer(L1_)(x),
    "L1.gradient": lambda x: R.L1(L1_).gradient(x),
    "L1L2(0,0).gradient": lambda x: R.L1L2(0.0, 0.0).gradient(x),
    "Orthogonal.gradient": lambda x: R.OrthogonalRegularizer(L1_).gradient(x),
    "L1L2.value_and_gradient": lambda x: R.L1L2(L1_, L2_).value_and_gradient(x),
    "L1.prox": lambda x: R.L1(L1_).prox(x, 1.0),
    "L1L2(0,0).prox": lambda x: R.L1L2(0.0, 0.0).prox(x, 1.0),
}
BAD_ARRAYS: dict[str, Callable[[], Any]] = {
    "int8": lambda: np.arange(6, dtype=np.int8).reshape(2, 3),
    "int32": lambda: np.arange(6, dtype=np.int32).reshape(2, 3),
    "int64": lambda: np.arange(6, dtype=np.int64).reshape(2, 3),
    "uint8": lambda: np.arange(6, dtype=np.uint8).reshape(2, 3),
    "uint64": lambda: np.arange(6, dtype=np.uint64).reshape(2, 3),
    "bool": lambda: np.array([[True, False, True], [False, True, True]]),
    "complex64": lambda: (np.arange(6) + 1j).astype(np.complex64).reshape(2, 3),
    "complex128": lambda: (np.arange(6) - 2j).reshape(2, 3),
    "object": lambda: np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=object),
    "str": lambda: np.array([["1", "2", "3"], ["4", "5", "6"]]),
    "bytes": lambda: np.array([[b"1", b"2", b"3"], [b"4", b"5", b"6"]]),
    "int64-F-view": lambda: np.asfortranarray(np.arange(6).reshape(2, 3))[:, ::-1],
    "list-of-str": lambda: [["1.0", "2.0", "3.0"], ["4.0", "5.0", "6.0"]],
    "list-mixed-str": lambda: [[1.0, "a", 3.0], [4.0, 5.0, 6.0]],
}
if ml_dtypes is not None:
    # (the kernels take bfloat16 too now: they read an exact float32 copy)
    KERNEL_ONLY_BAD: dict[str, Callable[[], Any]] = {}
else:  # pragma: no cover
    KERNEL_ONLY_BAD = {}


def _names(x: Any) -> tuple[str, ...]:
    d = np.asarray(x).dtype
    return (str(d), d.name)


for _en, _fn in ENTRY.items():
    for _bn, _bad in BAD_ARRAYS.items():
        row(
            f"refuse-{_bn}-{_en}",
            lambda w, fn=_fn, bad=_bad: fn(w(bad())),
            Raises(TypeError, *_names(_bad())),
        )
    row(
        f"refuse-None-{_en}",
        lambda w, fn=_fn: fn(None),
        Raises(TypeError, "None", "NoneType", "object"),
    )
    row(
        f"refuse-ragged-list-{_en}",
        lambda w, fn=_fn: fn(w([[1.0, 2.0], [3.0]])),
        Raises(ValueError),
    )
    row(
        f"refuse-ragged-nested-{_en}",
        lambda w, fn=_fn: fn(w([[1.0, [2.0]], [3.0, 4.0]])),
        Raises(ValueError),
    )
    if _en.startswith("kernels"):
        for _bn, _bad in KERNEL_ONLY_BAD.items():
            row(
                f"refuse-{_bn}-{_en}",
                lambda w, fn=_fn, bad=_bad: fn(w(bad())),
                Raises(TypeError, "bfloat16"),
            )

if ml_dtypes is not None:
    _bf = np.array([[1.5, -2.0], [0.5, 4.0]], dtype=ml_dtypes.bfloat16)
    row(
        "bfloat16-L1",
        lambda w: R.L1(L1_)(w(_bf.copy())),
        scalar_of(_bf.dtype, ml_dtypes.bfloat16(4.0)),
    )
    row(
        "bfloat16-L1L2",
        lambda w: R.L1L2(L1_, L2_)(w(_bf.copy())),
        scalar_of(_bf.dtype, ml_dtypes.bfloat16(4.0 + 0.25 * 22.5)),
    )

# --- Python lists and scalars: converted with floatx() ----------------------

row("list-ints-L1", lambda w: R.L1(L1_)(w([[1, -2], [3, 4]])), scalar_of(np.float32, 5.0))
row("list-floats-L2", lambda w: R.L2(L2_)(w([1.5, -2.0])), scalar_of(np.float32, 1.5625))
row("tuple-L1L2", lambda w: R.L1L2(L1_, L2_)(w((1.0, -2.0))), scalar_of(np.float32, 1.5 + 1.25))
row("python-float-L1", lambda w: R.L1(L1_)(-2.5), scalar_of(np.float32, 1.25))
row("python-int-L2", lambda w: R.L2(L2_)(3), scalar_of(np.float32, 2.25))
row("numpy-float64-scalar-L1", lambda w: R.L1(L1_)(w(np.float64(-3.0))), scalar_of(np.float64, 1.5))
row("numpy-float16-scalar-L2", lambda w: R.L2(L2_)(w(np.float16(2.0))), scalar_of(np.float16, 1.0))
row(
    "list-L1.gradient",
    lambda w: R.L1(L1_).gradient(w([1.0, -2.0, 0.0])),
    array_of(np.float32, [0.5, -0.5, 0.0]),
)
row(
    "list-L1.prox",
    lambda w: R.L1(L1_).prox(w([1.0, -2.0, 0.25]), 1.0),
    array_of(np.float32, [0.5, -1.5, 0.0]),
)


class _ArrayLike:
    """Not an ndarray: exposes only __array__ (as many tensor types do)."""

    def __init__(self, a: np.ndarray) -> None:
        self._a = a

    def __array__(self, dtype=None, copy=None):
        return self._a if dtype is None else self._a.astype(dtype)


class _DLPackOnly:
    """Exposes only the DLPack protocol (torch/jax CPU tensors do)."""

    def __init__(self, a: np.ndarray) -> None:
        self._a = a

    def __dlpack__(self, *args, **kwargs):
        return self._a.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._a.__dlpack_device__()


row(
    "__array__-float64-L1",
    lambda w: R.L1(L1_)(_ArrayLike(w(V.copy()))),
    scalar_of(np.float64, 0.5 * float(np.sum(np.abs(V)))),
)
row(
    "__array__-int-L1", lambda w: R.L1(L1_)(_ArrayLike(w(np.arange(3)))), Raises(TypeError, "int64")
)
row(
    "__array__-float32-L1.gradient",
    lambda w: R.L1(L1_).gradient(_ArrayLike(w(V.astype(np.float32)))),
    array_of(np.float32, grad(V, L1_, 0.0)),
)
row(
    "__array__-float32-kernels.sum_abs",
    lambda w: K.sum_abs(_ArrayLike(w(V.astype(np.float32)))),
    py_float(float(np.sum(np.abs(V)))),
)
row(
    "__dlpack__-float32-L2",
    lambda w: R.L2(L2_)(_DLPackOnly(w(V.astype(np.float32)))),
    scalar_of(np.float32, 0.25 * float(np.sum(V * V))),
)
row(
    "__dlpack__-int32-L2",
    lambda w: R.L2(L2_)(_DLPackOnly(w(np.arange(3, dtype=np.int32)))),
    Raises(TypeError, "int32"),
)
row(
    "__dlpack__-float16-L1L2.prox",
    lambda w: R.L1L2(L1_, L2_).prox(_DLPackOnly(w(V.astype(np.float16))), 2.0),
    array_of(np.float16, prox(V, 1.0, 2.0)),
)
row("empty-list-L1", lambda w: R.L1(L1_)(w([])), scalar_of(np.float32, 0.0))

# --- factors ----------------------------------------------------------------

_X32 = V.astype(np.float32)
_SA = float(np.sum(np.abs(V)))
_SS = float(np.sum(V * V))
CTORS: dict[str, Callable[[Any], Any]] = {
    "L1": lambda f: R.L1(f),
    "L1(l1=)": lambda f: R.L1(l1=f),
    "L1(l=)": lambda f: R.L1(l=f),
    "L2": lambda f: R.L2(f),
    "L2(l=)": lambda f: R.L2(l=f),
    "L1L2(l1=)": lambda f: R.L1L2(l1=f),
    "L1L2(l2=)": lambda f: R.L1L2(l2=f),
    "l1_l2(l1=)": lambda f: R.l1_l2(l1=f),
    "l1_l2(l2=)": lambda f: R.l1_l2(l2=f),
    "Orthogonal": lambda f: R.OrthogonalRegularizer(f),
    "Orthogonal(columns)": lambda f: R.OrthogonalRegularizer(factor=f, mode="columns"),
}
BAD_FACTORS: dict[str, Any] = {
    "nan": float("nan"),
    "inf": float("inf"),
    "-inf": float("-inf"),
    "numpy-float64-nan": np.float64("nan"),
    "str": "0.1",
    "numpy-float32": np.float32(0.1),
    "numpy-float16": np.float16(0.5),
    "numpy-int64": np.int64(2),
    "list": [0.1],
    "complex": 1 + 0j,
    "0-d-array": np.array(0.1),
    # ints beyond float range are refused as infinite; past 4300 digits str() of
    # the int itself raises, so the message must not print it whole
    "huge-int": 10**400,
    "huge-negative-int": -(10**400),
    "int-past-str-limit": 10**5000,
}
for _cn, _ct in CTORS.items():
    for _fnm, _f in BAD_FACTORS.items():
        row(f"factor-{_fnm}-{_cn}", lambda w, ct=_ct, f=_f: ct(f), Raises(ValueError, BAD_FACTOR))
row("factor-None-Orthogonal", lambda w: R.OrthogonalRegularizer(None), Raises(ValueError))
row(
    "factor-unknown-keyword-L1",
    lambda w: R.L1(0.1, foo=1),
    Raises(TypeError, "Argument(s) not recognized"),
)
row(
    "factor-bad-mode-Orthogonal",
    lambda w: R.OrthogonalRegularizer(0.1, mode="Rows"),
    Raises(
        ValueError,
        'Invalid value for argument `mode`. Expected one of {"rows", "columns"}. '
        "Received: mode=Rows",
    ),
)
# accepted factors (Keras 2): negative, numpy.float64, bool, int, None, overflowing
row("factor-negative-L1", lambda w: R.L1(-0.5), config_of("l1", -0.5, _X32, -0.5 * _SA))
row("factor-negative-L2", lambda w: R.L2(-0.25), config_of("l2", -0.25, _X32, -0.25 * _SS))
row(
    "factor-negative-zero-L1L2",
    lambda w: R.L1L2(-0.0, 0.25),
    config_of("l2", 0.25, _X32, 0.25 * _SS),
)
row(
    "factor-numpy-float64-L1",
    lambda w: R.L1(np.float64(0.5)),
    config_of("l1", 0.5, _X32, 0.5 * _SA),
)
row("factor-bool-L2", lambda w: R.L2(True), config_of("l2", 1.0, _X32, _SS))
row("factor-int-L1", lambda w: R.L1(2), config_of("l1", 2.0, _X32, 2 * _SA))
row("factor-None-L1", lambda w: R.L1(None), config_of("l1", f32(0.01)))
row("factor-None-L1L2", lambda w: R.L1L2(None, None), config_of("l1", 0.0, _X32, 0.0))
row("factor-1e40-L1(stores inf)", lambda w: R.L1(1e40), config_of("l1", math.inf, _X32, math.inf))
row(
    "factor-negative-Orthogonal",
    lambda w: R.OrthogonalRegularizer(-1.0)(w(_X32.copy())),
    approx_scalar_of(np.float32, val_orth(V, -1.0)),
)
row(
    "factor-negative-L1.gradient",
    lambda w: R.L1(-0.5).gradient(w(_X32.copy())),
    array_of(np.float32, grad(V, -0.5, 0.0)),
)


def _x32() -> np.ndarray:
    return V.astype(np.float32)


# --- prox step and accumulate (documented in the method docstrings) ---------

BAD_STEPS: dict[str, Any] = {
    "negative": -0.5,
    "nan": float("nan"),
    "inf": float("inf"),
    "str": "1",
    "bool": True,
    "None": None,
    "1-d array": np.array([1.0]),
    "complex": 1j,
    # numbers beyond float range: ValueError, not float()'s OverflowError
    "huge-int": 10**400,
    "huge-negative-int": -(10**400),
    "int-past-str-limit": 10**5000,
    "huge-Fraction": Fraction(10**400, 3),
    "numpy-float64-inf": np.float64("inf"),
    "numpy-float32-nan": np.float32("nan"),
    "numpy-bool": np.bool_(True),
    "numpy-negative-int": np.int64(-1),
    "Decimal": Decimal("0.5"),  # not a numbers.Real
}
for _sn, _step in BAD_STEPS.items():
    for _cn, _ct in (
        ("L1", lambda: R.L1(L1_)),
        ("L2", lambda: R.L2(L2_)),
        ("L1L2", lambda: R.L1L2(L1_, L2_)),
    ):
        row(
            f"step-{_sn}-{_cn}.prox",
            lambda w, ct=_ct, st=_step: ct().prox(w(_x32()), st),
            Raises(ValueError, "step"),
        )
row(
    "step-negative-l2-L2(-0.5).prox(2)",  # 1 + 2*step*l2 <= 0: no proximal map
    lambda w: R.L2(-0.5).prox(w(_x32()), 2.0),
    Raises(ValueError, "1 + 2*step*l2"),
)
row(
    "step-numpy-float32-L1.prox",
    lambda w: R.L1(L1_).prox(w(_x32()), np.float32(2.0)),
    array_of(np.float32, prox(V, 1.0, 1.0)),
)
row(
    "step-int-L2.prox",
    lambda w: R.L2(L2_).prox(w(_x32()), 2),
    array_of(np.float32, prox(V, 0.0, 2.0)),
)
row(
    "step-zero-L1L2.prox(identity)",
    lambda w: R.L1L2(L1_, L2_).prox(w(_x32()), 0.0),
    array_of(np.float32, V),
)
# a factor stored as inf (validated finite, rounded to float32): step 0 is still
# the identity, not 0*inf = nan thresholds or a "1 + 2*step*l2" error
for _cn, _ct in (
    ("L1(1e40)", lambda: R.L1(1e40)),
    ("L2(1e40)", lambda: R.L2(1e40)),
    ("L1L2(1e40,1e40)", lambda: R.L1L2(1e40, 1e40)),
):
    for _sn, _step in (("0", 0), ("-0.0", -0.0), ("numpy-0", np.float64(0.0))):
        row(
            f"step-{_sn}-{_cn}.prox(identity)",
            lambda w, ct=_ct, st=_step: ct().prox(w(_x32()), st),
            array_of(np.float32, V),
        )
row(
    "accumulate-without-out",
    lambda w: R.L1L2(L1_, L2_).value_and_gradient(w(_x32()), accumulate=True),
    Raises(ValueError, "out"),
)
row(
    "accumulate-without-out-Orthogonal",
    lambda w: R.OrthogonalRegularizer(L1_).value_and_gradient(w(_x32()), accumulate=True),
    Raises(ValueError, "out"),
)

# --- NaN / Inf / overflow / subnormal values --------------------------------

_NAN = [1.5, np.nan, -2.0]
_INF = [1.5, np.inf, -2.0]
_NINF = [-np.inf, 1.0]
_INFS = [np.inf, -np.inf]
for _dtn in FLOATS:
    _dn = np.dtype(_dtn).name

    def a(v, dt=_dtn):
        return lambda: np.array(v, dtype=dt)

    nan_, inf_, ninf_, infs_ = a(_NAN), a(_INF), a(_NINF), a(_INFS)
    row(f"{_dn}-nan-kernels.sum_abs", lambda w, m=nan_: K.sum_abs(w(m())), py_float(math.nan))
    row(
        f"{_dn}-nan-kernels.sum_squares",
        lambda w, m=nan_: K.sum_squares(w(m())),
        py_float(math.nan),
    )
    row(
        f"{_dn}-inf-kernels.sum_abs_squares",
        lambda w, m=inf_: K.sum_abs_squares(w(m())),
        py_pair(math.inf, math.inf),
    )
    row(f"{_dn}-inf,-inf-kernels.sum_abs", lambda w, m=infs_: K.sum_abs(w(m())), py_float(math.inf))
    row(f"{_dn}-nan-L1", lambda w, m=nan_: R.L1(L1_)(w(m())), scalar_of(_dtn, math.nan))
    row(f"{_dn}-inf-L2", lambda w, m=inf_: R.L2(L2_)(w(m())), scalar_of(_dtn, math.inf))
    row(f"{_dn}-inf,-inf-L1", lambda w, m=infs_: R.L1(L1_)(w(m())), scalar_of(_dtn, math.inf))
    row(f"{_dn}-nan-L1L2(0,0)", lambda w, m=nan_: R.L1L2(0.0, 0.0)(w(m())), scalar_of(_dtn, 0.0))
    row(f"{_dn}-nan-L1(0)", lambda w, m=nan_: R.L1(0.0)(w(m())), scalar_of(_dtn, math.nan))
    row(f"{_dn}-inf-L2(0)", lambda w, m=inf_: R.L2(0.0)(w(m())), scalar_of(_dtn, math.nan))
    row(
        f"{_dn}-inf-L1L2(l1 only)",
        lambda w, m=inf_: R.L1L2(L1_, 0.0)(w(m())),
        scalar_of(_dtn, math.inf),
    )
    row(
        f"{_dn}-nan-Orthogonal",
        lambda w, m=_dtn: R.OrthogonalRegularizer(1.0)(
            w(np.array([[1.0, np.nan], [1.0, 2.0]], dtype=m))
        ),
        approx_scalar_of(_dtn, math.nan),
    )
    row(
        f"{_dn}-nan-L1.gradient",
        lambda w, m=nan_: R.L1(L1_).gradient(w(m())),
        array_of(_dtn, [0.5, np.nan, -0.5]),
    )
    row(
        f"{_dn}-inf-L1.gradient",
        lambda w, m=inf_: R.L1(L1_).gradient(w(m())),
        array_of(_dtn, [0.5, 0.5, -0.5]),
    )
    row(
        f"{_dn}-inf-L2.gradient",
        lambda w, m=inf_: R.L2(L2_).gradient(w(m())),
        array_of(_dtn, [0.75, np.inf, -1.0]),
    )
    row(
        f"{_dn}--inf-L1L2.gradient",
        lambda w, m=ninf_: R.L1L2(L1_, L2_).gradient(w(m())),
        array_of(_dtn, [-np.inf, 1.0]),
    )
    row(
        f"{_dn}-nan-L1L2.value_and_gradient",
        lambda w, m=nan_: R.L1L2(L1_, L2_).value_and_gradient(w(m())),
        pair_of(_dtn, math.nan, [1.25, np.nan, -1.5]),
    )
    row(
        f"{_dn}-nan-L1.prox",
        lambda w, m=nan_: R.L1(L1_).prox(w(m()), 1.0),
        array_of(_dtn, [1.0, np.nan, -1.5]),
    )
    row(
        f"{_dn}-inf-L1.prox",
        lambda w, m=inf_: R.L1(L1_).prox(w(m()), 1.0),
        array_of(_dtn, [1.0, np.inf, -1.5]),
    )
    row(
        f"{_dn}--inf-L2.prox",
        lambda w, m=ninf_: R.L2(L2_).prox(w(m()), 2.0),
        array_of(_dtn, [-np.inf, 0.5]),
    )

# overflow and subnormals (IEEE: no flush to zero)
row(
    "float32-overflow-L2",
    lambda w: R.L2(0.01)(w(np.array([1e20, 1e20], np.float32))),
    scalar_of(np.float32, math.inf),
)
row(
    "float16-sum-overflow-L2",
    lambda w: R.L2(0.01)(w(np.array([200.0, 200.0], np.float16))),
    scalar_of(np.float16, math.inf),
)
row(
    "float64-overflow-kernels.sum_squares",
    lambda w: K.sum_squares(w(np.array([1e200, 1e200]))),
    py_float(math.inf),
)
row(
    "float32-huge-values-kernels.sum_abs",
    lambda w: K.sum_abs(w(np.full(8, 3e38, np.float32))),
    py_float(8 * float(np.float32(3e38))),
)
row(
    "float32-subnormal-L1",
    lambda w: R.L1(L1_)(w(np.array([1e-40, -1e-40], np.float32))),
    scalar_of(np.float32, np.float32(0.5) * np.float32(2 * float(np.float32(1e-40)))),
)
row(
    "float64-subnormal-kernels.sum_abs",
    lambda w: K.sum_abs(w(np.array([5e-324, -5e-324]))),
    py_float(1e-323),
)
row(
    "float16-subnormal-kernels.sum_abs",
    lambda w: K.sum_abs(w(np.array([6e-8, -6e-8], np.float16))),
    py_float(2 * float(np.float16(6e-8))),
)
row(
    "float32-subnormal-L1.gradient",
    lambda w: R.L2(L2_).gradient(w(np.array([1e-40, -1e-40], np.float32))),
    array_of(np.float32, 0.5 * np.array([1e-40, -1e-40], np.float32).astype(np.float64)),
)

# --- OrthogonalRegularizer shapes -------------------------------------------

row(
    "Orthogonal-one-row",
    lambda w: R.OrthogonalRegularizer(1.0)(w(np.ones((1, 3), np.float32))),
    approx_scalar_of(np.float32, math.nan),
)
row(
    "Orthogonal-empty-0x0",
    lambda w: R.OrthogonalRegularizer(1.0)(w(np.zeros((0, 0), np.float32))),
    approx_scalar_of(np.float32, math.nan),
)
row(
    "Orthogonal-rows-3x0",
    lambda w: R.OrthogonalRegularizer(1.0)(w(np.zeros((3, 0), np.float32))),
    approx_scalar_of(np.float32, 0.0),
)
row(
    "Orthogonal-columns-one-column",
    lambda w: R.OrthogonalRegularizer(1.0, mode="columns")(w(np.ones((3, 1), np.float64))),
    approx_scalar_of(np.float64, math.nan),
)
row(
    "Orthogonal-zero-row-float16",
    lambda w: R.OrthogonalRegularizer(1.0)(
        w(np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0]], np.float16))
    ),
    approx_scalar_of(np.float16, val_orth(np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0]]), 1.0)),
)
row(
    "Orthogonal.gradient-rank1",
    lambda w: R.OrthogonalRegularizer(1.0).gradient(w(np.ones(3, np.float32))),
    Raises(ValueError, "must have rank 2"),
)
row(
    "Orthogonal.gradient-shape",
    lambda w: R.OrthogonalRegularizer(1.0).gradient(w(V.astype(np.float32))).shape,
    lambda r: r == (3, 5) or pytest.fail(str(r)),
)

# --- huge arrays (> 2**31 elements, zero strides so memory stays small) ------

_N = 2**31 + 7
_ROWS = 2**31 // 4096 + 3
slow = pytest.mark.slow


def _brow(dt):
    return ((np.arange(4096) % 7 - 3) * 0.5).astype(dt)


_RSA = float(np.sum(np.abs(_brow(np.float64))))
_RSS = float(np.sum(_brow(np.float64) ** 2))
for _dtn in FLOATS:
    _dn = np.dtype(_dtn).name
    row(
        f"huge-{_dn}-1d-zero-stride-kernels.sum_abs_squares",
        lambda w, d=_dtn: K.sum_abs_squares(w(np.broadcast_to(d(1.5), (_N,)))),
        py_pair(1.5 * _N, 2.25 * _N),
        slow,
    )
    row(
        f"huge-{_dn}-rows-zero-stride-reversed-kernels.sum_abs",
        lambda w, d=_dtn: K.sum_abs(w(np.broadcast_to(_brow(d), (_ROWS, 4096))[::-1, ::-1])),
        py_float(_ROWS * _RSA),
        slow,
    )
row(
    "huge-float32-1d-zero-stride-L1",
    lambda w: R.L1(L1_)(w(np.broadcast_to(np.float32(-1.5), (_N,)))),
    scalar_of(np.float32, np.float32(0.5) * np.float32(1.5 * _N)),
    slow,
)
row(
    "huge-float64-rows-zero-stride-L1L2",
    lambda w: R.L1L2(L1_, L2_)(w(np.broadcast_to(_brow(np.float64), (_ROWS, 4096)))),
    scalar_of(np.float64, 0.5 * _ROWS * _RSA + 0.25 * _ROWS * _RSS),
    slow,
)
row(
    "huge-float16-2d-zero-strides-L2",
    lambda w: R.L2(L2_)(w(np.broadcast_to(np.float16(0.5), (2**16, 2**15 + 1)))),
    scalar_of(np.float16, math.inf),
    slow,
)  # the sum overflows float16

# --- out= -------------------------------------------------------------------


def _writable_zero_stride(shape, dt=np.float32):
    base = np.zeros(shape[-1], dtype=dt)
    return np.lib.stride_tricks.as_strided(base, shape=shape, strides=(0, base.itemsize))


_G = grad(V, L1_, L2_)
OUT_ERR: dict[str, tuple[Callable[[], Any], Any]] = {
    "wrong-shape": (lambda: np.zeros((3, 4), np.float32), Raises(ValueError, "shape")),
    "wrong-shape-transposed": (lambda: np.zeros((5, 3), np.float32), Raises(ValueError, "shape")),
    "wrong-ndim-same-size": (lambda: np.zeros(15, np.float32), Raises(ValueError, "shape")),
    "broadcastable-shape": (lambda: np.zeros((1, 5), np.float32), Raises(ValueError, "shape")),
    "wrong-dtype-float64": (lambda: np.zeros((3, 5)), Raises((TypeError, ValueError), "dtype")),
    "wrong-dtype-float16": (
        lambda: np.zeros((3, 5), np.float16),
        Raises((TypeError, ValueError), "dtype"),
    ),
    "wrong-dtype-int32": (
        lambda: np.zeros((3, 5), np.int32),
        Raises((TypeError, ValueError), "dtype"),
    ),
    "byte-swapped": (
        lambda: np.zeros((3, 5), np.dtype(np.float32).newbyteorder(SWAP)),
        Raises((TypeError, ValueError), "dtype", "byte"),
    ),
    "list": (lambda: [[0.0] * 5] * 3, Raises(TypeError, "out")),
    "read-only": (
        lambda: _readonly(np.zeros((3, 5)), np.float32),
        Raises(ValueError, "read-only", "writeable", "writable", "read only"),
    ),
    "zero-stride": (lambda: _writable_zero_stride((3, 5)), Raises(ValueError)),
}
OUT_CALLS: dict[str, Callable[[Any, Any], Any]] = {
    "L1L2.gradient": lambda x, o: R.L1L2(L1_, L2_).gradient(x, out=o),
    "L1L2.value_and_gradient": lambda x, o: R.L1L2(L1_, L2_).value_and_gradient(x, out=o),
    "L1L2.value_and_gradient(accumulate)": lambda x, o: R.L1L2(L1_, L2_).value_and_gradient(
        x, out=o, accumulate=True
    ),
    "L1.prox": lambda x, o: R.L1(L1_).prox(x, 1.0, out=o),
    "L1L2(0,0).gradient": lambda x, o: R.L1L2(0.0, 0.0).gradient(x, out=o),
    "L1L2(0,0).prox": lambda x, o: R.L1L2(0.0, 0.0).prox(x, 1.0, out=o),
}
for _cn, _call in OUT_CALLS.items():
    for _on, (_mo, _exp) in OUT_ERR.items():
        row(f"out-{_on}-{_cn}", lambda w, c=_call, mo=_mo: c(w(_x32()), mo()), _exp)


def _out_layouts() -> dict[str, Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """out= arrays of the right shape and dtype in odd layouts: (out, guard buffer,
    mask of the guard's elements outside out, which must keep their bytes)."""

    def fortran():
        o = np.asfortranarray(np.full((3, 5), 7.0, np.float32))
        return o, o, np.zeros(o.shape, bool)

    def negsteps():
        g = np.full((6, 15), 7.0, np.float32)
        m = np.ones(g.shape, bool)
        m[::-2, ::-3] = False
        return g[::-2, ::-3], g, m

    def unaligned():
        buf = np.full(15 * 4 + 7, 0xA5, np.uint8)
        o = buf[3:-4].view(np.float32).reshape(3, 5)
        o[...] = 7.0
        m = np.zeros(buf.shape, bool)
        m[:3] = m[-4:] = True
        return o, buf, m

    def transposed():
        g = np.full((5, 3), 7.0, np.float32)
        return g.T, g, np.zeros(g.shape, bool)

    return {
        "F": fortran,
        "negative-steps": negsteps,
        "unaligned": unaligned,
        "transposed": transposed,
    }


for _on, _mo in _out_layouts().items():
    for _cn, _call, _want in (
        ("L1L2.gradient", OUT_CALLS["L1L2.gradient"], _G),
        (
            "L1L2.value_and_gradient(accumulate)",
            OUT_CALLS["L1L2.value_and_gradient(accumulate)"],
            7.0 + _G,
        ),
        ("L1.prox", OUT_CALLS["L1.prox"], prox(V, 0.5, 1.0)),
    ):

        def call_layout(w, c=_call, mo=_mo):
            x = w(_x32())
            o, guard, mask = mo()
            before = guard.copy()
            r = c(x, o)
            got = r[1] if isinstance(r, tuple) else r
            assert got is o
            assert np.array_equal(guard[mask], before[mask]), "wrote outside out"
            return got.astype(np.float64)

        row(
            f"out-layout-{_on}-{_cn}",
            call_layout,
            lambda r, want=_want: (
                None if np.array_equal(r, want) else pytest.fail(f"{r} != {want}")
            ),
        )

# --- out aliasing the input -------------------------------------------------


def _inplace(call: Callable[[Any, Any], Any], make: Callable[[], np.ndarray]):
    def run(w):
        x = make()
        r = call(x, x)
        got = r[1] if isinstance(r, tuple) else r
        assert got is x
        return r

    return run


for _lay in ("C", "F", "negative-strides", "negative-steps", "unaligned"):
    _mk32 = LAYOUTS[_lay]
    row(
        f"inplace-{_lay}-L1L2.gradient(out=x)",
        _inplace(OUT_CALLS["L1L2.gradient"], lambda mk=_mk32: mk(np.float32)),
        array_of(np.float32, _G),
    )
    row(
        f"inplace-{_lay}-L1.prox(out=x)",
        _inplace(OUT_CALLS["L1.prox"], lambda mk=_mk32: mk(np.float32)),
        array_of(np.float32, prox(V, 0.5, 1.0)),
    )
    row(
        f"inplace-{_lay}-L1L2.prox(out=x)",
        _inplace(
            lambda x, o: R.L1L2(L1_, L2_).prox(x, 2.0, out=o), lambda mk=_mk32: mk(np.float64)
        ),
        array_of(np.float64, prox(V, 1.0, 2.0)),
    )
    row(
        f"inplace-{_lay}-L1L2.value_and_gradient(out=x)",
        _inplace(OUT_CALLS["L1L2.value_and_gradient"], lambda mk=_mk32: mk(np.float32)),
        pair_of(np.float32, val_l1l2(np.float32, V, L1_, L2_), _G),
    )
    row(
        f"inplace-{_lay}-L1L2.value_and_gradient(out=x, accumulate)",
        _inplace(OUT_CALLS["L1L2.value_and_gradient(accumulate)"], lambda mk=_mk32: mk(np.float32)),
        pair_of(np.float32, val_l1l2(np.float32, V, L1_, L2_), V + _G),
    )


# partial overlaps: out shares memory with x but is not x itself
def _overlap(kind: str, n: int = 5000):
    """(x, out) views of one buffer, and x's values (a copy)."""
    rng = np.random.default_rng(7)
    buf = (rng.integers(-8, 9, size=n + 16) * 0.5).astype(np.float32)
    if kind == "shift+1":
        x, o = buf[:n], buf[1 : n + 1]
    elif kind == "shift-3":
        x, o = buf[3 : n + 3], buf[:n]
    elif kind == "reversed":
        x, o = buf[:n], buf[:n][::-1]
    elif kind == "interleaved":
        x, o = buf[0 : 2 * (n // 2) : 2], buf[1 : 2 * (n // 2) + 1 : 2]
    elif kind == "stride-2-over-1":
        x, o = buf[: 2 * (n // 2) : 2], buf[: n // 2]
    elif kind == "transposed":
        sq = buf[:4900].reshape(70, 70)
        x, o = sq, sq.T
    elif kind == "same-memory-other-shape":
        x, o = buf[:4900].reshape(70, 70), buf[:4900].reshape(70, 70)[::-1]
    else:  # pragma: no cover
        raise AssertionError(kind)
    return x, o


OVERLAPS = (
    "shift+1",
    "shift-3",
    "reversed",
    "interleaved",
    "stride-2-over-1",
    "transposed",
    "same-memory-other-shape",
)
for _kind in OVERLAPS:
    for _cn, _fx in (
        ("L1L2.gradient", lambda xv, ov: grad(xv, L1_, L2_)),
        ("L1.prox", lambda xv, ov: prox(xv, 0.5, 1.0)),
        ("L1L2.value_and_gradient(accumulate)", lambda xv, ov: ov + grad(xv, L1_, L2_)),
    ):

        def call_overlap(w, kind=_kind, cn=_cn, fx=_fx):
            x, o = _overlap(kind)
            xv, ov = x.astype(np.float64), o.astype(np.float64)
            want = fx(xv, ov)
            r = OUT_CALLS[cn](x, o)
            got = r[1] if isinstance(r, tuple) else r
            assert got is o
            if isinstance(r, tuple):
                scalar_of(np.float32, val_l1l2(np.float32, xv, L1_, L2_))(r[0])
            return got.astype(np.float64), want

        row(
            f"overlap-{_kind}-{_cn}",
            call_overlap,
            lambda r: (
                None
                if np.array_equal(r[0], r[1])
                else pytest.fail(f"{int(np.sum(r[0] != r[1]))} elements differ")
            ),
        )


# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "expect"), CASES)
def test_bad_input_table(call: Callable[[Watch], Any], expect: Any) -> None:
    w = Watch()
    if isinstance(expect, Raises):
        with pytest.raises(expect.exc) as info:
            call(w)
        if expect.fragments:
            msg = str(info.value)
            assert any(f in msg for f in expect.fragments), (
                f"message {msg!r} names none of {expect.fragments}"
            )
    else:
        expect(call(w))
    w.check()


def test_watch_catches_a_write() -> None:
    """The unchanged-input check itself can fail (so the table's checks are real)."""
    src = V[0].astype(np.float32)
    for x, target in (
        (V.astype(np.float32),) * 2,
        (_neg_steps(V, np.float32),) * 2,
        (np.broadcast_to(src, (4, 5)), src),
    ):
        w = Watch()
        w(x)
        target[..., -1] = 123.0
        with pytest.raises(AssertionError):
            w.check()
    w = Watch()
    lst = w([[1.0, 2.0]])
    lst[0][1] = 3.0
    with pytest.raises(AssertionError):
        w.check()


def test_table_size() -> None:
    """The table is generated: guard against a refactor that drops most of it."""
    assert len(CASES) > 900


_FOREIGN_SELF = r"""
import types
import numpy as np
from fastreg import _core

x = np.ones(3, np.float32)
calls = {
    _core.Penalty: {
        "__reduce__": (), "__getstate__": (), "__setstate__": ((1.0, 1.0, 1, True),),
        "_set": (1.0, 1.0, 1, True), "_params": (), "_value_in": (1, 1.0, 1.0),
        "gradient": (x,), "value_and_gradient": (x,), "_prox": (x, 0.1, 1.0),
        "prox": (x, 0.1),
    },
    _core.Group: {"step": (0, [], 0.1, 0.0, [], None)},
}
for cls, methods in calls.items():
    # every method object of the class (not the slot wrappers, which check self)
    defined = {k for k, v in vars(cls).items()
               if type(v).__name__ == "cython_function_or_method"}
    assert defined == set(methods), (cls, defined ^ set(methods))
    for name, args in methods.items():
        for foreign in (np.ones(3), object(), None):
            try:
                getattr(cls, name)(foreign, *args)
            except TypeError as e:
                assert "doesn't apply to a" in str(e), (name, e)
            else:
                raise AssertionError(f"{cls.__name__}.{name} took a foreign self")
print("ok")
"""


def test_methods_called_through_the_class_refuse_a_foreign_self():
    # Cython's method objects do not check self; a foreign one was read as
    # the class's C fields (a crash, or a wrong value) before _core._own.
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", _FOREIGN_SELF], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "ok", (r.returncode, r.stderr[-2000:])
