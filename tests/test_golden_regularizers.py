"""Every regularizer case of tests/data/golden/keras2.json (format: its README).

Kinds covered here: api, signature, construct, call, config, serialize, get,
deserialize, custom. (dense and scenario cases belong to the layer tests.)
The case id is the test id.
"""

from __future__ import annotations

import inspect
import json
import math

import golden as G
import numpy as np
import pytest

import fastreg
from fastreg import regularizers as R
from fastreg.utils import register_keras_serializable

# ---- the custom objects of the README's `custom` section, registered once ----


@register_keras_serializable(package="Golden", name="scaled_l2")
class ScaledL2(R.Regularizer):
    def __init__(self, l2=0.0):
        self.l2 = l2

    def __call__(self, x):
        x = np.asarray(x)
        return x.dtype.type(self.l2) * np.sum(np.square(x))

    def get_config(self):
        return {"l2": float(self.l2)}


@register_keras_serializable(package="Golden", name="abs_sum")
def abs_sum(x):
    x = np.asarray(x)
    return x.dtype.type(0.01) * np.sum(np.abs(x))


class Unregistered(R.Regularizer):  # deliberately not registered
    def __init__(self, a=1.0):
        self.a = a

    def __call__(self, x):
        return self.a * np.sum(x)

    def get_config(self):
        return {"a": self.a}


# ---- helpers -----------------------------------------------------------------


def _outcome(fn, want: dict, case: dict) -> object:
    """Check fn() against one expected outcome; returns the result (None on error)."""
    if "error" in want:
        with pytest.raises(Exception) as info:
            fn()
        G.check_error(info.value, want)
        return None
    return fn()


def _one_of(fn, case: dict, check) -> None:
    """Run fn and check it against `expected`, or any one of `expected_any_of`."""
    wants = [case["expected"]] if "expected" in case else case["expected_any_of"]
    failures = []
    for want in wants:
        try:
            res = _outcome(fn, want, case)
            if "error" not in want:
                check(res, want)
            return
        except (AssertionError, pytest.fail.Exception) as err:
            failures.append(f"{want}: {err}")
        except Exception as err:  # an unexpected exception: try the next outcome
            failures.append(f"{want}: raised {type(err).__name__}: {err}")
    pytest.fail("no expected outcome matched:\n" + "\n".join(failures))


def _describe_equal(got, want) -> None:
    assert G.exact_equal(got, want), f"{got!r} != {want!r}"


def _cfg_value(v, typ):
    if typ == "float" and isinstance(v, str):
        return float(v)  # "inf", "-inf", "nan" (JSON cannot carry them)
    return v


def _same_input(before, after) -> None:
    if isinstance(before, np.ndarray):
        assert after.dtype == before.dtype and after.shape == before.shape
        assert np.array_equal(
            before.astype(np.float64), after.astype(np.float64), equal_nan=True
        ), "the input was modified"
    else:
        assert before == after or (
            isinstance(before, float) and math.isnan(before) and math.isnan(after)
        ), "the input was modified"


# ---- api / signature ----------------------------------------------------------


@pytest.mark.parametrize("case", G.params("api"))
def test_api(case):
    names = case["expected"]
    for name in names:
        assert hasattr(R, name), name
        assert getattr(fastreg, name) is getattr(R, name), name
    assert sorted(R.__all__) == sorted(names)


@pytest.mark.parametrize("case", G.params("signature"))
def test_signature(case):
    obj = getattr(R, case["name"])
    want = case["expected"]
    sigs = want["signature"] if isinstance(want["signature"], list) else [want["signature"]]
    assert str(inspect.signature(obj)) in sigs
    assert inspect.isclass(obj) == want["is_class"]
    if want["alias_of"] is not None:
        assert obj is getattr(R, want["alias_of"])


# ---- construct ------------------------------------------------------------------


@pytest.mark.parametrize("case", G.params("construct"))
def test_construct(case):
    def check(obj, want):
        assert type(obj).__name__ == want["class_name"]
        if "error" in want["config"]:
            with pytest.raises(Exception) as info:
                obj.get_config()
            G.check_error(info.value, want["config"])
            return
        types = want["config_types"]
        cfg = obj.get_config()
        wanted = {k: _cfg_value(v, types[k]) for k, v in want["config"].items()}
        assert list(cfg) == list(wanted)
        for k, v in wanted.items():
            assert type(cfg[k]).__name__ == types[k]
            if isinstance(v, float):
                assert cfg[k] == v or (math.isnan(v) and math.isnan(cfg[k])), (k, cfg[k], v)
                assert math.copysign(1.0, cfg[k]) == math.copysign(1.0, v), "sign of zero"
            else:
                assert cfg[k] == v
        for name, spec in want["attrs"].items():
            a = getattr(obj, name)
            assert type(a).__module__ + "." + type(a).__name__ == spec["type"]
            assert a.ndim == 0
            assert a.dtype.name == spec["dtype"]
            assert float(a) == wanted[name] or math.isnan(float(a))

    _one_of(lambda: G.build_reg(case["reg"]), case, check)


