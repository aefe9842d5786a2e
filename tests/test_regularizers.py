"""fastreg.regularizers: construction, values, input policy, get/serialize.

Expected values come from the Keras rules in SEMANTICS.md (independent
NumPy/math.fsum models) or from the bit-exact reference twin
(``fastreg._reference``), never from fastreg's own output.
"""

from __future__ import annotations

import copy
import fractions
import inspect
import json
import math
import pickle
import re
import threading
import zlib

import numpy as np
import pytest

import fastreg
from fastreg import _reference as ref
from fastreg import backend, utils
from fastreg import regularizers as R

FLOATS = [np.float16, np.float32, np.float64]
# tests/data/golden/keras2.json meta.suggested_tolerance
GOLDEN_TOL = {
    np.float64: {"rtol": 1e-12, "atol": 0.0},
    np.float32: {"rtol": 2e-6, "atol": 1e-7},
    np.float16: {"rtol": 2e-3, "atol": 1e-4},
}
PEN_MSG = "Value {} is not a valid regularization penalty number, expected an int or float value."
INF_MSG = (
    "Value {} is not a valid regularization penalty number, "
    "an infinite number or NaN are not valid values."
)


@pytest.fixture
def floatx64():
    old = backend.floatx()
    backend.set_floatx("float64")
    yield
    backend.set_floatx(old)


@pytest.fixture
def floatx16():
    old = backend.floatx()
    backend.set_floatx("float16")
    yield
    backend.set_floatx(old)


def keras_model(x: np.ndarray, l1: float, l2: float, kind: str):
    """SEMANTICS's arithmetic: exact sum rounded once to the dtype, times dtype(factor)."""
    dt = x.dtype.type
    xs = x.astype(np.float64).ravel()
    with np.errstate(all="ignore"):
        sa = dt(math.fsum(np.abs(xs))) if xs.size else dt(0)
        sq = np.square(x.astype(dt)).astype(np.float64).ravel()  # x*x rounded in the dtype
        ss = dt(math.fsum(sq)) if xs.size else dt(0)
        f1 = dt(np.float32(l1))
        f2 = dt(np.float32(l2))
        if kind == "L1":
            return dt(f1 * sa)
        if kind == "L2":
            return dt(f2 * ss)
        v = dt(0)
        if l1:
            v = dt(v + dt(f1 * sa))
        if l2:
            v = dt(v + dt(f2 * ss))
        return v


def reference_value(x: np.ndarray, l1: float, l2: float, kind: str):
    """The value the kernels must give bit for bit (reference twin sums)."""
    dt = x.dtype
    sa = ref.sum_abs(x)
    ss = ref.sum_squares(x)
    with np.errstate(all="ignore"):
        if kind == "L1":
            return ref.scale_in_dtype(dt, sa, float(np.float32(l1)))
        if kind == "L2":
            return ref.scale_in_dtype(dt, ss, float(np.float32(l2)))
        v = dt.type(0)
        if l1:
            v = dt.type(v + ref.scale_in_dtype(dt, sa, float(np.float32(l1))))
        if l2:
            v = dt.type(v + ref.scale_in_dtype(dt, ss, float(np.float32(l2))))
        return v


def make(kind: str, l1: float, l2: float):
    return {"L1": lambda: R.L1(l1), "L2": lambda: R.L2(l2), "L1L2": lambda: R.L1L2(l1, l2)}[kind]()


def same_bits(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.tobytes() == b.tobytes()


# ---- public surface -------------------------------------------------------------------


def test_public_names_and_aliases():
    assert R.l1 is R.L1 and R.l2 is R.L2
    assert R.orthogonal_regularizer is R.OrthogonalRegularizer
    assert inspect.isfunction(R.l1_l2)
    for name in R.__all__:
        assert getattr(fastreg, name) is getattr(R, name)
    assert fastreg.utils.register_keras_serializable is utils.register_keras_serializable
    for cls in (R.L1, R.L2, R.L1L2, R.OrthogonalRegularizer):
        assert issubclass(cls, R.Regularizer)
    for cls in (R.L1, R.L2, R.L1L2):
        assert issubclass(cls, fastreg._core.Penalty)


@pytest.mark.parametrize(
    "obj, sig",
    [
        (R.L1, "(l1=0.01, **kwargs)"),
        (R.L2, "(l2=0.01, **kwargs)"),
        (R.L1L2, "(l1=0.0, l2=0.0)"),
        (R.l1_l2, "(l1=0.01, l2=0.01)"),
        (R.OrthogonalRegularizer, "(factor=0.01, mode='rows')"),
        (R.get, "(identifier)"),
        (R.serialize, "(regularizer, use_legacy_format=False)"),
        (R.deserialize, "(config, custom_objects=None)"),
    ],
)
def test_signatures(obj, sig):
    # annotations are for type checkers; inspect shows Keras's plain form
    assert str(inspect.signature(obj)) == sig


def test_utils_signatures():
    def plain(fn):
        sig = inspect.signature(fn)
        ps = [p.replace(annotation=p.empty) for p in sig.parameters.values()]
        return str(sig.replace(parameters=ps, return_annotation=sig.empty))

    assert plain(utils.register_keras_serializable) == "(package='Custom', name=None)"
    assert plain(utils.custom_object_scope) == "(*dicts)"


# ---- construction ------------------------------------------------------------------


def test_defaults_and_none():
    assert R.L1().get_config() == {"l1": 0.009999999776482582}
    assert R.L2().get_config() == {"l2": 0.009999999776482582}
    assert R.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert R.l1_l2().get_config() == {"l1": 0.009999999776482582, "l2": 0.009999999776482582}
    assert R.L1(None).get_config() == R.L1().get_config()
    assert R.L2(l2=None).get_config() == R.L2().get_config()
    assert R.L1L2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}
    assert R.l1_l2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}
    assert R.OrthogonalRegularizer().get_config() == {
        "factor": 0.009999999776482582,
        "mode": "rows",
    }


