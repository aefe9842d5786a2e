"""The one input and dtype policy (fastreg/_convert.py's table, README "Arrays from other
libraries"), row by row, for every entry point: what is cast, to what, and what is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from fastreg import backend
from fastreg import kernels as K
from fastreg import regularizers as R

try:
    import ml_dtypes
except ImportError:  # pragma: no cover
    ml_dtypes = None

REG = R.L1L2(0.5, 0.25)

# entry point -> the dtype of its result (None for the kernels, whose sums are Python floats)
ENTRY: dict[str, Callable[[Any], Any]] = {
    "call": lambda x: REG(x),
    "gradient": lambda x: REG.gradient(x),
    "value_and_gradient": lambda x: REG.value_and_gradient(x)[1],
    "prox": lambda x: REG.prox(x, 0.5),
    "orthogonal": lambda x: R.OrthogonalRegularizer(0.5)(np.atleast_2d(x) if _is_np(x) else x),
    "kernels.sum_abs": lambda x: K.sum_abs(x),
    "kernels.sum_abs_squares": lambda x: K.sum_abs_squares(x)[0],
}


def _is_np(x: Any) -> bool:
    return isinstance(x, np.ndarray)


def _swapped(dt: str) -> np.ndarray:
    return np.array([[1.0, -2.0]], np.dtype(dt).newbyteorder("S"))


# (input, the dtype the regularizers compute in, or the error's text)
ROWS: dict[str, tuple[Callable[[], Any], Any]] = {
    "float16": (lambda: np.array([[1.0, -2.0]], np.float16), np.float16),
    "float32": (lambda: np.array([[1.0, -2.0]], np.float32), np.float32),
    "float64": (lambda: np.array([[1.0, -2.0]], np.float64), np.float64),
    "float32-strided": (lambda: np.ones((2, 6), np.float32)[:, ::3], np.float32),
    "float32-byte-swapped": (lambda: _swapped("float32"), np.float32),
    "float64-byte-swapped": (lambda: _swapped("float64"), np.float64),
    "list-of-floats": (lambda: [[1.0, -2.0]], "floatx"),
    "list-of-ints": (lambda: [[1, -2]], "floatx"),
    "python-float": (lambda: 2.5, "floatx"),
    "numpy-float64-scalar": (lambda: np.float64(2.5), np.float64),
    "int64": (lambda: np.array([[1, -2]], np.int64), TypeError("int64")),
    "int32": (lambda: np.array([[1, -2]], np.int32), TypeError("int32")),
    "uint8": (lambda: np.array([[1, 2]], np.uint8), TypeError("uint8")),
    "bool": (lambda: np.array([[True, False]]), TypeError("bool")),
    "complex128": (lambda: np.array([[1 + 1j, 2]]), TypeError("complex128")),
    "longdouble": (lambda: np.array([[1.0, 2.0]], np.longdouble), TypeError("float128|float96")),
    "object": (lambda: np.array([[1.0, 2.0]], object), TypeError("object")),
    "list-of-bools": (lambda: [[True, False]], TypeError("bool")),
    "None": (lambda: None, TypeError("None")),
    "masked": (lambda: np.ma.masked_array([[1.0, 2.0]], mask=[[0, 1]]), TypeError("masked")),
}
if ml_dtypes is not None:
    ROWS["bfloat16"] = (lambda: np.array([[1.0, -2.0]], ml_dtypes.bfloat16), ml_dtypes.bfloat16)


def _scalar(x) -> bool:
    return x is not None and not isinstance(x, np.ma.MaskedArray) and np.ndim(x) == 0


def _cases():
    for rname, (make, want) in ROWS.items():
        for ename in ENTRY:
            if ename == "orthogonal" and _scalar(make()):
                continue  # OrthogonalRegularizer takes rank-2 input only
            yield pytest.param(make, want, ename, id=f"{rname}-{ename}")


@pytest.mark.parametrize("make, want, entry", list(_cases()))
def test_policy_row(make, want, entry):
    x = make()
    fn = ENTRY[entry]
    if isinstance(want, TypeError):
        with pytest.raises(TypeError, match=str(want)):
            fn(x)
        return
    got = fn(x)
    if entry.startswith("kernels"):
        assert type(got) is float  # the sums are float64 whatever the input dtype
        return
    want_dtype = np.dtype(backend.floatx()) if want == "floatx" else np.dtype(want)
    assert np.asarray(got).dtype == want_dtype
    assert np.asarray(got).dtype.isnative


@pytest.mark.parametrize("out_dtype", [np.float16, np.float32, np.float64])
def test_a_list_takes_the_dtype_of_out(out_dtype):
    out = np.zeros(2, out_dtype)
    assert REG.prox([1.0, 2.0], step=1, out=out) is out
    np.testing.assert_array_equal(out, REG.prox(np.array([1.0, 2.0], out_dtype), 1.0))
    assert REG.gradient([1.0, -2.0], out=out) is out
    value, g = REG.value_and_gradient([1.0, -2.0], out=out, accumulate=True)
    assert g is out and value.dtype == out_dtype
    # no out: floatx(), as Keras converts lists
    assert REG.prox([1.0, 2.0], 1.0).dtype == np.dtype(backend.floatx())


def test_an_array_does_not_take_the_dtype_of_out():
    # an array has a dtype of its own: out must match it (no silent cast)
    with pytest.raises(TypeError, match="float32"):
        REG.prox(np.ones(2, np.float32), 1.0, out=np.zeros(2))