# ---- call -----------------------------------------------------------------------


@pytest.mark.parametrize("case", G.params("call"))
def test_call(case):
    spec = case["input"]
    x = G.make_input(spec)
    arg = G.hand_over(spec, x)
    before = arg.copy() if isinstance(arg, np.ndarray) else json.loads(json.dumps(arg))
    if isinstance(arg, float):
        before = arg

    def run():
        return G.build_reg(case["reg"])(arg)

    _one_of(run, case, lambda got, want: G.check_numeric(got, want, case))
    _same_input(before, arg)


# ---- config ---------------------------------------------------------------------


@pytest.mark.parametrize("case", G.params("config"))
def test_config(case):
    r = G.build_reg(case["reg"])
    want = case["expected"]
    cfg = r.get_config()
    _describe_equal(cfg, want["get_config"])
    assert json.dumps(cfg) == want["json"]
    _describe_equal(type(r).from_config(cfg).get_config(), want["from_config_get_config"])


# ---- serialize --------------------------------------------------------------------

_OBJECTS = {
    "None": lambda: None,
    "Regularizer_base": lambda: R.Regularizer(),
    "plain_function": lambda: G._plain_reg_fn,
}


@pytest.mark.parametrize("case", G.params("serialize"))
def test_serialize(case):
    obj = _OBJECTS[case["object"]]() if "object" in case else G.build_reg(case["reg"])
    kwargs = case.get("kwargs", {})

    def check(out, want):
        _describe_equal(out, want["output"])
        if "deserialize_roundtrip" in want:
            _describe_equal(G.describe(R.deserialize(out)), want["deserialize_roundtrip"])
        if "get_roundtrip" in want:
            _describe_equal(G.describe(R.get(out)), want["get_roundtrip"])

    _one_of(lambda: R.serialize(obj, **kwargs), case, check)


# ---- get / deserialize ----------------------------------------------------------------

_LABELLED = {
    "instance_L1_0.5": lambda: R.L1(0.5),
    "class_L1": lambda: R.L1,
    "class_L2": lambda: R.L2,
    "class_L1L2": lambda: R.L1L2,
    "class_Orthogonal": lambda: R.OrthogonalRegularizer,
    "class_Regularizer": lambda: R.Regularizer,
    "function_l1_l2": lambda: R.l1_l2,
    "plain_function": lambda: G._plain_reg_fn,
    "lambda": lambda: lambda x: 0.0,
}


def _lookup_case(case, fn):
    if "object" in case:
        obj = _LABELLED[case["object"]]()
    elif case["id"].startswith("deserialize_legacy/"):
        obj = case["identifier"]  # raw JSON, tags not decoded (README)
    else:
        obj = G.decode(case["identifier"])

    def check(res, want):
        _describe_equal(G.describe(res), want)
        if "object" in case and want.get("returns") in ("instance", "callable"):
            if not inspect.isclass(obj):
                assert res is obj, "expected the very same object back"

    _one_of(lambda: fn(obj), case, check)


@pytest.mark.parametrize("case", G.params("get"))
def test_get(case):
    _lookup_case(case, R.get)


@pytest.mark.parametrize("case", G.params("deserialize"))
def test_deserialize(case):
    _lookup_case(case, R.deserialize)


# ---- custom -------------------------------------------------------------------------


@pytest.mark.parametrize("case", G.params("custom"))
def test_custom(case):
    ns = {
        "serialize": R.serialize,
        "deserialize": R.deserialize,
        "get": R.get,
        "describe": G.describe,
        "ScaledL2": ScaledL2,
        "abs_sum": abs_sum,
        "Unregistered": Unregistered,
        "numpy": np,
        "np": np,
    }

    def check(res, want):
        out = want["output"]
        if isinstance(out, dict) and "dtype" in out and "value" in out:
            G.check_numeric(res, out, case)
        else:
            _describe_equal(res, out)

    _one_of(lambda: eval(case["expression"], ns), case, check)


def test_every_regularizer_case_is_collected():
    """No case of these kinds is silently dropped by the parametrization."""
    kinds = ("api", "signature", "construct", "call", "config", "serialize", "get")
    kinds += ("deserialize", "custom")
    n = sum(1 for c in G.data()["cases"] if c["kind"] in kinds)
    assert n == len(G.cases(*kinds)) == 646
    assert len(G.data()["cases"]) == G.data()["meta"]["n_cases"] == 695