def test_legacy_l_keyword():
    assert R.L1(l=0.3).get_config() == {"l1": 0.30000001192092896}
    assert R.L2(0.9, l=0.5).get_config() == {"l2": 0.5}  # l overrides
    assert R.L1(l=None).get_config() == {"l1": 0.009999999776482582}
    with pytest.raises(TypeError) as info:
        R.L2(0.1, foo=1, bar=2)
    assert str(info.value) == "Argument(s) not recognized: {'foo': 1, 'bar': 2}"
    with pytest.raises(TypeError):
        R.L1L2(l=1)


@pytest.mark.parametrize("bad", ["0.1", np.float32(0.1), np.int64(2), [0.1], np.asarray(0.1)])
@pytest.mark.parametrize("ctor", [R.L1, R.L2, R.L1L2, R.l1_l2, R.OrthogonalRegularizer])
def test_factor_type_validation(ctor, bad):
    with pytest.raises(ValueError) as info:
        ctor(bad)
    assert str(info.value) == PEN_MSG.format(bad)


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, 10**400])
@pytest.mark.parametrize("ctor", [R.L1, R.L2, R.L1L2, R.OrthogonalRegularizer])
def test_factor_finite_validation(ctor, bad):
    with pytest.raises(ValueError) as info:
        ctor(bad)
    assert str(info.value) == INF_MSG.format(bad)


def test_validation_order():
    with pytest.raises(ValueError, match="Value a is not"):
        R.L1L2("a", "b")  # l1 first
    with pytest.raises(ValueError, match="Value b is not"):
        R.L1L2(0.1, "b")
    with pytest.raises(ValueError, match="Value None is not"):
        R.OrthogonalRegularizer(None, mode="bad")  # factor before mode, no None default
    with pytest.raises(ValueError) as info:
        R.OrthogonalRegularizer(1.0, mode="Rows")
    assert str(info.value) == (
        'Invalid value for argument `mode`. Expected one of {"rows", "columns"}. '
        "Received: mode=Rows"
    )


def test_accepted_factor_kinds():
    assert R.L1(True).get_config() == {"l1": 1.0}
    assert R.L2(np.float64(0.1)).get_config() == {"l2": 0.10000000149011612}
    assert R.L1(-1).get_config() == {"l1": -1.0}  # negative accepted (Keras 2)
    assert R.L2(3).get_config() == {"l2": 3.0}
    cfg = R.L1(-0.0).get_config()
    assert cfg == {"l1": 0.0} and math.copysign(1, cfg["l1"]) == -1


def test_factor_storage_floatx32():
    for reg, names in [
        (R.L1(0.1), ["l1"]),
        (R.L2(0.1), ["l2"]),
        (R.L1L2(0.1, 0.2), ["l1", "l2"]),
        (R.OrthogonalRegularizer(0.1), ["factor"]),
    ]:
        for n in names:
            a = getattr(reg, n)
            assert type(a) is np.ndarray and a.ndim == 0 and a.dtype == np.float32
        for v in reg.get_config().values():
            assert type(v) in (float, str)
    assert R.L1(0.1).l1 == np.float32(0.1)


def test_huge_factor_overflows_to_inf_without_warning():
    # pytest turns warnings into errors here: construction must not warn
    assert R.L1(1e40).get_config() == {"l1": math.inf}
    assert R.L1L2(0.0, 1e40).get_config() == {"l1": 0.0, "l2": math.inf}
    assert R.OrthogonalRegularizer(-1e40).get_config()["factor"] == -math.inf


def test_floatx64_keeps_factors_exact(floatx64):
    assert backend.floatx() == "float64"
    r = R.L1(0.01)
    assert r.get_config() == {"l1": 0.01}
    assert r.l1.dtype == np.float64
    assert R.L1L2(0.1, 0.2).get_config() == {"l1": 0.1, "l2": 0.2}
    # float64 input uses the exact factor now (0.685, not 0.6850000102072954)
    x = np.array([1.5, -2.25, 0.1, 3.0])
    assert R.L1(0.1)(x) == ref.scale_in_dtype(np.float64, ref.sum_abs(x), 0.1)
    assert float(R.L1(0.1)(x)) == pytest.approx(0.685, rel=1e-15)
    # lists are converted with floatx()
    out = R.L2(0.5)([1.0, 2.0])
    assert out.dtype == np.float64 and out == 2.5


def test_floatx16(floatx16):
    r = R.L1(0.1)
    assert r.l1.dtype == np.float16
    assert r.get_config() == {"l1": float(np.float16(0.1))}
    assert R.L1(1.0)([1.0, 2.0]).dtype == np.float16


def test_set_floatx_validation():
    with pytest.raises(ValueError):
        backend.set_floatx("int32")
    assert backend.floatx() == "float32"


def test_repr():
    assert repr(R.L1(0.01)) == "L1(l1=0.01)"
    assert repr(R.L2()) == "L2(l2=0.01)"
    assert repr(R.L1L2(0.3, 2)) == "L1L2(l1=0.3, l2=2.0)"
    assert repr(R.OrthogonalRegularizer(0.5, "columns")) == (
        "OrthogonalRegularizer(factor=0.5, mode='columns')"
    )
    assert repr(R.L2(1e40)) == "L2(l2=inf)"


def test_identity_equality_and_hash():
    a, b = R.L1(0.5), R.L1(0.5)
    assert a == a and a != b
    assert len({a, b}) == 2


