"""Convolution layers: ``Conv1D``, ``Conv2D``, ``Conv3D`` (Keras 2's ``Conv``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fastreg import activations, initializers, regularizers
from fastreg.layers._conv_ops import _conv_forward, _normalize_tuple, _padding_plan
from fastreg.layers._input_spec import _InputSpec
from fastreg.layers.base import Layer
from fastreg.layers.core import (
    _add_kernel_and_bias,
    _no_constraint,
    _numeric_input,
    _with_kernel_and_bias,
)


class _Conv(Layer):
    """N-D convolution (Keras 2's ``Conv``): the base of Conv1D, Conv2D and Conv3D."""

    _RANK = 0
    kernel: np.ndarray
    bias: np.ndarray | None

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = "channels_last",
        dilation_rate: Any = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        _no_constraint("kernel_constraint", kwargs.pop("kernel_constraint", None))
        _no_constraint("bias_constraint", kwargs.pop("bias_constraint", None))
        groups = kwargs.pop("groups", 1)
        if groups != 1:
            raise NotImplementedError(f"fastreg convolutions support groups=1 only, got {groups}")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        rank = self._RANK
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer, float)):
            raise TypeError(f"`filters` must be an integer, got {filters!r}")
        if int(filters) != filters or filters <= 0:
            raise ValueError(
                "Invalid value for argument `filters`. Expected a strictly positive value. "
                f"Received filters={filters}."
            )
        self.filters = int(filters)
        self.kernel_size = _normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = _normalize_tuple(strides, rank, "strides")
        self.dilation_rate = _normalize_tuple(dilation_rate, rank, "dilation_rate")
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same", "causal"):
            raise ValueError(
                'The `padding` argument must be one of "valid", "same" (or "causal", only '
                f"for `Conv1D`). Received: {padding!r}"
            )
        self.padding = padding.lower()
        if self.padding == "causal" and rank != 1:
            raise ValueError("Causal padding is only supported for `Conv1D`.")
        fmt = "channels_last" if data_format is None else data_format
        if not isinstance(fmt, str) or fmt.lower() not in ("channels_first", "channels_last"):
            raise ValueError(
                'The `data_format` argument must be one of "channels_first", '
                f'"channels_last". Received: {data_format!r}'
            )
        self.data_format = fmt.lower()
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.input_spec = _InputSpec(min_ndim=rank + 2)
        self._fr_build_eagerly()

    @property
    def _channel_axis(self) -> int:
        return -1 - self._RANK if self.data_format == "channels_first" else -1

    def _spatial_plan(self, spatial: Sequence[int | None]) -> tuple[list, tuple]:
        """Per spatial axis: (pad_before, pad_after) and the output length (TF rules)."""
        return _padding_plan(
            spatial, self.kernel_size, self.strides, self.dilation_rate, self.padding, self.name
        )

    def _split_shape(self, shape: tuple) -> tuple[tuple, tuple, Any]:
        """(batch dims, spatial dims, channels) of an input shape."""
        rank = self._RANK
        batch_rank = len(shape) - rank - 1
        if self.data_format == "channels_last":
            return shape[:batch_rank], shape[batch_rank:-1], shape[-1]
        return shape[:batch_rank], shape[batch_rank + 1 :], shape[batch_rank]

    def build(self, input_shape: Any) -> None:
        """Create ``kernel`` (``kernel_size + (in_channels, filters)``) and ``bias``."""
        input_shape = tuple(input_shape)
        rank = self._RANK
        if len(input_shape) < rank + 2:
            raise ValueError(
                f"{type(self).__name__} expects inputs of rank >= {rank + 2}, got input "
                f"shape {input_shape}"
            )
        _, spatial, channels = self._split_shape(input_shape)
        if channels is None:
            raise ValueError(
                "The channel dimension of the inputs should be defined. The input_shape "
                f"received is {input_shape}, where axis {self._channel_axis} (0-based) is the "
                "channel dimension, which found to be `None`."
            )
        channels = int(channels)
        self._spatial_plan(spatial)  # validates the output size
        self.input_spec = _InputSpec(min_ndim=rank + 2, axes={self._channel_axis: channels})
        _add_kernel_and_bias(self, (*self.kernel_size, channels, self.filters), self.filters)
        self.built = True

    def _fr_convert_inputs(self, inputs: Any) -> np.ndarray:
        return _numeric_input(inputs, self)

    def call(self, inputs: np.ndarray) -> np.ndarray:
        """Convolution (cross-correlation, as TF), bias, activation."""
        rank = self._RANK
        batch, spatial, channels = self._split_shape(inputs.shape)
        pads, outs = self._spatial_plan(spatial)
        x = inputs.reshape(-1, *inputs.shape[len(batch) :])  # one batch axis
        if self.data_format == "channels_first":
            x = np.moveaxis(x, 1, -1)
        k = self.kernel
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            if x.dtype == np.float16:  # no float16 BLAS: compute in float32, round once
                y = _conv_forward(
                    x.astype(np.float32),
                    k.astype(np.float32),
                    self.strides,
                    self.dilation_rate,
                    pads,
                    outs,
                ).astype(np.float16)
            else:
                y = _conv_forward(x, k, self.strides, self.dilation_rate, pads, outs)
            if self.bias is not None:
                y = y + self.bias
        if self.data_format == "channels_first":
            y = np.moveaxis(y, -1, 1)
        y = np.ascontiguousarray(y).reshape(*batch, *y.shape[1:])
        del rank, channels
        return self.activation(y)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """The output shape for ``input_shape`` (None dimensions stay None)."""
        input_shape = tuple(input_shape)
        batch, spatial, _ = self._split_shape(input_shape)
        _, outs = self._spatial_plan(spatial)
        if self.data_format == "channels_last":
            return (*batch, *outs, self.filters)
        return (*batch, self.filters, *outs)

    def get_config(self) -> dict[str, Any]:
        """Keras 2's Conv config (regularizers and initializers serialized)."""
        own = {
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "groups": 1,
        }
        return _with_kernel_and_bias(self, super().get_config(), own)


