"""Ports of the upstream Keras regularizer tests (keras-reference.md §7.1, §7.2).

§7.1: tf-keras ``tf_keras/regularizers_test.py`` (``KerasRegularizersTest``).
§7.2: Keras 3 ``keras/src/regularizers/regularizers_test.py`` (``RegularizersTest``,
``ValidateFloatArgTest``), ported with Keras 2 expectations where the two
differ (SEMANTICS.md: negative factors accepted, float32-rounded configs,
Keras 2's messages). Tests that need ``Model.fit``, shared layers or
``layer.losses`` are ported by the layer tests; what is left here is their
regularizer-level part.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from fastreg import activations, regularizers, utils
from fastreg import regularizers as R

# ---- §7.1 tf-keras KerasRegularizersTest -------------------------------------------------


def _fn_tensor(x):
    return np.float32(0.0)


def _fn_float(x):
    return 0.0


class _RegTensor(regularizers.Regularizer):
    def __call__(self, x):
        return np.float32(0.0)


class _RegFloat(regularizers.Regularizer):
    def __call__(self, x):
        return 0.0


# the 11 parameters of test_kernel/bias/activity_regularization
REGULARIZERS_11 = [
    ("l1", regularizers.l1),
    ("l2", regularizers.l2),
    ("l1_l2", regularizers.l1_l2),
    ("l2_zero", lambda: regularizers.l2(0.0)),
    ("function_tensor", lambda: _fn_tensor),
    ("function_float", lambda: _fn_float),
    ("lambda_tensor", lambda: lambda x: np.float32(0.0)),
    ("lambda_float", lambda: lambda x: 0.0),
    ("base_regularizer", regularizers.Regularizer),
    ("subclass_tensor", _RegTensor),
    ("subclass_float", _RegFloat),
]


@pytest.mark.parametrize(
    "make", [m for _, m in REGULARIZERS_11], ids=[n for n, _ in REGULARIZERS_11]
)
def test_kernel_regularization_gives_one_scalar_loss(make):
    """test_kernel_regularization / _bias_ / _activity_, at the regularizer level.

    Upstream: one loss per regularized weight. Here: ``get()`` accepts each of
    the 11 kinds and calling it on a Dense(2) kernel of input (5,) gives one
    scalar.
    """
    reg = regularizers.get(make())
    kernel = np.random.default_rng(0).uniform(-0.05, 0.05, (5, 2)).astype(np.float32)
    loss = reg(kernel)
    assert np.ndim(loss) == 0
    assert math.isfinite(float(loss))


def test_zero_regularization():
    w = np.random.default_rng(1).standard_normal((5, 3)).astype(np.float32)
    assert regularizers.l2(0)(w) == 0


def test_custom_regularizer_saving():
    def my_regularizer(weights):
        return np.sum(np.square(weights))

    cfg = regularizers.serialize(my_regularizer)
    back = regularizers.deserialize(cfg, custom_objects={"my_regularizer": my_regularizer})
    assert back is my_regularizer
    assert regularizers.get(back) is my_regularizer


def test_deserialization_error():
    with pytest.raises(ValueError, match="Could not interpret regularizer"):
        regularizers.get(0)


def test_custom_object_scope_get_instantiates_a_non_callable_class():
    """tf-keras object_registration_test.test_custom_object_scope (TF 2.4 get/deserialize)."""

    def custom_fn():
        pass

    class CustomClass:  # not a Regularizer, and its instances are not callable
        pass

    def check():
        with utils.custom_object_scope({"CustomClass": CustomClass, "custom_fn": custom_fn}):
            assert activations.get("custom_fn") is custom_fn
            got = regularizers.get("CustomClass")
            assert got.__class__ is CustomClass
            got = regularizers.get({"class_name": "CustomClass", "config": {}})
            assert got.__class__ is CustomClass

    check()
    errors = []

    def in_thread():
        try:
            check()
        except BaseException as err:  # re-raised in the main thread below
            errors.append(err)

    t = threading.Thread(target=in_thread)
    t.start()
    t.join()
    assert errors == []
    # a class given directly is instantiated too (SEMANTICS: Keras 3's rule)
    assert regularizers.get(CustomClass).__class__ is CustomClass
    with pytest.raises(ValueError, match="Unknown regularizer"):
        regularizers.get("CustomClass")  # outside the scope


def test_default_value_when_init_with_none():
    assert float(regularizers.l1(l1=None).l1) == pytest.approx(0.01)
    assert float(regularizers.l2(l2=None).l2) == pytest.approx(0.01)
    r = regularizers.l1_l2(l1=None, l2=None)
    assert float(r.l1) == 0.0 and float(r.l2) == 0.0


def test_orthogonal_regularizer():
    factor = 0.1
    inputs = np.array([[1, 1, 1, 1], [2, 0, 0, 0], [0, 0, 3, 1]], np.float32)
    # rows: the three pairs of normalised rows
    rows = inputs / np.linalg.norm(inputs, axis=1, keepdims=True)
    row_pairs = [rows[0] @ rows[1], rows[0] @ rows[2], rows[1] @ rows[2]]
    got = regularizers.OrthogonalRegularizer(factor=factor, mode="rows")(inputs)
    assert float(got) == pytest.approx(factor * sum(row_pairs) / 3, rel=1e-6)
    # columns: the six pairs of normalised columns
    cols = inputs / np.linalg.norm(inputs, axis=0, keepdims=True)
    col_pairs = [cols[:, i] @ cols[:, j] for i in range(4) for j in range(i + 1, 4)]
    got = regularizers.OrthogonalRegularizer(factor=factor, mode="columns")(inputs)
    assert float(got) == pytest.approx(factor * sum(col_pairs) / 6, rel=1e-6)
    # rank-1 input
    with pytest.raises(ValueError, match="must have rank 2"):
        regularizers.OrthogonalRegularizer(factor=factor)(np.ones(4, np.float32))
    # config (assertDictEqual falls back to assertAllClose for floats upstream)
    reg = regularizers.OrthogonalRegularizer(factor=factor, mode="columns")
    cfg = reg.get_config()
    assert cfg == {"factor": pytest.approx(0.1), "mode": "columns"}
    assert cfg["factor"] == 0.10000000149011612  # the float32 image, exactly
    reg2 = regularizers.OrthogonalRegularizer.from_config(cfg)
    assert reg2.get_config() == cfg
    # Model.from_config round trip: through serialize/deserialize
    back = regularizers.deserialize(regularizers.serialize(reg))
    assert type(back) is regularizers.OrthogonalRegularizer and back.get_config() == cfg


# ---- §7.2 Keras 3 RegularizersTest ------------------------------------------------------


@pytest.mark.parametrize(
    "reg",
    [R.L1(0.1), R.L2(0.1), R.L1L2(0.1, 0.2), R.OrthogonalRegularizer(0.1, mode="rows")],
    ids=["L1", "L2", "L1L2", "Orth"],
)
def test_config(reg):
    """run_class_serialization_test: config, from_config and serialize round trips."""
    cfg = reg.get_config()
    assert type(reg).from_config(cfg).get_config() == cfg
    back = R.deserialize(R.serialize(reg))
    assert type(back) is type(reg) and back.get_config() == cfg


def _value():
    return np.random.default_rng(7).random((4, 4)).astype(np.float32)


def test_l1():
    value = _value()
    assert float(R.L1(0.1)(value)) == pytest.approx(0.1 * np.sum(np.abs(value)), rel=1e-6)


def test_l2():
    value = _value()
    assert float(R.L2(0.1)(value)) == pytest.approx(0.1 * np.sum(np.square(value)), rel=1e-6)


def test_l1_l2():
    value = _value()
    want = 0.1 * np.sum(np.abs(value)) + 0.2 * np.sum(np.square(value))
    assert float(R.L1L2(l1=0.1, l2=0.2)(value)) == pytest.approx(want, rel=1e-6)


def test_orthogonal_regularizer_rows():
    value = _value()
    out = R.OrthogonalRegularizer(factor=0.1, mode="rows")(value)
    inputs = value / np.linalg.norm(value, axis=1, keepdims=True)
    product = inputs @ inputs.T
    size = inputs.shape[0]
    product_no_diagonal = product * (1.0 - np.eye(size, dtype=inputs.dtype))
    num_pairs = size * (size - 1.0) / 2.0
    want = 0.1 * 0.5 * np.sum(np.abs(product_no_diagonal)) / num_pairs
    assert float(out) == pytest.approx(float(want), rel=1e-5)


def test_get_method():
    assert isinstance(R.get("l1l2"), R.L1L2)
    assert isinstance(R.get("l1"), R.L1)
    assert isinstance(R.get("l2"), R.L2)
    assert isinstance(R.get("orthogonal_regularizer"), R.OrthogonalRegularizer)
    assert R.get(None) is None
    with pytest.raises(ValueError):
        R.get("typo")


def test_l1l2_get_config():
    reg = R.L1L2(l1=0.01, l2=0.02)
    cfg = reg.get_config()
    assert cfg["l1"] == pytest.approx(0.01) and cfg["l2"] == pytest.approx(0.02)
    assert R.L1L2.from_config(cfg).get_config() == cfg
    assert float(reg.l1) == pytest.approx(0.01) and float(reg.l2) == pytest.approx(0.02)


def test_orthogonal_regularizer_mode_validation():
    with pytest.raises(ValueError) as info:
        R.OrthogonalRegularizer(factor=0.01, mode="invalid_mode")
    assert str(info.value) == (
        'Invalid value for argument `mode`. Expected one of {"rows", "columns"}. '
        "Received: mode=invalid_mode"
    )


def test_orthogonal_regularizer_input_rank_validation():
    with pytest.raises(ValueError) as info:
        R.OrthogonalRegularizer(factor=0.1)(np.ones((4, 4, 4), np.float32))
    # Keras 2's wording ("==" where Keras 3 prints "inputs.shape=(4, 4, 4)")
    assert str(info.value) == (
        "Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape == (4, 4, 4)"
    )


def test_orthogonal_regularizer_get_config():
    reg = R.OrthogonalRegularizer(factor=0.01, mode="columns")
    cfg = reg.get_config()
    assert round(cfg["factor"], 7) == 0.01 and cfg["mode"] == "columns"
    assert R.OrthogonalRegularizer.from_config(cfg).get_config() == cfg


def test_l1_with_zero_weights():
    assert R.L1(0.1)(np.zeros((3, 3), np.float32)) == 0


def test_l1_with_negative_weights():
    assert R.L1(0.1)(-np.ones((3, 3), np.float32)) == R.L1(0.1)(np.ones((3, 3), np.float32))


def test_l1_zero_coefficient():
    assert R.L1(0.0)(np.ones((3, 3), np.float32)) == 0


def test_l2_with_zero_weights():
    assert R.L2(0.1)(np.zeros((3, 3), np.float32)) == 0


def test_l2_zero_coefficient():
    assert R.L2(0.0)(np.ones((3, 3), np.float32)) == 0


def test_l2_is_larger_than_l1_for_large_weights():
    value = np.full((3, 3), 10.0, np.float32)
    assert R.L2(0.1)(value) > R.L1(0.1)(value)


def test_l2_is_smaller_than_l1_for_small_weights():
    value = np.full((3, 3), 0.1, np.float32)
    assert R.L2(0.1)(value) < R.L1(0.1)(value)


def test_l1l2_zero_coefficients():
    assert R.L1L2(0.0, 0.0)(np.ones((3, 3), np.float32)) == 0


def test_l1l2_only_l1():
    value = _value()
    assert R.L1L2(0.1, 0.0)(value) == R.L1(0.1)(value)


def test_l1l2_only_l2():
    value = _value()
    assert R.L1L2(0.0, 0.1)(value) == R.L2(0.1)(value)


def test_l1l2_with_zero_weights():
    assert R.L1L2(0.1, 0.1)(np.zeros((3, 3), np.float32)) == 0


# ---- §7.2 ValidateFloatArgTest, with Keras 2's rules --------------------------------------
# Keras 3's validate_float_arg also rejects negatives and None; Keras 2's constructor check
# accepts negatives, and L1/L2/L1L2 turn None into their default (SEMANTICS.md).


@pytest.mark.parametrize("value", [1, 1.0])
def test_validate_one(value):
    cfg = R.L1(value).get_config()
    assert cfg == {"l1": 1.0} and type(cfg["l1"]) is float


@pytest.mark.parametrize("value", ["not_a_number", math.nan, math.inf, -math.inf, [0.1]])
def test_validate_rejects(value):
    for ctor in (R.L1, R.L2, R.L1L2, R.OrthogonalRegularizer):
        with pytest.raises(ValueError, match="is not a valid regularization penalty number"):
            ctor(value)


@pytest.mark.parametrize("value", [-1, -0.001])
def test_validate_negative_is_accepted_in_keras2(value):
    assert R.L1(value).get_config() == {"l1": float(np.float32(value))}


def test_validate_none():
    assert R.L1(None).get_config() == {"l1": float(np.float32(0.01))}
    with pytest.raises(ValueError):
        R.OrthogonalRegularizer(None)


@pytest.mark.parametrize("value", [0, 0.0])
def test_validate_zero(value):
    assert R.L2(value).get_config() == {"l2": 0.0}


@pytest.mark.parametrize("value", [1e-10, 1e6])
def test_validate_small_and_large(value):
    cfg = R.L1L2(value, value).get_config()
    assert cfg == {"l1": float(np.float32(value)), "l2": float(np.float32(value))}
    assert all(type(v) is float for v in cfg.values())