# ---- attribute assignment -------------------------------------------------------------


def test_setters_resync_c_state():
    x = np.array([1.0, -2.0, 3.0], np.float32)
    r = R.L1(0.5)
    assert r(x) == np.float32(3.0)
    r.l1 = 0.25
    assert r(x) == np.float32(1.5)
    assert r.l1.dtype == np.float32 and r.get_config() == {"l1": 0.25}
    r.l1 *= 2  # in-place on the stored 0-d array, then re-assigned
    assert r(x) == np.float32(3.0)
    r.l1 = np.float32(0.1)
    assert r.get_config() == {"l1": 0.10000000149011612}
    assert r(x) == np.float32(np.float32(0.1) * np.float32(6.0))

    r2 = R.L2(1.0)
    r2.l2 = 0.5
    assert r2(x) == np.float32(7.0)
    np.testing.assert_array_equal(r2.gradient(x), np.float32(1.0) * x)


def test_setters_l1l2_toggle_terms():
    x = np.array([np.nan], np.float32)
    r = R.L1L2(0.0, 0.0)
    assert r(x) == 0  # no term is on
    r.l1 = 0.5
    assert np.isnan(r(x))
    r.l1 = 0
    assert r(x) == 0
    r.l2 = 1.0
    assert np.isnan(r(x))
    r.l2 = -0.0  # falsy, as Keras's truthiness test
    assert r(x) == 0
    y = np.array([1.0, -2.0], np.float32)
    r.l1, r.l2 = 1.0, 1.0
    assert r(y) == np.float32(8.0)
    np.testing.assert_array_equal(r.gradient(y), np.array([3.0, -5.0], np.float32))


@pytest.mark.parametrize(
    "bad",
    [
        "0.1",
        None,
        [0.1],
        np.zeros(2),
        math.nan,
        np.float32("inf"),
        pytest.param(10**400, id="huge-int"),
        pytest.param(-(10**5000), id="int-past-str-limit"),
        pytest.param(fractions.Fraction(10**400, 3), id="huge-Fraction"),  # float() overflows
    ],
)
def test_setter_rejects(bad):
    r = R.L1L2(0.1, 0.2)
    with pytest.raises(ValueError):
        r.l1 = bad
    assert r.get_config() == {"l1": 0.10000000149011612, "l2": 0.20000000298023224}


def test_pickle_and_copy_keep_the_state():
    x = np.array([1.0, -2.0, 3.0], np.float32)
    for r in (R.L1(0.3), R.L2(0.7), R.L1L2(0.1, 0.2), R.OrthogonalRegularizer(0.5, "columns")):
        pickled = [pickle.loads(pickle.dumps(r, p)) for p in range(pickle.HIGHEST_PROTOCOL + 1)]
        for c in (*pickled, copy.deepcopy(r), copy.copy(r)):
            assert type(c) is type(r) and c.get_config() == r.get_config()
            xx = x.reshape(1, 3) if isinstance(r, R.OrthogonalRegularizer) else x
            assert same_bits(c(xx), r(xx))


class _SlotsL1(R.L1):
    # module level so pickle finds the classes by name
    __slots__ = ("scale", "__private", "unset")


class _SlotsL1L2(R.L1L2):
    __slots__ = "tag"  # a single name given as a string


class _SlotsOnSlotsL2(R.L2):
    __slots__ = ("a",)


class _MoreSlotsL2(_SlotsOnSlotsL2):
    __slots__ = ("b",)


def _slotted():
    one = _SlotsL1(0.3)
    one.scale = [1, 2]
    one._SlotsL1__private = "p"  # the mangled name of __private
    one.note = "in the dict"  # L1 instances have a __dict__ too
    two = _SlotsL1L2(0.1, 0.2)
    two.tag = "t"
    three = _MoreSlotsL2(0.7)
    three.a, three.b = 1.5, None
    return [
        (one, {"scale": [1, 2], "_SlotsL1__private": "p", "note": "in the dict"}),
        (two, {"tag": "t"}),
        (three, {"a": 1.5, "b": None}),
    ]


@pytest.mark.parametrize("how", [*(f"pickle-{p}" for p in range(6)), "copy", "deepcopy"])
def test_pickle_and_copy_keep_slot_values(how):
    x = np.array([1.0, -2.0, 3.0], np.float32)
    for r, attrs in _slotted():
        if how == "copy":
            c = copy.copy(r)
        elif how == "deepcopy":
            c = copy.deepcopy(r)
        else:
            c = pickle.loads(pickle.dumps(r, int(how.split("-")[1])))
        assert type(c) is type(r) and c.get_config() == r.get_config()
        assert same_bits(c(x), r(x))
        for name, value in attrs.items():
            assert getattr(c, name) == value, name
        if isinstance(r, _SlotsL1):
            assert not hasattr(c, "unset")  # an unset slot stays unset
            assert (c.scale is r.scale) == (how == "copy")  # only copy.copy shares it


class _OldPickle:
    """Pickles as the given reduce tuple: what Penalty.__reduce__ returned before
    slot values were kept (a 5-item state: a, b, terms, l1l2, instance dict)."""

    def __init__(self, reduce):
        self.reduce = reduce

    def __reduce__(self):
        return self.reduce


