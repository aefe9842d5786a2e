"""fastreg.layers: Layer bookkeeping, Dense, ActivityRegularization, initializers, activations.

The contract is the "Layers" table of the project spec's SEMANTICS.md and
keras-reference.md §6; the upstream loss-count tests of §7.1 ("related")
and §7.3 are ported at the end as layer-level equivalents. Convolutions are
in test_conv.py, the golden cases in test_golden_layers.py.
"""

from __future__ import annotations

import doctest
import math
import warnings

import numpy as np
import pytest
from layer_helpers import values

import fastreg
from fastreg import activations, backend, initializers, layers
from fastreg import regularizers as R
from fastreg.utils import custom_object_scope, register_keras_serializable


def ones(*shape, dtype=np.float32):
    return np.ones(shape, dtype)


class Identity(layers.Layer):
    """A layer whose call returns its input (a custom subclass)."""

    def call(self, x):
        return x


# ---------------------------------------------------------------------------
# The seed examples (issue 4)
# ---------------------------------------------------------------------------


def test_seed_example_exactly():
    layer = layers.Dense(
        5,
        input_dim=5,
        kernel_initializer="ones",
        kernel_regularizer=R.L1(0.01),
        activity_regularizer=R.L2(0.01),
    )
    out = layer(np.ones((5, 5)) * 2)
    assert out.dtype == np.float32 and np.all(out == 10.0)
    losses = layer.losses
    assert values(losses) == [5.0, 0.25]
    assert all(np.asarray(v).dtype == np.float32 and np.ndim(v) == 0 for v in losses)
    total = np.sum(losses)
    assert total.dtype == np.float32
    assert np.asarray(total).view(np.uint32) == 0x40A80000  # 5.25, as TF's reduce_sum


@register_keras_serializable(package="Custom", name="l1")
def l1_reg(weight_matrix):
    return 0.01 * np.sum(np.abs(weight_matrix))


@register_keras_serializable(package="Custom", name="l2")
class L2Regularizer(R.Regularizer):
    def __init__(self, l2=0.0):
        self.l2 = l2

    def __call__(self, x):
        return self.l2 * np.sum(np.square(x))

    def get_config(self):
        return {"l2": float(self.l2)}


def test_seed_custom_function_regularizer():
    layer = layers.Dense(5, input_dim=5, kernel_initializer="ones", kernel_regularizer=l1_reg)
    layer(np.ones((5, 5), np.float32))
    assert values(layer.losses) == [0.25]
    # the loss keeps the dtype the user's function returns: float32 under NumPy 2's
    # promotion rules (0.01 * float32 scalar), float64 under NumPy 1's
    assert np.asarray(layer.losses[0]).dtype == np.asarray(l1_reg(layer.kernel)).dtype
    if int(np.__version__.split(".")[0]) >= 2:
        assert np.asarray(layer.losses[0]).dtype == np.float32
    # the registered function survives get_config/from_config as the same object
    back = layers.Dense.from_config(layer.get_config())
    assert back.kernel_regularizer is l1_reg


def test_seed_custom_class_regularizer():
    layer = layers.Dense(
        5, input_dim=5, kernel_initializer="ones", kernel_regularizer=L2Regularizer(l2=0.5)
    )
    layer(np.ones((5, 5), np.float32))
    assert values(layer.losses) == [12.5]
    back = layers.Dense.from_config(layer.get_config())
    assert isinstance(back.kernel_regularizer, L2Regularizer)
    assert back.kernel_regularizer.l2 == 0.5


def test_custom_regularizer_saving_with_scope():
    """tf-keras test_custom_regularizer_saving: a plain function through the config."""

    def my_regularizer(w):
        return np.float32(0.5) * np.sum(w)

    layer = layers.Dense(2, input_dim=3, kernel_regularizer=my_regularizer)
    cfg = layer.get_config()
    with custom_object_scope({"my_regularizer": my_regularizer}):
        back = layers.Dense.from_config(cfg)
    assert back.kernel_regularizer is my_regularizer


# ---------------------------------------------------------------------------
# Order, clearing and laziness of layer.losses
# ---------------------------------------------------------------------------


def _const(v):
    """A regularizer returning a fixed float32 value (so a loss names its origin), or None."""
    return lambda w: None if v is None else np.float32(v)


class Tagged(layers.Layer):
    """add_loss(call_value) in call, a weight whose penalty is weight_value, children."""

    def __init__(self, call_value, weight_value, children=(), **kwargs):
        super().__init__(**kwargs)
        self.call_value = call_value
        self.weight_value = weight_value
        self.children = list(children)

    def build(self, input_shape):
        self.w = self.add_weight("w", (1,), regularizer=_const(self.weight_value))

    def call(self, x):
        self.add_loss(np.float32(self.call_value))
        for child in self.children:
            child(x)
        return x


def test_keras2_order_deep_nesting():
    """keras-reference §6.6: Keras 2 order for two children with two grandchildren each."""
    a = Tagged(10, None, [Tagged(11, 11.5), Tagged(12, 12.5)])
    b = Tagged(20, None, [Tagged(21, 21.5), Tagged(22, 22.5)])

    class Root(layers.Layer):
        def __init__(self):
            super().__init__()
            self.a = a
            self.b = b

        def call(self, x):
            self.add_loss(np.float32(0))
            return self.b(self.a(x))

    root = Root()
    root(ones(1, 1))
    # a None weight penalty is left out (Keras 2 filters None losses)
    assert values(root.losses) == [0, 10, 11, 11.5, 12, 12.5, 20, 21, 21.5, 22, 22.5]


def test_order_is_tracking_order_not_call_order():
    first = Tagged(1, 1.5)
    second = Tagged(2, 2.5)

    class Parent(layers.Layer):
        def __init__(self):
            super().__init__()
            self.first = first
            self.second = second

        def call(self, x):
            return self.first(self.second(x))  # second is called first

    p = Parent()
    p(ones(1, 1))
    assert values(p.losses) == [1, 1.5, 2, 2.5]


