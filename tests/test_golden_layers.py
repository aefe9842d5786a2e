"""Every `dense` and `scenario` case of tests/data/golden/keras2.json.

`dense` cases run their steps on one `fastreg.layers.Dense` as the golden
README says; each `scenario` (ids `scenario/*` and `layer/*`) is the
README's translation of its description into fastreg code. The case id is
the test id; a scenario without a translation here fails (so a new golden
case cannot be skipped silently).
"""

from __future__ import annotations

import golden as G
import numpy as np
import pytest
from layer_helpers import LOSS_TOL, check_losses, check_output

from fastreg import layers
from fastreg import regularizers as R

# ---------------------------------------------------------------------------
# dense
# ---------------------------------------------------------------------------


def _dense_kwargs(case: dict) -> dict:
    kwargs = {k: v for k, v in case["dense"].items() if k != "weights_seed"}
    for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
        if isinstance(kwargs.get(key), dict):
            kwargs[key] = G.build_reg(kwargs[key])
    return kwargs


def _check_step_losses(layer: layers.Layer, want) -> None:
    if isinstance(want, dict) and "error" in want:
        with pytest.raises(Exception) as info:
            _ = layer.losses
        G.check_error(info.value, want)
        return
    check_losses(layer.losses, want, LOSS_TOL)


@pytest.mark.parametrize("case", G.params("dense"))
def test_dense_case(case):
    kwargs = _dense_kwargs(case)
    if "expected_construct" in case:
        with pytest.raises(Exception) as info:
            layers.Dense(**kwargs)
        G.check_error(info.value, case["expected_construct"])
        return
    layer = layers.Dense(**kwargs)
    use_bias = kwargs.get("use_bias", True)
    for step in case["steps"]:
        op = step["op"]
        if op == "build_and_set_weights":
            layer.build((None, step["input_dim"]))
            weights = [G.make_input(step["kernel"])]
            if use_bias:
                weights.append(G.make_input(step["bias"]))
            else:
                assert "bias" not in step
            layer.set_weights(weights)
        elif op == "call":
            x = G.hand_over(step["input"], G.make_input(step["input"]))
            if "output" not in step:
                with pytest.raises(Exception) as info:
                    layer(x)
                G.check_error(info.value, step["expected"])
                continue
            x_before = np.array(x, copy=True)
            y = layer(x)
            check_output(y, step["output"])
            np.testing.assert_array_equal(x, x_before)  # input not modified
        elif op == "assign_kernel":
            layer.kernel = G.make_input(step["kernel"])
        else:
            raise AssertionError(f"unknown dense op {op!r}")
        if "losses" in step:
            _check_step_losses(layer, step["losses"])


# ---------------------------------------------------------------------------
# scenario / layer
# ---------------------------------------------------------------------------


def _f32(v) -> np.ndarray:
    return np.asarray(v, np.float32)


def _ones(*shape) -> np.ndarray:
    return np.ones(shape, np.float32)


def scenario_seed_example(exp):
    layer = layers.Dense(
        5,
        input_dim=5,
        kernel_initializer="ones",
        kernel_regularizer=R.L1(0.01),
        activity_regularizer=R.L2(0.01),
    )
    y = layer(_ones(5, 5) * 2)
    check_losses(layer.losses, exp["losses"])
    G.check_numeric(np.sum(layer.losses), exp["sum"])
    assert float(y.flat[0]) == exp["output_first"]
    assert np.all(y == exp["output_first"])


def scenario_doc_direct_call(exp):
    G.check_numeric(R.L2(2.0)(_ones(5, 5)), exp)


def scenario_lazy_weight_losses(exp):
    layer = layers.Dense(
        2,
        kernel_initializer="ones",
        kernel_regularizer=R.L1(1.0),
        activity_regularizer=R.L1(1.0),
    )
    layer(_ones(2, 2))
    check_losses(layer.losses, exp["after_call"])
    layer.kernel[...] = 3.0
    check_losses(layer.losses, exp["after_assign_kernel_3"])
    layer(_ones(4, 2))
    check_losses(layer.losses, exp["after_second_call_bs4"])


def scenario_activity_property(exp):
    layer = layers.Dense(2, kernel_initializer="ones")
    x = _ones(2, 2)
    layer.activity_regularizer = R.L2(1.0)
    layer(x)
    check_losses(layer.losses, exp["set_L2_1"])
    layer.activity_regularizer = None
    layer(x)
    check_losses(layer.losses, exp["set_None"])
    layer.activity_regularizer = "l1"  # stored as is: not through get()
    assert layer.activity_regularizer == "l1"
    with pytest.raises(Exception) as info:
        layer(x)
        _ = layer.losses
    G.check_error(info.value, exp["set_string_l1"])


class _SumLayer(layers.Layer):
    def call(self, x):
        return np.asarray(np.sum(x))


def scenario_scalar_output(exp):
    layer = _SumLayer(activity_regularizer=R.L1(1.0))
    y = layer(_ones(4, 3))
    assert np.ndim(y) == 0
    check_losses(layer.losses, exp["losses"])