@pytest.mark.parametrize("protocol", range(6))
def test_pickles_from_before_slot_values_still_load(protocol):
    from fastreg import _core

    factor = np.array(0.25, np.float32)
    old = (_core._new_penalty, (R.L1,), (0.25, 0.0, 1, False, {"_l1": factor, "note": "kept"}))
    r = pickle.loads(pickle.dumps(_OldPickle(old), protocol))
    assert type(r) is R.L1 and r.get_config() == {"l1": 0.25} and r.note == "kept"
    assert r(np.array([2.0, -2.0], np.float32)) == np.float32(1.0)
    d = {"_l1": np.array(0.5, np.float32), "_l2": np.array(0.125, np.float32)}
    old = (_core._new_penalty, (R.L1L2,), (0.5, 0.125, 3, True, d))
    r = pickle.loads(pickle.dumps(_OldPickle(old), protocol))
    assert type(r) is R.L1L2 and r.get_config() == {"l1": 0.5, "l2": 0.125}
    assert r(np.array([2.0], np.float32)) == np.float32(0.5 * 2 + 0.125 * 4)


# ---- the base class -------------------------------------------------------------------


def test_base_regularizer():
    r = R.Regularizer()
    out = r(np.ones(3))
    assert type(out) is float and out == 0.0
    with pytest.raises(NotImplementedError) as info:
        r.get_config()
    assert re.fullmatch(
        r"<fastreg\.regularizers\.Regularizer object at 0x[0-9a-f]+> "
        r"does not implement get_config\(\)",
        str(info.value),
    )
    assert type(R.Regularizer.from_config({})) is R.Regularizer


def test_seed_subclass_example():
    class L2Regularizer(R.Regularizer):
        def __init__(self, l2=0.0):
            self.l2 = l2

        def __call__(self, x):
            return self.l2 * np.sum(np.square(x))

        def get_config(self):
            return {"l2": float(self.l2)}

    r = L2Regularizer(l2=0.5)
    assert float(r(np.ones((5, 5), np.float32))) == 12.5
    assert L2Regularizer.from_config(r.get_config()).l2 == 0.5


def test_user_subclass_of_builtin():
    class Scaled(R.L1):
        def __init__(self, l1=0.01, scale=2.0):
            super().__init__(l1)
            self.scale = scale

        def __call__(self, x):
            return super().__call__(x) * np.float32(self.scale)

        def get_config(self):
            return {**super().get_config(), "scale": self.scale}

    s = Scaled(0.5, 3.0)
    assert s(np.array([1.0, -1.0], np.float32)) == np.float32(3.0)
    out = R.serialize(s)
    assert out == {
        "module": None,
        "class_name": "Scaled",
        "config": {"l1": 0.5, "scale": 3.0},
        "registered_name": "Scaled",
    }
    assert type(R.deserialize(out, custom_objects={"Scaled": Scaled})) is Scaled


# ---- the call path: vectorcall and reused result scalars ---------------------------


def test_call_forms_behave_as_a_plain_python_call():
    """L1, L2 and L1L2 instances are called through vectorcall (fastreg/_core.pyx);
    every form of call still does what Penalty.__call__(self, x) does."""
    x = np.array([1.0, -2.0], np.float32)
    for kind in ("L1", "L2", "L1L2"):
        reg = make(kind, 0.5, 0.5)
        expected = reference_value(x, 0.5, 0.5, kind)
        assert reg(x) == expected
        assert reg(x=x) == expected  # a keyword: the tp_call fallback
        assert type(reg).__call__(reg, x) == expected
        with pytest.raises(TypeError, match="positional argument"):
            reg()
        with pytest.raises(TypeError, match="positional argument"):
            reg(x, x)
        with pytest.raises(TypeError, match="keyword argument 'y'"):
            reg(x, y=1)


def test_vectorcall_is_on_only_where_penalty_call_is_the_call():
    from fastreg import _core

    class Plain(R.L2):
        pass

    class Own(R.L2):
        def __call__(self, x):
            return "own"

    x = np.ones(3, np.float32)
    assert _core._enable_vectorcall(R.L1L2) and _core._enable_vectorcall(Plain)
    assert not _core._enable_vectorcall(Own)
    assert not _core._enable_vectorcall(R.OrthogonalRegularizer)
    assert Plain(0.5)(x) == 1.5 and Own(0.5)(x) == "own"


def test_call_replaced_on_the_class_is_honoured(monkeypatch):
    """On CPython < 3.12 the vectorcall flag stays on after __call__ is replaced;
    the entry point then defers to the class's new __call__."""
    x = np.ones(3, np.float32)
    monkeypatch.setattr(R.L1, "__call__", lambda self, x: "patched")
    assert R.L1(0.5)(x) == "patched"
    monkeypatch.undo()
    assert R.L1(0.5)(x) == 1.5


@pytest.mark.parametrize("dtype", FLOATS)
def test_results_kept_by_the_caller_never_change(dtype):
    """Result scalars nobody else holds are reused (fastreg/_core.pyx); one the
    caller keeps must keep its value, whatever is computed after it."""
    reg = R.L1L2(0.25, 0.5)
    xs = [np.full(7, v, dtype) for v in (1.0, 2.0, -3.0, 0.5)]
    kept = [reg(x) for x in xs]
    again = [reg(x) for x in reversed(xs)][::-1]
    expected = [reference_value(x, 0.25, 0.5, "L1L2") for x in xs]
    for k, a, e in zip(kept, again, expected, strict=True):
        assert k.dtype == np.dtype(dtype) and a.dtype == np.dtype(dtype)
        assert float(k) == float(e) and float(a) == float(e)
    assert len({id(k) for k in kept}) == len(kept)
    held = reg(xs[0])
    view = [held]
    reg(xs[1])
    assert view[0] is held and float(held) == float(expected[0])
    v, _ = reg.value_and_gradient(xs[2])
    reg(xs[3])
    assert float(v) == float(expected[2])


def test_kernel_functions_take_x_positionally_only():
    from fastreg import kernels as K

    x = np.ones(3)
    assert K.sum_abs(x) == 3.0
    for f in (K.sum_abs, K.sum_squares, K.sum_abs_squares):
        assert str(inspect.signature(f)) == "(x, /)"
        with pytest.raises(TypeError, match="no keyword arguments"):
            f(x=x)