def test_shared_sublayer_counted_once_and_containers_tracked():
    shared = Tagged(1, 1.5)

    class Parent(layers.Layer):
        def __init__(self):
            super().__init__()
            self.items = {"b": Tagged(3, 3.5), "a": [shared, (Tagged(2, 2.5),)]}
            self.again = shared

        def call(self, x):
            for layer in (shared, self.items["a"][1][0], self.items["b"]):
                layer(x)
            return x

    p = Parent()
    p(ones(1, 1))
    # dict values in sorted key order ("a" before "b"), the shared layer once
    assert values(p.losses) == [1, 1.5, 2, 2.5, 3, 3.5]
    assert len(p.weights) == 3


def test_list_appended_after_assignment_is_tracked():
    class Parent(layers.Layer):
        def __init__(self):
            super().__init__()
            self.blocks = []
            self.blocks.append(Tagged(1, 1.5))

        def call(self, x):
            return self.blocks[0](x)

    p = Parent()
    p(ones(1, 1))
    assert values(p.losses) == [1, 1.5]


def test_reassigning_attribute_untracks_old_layer():
    class Parent(layers.Layer):
        def __init__(self):
            super().__init__()
            self.child = Tagged(1, 1.5)

    p = Parent()
    old = p.child
    old(ones(1, 1))
    assert values(p.losses) == [1, 1.5]
    p.child = Tagged(2, 2.5)
    assert values(p.losses) == []  # the new child is unbuilt, the old one gone
    del p.child
    assert p._flatten_layers() == [p]


def test_weights_order_and_trainable_subtrees_and_cycles():
    class Parent(layers.Layer):
        def __init__(self):
            super().__init__()
            self.a = layers.Dense(1, input_dim=1, kernel_regularizer=R.L1(1.0))
            self.b = layers.Dense(1, input_dim=1, kernel_regularizer=R.L1(2.0))
            self.a.parent = self  # a cycle must not recurse forever

        def build(self, input_shape):
            self.own = self.add_weight("own", (1,), trainable=False)

    p = Parent()
    p.build((1, 1))
    ak, ab, bk, bb = p.a.kernel, p.a.bias, p.b.kernel, p.b.bias
    ident = [id(w) for w in p.weights]
    assert ident == [id(w) for w in (ak, ab, bk, bb, p.own)]
    p.b.trainable = False  # its weights move to the non-trainable list
    assert [id(w) for w in p.trainable_weights] == [id(ak), id(ab)]
    assert [id(w) for w in p.non_trainable_weights] == [id(p.own), id(bk), id(bb)]
    p.trainable = False
    assert p.trainable_weights == [] and len(p.non_trainable_weights) == 5
    assert len(p.losses) == 2 and p._flatten_layers() == [p, p.a, p.b]


