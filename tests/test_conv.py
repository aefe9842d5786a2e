"""Conv1D / Conv2D / Conv3D: forward pass against a direct loop implementation, loss rules, errors.

The reference (``layer_helpers.conv_reference``) loops over the batch, the
output positions and the kernel taps in float64, with TensorFlow's padding
rules written out independently; the layers use a vectorised im2col
product. Every padding, stride, dilation and data format is covered, in
1-D, 2-D and 3-D, with odd sizes.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from layer_helpers import assert_close, conv_reference, values

from fastreg import layers
from fastreg import regularizers as R

CLASSES = {1: layers.Conv1D, 2: layers.Conv2D, 3: layers.Conv3D}


def _cases():
    """(rank, spatial, kernel, strides, dilation, padding, data_format) combinations."""
    out = []
    shapes = {
        1: [((7,), (3,)), ((1,), (1,)), ((10,), (4,))],
        2: [((7, 5), (3, 2)), ((6, 9), (1, 4))],
        3: [((5, 4, 6), (2, 3, 1))],
    }
    strides = {1: [(1,), (2,), (3,)], 2: [(1, 1), (2, 3)], 3: [(1, 1, 1), (2, 1, 3)]}
    dilations = {1: [(1,), (2,)], 2: [(1, 1), (2, 1)], 3: [(1, 1, 1), (1, 2, 1)]}
    for rank in (1, 2, 3):
        paddings = ["valid", "same"] + (["causal"] if rank == 1 else [])
        for (spatial, kernel), s, d, p, fmt in itertools.product(
            shapes[rank],
            strides[rank],
            dilations[rank],
            paddings,
            ["channels_last", "channels_first"],
        ):
            eff = [(k - 1) * dd + 1 for k, dd in zip(kernel, d, strict=True)]
            if p == "valid" and any(n < e for n, e in zip(spatial, eff, strict=True)):
                continue  # covered by test_valid_padding_too_small
            out.append(
                pytest.param(
                    rank,
                    spatial,
                    kernel,
                    s,
                    d,
                    p,
                    fmt,
                    id=f"{rank}d-"
                    f"{'x'.join(map(str, spatial))}-k{'x'.join(map(str, kernel))}"
                    f"-s{''.join(map(str, s))}-d{''.join(map(str, d))}-{p}-{fmt}",
                )
            )
    return out


@pytest.mark.parametrize("rank,spatial,kernel,strides,dilation,padding,data_format", _cases())
def test_forward_matches_direct_loops(
    rank, spatial, kernel, strides, dilation, padding, data_format
):
    rng = np.random.default_rng(hash((rank, spatial, kernel, strides, dilation)) % 2**32)
    batch, cin, filters = 2, 3, 4
    if data_format == "channels_last":
        shape = (batch, *spatial, cin)
    else:
        shape = (batch, cin, *spatial)
    x = rng.standard_normal(shape).astype(np.float64)
    layer = CLASSES[rank](
        filters,
        kernel,
        strides=strides,
        padding=padding,
        data_format=data_format,
        dilation_rate=dilation,
        bias_initializer="random_normal",
        dtype="float64",
    )
    y = layer(x)
    assert layer.kernel.shape == (*kernel, cin, filters)
    want = conv_reference(x, layer.kernel, layer.bias, strides, padding, data_format, dilation)
    assert y.shape == want.shape == layer.compute_output_shape(x.shape)
    assert y.dtype == np.float64
    assert_close(y, want, rtol=1e-12, atol=1e-12)


@st.composite
def _random_conv(draw):
    rank = draw(st.integers(1, 3))
    padding = draw(st.sampled_from(["valid", "same"] + (["causal"] if rank == 1 else [])))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    strides = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    low = [
        (k - 1) * d + 1 if padding == "valid" else 1 for k, d in zip(kernel, dilation, strict=True)
    ]
    spatial = tuple(draw(st.integers(lo, lo + 4)) for lo in low)
    return (
        rank,
        spatial,
        kernel,
        strides,
        dilation,
        padding,
        draw(st.sampled_from(["channels_last", "channels_first"])),
        draw(st.integers(0, 2)),  # batch
        draw(st.integers(1, 3)),  # in channels
        draw(st.integers(1, 3)),  # filters
        draw(st.integers(0, 2**32 - 1)),
    )


@settings(max_examples=60, deadline=None)
@given(_random_conv())
def test_forward_matches_direct_loops_random(params):
    rank, spatial, kernel, strides, dilation, padding, fmt, batch, cin, filters, seed = params
    rng = np.random.default_rng(seed)
    shape = (batch, *spatial, cin) if fmt == "channels_last" else (batch, cin, *spatial)
    x = rng.standard_normal(shape)
    layer = CLASSES[rank](
        filters,
        kernel,
        strides=strides,
        padding=padding,
        data_format=fmt,
        dilation_rate=dilation,
        bias_initializer="random_normal",
        dtype="float64",
    )
    y = layer(x)
    want = conv_reference(x, layer.kernel, layer.bias, strides, padding, fmt, dilation)
    assert_close(y, want, rtol=1e-12, atol=1e-12)


def test_same_padding_puts_the_extra_pad_at_the_end():
    """Hand-computed: n=4, k=2 'same' pads (0, 1); n=5, k=4 pads (1, 2)."""
    c = layers.Conv1D(1, 2, padding="same", kernel_initializer="ones", use_bias=False)
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1)
    assert c(x).ravel().tolist() == [3.0, 5.0, 7.0, 4.0]
    c = layers.Conv1D(1, 4, padding="same", kernel_initializer="ones", use_bias=False)
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0]).reshape(1, 5, 1)
    assert c(x).ravel().tolist() == [6.0, 10.0, 14.0, 12.0, 9.0]
    # stride 2 on n=6 with k=3: out 3, total pad 1, all of it at the end
    c = layers.Conv1D(1, 3, strides=2, padding="same", kernel_initializer="ones", use_bias=False)
    x = np.arange(1.0, 7.0).reshape(1, 6, 1)
    assert c(x).ravel().tolist() == [6.0, 12.0, 11.0]


def test_causal_padding_with_dilation_and_channels_first():
    c = layers.Conv1D(
        1,
        2,
        padding="causal",
        dilation_rate=2,
        kernel_initializer="ones",
        use_bias=False,
        data_format="channels_first",
    )
    x = np.arange(1.0, 6.0).reshape(1, 1, 5)
    assert c(x).ravel().tolist() == [1.0, 2.0, 4.0, 6.0, 8.0]


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_float32_float16_batch_dims_and_empty_batch(rank):
    rng = np.random.default_rng(rank)
    spatial = (5, 4, 3)[:rank]
    x = rng.standard_normal((2, 3, *spatial, 2))
    for dt, tol in (("float32", 1e-5), ("float16", 1e-2)):
        layer = CLASSES[rank](3, 2, padding="same", dtype=dt, activation="relu")
        y = layer(x)  # two leading batch dimensions
        assert y.dtype.name == dt and y.shape == (2, 3, *spatial, 3)
        xin = x.astype(dt).reshape(6, *spatial, 2)
        want = conv_reference(
            xin, layer.kernel, layer.bias, (1,) * rank, "same", "channels_last", (1,) * rank
        )
        assert_close(y.reshape(6, *spatial, 3), np.maximum(want, 0), rtol=tol, atol=tol)
        empty = layer(np.zeros((0, *spatial, 2), dt))
        assert empty.shape == (0, *spatial, 3) and empty.dtype.name == dt


def test_int_and_list_inputs_are_cast_and_input_untouched():
    layer = layers.Conv2D(1, 2, kernel_initializer="ones", use_bias=False)
    x = np.arange(9, dtype=np.int64).reshape(1, 3, 3, 1)
    y = layer(x)
    assert y.dtype == np.float32 and y[..., 0].tolist() == [[[8.0, 12.0], [20.0, 24.0]]]
    assert layer(x.tolist()).dtype == np.float32
    f = np.arange(9.0).reshape(1, 3, 3, 1)
    before = f.copy()
    layer(f)
    np.testing.assert_array_equal(f, before)


def test_large_input_uses_chunks_and_stays_exact():
    """A patch matrix above the chunk limit (several batch chunks) gives the same result."""
    rng = np.random.default_rng(5)
    layer = layers.Conv2D(8, 3, padding="same", dtype="float64")
    x = rng.standard_normal((20, 40, 40, 16))  # 20·1600 rows × 144 cols × 8 B ≈ 37 MB
    y = layer(x)
    want = np.concatenate([layer(x[i : i + 1]) for i in range(0, 20)])
    np.testing.assert_allclose(y, want, rtol=1e-13, atol=1e-13)
    spot = conv_reference(
        x[:1, :5, :5], layer.kernel, layer.bias, (1, 1), "same", "channels_last", (1, 1)
    )
    # the top-left 4x4 corner only sees that 5x5 window (same padding, k=3)
    np.testing.assert_allclose(y[0, :4, :4], spot[0, :4, :4], rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------------
# Loss rules on each conv layer
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_conv_losses_order_division_and_laziness(rank):
    spatial = (6, 5, 4)[:rank]
    layer = CLASSES[rank](
        2,
        3,
        padding="same",
        kernel_initializer="ones",
        bias_initializer="ones",
        kernel_regularizer=R.L2(0.01),
        bias_regularizer=R.L1(0.5),
        activity_regularizer=R.L1(0.1),
    )
    x = np.ones((3, *spatial, 2), np.float32)
    y = layer(x)
    act = R.L1(0.1)(y) / np.float32(3)
    ker = R.L2(0.01)(layer.kernel)
    bias = R.L1(0.5)(layer.bias)
    losses = layer.losses
    assert values(losses) == values([act, ker, bias])  # [activity, kernel, bias]
    assert all(np.asarray(v).dtype == np.float32 and np.ndim(v) == 0 for v in losses)
    assert float(ker) == pytest.approx(0.01 * 2 * 2 * 3**rank, rel=1e-6)
    layer.kernel[...] = 2.0  # weight losses fresh, activity stale
    assert values(layer.losses) == values([act, 4 * ker, bias])
    layer(np.zeros((0, *spatial, 2), np.float32))  # batch 0 → activity 0
    assert values(layer.losses)[0] == 0.0
    layer.trainable = False  # Keras 2: still listed
    assert len(layer.losses) == 3


def test_conv2d_scenario_shape_of_keras_reference():
    """keras-reference §6.8 (`scenario/conv2d`): [activity, kernel, bias] with a 0.0 bias loss."""
    layer = layers.Conv2D(
        2,
        3,
        kernel_initializer="ones",
        kernel_regularizer=R.L2(0.01),
        bias_regularizer=R.L2(0.01),
        activity_regularizer=R.L2(0.01),
    )
    x = np.ones((2, 3, 3, 1), np.float32)
    layer(x)
    # output 9 in each of 2 filters per sample → L2 0.01·(2·2·81)/2 = 1.62; kernel 0.18
    assert values(layer.losses) == pytest.approx([1.62, 0.18, 0.0], rel=1e-6)


def test_conv_activity_property_and_callable_regularizer():
    layer = layers.Conv1D(1, 1, kernel_initializer="ones", use_bias=False)
    layer.activity_regularizer = lambda y: 3.0  # Python float → floatx, divided by batch
    layer(np.ones((2, 4, 1)))
    (loss,) = layer.losses
    assert float(loss) == 1.5 and np.asarray(loss).dtype == np.float32
    layer.activity_regularizer = "l2"  # not through get()
    with pytest.raises(TypeError, match="'str' object is not callable"):
        layer(np.ones((2, 4, 1)))


# ---------------------------------------------------------------------------
# Construction, build and input errors
# ---------------------------------------------------------------------------


def test_bad_padding_and_data_format():
    with pytest.raises(ValueError, match='The `padding` argument must be one of "valid", "same"'):
        layers.Conv2D(1, 2, padding="full")
    with pytest.raises(ValueError, match="padding"):
        layers.Conv1D(1, 2, padding=(1, 1))
    with pytest.raises(ValueError, match="Causal padding is only supported for `Conv1D`"):
        layers.Conv2D(1, 2, padding="causal")
    with pytest.raises(ValueError, match='"channels_first", "channels_last"'):
        layers.Conv2D(1, 2, data_format="NHWC")
    assert layers.Conv2D(1, 2, padding="SAME", data_format="Channels_First").padding == "same"
    assert layers.Conv2D(1, 2, data_format=None).data_format == "channels_last"


def test_bad_sizes():
    with pytest.raises(ValueError, match="`kernel_size` argument must be a tuple of 2 integers"):
        layers.Conv2D(1, (2, 2, 2))
    with pytest.raises(ValueError, match="requirement `> 0`"):
        layers.Conv2D(1, (2, 0))
    with pytest.raises(ValueError, match="strides"):
        layers.Conv1D(1, 2, strides=0)
    with pytest.raises(ValueError, match="dilation_rate"):
        layers.Conv3D(1, 2, dilation_rate=(1, 1))
    with pytest.raises(ValueError, match="kernel_size"):
        layers.Conv1D(1, 2.5)
    with pytest.raises(ValueError, match="`filters`"):
        layers.Conv1D(0, 2)
    with pytest.raises(TypeError):
        layers.Conv1D("3", 2)
    with pytest.raises(NotImplementedError, match="groups=1"):
        layers.Conv2D(4, 2, groups=2)
    with pytest.raises(ValueError):
        layers.Conv2D(1, 2, kernel_regularizer="bogus")
    with pytest.raises(ValueError, match="Unknown initializer"):
        layers.Conv2D(1, 2, bias_initializer="bogus")
    with pytest.raises(ValueError, match="Unknown activation"):
        layers.Conv2D(1, 2, activation="bogus")


def test_valid_padding_too_small():
    layer = layers.Conv2D(1, 3, dilation_rate=2)
    with pytest.raises(ValueError, match="<= 0 due to downsampling"):
        layer(np.ones((1, 4, 9, 1)))
    with pytest.raises(ValueError, match="<= 0 due to downsampling"):
        layers.Conv1D(1, 3, input_shape=(2, 1))
    ok = layers.Conv1D(1, 3, input_shape=(None, 1))  # unknown length: fine until called
    assert ok.built
    with pytest.raises(ValueError, match="<= 0"):
        ok(np.ones((1, 2, 1)))


def test_wrong_rank_channels_and_dtype():
    layer = layers.Conv2D(2, 2)
    with pytest.raises(ValueError) as info:
        layer(np.ones((3, 3, 1)))
    assert str(info.value) == (
        f'Input 0 of layer "{layer.name}" is incompatible with the layer: expected '
        "min_ndim=4, found ndim=3. Full shape received: (3, 3, 1)"
    )
    layer(np.ones((1, 3, 3, 1)))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 1"):
        layer(np.ones((1, 3, 3, 2)))
    first = layers.Conv3D(2, 1, data_format="channels_first", input_shape=(4, 2, 2, 2))
    assert first.kernel.shape == (1, 1, 1, 4, 2)
    with pytest.raises(ValueError, match="expected axis -4 of input shape to have value 4"):
        first(np.ones((1, 3, 2, 2, 2)))
    with pytest.raises(TypeError, match="dtype <U1"):
        layers.Conv1D(1, 1)(np.full((1, 2, 1), "x"))
    with pytest.raises(ValueError, match="channel dimension of the inputs should be defined"):
        layers.Conv1D(1, 1, input_shape=(4, None))


def test_conv_config_round_trip():
    layer = layers.Conv2D(
        4,
        (3, 1),
        strides=(2, 1),
        padding="same",
        data_format="channels_first",
        dilation_rate=1,
        activation="elu",
        kernel_regularizer=R.L1(0.5),
        bias_regularizer="l2",
        input_shape=(3, 8, 8),
    )
    cfg = layer.get_config()
    assert list(cfg) == [
        "name",
        "trainable",
        "batch_input_shape",
        "dtype",
        "filters",
        "kernel_size",
        "strides",
        "padding",
        "data_format",
        "dilation_rate",
        "groups",
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
    assert cfg["kernel_size"] == (3, 1) and cfg["strides"] == (2, 1)
    assert cfg["activity_regularizer"] is None
    back = layers.Conv2D.from_config(cfg)
    assert back.get_config() == cfg and back.kernel.shape == (3, 1, 3, 4)
    assert isinstance(back.kernel_regularizer, R.L1) and isinstance(back.bias_regularizer, R.L2)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_conv_kernel_initializer_uses_receptive_field(rank):
    layer = CLASSES[rank](64, 3, kernel_initializer="glorot_uniform", dtype="float64")
    layer.build((None, *(8,) * rank, 16))
    receptive = 3**rank
    limit = math.sqrt(6 / (16 * receptive + 64 * receptive))
    assert np.abs(layer.kernel).max() <= limit
    assert np.abs(layer.kernel).max() > 0.9 * limit
    assert np.all(layer.bias == 0)