# ---- values ------------------------------------------------------------------------


def test_seed_direct_call():
    out = R.L2(2.0)(np.ones((5, 5)))
    assert out == 50.0 and out.dtype == np.float64 and np.ndim(out) == 0
    out = R.L2(2.0)(np.ones((5, 5), np.float32))
    assert out == 50.0 and out.dtype == np.float32


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kind", ["L1", "L2", "L1L2"])
@pytest.mark.parametrize("shape", [(), (0,), (1,), (7,), (16,), (3, 5), (2, 3, 4, 5), (5000,)])
def test_values_match_keras_model_and_reference(dtype, kind, shape):
    rng = np.random.default_rng(zlib.crc32(repr((dtype.__name__, kind, shape)).encode()))
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    l1, l2 = 0.01, 0.3
    got = make(kind, l1, l2)(x)
    assert isinstance(got, np.generic) and got.dtype == dtype and np.ndim(got) == 0
    # bit for bit: the reference twin of the kernels
    assert same_bits(got, reference_value(x, l1, l2, kind))
    # within the golden file's tolerance: the exact (fsum) Keras model
    want = keras_model(x, l1, l2, kind)
    np.testing.assert_allclose(float(got), float(want), **GOLDEN_TOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
def test_layouts_give_the_same_bits(dtype):
    rng = np.random.default_rng(7)
    base = rng.standard_normal((6, 40, 9)).astype(dtype)
    r = R.L1L2(0.1, 0.2)
    views = [
        base,
        base.T,
        base[::-1, ::2, 1:],
        np.asfortranarray(base),
        base[:, :, 3],
        base.transpose(1, 0, 2)[::-3],
        np.broadcast_to(base[0, 0], (50, 9)),  # zero strides
    ]
    for v in views:
        assert same_bits(r(v), reference_value(v, 0.1, 0.2, "L1L2"))
        np.testing.assert_allclose(
            float(r(v)),
            float(keras_model(np.ascontiguousarray(v), 0.1, 0.2, "L1L2")),
            **GOLDEN_TOL[dtype],
        )


def test_l1l2_skips_zero_terms():
    nan = np.array([np.nan], np.float32)
    inf = np.array([np.inf], np.float32)
    assert R.L1L2(0.0, 0.0)(nan) == 0
    assert R.L1L2(-0.0, 0.0)(nan) == 0
    assert np.isnan(R.L1(0.0)(nan))
    assert np.isnan(R.L2(0.0)(inf))  # 0 * inf
    assert R.L1(0.1)(inf) == np.inf
    assert np.isnan(R.L1L2(0.1, 0.0)(nan))
    assert R.L1L2(0.0, 0.0)(np.ones(3, np.float16)).dtype == np.float16


def test_empty_and_zero_d():
    for dt in FLOATS:
        out = R.L1(0.5)(np.zeros((0, 3), dt))
        assert out == 0 and out.dtype == dt
    assert R.L2(0.5)(np.array(4.0, np.float32)) == np.float32(8.0)


def test_float16_accumulates_wide_and_overflows_like_tf24():
    ones = np.ones(10000, np.float16)
    assert R.L1(1.0)(ones) == np.float16(10000)
    assert R.L2(0.01)(np.array([200.0, 200.0], np.float16)) == np.inf  # 80000 > 65504
    assert R.L2(1.0)(np.array([300.0], np.float16)) == np.inf  # x*x itself overflows
    # the float16 factor: float16(float32(0.01))
    assert R.L1(0.01)(np.array([1.0], np.float16)) == np.float16(np.float32(0.01))
    assert R.L1(1e-8)(np.array([1.0], np.float16)) == 0


def test_float64_uses_the_float32_factor():
    x = np.array([[1.5, -2.25], [0.1, 3.0]])
    assert float(R.L1(0.1)(x)) == pytest.approx(0.6850000102072954, rel=1e-15, abs=0)


def test_subnormals_are_kept():
    x32 = np.array([1e-40, -1e-40], np.float32)
    assert R.L1(0.3)(x32) == np.float32(0.3) * np.float32(2 * float(x32[0]))
    assert R.L1(0.3)(x32) > 0
    x64 = np.array([1e-310, -1e-310])
    assert R.L1(1.0)(x64) == 2e-310


def test_bfloat16():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    bf = ml_dtypes.bfloat16
    x = np.array([[1.5, -2.0], [0.25, 3.0]], bf)
    out = R.L1L2(0.5, 0.25)(x)
    assert out.dtype == bf and np.ndim(out) == 0
    # Keras: float32 sums rounded once to bfloat16, factors cast to bfloat16
    sa, ss = bf(6.75), bf(1.5**2 + 4 + 0.0625 + 9)
    want = bf(bf(0) + bf(bf(0.5) * sa)) + bf(bf(0.25) * ss)
    assert float(out) == float(want)
    assert np.isnan(float(R.L1(0.1)(np.array([np.nan], bf))))


# ---- input kinds ----------------------------------------------------------------------


def test_python_lists_and_scalars_use_floatx():
    r = R.L1(0.5)
    for arg, want in [([1.0, -2.0], 1.5), ((1.0, -2.0), 1.5), ([[1, 2], [3, 4]], 5.0), (3, 1.5)]:
        out = r(arg)
        assert out.dtype == np.float32 and out == np.float32(want)
    out = R.L1L2(0.1, 0.0)(3.0)
    assert out.dtype == np.float32 and out == np.float32(np.float32(0.1) * np.float32(3.0))


def test_numpy_scalars_keep_their_dtype():
    assert R.L1(0.5)(np.float64(2.0)).dtype == np.float64
    assert R.L1(0.5)(np.float16(2.0)).dtype == np.float16


def test_byte_swapped_input():
    x = np.arange(-3, 9, dtype=np.float32).reshape(3, 4)
    xs = x.astype(">f4")
    r = R.L1L2(0.1, 0.2)
    assert same_bits(r(xs), r(x))
    g = r.gradient(xs)
    assert g.dtype == np.float32 and g.dtype.isnative
    np.testing.assert_array_equal(g, r.gradient(x))


class _ArrayLike:
    def __init__(self, a):
        self.a = a

    def __array__(self, dtype=None, copy=None):
        return self.a


class _DLPackOnly:
    def __init__(self, a):
        self.a = a

    def __dlpack__(self, **kwargs):
        return self.a.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.a.__dlpack_device__()


def test_array_protocols_are_read_in_place():
    from fastreg import _convert

    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    r = R.L1L2(0.2, 0.3)
    for obj in (_ArrayLike(x), _DLPackOnly(x), x.view(np.recarray)):
        assert same_bits(r(obj), r(x))
        assert np.shares_memory(_convert.as_float_array(obj), x), type(obj).__name__
        np.testing.assert_array_equal(r.gradient(obj), r.gradient(x))


def test_memmap(tmp_path):
    path = tmp_path / "w.dat"
    m = np.memmap(path, dtype=np.float32, mode="w+", shape=(4, 5))
    m[:] = np.arange(20).reshape(4, 5) - 10
    assert same_bits(R.L1(0.1)(m), R.L1(0.1)(np.asarray(m).copy()))
    g = np.memmap(tmp_path / "g.dat", dtype=np.float32, mode="w+", shape=(4, 5))
    assert R.L2(0.5).gradient(m, out=g) is g
    np.testing.assert_array_equal(g, np.asarray(m))


class _GradTensor:
    """Behaves like a torch tensor with requires_grad=True."""

    requires_grad = True

    def __dlpack__(self, **kwargs):
        raise RuntimeError("Can't export tensors that require gradient, use tensor.detach()")

    def __dlpack_device__(self):
        return (1, 0)

    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("Can't call numpy() on Tensor that requires grad.")


def test_tensor_that_requires_grad_is_refused_clearly():
    with pytest.raises(TypeError, match="detach"):
        R.L1(1.0)(_GradTensor())
    with pytest.raises(TypeError, match="detach"):
        R.L2(1.0).gradient(_GradTensor())


@pytest.mark.parametrize(
    "bad, dtype_name",
    [
        (np.array([[1, -2], [3, 4]], np.int32), "int32"),
        (np.array([1, 2], np.int64), "int64"),
        (np.array([1, 2], np.uint8), "uint8"),
        (np.array([True, False]), "bool"),
        (np.array([1 + 2j], np.complex64), "complex64"),
        (np.array([1.0], object), "object"),
        (np.array(["a"]), "<U1"),
        ([True, False], "bool"),
        ([1 + 1j], "complex128"),
        ("abc", "<U3"),
        (b"abc", "S3"),
    ],
)
@pytest.mark.parametrize("ctor", [lambda: R.L1(0.1), lambda: R.L2(0.1), lambda: R.L1L2(0, 0)])
def test_non_float_input_is_refused(ctor, bad, dtype_name):
    r = ctor()
    for fn in (r, r.gradient, r.value_and_gradient, lambda v: r.prox(v, 0.1)):
        with pytest.raises(TypeError) as info:
            fn(bad)
        assert dtype_name in str(info.value)


def test_other_bad_inputs():
    with pytest.raises(TypeError, match="None"):
        R.L1()(None)
    with pytest.raises(TypeError, match="masked"):
        R.L1()(np.ma.masked_array([1.0, 2.0], mask=[0, 1]))
    with pytest.raises(ValueError):
        R.L1()([[1.0, 2.0], [3.0]])  # ragged
    with pytest.raises(TypeError, match="int32"):
        R.OrthogonalRegularizer(1.0)(np.ones((2, 2), np.int32))


@pytest.mark.parametrize("dtype", FLOATS)
def test_inputs_are_never_modified(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 6)).astype(dtype)
    x[0, 0] = np.nan
    keep = x.copy()
    lst = x.tolist()
    keep_list = copy.deepcopy(lst)
    for r in (R.L1(0.1), R.L2(0.2), R.L1L2(0.1, 0.2), R.OrthogonalRegularizer(0.3, "columns")):
        r(x)
        r.gradient(x)
        r.value_and_gradient(x)
        r(lst)
        if hasattr(r, "prox"):
            r.prox(x, 0.5)
        assert same_bits(x, keep)
        assert json.dumps(lst) == json.dumps(keep_list)