# Conv1D, Conv2D and Conv3D differ only in rank: one docstring, filled per class
# (each class's own docstring holds its examples, which run as doctests).
_CONV_DOC = """{rank}-D convolution over ``(batch, {dims}, channels)`` (or channels-first) inputs.

    Keras 2's arguments and defaults; ``padding`` is {paddings}.
    ``"same"`` splits as TensorFlow does: the odd extra pad goes at the end.{causal}
    The kernel has shape ``kernel_size + (in_channels, filters)``; extra
    leading input dimensions are batch dimensions.

    Args:
        filters: Number of output channels.
        kernel_size: An int or a {rank}-tuple.
        strides: An int or a {rank}-tuple.
        padding: {paddings}.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        dilation_rate: An int or a {rank}-tuple.
        activation: An activation name or callable; None is linear.
        use_bias: Whether to add a bias vector.
        kernel_initializer: Initializer of the kernel.
        bias_initializer: Initializer of the bias.
        kernel_regularizer: Regularizer of the kernel.
        bias_regularizer: Regularizer of the bias.
        activity_regularizer: Regularizer of the output.
        **kwargs: The :class:`Layer` keywords (``input_shape``, ``name``, ``dtype``, ...).
{examples}"""


def _conv_doc(dims: str) -> Callable[[type[_Conv]], type[_Conv]]:
    """Give a Conv class :data:`_CONV_DOC` for its rank, its own docstring appended."""

    def fill(cls: type[_Conv]) -> type[_Conv]:
        paddings = '``"valid"`` or ``"same"``'
        causal = ""
        if cls._RANK == 1:  # "causal" padding is Conv1D's only
            paddings = '``"valid"``, ``"same"`` or ``"causal"``'
            causal = '\n    ``"causal"`` puts all the padding before the first step.'
        cls.__doc__ = _CONV_DOC.format(
            rank=cls._RANK, dims=dims, paddings=paddings, causal=causal, examples=cls.__doc__ or ""
        )
        return cls

    return fill


@_conv_doc(dims="steps")
class Conv1D(_Conv):
    """
    >>> import numpy as np
    >>> c = Conv1D(1, 2, padding="causal", kernel_initializer="ones",
    ...            activity_regularizer="l1")
    >>> c(np.arange(4.0).reshape(1, 4, 1))[..., 0]
    array([[0., 1., 3., 5.]], dtype=float32)
    >>> [round(float(v), 4) for v in c.losses]
    [0.09]
    """

    _RANK = 1


@_conv_doc(dims="rows, cols")
class Conv2D(_Conv):
    """
    >>> import numpy as np
    >>> from fastreg import regularizers
    >>> c = Conv2D(2, 3, padding="same", kernel_initializer="ones",
    ...            kernel_regularizer=regularizers.L2(0.01), input_shape=(5, 5, 1))
    >>> c.kernel.shape
    (3, 3, 1, 2)
    >>> c(np.ones((1, 5, 5, 1))).shape
    (1, 5, 5, 2)
    >>> [round(float(v), 4) for v in c.losses]
    [0.18]
    """

    _RANK = 2


@_conv_doc(dims="d1, d2, d3")
class Conv3D(_Conv):
    """
    >>> import numpy as np
    >>> c = Conv3D(4, (1, 2, 3), strides=2, data_format="channels_first")
    >>> c(np.ones((2, 3, 5, 6, 7))).shape
    (2, 4, 3, 3, 3)
    >>> c.kernel.shape
    (1, 2, 3, 3, 4)
    """

    _RANK = 3