def test_inner_layer_called_twice_keeps_both_activity_losses():
    """keras-reference §6.5 (`scenario/inner_called_twice`): [4.0, 8.0]."""
    inner = Identity(activity_regularizer=R.L1(1.0))

    class Outer(layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = inner

        def call(self, x):
            return self.inner(x) + self.inner(2 * x)

    outer = Outer()
    outer(ones(2, 4))
    assert values(outer.losses) == [4.0, 8.0]
    outer(ones(2, 4))  # the outermost call clears first
    assert values(outer.losses) == [4.0, 8.0]
    inner(ones(2, 4))  # a direct call clears only the inner subtree
    assert values(inner.losses) == [4.0]
    assert values(outer.losses) == [4.0]


def test_direct_sublayer_call_leaves_parent_losses():
    child = Tagged(5, 5.5)

    class Parent(layers.Layer):
        def __init__(self):
            super().__init__()
            self.child = child

        def call(self, x):
            self.add_loss(np.float32(1))
            return self.child(x)

    p = Parent()
    p(ones(1, 1))
    child(ones(1, 1))
    assert values(p.losses) == [1, 5, 5.5]
    assert values(child.losses) == [5, 5.5]


def test_failed_call_does_not_leave_depth_raised():
    class Boom(layers.Layer):
        def call(self, x):
            self.add_loss(np.float32(1))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        Boom()(ones(1, 1))
    with pytest.raises(ValueError, match="Expected a symbolic Tensors"):
        Identity().add_loss(np.float32(1.0))


def test_weight_losses_are_lazy():
    layer = layers.Dense(2, kernel_initializer="ones", kernel_regularizer=R.L1(1.0))
    assert layer.losses == []  # unbuilt
    layer.build((None, 3))
    assert values(layer.losses) == [6.0]  # before any call
    layer.kernel[...] = 2.0
    assert values(layer.losses) == [12.0]
    layer.set_weights([np.full((3, 2), -1.0), np.zeros(2)])
    assert values(layer.losses) == [6.0]
    layer.kernel = np.full((3, 2), 0.5)  # written into the same array
    assert values(layer.losses) == [3.0]
    assert layer.weights[0] is layer.kernel and layer.kernel.dtype == np.float32


def test_kernel_assignment_checks_shape_and_dtype():
    layer = layers.Dense(2, input_dim=3)
    k = layer.kernel
    with pytest.raises(ValueError, match=r"shape \(2, 2\).*shape \(3, 2\)"):
        layer.kernel = np.zeros((2, 2))
    with pytest.raises(TypeError, match="dtype <U1"):
        layer.kernel = np.full((3, 2), "a")
    layer.kernel = np.arange(6, dtype=np.int64).reshape(3, 2)
    assert layer.kernel is k and k.dtype == np.float32 and k[2, 1] == 5.0


def test_weight_losses_include_non_trainable_and_trainable_false():
    class Two(layers.Layer):
        def build(self, input_shape):
            self.a = self.add_weight("a", (2,), initializer="ones", regularizer=R.L1(1.0))
            self.b = self.add_weight(
                "b", (2,), initializer="ones", regularizer=R.L1(10.0), trainable=False
            )

    t = Two()
    t(ones(1, 2))
    assert values(t.losses) == [2.0, 20.0]
    assert [w is t.a for w in t.trainable_weights] == [True]
    assert [w is t.b for w in t.non_trainable_weights] == [True]
    t.trainable = False
    assert values(t.losses) == [2.0, 20.0]
    assert t.trainable_weights == [] and len(t.non_trainable_weights) == 2
    assert [w is x for w, x in zip(t.weights, (t.a, t.b), strict=True)] == [True, True]


def test_regularizer_results_python_float_and_none():
    class W(layers.Layer):
        def build(self, input_shape):
            self.add_weight("f", (1,), regularizer=lambda w: 7.0)
            self.add_weight("n", (1,), regularizer=lambda w: None)
            self.add_weight("i", (1,), regularizer=lambda w: 3)

    w = W(dtype="float64")
    w(np.ones((1, 1)))
    losses = w.losses
    assert values(losses) == [7.0, 3.0]
    # Keras 2 converts Python numbers to floatx tensors
    assert [np.asarray(v).dtype.name for v in losses] == ["float32", "float32"]


def test_weight_losses_in_weight_dtype():
    for dt in ("float16", "float32", "float64"):
        layer = layers.Dense(2, input_dim=2, kernel_regularizer=R.L2(0.1), dtype=dt)
        (loss,) = layer.losses
        assert np.asarray(loss).dtype.name == dt


def test_callable_losses_after_weight_losses():
    class C(layers.Layer):
        def build(self, input_shape):
            self.add_loss(lambda: np.float32(9.0))  # registered before the weight
            self.add_weight("w", (1,), initializer="ones", regularizer=R.L1(2.0))

    c = C()
    c(ones(1, 1))
    assert values(c.losses) == [2.0, 9.0]


# ---------------------------------------------------------------------------
# add_loss
# ---------------------------------------------------------------------------


def test_add_loss_inside_call_number_and_array():
    class A(layers.Layer):
        def call(self, x):
            self.add_loss(1.5)  # Python number -> floatx 0-d value
            self.add_loss([np.float64(2.5), [None, np.asarray(3.5, np.float16)]])
            return x

    a = A()
    a(ones(1, 1))
    losses = a.losses
    assert values(losses) == [1.5, 2.5, 3.5]
    assert [np.asarray(v).dtype.name for v in losses] == ["float32", "float64", "float16"]
    a(ones(1, 1))  # kept until the next outermost call only
    assert len(a.losses) == 3


def test_add_loss_outside_call_raises_keras2_message():
    layer = layers.Dense(1)
    msg = (
        "Expected a symbolic Tensors or a callable for the loss value. "
        "Please wrap your loss computation in a zero argument `lambda`."
    )
    for bad in (1.0, np.float32(1.0), np.ones(2), [np.float32(1.0)]):
        with pytest.raises(ValueError) as info:
            layer.add_loss(bad)
        assert str(info.value) == msg
    assert layer.losses == []
    layer.add_loss(None)  # nothing to add: fine
    assert layer.losses == []
    with pytest.raises(TypeError, match="Unknown keyword arguments"):
        layer.add_loss(lambda: 1.0, bogus=1)
    layer.add_loss(lambda: 1.0, inputs=None)  # Keras's deprecated keyword: ignored
    assert values(layer.losses) == [1.0]


def test_add_loss_callable_lazy_never_cleared_none_filtered():
    state = {"v": 1.0}
    layer = Identity()
    layer.add_loss(lambda: state["v"])
    layer.add_loss(lambda: None)
    layer.add_loss([lambda: np.float64(2.0)])
    assert values(layer.losses) == [1.0, 2.0]
    assert np.asarray(layer.losses[0]).dtype == np.float32
    state["v"] = 5.0
    layer(ones(1, 1))
    layer(ones(1, 1))
    assert values(layer.losses) == [5.0, 2.0]


def test_add_loss_mixed_list_outside_call_keeps_callable_then_raises():
    layer = Identity()
    with pytest.raises(ValueError):
        layer.add_loss([lambda: np.float32(1.0), np.float32(2.0)])
    assert values(layer.losses) == [1.0]  # as Keras 2: callables are added first


# ---------------------------------------------------------------------------
# Activity regularization
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [0, 1, 5, 10])
def test_activity_loss_divided_by_batch(batch):
    """Keras 3 test_activity_regularization_batch_normalization (same numbers in Keras 2.21)."""
    layer = Identity(activity_regularizer="l2")
    layer(ones(batch, 5) * 2)
    (loss,) = layer.losses
    assert np.asarray(loss).dtype == np.float32
    assert float(loss) == pytest.approx(0.0 if batch == 0 else 0.2, rel=1e-6)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_activity_loss_of_empty_batch_has_the_type_of_the_others(dtype):
    scalar = np.dtype(dtype).type
    d = layers.Dense(
        3,
        activity_regularizer=R.L1(0.5),
        kernel_regularizer="l2",
        bias_regularizer=R.L1(0.5),
        bias_initializer="ones",
        dtype=dtype,
    )
    d(np.ones((0, 5)))
    activity, kernel, bias = d.losses
    # a NumPy scalar of the layer dtype, as every other loss (not a 0-d array)
    assert type(activity) is scalar and type(kernel) is scalar and type(bias) is scalar
    assert activity == 0 and not np.signbit(activity)
    # divide_no_nan: batch 0 gives 0 even for a nan loss, of the type a
    # non-empty batch gives (a Python float result is a floatx loss)
    for reg, kind in ((lambda y: scalar(np.nan), scalar), (lambda y: 2.0, np.float32)):
        layer = Identity(activity_regularizer=reg, dtype=dtype)
        layer(np.ones((2, 3)))
        (full,) = layer.losses
        layer(np.ones((0, 3)))
        (empty,) = layer.losses
        assert type(full) is kind and type(empty) is kind
        assert empty == 0 and not np.signbit(empty)


def test_activity_loss_per_output_nested_outputs():
    class Multi(layers.Layer):
        def call(self, x):
            return {"b": [x, 3 * x[:1]], "a": (2 * x,), "z": None}

    m = Multi(activity_regularizer=R.L1(1.0))
    m(ones(2, 3))
    # dict keys sorted: a, then b's list in order; each over its own axis 0
    assert values(m.losses) == [6.0, 3.0, 9.0]


def test_activity_rank3_divides_by_axis0_only():
    layer = Identity(activity_regularizer=R.L1(1.0))
    layer(ones(4, 3, 5))
    assert values(layer.losses) == [15.0]