def test_read_only_input_is_fine():
    x = np.arange(6, dtype=np.float32)
    x.flags.writeable = False
    assert R.L2(1.0)(x) == np.float32(55)
    assert R.L1(1.0).gradient(x)[1] == 1


def test_threads_share_one_regularizer():
    r = R.L1L2(0.1, 0.2)
    xs = [np.random.default_rng(i).standard_normal(20000).astype(np.float32) for i in range(8)]
    want = [reference_value(x, 0.1, 0.2, "L1L2") for x in xs]
    errors = []

    def work(i):
        for _ in range(20):
            if not same_bits(r(xs[i]), want[i]):
                errors.append(i)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors


# ---- OrthogonalRegularizer values ---------------------------------------------------


def orth_model(x: np.ndarray, factor: float, mode: str) -> float:
    """keras-reference §4.1 in float64 with exact factor rounding to float32."""
    v = x.astype(np.float64)
    if mode == "columns":
        v = v.T
    n = v / np.sqrt(np.maximum(np.sum(v * v, axis=1, keepdims=True), 1e-12))
    p = n @ n.T
    size = v.shape[0]
    off = np.abs(p * (1 - np.eye(size)))
    with np.errstate(all="ignore"):
        return float(np.float32(factor)) * 0.5 * off.sum() / (size * (size - 1.0) / 2.0)