class _AddLossAndWeights(layers.Layer):
    def build(self, input_shape):
        self.w = self.add_weight(
            name="w", shape=(2,), initializer="ones", regularizer=R.L1(1.0), trainable=True
        )
        self.nt = self.add_weight(
            name="nt", shape=(2,), initializer="ones", regularizer=R.L1(10.0), trainable=False
        )

    def call(self, x):
        self.add_loss(_f32(42.0))
        return x


def scenario_add_loss_and_weights(exp):
    layer = _AddLossAndWeights(activity_regularizer=R.L1(1.0))
    layer(_ones(2, 2))
    check_losses(layer.losses, exp["losses"])
    layer.trainable = False
    check_losses(layer.losses, exp["after_layer_trainable_false"])


class _Outer(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.d1 = layers.Dense(
            2,
            kernel_initializer="ones",
            kernel_regularizer=R.L1(1.0),
            activity_regularizer=R.L1(0.5),
        )
        self.d2 = layers.Dense(
            2,
            kernel_initializer="ones",
            bias_initializer="ones",
            bias_regularizer=R.L2(1.0),
            activity_regularizer=R.L1(0.25),
        )

    def build(self, input_shape):
        self.own = self.add_weight(
            name="own", shape=(3,), initializer="ones", regularizer=R.L1(1000.0)
        )

    def call(self, x):
        self.add_loss(_f32(100.0))
        return self.d2(self.d1(x))


def scenario_nested_layers(exp):
    outer = _Outer(activity_regularizer=R.L1(0.001))
    outer(_ones(2, 2))
    check_losses(outer.losses, exp["after_call_bs2"])
    check_losses(outer.d1.losses, exp["d1_alone"])
    outer(_ones(4, 2))
    check_losses(outer.losses, exp["after_call_bs4"])
    outer.d1(2 * _ones(3, 2))
    want = exp["after_direct_d1_call_on_2s_bs3"]
    check_losses(outer.losses, want["outer"])
    check_losses(outer.d1.losses, want["d1"])
    outer.trainable = False
    check_losses(outer.losses, exp["outer_trainable_false"])
    outer.trainable = True
    outer.d1.trainable = False
    check_losses(outer.losses, exp["d1_trainable_false"])


def scenario_activity_regularization_layer(exp):
    layer = layers.ActivityRegularization(l1=0.2, l2=0.3)
    layer(2 * _ones(4, 3))
    check_losses(layer.losses, exp["losses"])
    cfg = layer.get_config()
    assert G.exact_equal({k: cfg[k] for k in exp["config_l1_l2"]}, exp["config_l1_l2"])


def scenario_dense_get_config(exp):
    layer = layers.Dense(
        3, kernel_regularizer=R.L1(0.5), bias_regularizer="l1_l2", activity_regularizer="l2"
    )
    cfg = layer.get_config()
    for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
        assert G.exact_equal(cfg[key], exp[key]), (key, cfg[key], exp[key])
    plain = layers.Dense(3).get_config()
    assert ("activity_regularizer" in plain) is exp["plain_dense_has_activity_key"]
    assert plain["activity_regularizer"] is exp["plain_dense_activity_value"]
    back = layers.Dense.from_config(cfg)
    types = [
        type(r).__name__
        for r in (back.kernel_regularizer, back.bias_regularizer, back.activity_regularizer)
    ]
    assert types == exp["from_config_types"]


def scenario_dense_inputs(exp):
    layer = layers.Dense(2)
    with pytest.raises(Exception) as info:
        layer(np.ones(3, np.float32))
    G.check_error(info.value, exp["rank1"])
    # same text as Keras, with this layer's name in place of Keras's
    assert str(info.value) == exp["rank1"]["error"]["message"].replace(
        '"dense_82"', f'"{layer.name}"'
    )
    y = layers.Dense(2)(np.arange(6, dtype=np.int32).reshape(2, 3))
    assert y.dtype.name == exp["int32"]["dtype"]
    assert list(y.shape) == exp["int32"]["shape"]
    d = layers.Dense(4)
    d(_ones(2, 3))
    assert d.bias.tolist() == exp["bias_initial"]
    assert list(d.kernel.shape) == exp["kernel_shape"]


SCENARIOS = {
    "layer/seed_example": scenario_seed_example,
    "layer/doc_direct_call": scenario_doc_direct_call,
    "scenario/lazy_weight_losses": scenario_lazy_weight_losses,
    "scenario/activity_property": scenario_activity_property,
    "scenario/scalar_output": scenario_scalar_output,
    "scenario/add_loss_and_weights": scenario_add_loss_and_weights,
    "scenario/nested_layers": scenario_nested_layers,
    "scenario/ActivityRegularization_layer": scenario_activity_regularization_layer,
    "scenario/dense_get_config": scenario_dense_get_config,
    "scenario/dense_inputs": scenario_dense_inputs,
}


@pytest.mark.parametrize("case", G.params("scenario"))
def test_scenario_case(case):
    handler = SCENARIOS.get(case["id"])
    assert handler is not None, f"no translation of golden scenario {case['id']!r}"
    handler(case["expected"])


def test_every_kind_is_covered():
    """The layer kinds of the golden file are the ones this module runs."""
    assert len(G.cases("dense")) == 39
    assert {c["id"] for c in G.cases("scenario")} == set(SCENARIOS)