def test_activity_zero_d_output_not_divided_and_python_float_result():
    class Sum(layers.Layer):
        def call(self, x):
            return np.sum(x)

    s = Sum(activity_regularizer=lambda y: 2.0)  # a plain function, returns a Python float
    s(ones(4, 3))
    (loss,) = s.losses
    assert float(loss) == 2.0 and np.asarray(loss).dtype == np.float32


def test_activity_loss_dtype_follows_output():
    for dt in ("float16", "float64"):
        layer = Identity(activity_regularizer=R.L2(0.5), dtype=dt)
        y = layer(np.ones((3, 2)))
        assert y.dtype.name == dt
        (loss,) = layer.losses
        assert np.asarray(loss).dtype.name == dt and float(loss) == 1.0


def test_activity_after_activation():
    layer = layers.Dense(
        2,
        activation="relu",
        kernel_initializer="ones",
        bias_initializer=initializers.Constant(-10.0),
        activity_regularizer=R.L1(1.0),
    )
    y = layer(ones(3, 2))
    assert np.all(y == 0) and values(layer.losses) == [0.0]


def test_activity_property_on_custom_layer_and_constructor_get():
    layer = Identity()
    assert layer.activity_regularizer is None
    layer.activity_regularizer = R.L1(1.0)
    layer(ones(2, 2))
    assert values(layer.losses) == [2.0]
    reg = object()
    layer.activity_regularizer = reg  # no get(): stored as is
    assert layer.activity_regularizer is reg
    built = Identity(activity_regularizer="l1_l2")  # constructor goes through get()
    assert isinstance(built.activity_regularizer, R.L1L2)
    with pytest.raises(ValueError):
        Identity(activity_regularizer="bogus")


def test_activity_regularizer_set_before_super_init_is_replaced():
    class Early(layers.Layer):
        def __init__(self):
            self.activity_regularizer = R.L1(1.0)
            self.note = "set before super().__init__"
            super().__init__()

    e = Early()
    assert e.activity_regularizer is None and e.note.startswith("set")


# ---------------------------------------------------------------------------
# Layer basics: names, dtype, kwargs, build, weights, config
# ---------------------------------------------------------------------------


def test_unique_default_names():
    class MyUniqueThing(layers.Layer):
        pass

    names = [MyUniqueThing().name for _ in range(3)]
    assert names == ["my_unique_thing", "my_unique_thing_1", "my_unique_thing_2"]
    assert MyUniqueThing(name="custom").name == "custom"
    assert MyUniqueThing().name == "my_unique_thing_3"
    assert layers._to_snake_case("Conv2D") == "conv2d"
    assert layers.ActivityRegularization().name.startswith("activity_regularization")
    with pytest.raises(TypeError):
        MyUniqueThing(name=3)
    with pytest.raises(AttributeError):
        MyUniqueThing().name = "x"


def test_dtype_default_and_casting():
    assert layers.Layer().dtype == "float32"
    layer = Identity(dtype="float64")
    assert layer(np.ones(2, np.float32)).dtype == np.float64
    assert layer(np.ones(2, np.int32)).dtype == np.int32  # base layer: floats only (Keras)
    assert layer([1.0, 2.0])[0].dtype == np.float64  # nested structures are mapped
    assert Identity(autocast=False)(np.ones(2)).dtype == np.float64
    for bad in ("int32", "mixed_float16", "complex64", "bogus"):
        with pytest.raises(ValueError, match="float16, float32 or float64"):
            layers.Layer(dtype=bad)
    assert layers.Layer(dtype={"class_name": "Policy", "config": {"name": "float16"}}).dtype == (
        "float16"
    )
    backend.set_floatx("float64")
    try:
        assert layers.Dense(1).dtype == "float64"
    finally:
        backend.set_floatx("float32")


def test_unknown_keyword_and_forgotten_super_init():
    with pytest.raises(TypeError, match="Keyword argument not understood: 'bogus'"):
        layers.Dense(2, bogus=1)

    class NoInit(layers.Layer):
        def __init__(self):
            pass

    with pytest.raises(RuntimeError, match="forgot to call `super\\(\\).__init__\\(\\)`"):
        NoInit()(ones(1, 1))


def test_training_and_mask_keywords_reach_call_only_if_accepted():
    class T(layers.Layer):
        def call(self, x, training=None):
            return x * (2 if training else 1)

    assert float(T()(ones(1), training=True)[0]) == 2.0
    assert float(Identity()(ones(1), training=True, mask=None)[0]) == 1.0


def test_add_weight_defaults_and_errors():
    layer = layers.Layer()
    w = layer.add_weight("w", (2, 3))
    assert w.dtype == np.float32 and w.shape == (2, 3)
    assert np.all(np.abs(w) <= math.sqrt(6 / 5))  # glorot_uniform by default
    i = layer.add_weight("i", 4, dtype="int32")
    assert i.dtype == np.int32 and np.all(i == 0)
    s = layer.add_weight()
    assert s.shape == () and s.flags.owndata
    with pytest.raises(ValueError, match="An initializer for variable c"):
        layer.add_weight("c", (1,), dtype="complex64")
    with pytest.raises(ValueError, match="returned shape"):
        layer.add_weight("bad", (2,), initializer=lambda shape, dtype=None: np.zeros(3))
    with pytest.raises(ValueError):
        layer.add_weight("r", (2,), regularizer="bogus")
    with pytest.raises(ValueError):
        layer.add_weight("q", (2,), initializer="bogus")
    const = np.arange(3.0)
    owned = layer.add_weight("o", (3,), initializer=lambda shape, dtype=None: const)
    assert owned is not const and not np.shares_memory(owned, const)


def test_get_set_weights():
    layer = layers.Dense(2, input_dim=3)
    ws = layer.get_weights()
    assert [w.shape for w in ws] == [(3, 2), (2,)]
    ws[0][...] = 7  # copies
    assert not np.any(layer.kernel == 7)
    with pytest.raises(ValueError, match="expecting 2 weights"):
        layer.set_weights([np.zeros((3, 2))])
    with pytest.raises(ValueError, match=r"Layer weight shape \(3, 2\) not compatible"):
        layer.set_weights([np.zeros((2, 3)), np.zeros(2)])
    kernel = layer.kernel
    layer.set_weights([np.ones((3, 2)), np.ones(2)])
    assert layer.kernel is kernel and np.all(kernel == 1)