@pytest.mark.parametrize("mode", ["rows", "columns"])
@pytest.mark.parametrize("shape", [(2, 2), (3, 5), (7, 4), (16, 16)])
@pytest.mark.parametrize("dtype", FLOATS)
def test_orthogonal_values(mode, shape, dtype):
    x = np.random.default_rng(11).uniform(-1, 1, shape).astype(dtype)
    got = R.OrthogonalRegularizer(0.1, mode)(x)
    assert got.dtype == dtype and np.ndim(got) == 0
    rtol = {np.float16: 2e-3, np.float32: 2e-6, np.float64: 1e-12}[dtype]
    np.testing.assert_allclose(float(got), orth_model(x, 0.1, mode), rtol=rtol)


def test_orthogonal_degenerate_and_special():
    o = R.OrthogonalRegularizer(1.0)
    assert np.isnan(o(np.ones((1, 4), np.float32)))  # one row: 0/0
    assert np.isnan(o(np.ones((0, 4), np.float32)))
    assert o(np.ones((3, 0), np.float32)) == 0
    assert np.isnan(R.OrthogonalRegularizer(1.0, "columns")(np.ones((4, 1))))
    x = np.ones((3, 3), np.float32)
    x[1, 1] = np.nan
    assert np.isnan(o(x))
    x[1, 1] = np.inf
    assert np.isnan(o(x))
    # all-zero row contributes 0, also in float16 (computed in float32)
    z = np.array([[0, 0], [1, 0], [0, 1]], np.float16)
    assert o(z) == 0 and o(z).dtype == np.float16
    assert o(np.eye(4)) == 0
    assert float(R.OrthogonalRegularizer(-1.0)(np.ones((2, 2)))) == pytest.approx(-1.0)
    # TF 2.x test matrix (keras-reference §4.1)
    m = np.array([[1, 1, 1, 1], [2, 0, 0, 0], [0, 0, 3, 1]], np.float32)
    assert float(o(m)) == pytest.approx(0.37748519, rel=1e-6)


@pytest.mark.parametrize("shape", [(), (3,), (2, 3, 4)])
def test_orthogonal_rank_message(shape):
    with pytest.raises(ValueError) as info:
        R.OrthogonalRegularizer()(np.ones(shape, np.float32))
    assert str(info.value) == (
        f"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape == {shape}"
    )


# ---- get / serialize / deserialize -----------------------------------------------------


@pytest.mark.parametrize(
    "name, cls, cfg",
    [
        ("l1", R.L1, {"l1": 0.009999999776482582}),
        ("L1", R.L1, {"l1": 0.009999999776482582}),
        ("l2", R.L2, {"l2": 0.009999999776482582}),
        ("L2", R.L2, {"l2": 0.009999999776482582}),
        ("L1L2", R.L1L2, {"l1": 0.0, "l2": 0.0}),
        ("l1l2", R.L1L2, {"l1": 0.0, "l2": 0.0}),
        ("l1_l2", R.L1L2, {"l1": 0.009999999776482582, "l2": 0.009999999776482582}),
        (
            "orthogonal_regularizer",
            R.OrthogonalRegularizer,
            {"factor": 0.009999999776482582, "mode": "rows"},
        ),
        (
            "OrthogonalRegularizer",
            R.OrthogonalRegularizer,
            {"factor": 0.009999999776482582, "mode": "rows"},
        ),
    ],
)
def test_get_names(name, cls, cfg):
    for fn in (R.get, R.deserialize):
        r = fn(name)
        assert type(r) is cls and r.get_config() == cfg
    assert type(R.get("Regularizer")) is R.Regularizer


@pytest.mark.parametrize(
    "bad", ["bogus", "", " l1", "L1_L2", "regularizer", "serialize", "get", "deserialize"]
)
def test_get_unknown_names(bad):
    for fn in (R.get, R.deserialize):
        with pytest.raises(ValueError) as info:
            fn(bad)
        assert str(info.value).startswith("Unknown regularizer: ")


@pytest.mark.parametrize("bad", [0, 1.5, True, [1], ("l1",), np.float32(0.1), np.ones(2)])
def test_get_uninterpretable(bad):
    with pytest.raises(ValueError) as info:
        R.get(bad)
    assert str(info.value).startswith("Could not interpret regularizer identifier: ")
    with pytest.raises(ValueError):
        R.deserialize(bad)


def test_get_objects():
    r = R.L1(0.5)
    assert R.get(r) is r

    def fn(x):
        return 0.0

    assert R.get(fn) is fn
    lam = lambda x: 0.0  # noqa: E731
    assert R.get(lam) is lam
    assert R.get(R.l1_l2) is R.l1_l2
    for cls in (R.L1, R.L2, R.L1L2, R.OrthogonalRegularizer, R.Regularizer):
        obj = R.get(cls)
        assert type(obj) is cls
    assert R.get(None) is None
    assert R.deserialize(None) is None
    assert R.deserialize(r) is r and R.deserialize(fn) is fn