def test_initial_weights_keyword():
    layer = layers.Dense(2, input_dim=3, weights=[np.ones((3, 2)), np.full(2, 5.0)])
    assert np.all(layer.bias == 5.0)
    lazy = layers.Dense(2, weights=[np.ones((3, 2)), np.full(2, 5.0)])
    assert np.all(lazy(ones(1, 3)) == 8.0)


def test_base_layer_config_and_get_config_rule():
    layer = Identity(name="ident", trainable=False, activity_regularizer="l2", input_shape=(3,))
    cfg = layer.get_config()
    assert list(cfg) == ["name", "trainable", "batch_input_shape", "dtype", "activity_regularizer"]
    assert cfg["batch_input_shape"] == (None, 3) and cfg["dtype"] == "float32"
    back = Identity.from_config(cfg)
    assert back.name == "ident" and not back.trainable
    assert isinstance(back.activity_regularizer, R.L2)

    class WithArgs(layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

    with pytest.raises(NotImplementedError, match=r"has arguments \['units'\]"):
        WithArgs(3).get_config()


# ---------------------------------------------------------------------------
# Dense
# ---------------------------------------------------------------------------


def test_dense_forward_matches_numpy_any_rank():
    rng = np.random.default_rng(0)
    layer = layers.Dense(3, activation="tanh", bias_initializer="random_normal")
    for shape in [(4, 5), (2, 3, 5), (2, 1, 3, 5), (0, 5), (1, 0, 5)]:
        x = rng.standard_normal(shape)
        y = layer(x)
        want = np.tanh(x.astype(np.float32) @ layer.kernel + layer.bias)
        assert y.dtype == np.float32 and y.shape == shape[:-1] + (3,)
        np.testing.assert_allclose(y, want, rtol=1e-6, atol=1e-6)


def test_dense_non_contiguous_and_list_input():
    layer = layers.Dense(2, kernel_initializer="ones")
    x = np.arange(24.0).reshape(4, 6)[:, ::2]
    np.testing.assert_array_equal(layer(x), np.repeat(x.sum(1, keepdims=True), 2, 1))
    assert layer([[1, 2, 3]]).tolist() == [[6.0, 6.0]]


def test_dense_float16_and_float64():
    x = np.random.default_rng(1).standard_normal((3, 4))
    for dt, tol in (("float16", 2e-3), ("float64", 1e-12)):
        layer = layers.Dense(2, dtype=dt)
        y = layer(x)
        assert y.dtype.name == dt and layer.kernel.dtype.name == dt
        want = x.astype(dt).astype(np.float64) @ layer.kernel.astype(np.float64)
        np.testing.assert_allclose(y.astype(np.float64), want, rtol=tol, atol=tol)


def test_dense_bad_inputs():
    layer = layers.Dense(2)
    with pytest.raises(ValueError, match="expected min_ndim=2, found ndim=1"):
        layer(np.ones(3))
    with pytest.raises(ValueError, match="expected min_ndim=2, found ndim=0"):
        layer(np.float32(1))
    layer(ones(2, 3))
    with pytest.raises(ValueError) as info:
        layer(ones(2, 4))
    assert str(info.value) == (
        f'Input 0 of layer "{layer.name}" is incompatible with the layer: expected axis -1 '
        "of input shape to have value 3, but received input with shape (2, 4)"
    )
    for bad in (np.array([["a", "b", "c"]]), np.array([[None, 1, 2]], dtype=object)):
        with pytest.raises(TypeError, match=f"dtype {bad.dtype}"):
            layer(bad)
    with pytest.raises(TypeError, match="dtype complex128"):
        layer(np.ones((1, 3), complex))
    assert layer(np.ones((1, 3), bool)).dtype == np.float32


def test_dense_constructor_errors():
    with pytest.raises(ValueError, match="invalid value for `units`"):
        layers.Dense(-1)
    with pytest.raises(ValueError):
        layers.Dense(2.5)
    with pytest.raises(TypeError):
        layers.Dense("2")
    for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
        with pytest.raises(ValueError):
            layers.Dense(2, **{key: "bogus"})
    with pytest.raises(ValueError, match="Unknown initializer"):
        layers.Dense(2, kernel_initializer="bogus")
    with pytest.raises(ValueError, match="Unknown activation"):
        layers.Dense(2, activation="bogus")
    with pytest.raises(NotImplementedError, match="constraints"):
        layers.Dense(2, kernel_constraint="max_norm")
    assert layers.Dense(0)(ones(2, 3)).shape == (2, 0)


def test_dense_input_shape_builds_eagerly():
    d = layers.Dense(4, input_shape=(3,))
    assert d.built and d.kernel.shape == (3, 4)
    d = layers.Dense(4, input_shape=(7, 3), kernel_regularizer="l1")
    assert d.built and d.kernel.shape == (3, 4) and len(d.losses) == 1
    assert not layers.Dense(4).built
    with pytest.raises(AttributeError):
        _ = layers.Dense(4).kernel  # no kernel before build, as Keras
    no_bias = layers.Dense(2, use_bias=False, bias_regularizer="l2", input_dim=2)
    assert no_bias.bias is None and no_bias.losses == [] and len(no_bias.weights) == 1


def test_dense_config_keys_and_round_trip():
    layer = layers.Dense(
        3,
        activation="relu",
        use_bias=False,
        kernel_initializer=initializers.RandomNormal(stddev=0.1, seed=3),
        kernel_regularizer=R.L1(0.5),
        activity_regularizer=R.L2(0.25),
        input_dim=2,
        name="dd",
        dtype="float64",
    )
    cfg = layer.get_config()
    assert list(cfg) == [
        "name",
        "trainable",
        "batch_input_shape",
        "dtype",
        "units",
        "activation",
        "use_bias",
        "kernel_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "bias_regularizer",
        "activity_regularizer",
        "kernel_constraint",
        "bias_constraint",
    ]
    assert cfg["kernel_initializer"] == {
        "module": "keras.initializers",
        "class_name": "RandomNormal",
        "config": {"mean": 0.0, "stddev": 0.1, "seed": 3},
        "registered_name": None,
    }
    assert cfg["activation"] == "relu" and cfg["bias_regularizer"] is None
    back = layers.Dense.from_config(cfg)
    assert back.get_config() == cfg
    assert back.built and back.dtype == "float64"
    np.testing.assert_array_equal(back.kernel, layer.kernel)  # same seed, same values


def test_dense_from_keras_legacy_config():
    """A TF 2.4-style config (legacy dicts) loads."""
    cfg = {
        "name": "legacy",
        "trainable": True,
        "dtype": "float32",
        "units": 2,
        "activation": "linear",
        "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": {"class_name": "L1", "config": {"l1": 0.5}},
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None,
        "bias_constraint": None,
    }
    layer = layers.Dense.from_config(cfg)
    assert isinstance(layer.kernel_regularizer, R.L1)
    assert isinstance(layer.kernel_initializer, initializers.GlorotUniform)


# ---------------------------------------------------------------------------
# ActivityRegularization
# ---------------------------------------------------------------------------


def test_activity_regularization_layer():
    layer = layers.ActivityRegularization(l1=0.2, l2=0.3)
    x = 2 * ones(1)
    y = layer(x)
    np.testing.assert_array_equal(y, x)
    assert values(layer.losses) == [pytest.approx(1.6, rel=1e-6)]
    assert isinstance(layer.activity_regularizer, R.L1L2)
    cfg = layer.get_config()
    assert list(cfg) == ["name", "trainable", "dtype", "l1", "l2"]
    back = layers.ActivityRegularization.from_config(cfg)
    assert (back.l1, back.l2) == (0.2, 0.3)
    neg = layers.ActivityRegularization(l1=-0.5)  # Keras 2: not validated
    assert neg.get_config()["l1"] == -0.5
    assert layers.ActivityRegularization()(np.ones((2, 2))).dtype == np.float32


# ---------------------------------------------------------------------------
# Upstream loss-count tests, ported (keras-reference §7.1 "related", §7.3)
# ---------------------------------------------------------------------------


def test_tf_keras_core_dense_three_losses_and_activity_regularization_one():
    layer = layers.Dense(
        3, kernel_regularizer=R.l1(0.01), bias_regularizer="l1", activity_regularizer="l2"
    )
    layer(ones(2, 4))
    assert len(layer.losses) == 3
    act = layers.ActivityRegularization(l1=0.1)
    act(ones(2, 4))
    assert len(act.losses) == 1


class _RegTensor(R.Regularizer):
    def __call__(self, x):
        return np.asarray(0.0, np.float32)


class _RegFloat(R.Regularizer):
    def __call__(self, x):
        return 0.0


def _regularizer_zoo():
    def fn_tensor(x):
        return np.asarray(0.0, np.float32)

    def fn_float(x):
        return 0.0

    return [
        R.l1(),
        R.l2(),
        R.l1_l2(),
        R.l2(0.0),
        fn_tensor,
        fn_float,
        lambda x: np.asarray(0.0, np.float32),
        lambda x: 0.0,
        R.Regularizer(),
        _RegTensor(),
        _RegFloat(),
    ]


@pytest.mark.parametrize("key", ["kernel_regularizer", "bias_regularizer", "activity_regularizer"])
def test_tf_keras_one_loss_per_regularizer(key):
    """tf-keras test_kernel/bias/activity_regularization over the 11 regularizers."""
    for reg in _regularizer_zoo():
        layer = layers.Dense(2, input_shape=(5,), **{key: reg})
        layer(np.random.default_rng(0).standard_normal((3, 5)))
        losses = layer.losses
        assert len(losses) == 1, (key, reg)
        assert np.ndim(losses[0]) == 0 and np.asarray(losses[0]).dtype == np.float32


def test_tf_keras_zero_regularization():
    layer = layers.Dense(3, kernel_regularizer=R.l2(0))
    layer(ones(2, 4))
    assert values(layer.losses) == [0.0]


@pytest.mark.parametrize("reg", [R.l1, R.l2, R.l1_l2])
def test_tf_keras_shared_layer_counts(reg):
    """test_regularization_shared_layer / _shared_model, as eager layer calls.

    One Dense (kernel + activity regularizer) applied to two inputs plus two
    add_loss → 5 losses. Keras's shared-*model* variant counts 6 because the
    functional model's own construction call adds a symbolic activity loss;
    eager calls have no such extra call, so the wrapped variant also gives 5.
    """
    dense = layers.Dense(2, kernel_regularizer=reg(), activity_regularizer=reg())

    class TwoInputs(layers.Layer):
        def __init__(self, first, second):
            super().__init__()
            self.first = first
            self.second = second

        def call(self, inputs):
            a, b = inputs
            out1, out2 = self.first(a), self.second(b)
            self.add_loss(np.sum(out1))
            self.add_loss(np.sum(out2))
            return (out1 + out2) / 2

    model = TwoInputs(dense, dense)
    model([ones(3, 5), ones(3, 5)])
    assert len(model.losses) == 5

    class Wrapper(layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = dense

        def call(self, x):
            return self.dense(x)

    wrapped = Wrapper()
    shared_model = TwoInputs(wrapped, wrapped)
    shared_model([ones(3, 5), ones(3, 5)])
    assert len(shared_model.losses) == 5


def test_keras3_activity_regularization_reset_per_call():
    layer = Identity(activity_regularizer="l1")
    layer(np.ones((1,)))
    assert values(layer.losses) == [pytest.approx(0.01)]
    layer(np.ones((1,)))
    assert len(layer.losses) == 1


def test_keras3_add_loss_reset_and_visible_through_containers():
    class AddLoss(layers.Layer):
        def call(self, x):
            self.add_loss(np.sum(x))
            return x

    class Sequential(layers.Layer):
        def __init__(self, stack):
            super().__init__()
            self.stack = list(stack)

        def call(self, x):
            for layer in self.stack:
                x = layer(x)
            return x

    inner = AddLoss()
    inner(np.ones((1,)))
    assert values(inner.losses) == [1.0]
    inner(np.ones((1,)))
    assert values(inner.losses) == [1.0]
    seq = Sequential([inner])
    seq(np.ones((1,)))
    assert values(seq.losses) == [1.0]
    nested = Sequential([Sequential([inner])])
    nested(np.ones((1,)))
    assert values(nested.losses) == [1.0]


def test_keras3_serialize_activity_regularizer():
    cfg = layers.Dense(2, activity_regularizer="l2").get_config()
    assert "activity_regularizer" in cfg
    assert isinstance(layers.Dense.from_config(cfg).activity_regularizer, R.L2)
    plain = layers.Dense(2).get_config()
    assert plain["activity_regularizer"] is None  # Keras 2: the key is always there


def test_keras3_activity_regularization_layer():
    layer = layers.ActivityRegularization(l1=0.2, l2=0.3)
    layer(2 * np.ones((1,)))
    assert len(layer.losses) == 1
    assert float(layer.losses[0]) == pytest.approx(1.6, rel=1e-6)


# ---------------------------------------------------------------------------
# Initializers
# ---------------------------------------------------------------------------

INIT_NAMES = [
    "zeros",
    "ones",
    "constant",
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "random_uniform",
    "random_normal",
    "truncated_normal",
    "orthogonal",
    "identity",
]


@pytest.mark.parametrize("name", INIT_NAMES)
def test_initializer_names(name):
    init = initializers.get(name)
    for dt in ("float16", "float32", "float64"):
        a = init((4, 3), dtype=dt)
        assert a.shape == (4, 3) and a.dtype.name == dt and np.all(np.isfinite(a))
    assert init((4, 3)).dtype == np.float32
    camel = "".join(p.capitalize() for p in name.split("_"))
    assert type(initializers.get(camel)) is type(init)
    cfg = initializers.serialize(init)
    assert type(initializers.deserialize(cfg)) is type(init)
    assert initializers.get(cfg).get_config() == init.get_config()


def test_initializer_values():
    assert np.all(initializers.get("zeros")((2,)) == 0)
    assert np.all(initializers.Constant(2.5)((2, 2)) == 2.5)
    np.testing.assert_array_equal(initializers.get("identity")((2, 3)), np.eye(2, 3))
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((2, 2)), 3 * np.eye(2))
    u = initializers.RandomUniform(-2.0, -1.0, seed=1)((1000,))
    assert u.min() >= -2 and u.max() < -1
    t = initializers.TruncatedNormal(mean=1.0, stddev=0.5, seed=2)((20000,), dtype="float64")
    assert t.min() >= 0 and t.max() <= 2 and abs(t.mean() - 1) < 0.02
    n = initializers.RandomNormal(mean=3.0, stddev=2.0, seed=3)((20000,), dtype="float64")
    assert abs(n.mean() - 3) < 0.1 and abs(n.std() - 2) < 0.1


@pytest.mark.parametrize("shape", [(64, 32), (3, 3, 16, 32), (5, 8, 4), (2, 2, 2, 4, 8), (50,), ()])
def test_variance_scaling_fans(shape):
    """Keras fans: (in, out) for 2-D; times the receptive field for conv kernels."""
    if len(shape) == 0:
        fan_in = fan_out = 1
    elif len(shape) == 1:
        fan_in = fan_out = shape[0]
    else:
        receptive = math.prod(shape[:-2])
        fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
    glorot = initializers.GlorotUniform(seed=0)(shape, dtype="float64")
    assert np.all(np.abs(glorot) <= math.sqrt(6 / (fan_in + fan_out)))
    he = initializers.HeUniform(seed=0)(shape, dtype="float64")
    assert np.all(np.abs(he) <= math.sqrt(6 / fan_in))
    lecun = initializers.LecunUniform(seed=0)(shape, dtype="float64")
    assert np.all(np.abs(lecun) <= math.sqrt(3 / fan_in))
    if np.size(glorot) >= 1000:  # the limit is actually reached, and the normals' variance
        limit = math.sqrt(6 / (fan_in + fan_out))
        assert np.abs(glorot).max() > 0.95 * limit
        hn = initializers.HeNormal(seed=0)(shape, dtype="float64")
        assert hn.std() == pytest.approx(math.sqrt(2 / fan_in), rel=0.1)
        assert np.abs(hn).max() <= 2 * math.sqrt(2 / fan_in) / 0.87962566103423978


def test_seeds_and_orthogonal():
    a = initializers.GlorotNormal(seed=7)((5, 5))
    np.testing.assert_array_equal(
        a, initializers.get({"class_name": "GlorotNormal", "config": {"seed": 7}})((5, 5))
    )
    assert not np.array_equal(initializers.GlorotNormal()((5, 5)), a)
    for shape in [(4, 4), (6, 3), (3, 6), (2, 3, 4)]:
        q = initializers.Orthogonal(gain=2.0, seed=1)(shape, dtype="float64")
        assert q.shape == shape
        m = q.reshape(-1, shape[-1])
        small = min(m.shape)
        gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
        np.testing.assert_allclose(gram, 4 * np.eye(small), atol=1e-12)
    with pytest.raises(ValueError, match="at least two-dimensional"):
        initializers.Orthogonal()((3,))
    with pytest.raises(ValueError, match="2D matrices"):
        initializers.Identity()((2, 2, 2))


def test_initializer_get_errors_and_callables():
    for bad in ("bogus", {"class_name": "Bogus", "config": {}}):
        with pytest.raises(ValueError, match="Unknown initializer"):
            initializers.get(bad)
    with pytest.raises(ValueError, match="Could not interpret initializer"):
        initializers.get(5)
    with pytest.raises(ValueError, match="Improper config"):
        initializers.get({"config": {}})

    def halves(shape, dtype=None):
        return np.full(shape, 0.5, dtype=dtype)

    assert initializers.get(halves) is halves
    assert isinstance(initializers.get(initializers.Ones), initializers.Ones)
    layer = layers.Dense(2, kernel_initializer=halves, input_dim=2)
    assert np.all(layer.kernel == 0.5)
    assert layer.get_config()["kernel_initializer"] == "halves"
    with pytest.raises(ValueError):
        initializers.VarianceScaling(mode="fan_bogus")
    with pytest.raises(ValueError):
        initializers.VarianceScaling(distribution="cauchy")
    with pytest.raises(ValueError):
        initializers.VarianceScaling(scale=0.0)


def test_registered_custom_initializer_by_name():
    @register_keras_serializable(package="LayerTests")
    class Sevens(initializers.Initializer):
        def __call__(self, shape, dtype=None):
            return np.full(shape, 7.0, dtype=dtype)

    layer = layers.Dense(1, kernel_initializer="LayerTests>Sevens", input_dim=2)
    assert np.all(layer.kernel == 7)
    cfg = layer.get_config()["kernel_initializer"]
    assert cfg["registered_name"] == "LayerTests>Sevens"
    assert isinstance(initializers.deserialize(cfg), Sevens)


# ---------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------

_SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946)