def test_get_dicts():
    d = {"class_name": "L1", "config": {"l1": 0.5}}
    assert R.get(d).get_config() == {"l1": 0.5}
    assert R.get({"class_name": "l1_l2", "config": {"l1": 0.5, "l2": 0.25}}).get_config() == {
        "l1": 0.5,
        "l2": 0.25,
    }
    assert R.get({"class_name": "L1", "config": {"l": 0.5}}).get_config() == {"l1": 0.5}
    with pytest.raises(ValueError, match="Improper config format"):
        R.get({"class_name": "L1"})
    with pytest.raises(ValueError, match="Improper config format"):
        R.get({})
    with pytest.raises(ValueError):
        R.get({"class_name": "L1", "config": None})
    with pytest.raises(ValueError, match="Unknown regularizer: 'Nope'"):
        R.get({"class_name": "Nope", "config": {}})
    with pytest.raises(TypeError, match=re.escape("Argument(s) not recognized: {'x': 1}")):
        R.deserialize({"class_name": "L2", "config": {"l2": 0.5, "x": 1}})


@pytest.mark.parametrize(
    "reg", [R.L1(0.3), R.L2(0.1), R.L1L2(0.01, 0.02), R.OrthogonalRegularizer(0.2, "columns")]
)
def test_serialize_round_trips(reg):
    for legacy in (False, True):
        out = R.serialize(reg, use_legacy_format=legacy)
        assert json.loads(json.dumps(out)) == out
        if legacy:
            assert set(out) == {"class_name", "config"}
        else:
            assert out["module"] == "keras.regularizers" and out["registered_name"] is None
        for fn in (R.deserialize, R.get):
            back = fn(out)
            assert type(back) is type(reg) and back.get_config() == reg.get_config()


def test_serialize_other_objects():
    assert R.serialize(None) is None
    with pytest.raises(NotImplementedError):
        R.serialize(R.Regularizer())

    def my_fn(x):
        return 0.0

    assert R.serialize(my_fn) == {
        "module": "builtins",
        "class_name": "function",
        "config": "my_fn",
        "registered_name": "function",
    }
    assert R.serialize(my_fn, use_legacy_format=True) == "my_fn"
    assert R.deserialize(R.serialize(my_fn), custom_objects={"my_fn": my_fn}) is my_fn
    with pytest.raises(ValueError, match="Unknown regularizer"):
        R.deserialize(R.serialize(my_fn))
    with pytest.raises(ValueError, match="Cannot serialize"):
        R.serialize(3.0)


# ---- custom objects --------------------------------------------------------------------


def test_seed_custom_function_registered():
    @utils.register_keras_serializable(package="Custom", name="l1")
    def l1_reg(weight_matrix):
        return 0.01 * np.sum(np.abs(weight_matrix))

    kernel = np.ones((5, 5), np.float32)
    assert float(R.get("Custom>l1")(kernel)) == pytest.approx(0.25)
    assert R.serialize(l1_reg)["config"] == "Custom>l1"
    assert R.serialize(l1_reg, use_legacy_format=True) == "Custom>l1"
    assert R.deserialize(R.serialize(l1_reg)) is l1_reg
    assert utils.get_registered_name(l1_reg) == "Custom>l1"
    assert utils.get_registered_object("Custom>l1") is l1_reg
    assert utils.get_custom_objects()["Custom>l1"] is l1_reg


def test_registered_class_round_trip():
    @utils.register_keras_serializable(package="Tests")
    class Half(R.Regularizer):
        def __init__(self, f=0.5):
            self.f = f

        def __call__(self, x):
            return np.float32(self.f) * np.sum(x)

        def get_config(self):
            return {"f": self.f}

    out = R.serialize(Half(0.25))
    assert out == {
        "module": None,
        "class_name": "Half",
        "config": {"f": 0.25},
        "registered_name": "Tests>Half",
    }
    assert R.serialize(Half(0.25), use_legacy_format=True) == {
        "class_name": "Tests>Half",
        "config": {"f": 0.25},
    }
    for fn in (R.get, R.deserialize):
        back = fn(out)
        assert type(back) is Half and back.f == 0.25
    assert type(R.get("Tests>Half")) is Half  # TF 2.4: instantiated


def test_register_class_without_get_config():
    class NoConfig:
        def __call__(self, x):
            return 0.0

    with pytest.raises(ValueError, match="get_config"):
        utils.register_keras_serializable()(NoConfig)


def test_unregistered_class_fails_to_deserialize():
    class Unreg(R.Regularizer):
        def get_config(self):
            return {}

    out = R.serialize(Unreg())
    assert out["registered_name"] == "Unreg" and out["module"] is None
    with pytest.raises(ValueError, match="Unknown regularizer"):
        R.deserialize(out)
    assert type(R.deserialize(out, custom_objects={"Unreg": Unreg})) is Unreg
    with utils.custom_object_scope({"Unreg": Unreg}):
        assert type(R.get(out)) is Unreg
        assert type(R.get("Unreg")) is Unreg
    with pytest.raises(ValueError):
        R.get("Unreg")


def test_custom_object_scope_nesting_and_threads():
    def a(x):
        return 1.0

    def b(x):
        return 2.0

    with utils.custom_object_scope({"f": a}, None):
        assert R.get("f") is a
        with utils.CustomObjectScope({"f": b}):
            assert R.get("f") is b
            seen = []
            t = threading.Thread(target=lambda: seen.append(utils.get_registered_object("f")))
            t.start()
            t.join()
            assert seen == [None]  # scopes are per thread
        assert R.get("f") is a
    assert utils.get_registered_object("f") is None
    with pytest.raises(TypeError):
        utils.custom_object_scope(["not", "a", "dict"])


# ---- doctests (pytest's --doctest-modules only collects tests/ by default) -----------


@pytest.mark.parametrize(
    "module",
    [R, fastreg.kernels, utils, backend],
    ids=lambda m: m.__name__,
)
def test_module_doctests(module):
    import doctest

    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.attempted > 0 and result.failed == 0