def _scalar_reference(name, v):
    """Each activation on one float64 number, from the math module."""
    sig = 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))
    return {
        "linear": v,
        "relu": max(v, 0.0),
        "sigmoid": sig,
        "tanh": math.tanh(v),
        "elu": v if v > 0 else math.expm1(v),
        "selu": _SELU[1] * (v if v > 0 else _SELU[0] * math.expm1(v)),
        "softplus": max(v, 0) + math.log1p(math.exp(-abs(v))),
        "softsign": v / (1 + abs(v)),
        "swish": v * sig,
        "gelu": 0.5 * v * (1 + math.erf(v / math.sqrt(2))),
        "exponential": math.exp(v),
        "hard_sigmoid": min(max(0.2 * v + 0.5, 0.0), 1.0),
    }[name]


ELEMENTWISE = [
    "linear",
    "relu",
    "sigmoid",
    "tanh",
    "elu",
    "selu",
    "softplus",
    "softsign",
    "swish",
    "gelu",
    "exponential",
    "hard_sigmoid",
]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activation_values_and_dtypes(name):
    fn = activations.get(name)
    x = np.array([-30.0, -3.0, -2.5, -1.0, -0.3, 0.0, 0.25, 1.0, 2.5, 3.0, 20.0])
    want = np.array([_scalar_reference(name, float(v)) for v in x])
    np.testing.assert_allclose(fn(x), want, rtol=1e-13, atol=1e-300)
    for dt, tol in (("float32", 1e-6), ("float16", 2e-3)):
        got = fn(x.astype(dt))
        assert got.dtype.name == dt and got.shape == x.shape
        ref = np.array([_scalar_reference(name, float(v)) for v in x.astype(dt)])
        with np.errstate(over="ignore"):
            ref = ref.astype(dt).astype(np.float64)
        np.testing.assert_allclose(got.astype(np.float64), ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ELEMENTWISE + ["softmax"])
def test_activation_extremes_are_silent(name):
    fn = activations.get(name)
    x = np.array([[-np.inf, -1e30, -100.0, 0.0, 100.0, 1e30, np.inf, np.nan]], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = fn(x)
    assert y.dtype == np.float32 and y.shape == x.shape


def test_gelu_erf_accuracy_and_approximate():
    x = np.linspace(-8, 8, 4001)
    want = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x])
    # 1 + erf(x/√2) cancels for x << 0 (the Keras formula): an ulp of erf is
    # ~1e-16 absolute there, so compare absolutely in the tail
    np.testing.assert_allclose(activations.gelu(x), want, rtol=1e-14, atol=1e-14)
    erf = activations._erf(x)
    np.testing.assert_allclose(erf, [math.erf(v) for v in x], rtol=0, atol=2e-15)
    tiny = np.array([1e-300, 1e-20, -1e-8])
    np.testing.assert_allclose(activations._erf(tiny), [math.erf(v) for v in tiny], rtol=1e-15)
    approx = activations.gelu(np.array([1.0]), approximate=True)
    c = math.sqrt(2 / math.pi)
    assert approx[0] == pytest.approx(0.5 * (1 + math.tanh(c * (1 + 0.044715))), rel=1e-15)


def test_softmax_and_relu_options():
    x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1000.0]])
    y = activations.softmax(x)
    e = np.exp(x[0] - 3)
    np.testing.assert_allclose(y[0], e / e.sum(), rtol=1e-15)
    np.testing.assert_allclose(y[1], [0, 0, 1])
    np.testing.assert_allclose(activations.softmax(x, axis=0).sum(0), 1)
    with pytest.raises(ValueError, match="Cannot apply softmax to a tensor that is 1D"):
        activations.softmax(np.ones(3))
    r = activations.relu(np.array([-2.0, 0.5, 1.0, 3.0]), alpha=0.1, max_value=2.0, threshold=1.0)
    np.testing.assert_allclose(r, [-0.3, -0.05, 0.0, 2.0])


def test_activation_lookup():
    assert activations.get(None) is activations.linear
    assert activations.get("silu") is activations.swish
    assert activations.get({"class_name": "function", "config": "relu"}) is activations.relu

    def mine(x):
        return x

    assert activations.get(mine) is mine
    assert activations.serialize(mine) == "mine"
    assert activations.serialize(activations.swish) == "swish"
    with pytest.raises(ValueError, match="Unknown activation function: 'bogus'"):
        activations.get("bogus")
    with pytest.raises(ValueError, match="Could not interpret"):
        activations.get(3)
    with pytest.raises(TypeError, match="dtype <U1"):
        activations.relu(np.array(["a"]))
    with custom_object_scope({"mine": mine}):
        assert layers.Dense(1, activation="mine").activation is mine


# ---------------------------------------------------------------------------
# Doctests (pytest's --doctest-modules only collects tests/ by default)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("module", [layers, initializers, activations], ids=lambda m: m.__name__)
def test_module_doctests(module):
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.attempted > 0 and result.failed == 0


def test_public_names():
    assert set(layers.__all__) >= {
        "Layer",
        "Dense",
        "Conv1D",
        "Conv2D",
        "Conv3D",
        "ActivityRegularization",
    }
    assert fastreg.layers is layers
