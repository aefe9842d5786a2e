"""Core layers: ``Dense`` and ``ActivityRegularization``, and what Conv shares with Dense."""

from __future__ import annotations

from typing import Any

import numpy as np

from fastreg import activations, initializers, regularizers
from fastreg.layers._input_spec import _InputSpec
from fastreg.layers.base import Layer


def _no_constraint(name: str, value: Any) -> None:
    if value is not None:
        raise NotImplementedError(f"fastreg layers have no weight constraints ({name}={value!r})")


def _numeric_input(x: Any, layer: Layer) -> np.ndarray:
    """Any numeric array-like as an array of the layer dtype; TypeError naming the dtype else."""
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":
        raise TypeError(
            f'Layer "{layer.name}" takes real numeric input (cast to {layer.dtype}); '
            f"got dtype {a.dtype}"
        )
    return a if a.dtype == layer._fr_dtype else a.astype(layer._fr_dtype)


def _add_kernel_and_bias(layer: Any, kernel_shape: tuple, n_out: int) -> None:
    """Create ``layer.kernel`` and, with ``use_bias``, ``layer.bias`` (else None)."""
    layer.kernel = layer.add_weight(
        "kernel",
        shape=kernel_shape,
        initializer=layer.kernel_initializer,
        regularizer=layer.kernel_regularizer,
        trainable=True,
    )
    if layer.use_bias:
        layer.bias = layer.add_weight(
            "bias",
            shape=(n_out,),
            initializer=layer.bias_initializer,
            regularizer=layer.bias_regularizer,
            trainable=True,
        )
    else:
        layer.bias = None


def _with_kernel_and_bias(
    layer: Any, config: dict[str, Any], own: dict[str, Any]
) -> dict[str, Any]:
    """The base ``config``, then ``own``, then the keys Dense and Conv share (Keras 2's order)."""
    activity = config.pop("activity_regularizer")
    config.update(own)
    config.update(
        {
            "activation": activations.serialize(layer.activation),
            "use_bias": layer.use_bias,
            "kernel_initializer": initializers.serialize(layer.kernel_initializer),
            "bias_initializer": initializers.serialize(layer.bias_initializer),
            "kernel_regularizer": regularizers.serialize(layer.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(layer.bias_regularizer),
            "activity_regularizer": activity,
            "kernel_constraint": None,
            "bias_constraint": None,
        }
    )
    return config


class Dense(Layer):
    """Densely connected layer: ``activation(inputs · kernel + bias)``.

    Contracts the last axis of an input of any rank ≥ 2 (output shape
    ``inputs.shape[:-1] + (units,)``). Inputs are cast to the layer dtype.
    ``kernel`` (``(input_dim, units)``) and ``bias`` (``(units,)``, or None
    with ``use_bias=False``) are NumPy arrays; assigning to them writes the
    values in.

    Args:
        units: Output dimension (a non-negative integer).
        activation: An activation name or callable; None is linear.
        use_bias: Whether to add a bias vector.
        kernel_initializer: Initializer of the kernel.
        bias_initializer: Initializer of the bias.
        kernel_regularizer: Regularizer of the kernel (through
            :func:`fastreg.regularizers.get`).
        bias_regularizer: Regularizer of the bias.
        activity_regularizer: Regularizer of the output.
        **kwargs: ``input_dim`` / ``input_shape`` (build at once), ``name``,
            ``dtype``, ``trainable``, and the other :class:`Layer` keywords.

    Raises:
        ValueError: on a call with a rank-1 input or, once built, a wrong last
            dimension; for unknown initializer, activation or regularizer names.
        TypeError: for non-numeric input.

    >>> import numpy as np
    >>> from fastreg import regularizers
    >>> d = Dense(2, kernel_initializer="ones", bias_initializer="ones",
    ...           kernel_regularizer=regularizers.L1(0.5),
    ...           bias_regularizer="l2", activity_regularizer=regularizers.L1(0.1))
    >>> d(np.ones((4, 3)))
    array([[4., 4.],
           [4., 4.],
           [4., 4.],
           [4., 4.]], dtype=float32)
    >>> [round(float(v), 4) for v in d.losses]      # [activity, kernel, bias]
    [0.8, 3.0, 0.02]
    >>> d.kernel.shape, d.get_config()["activation"]
    ((3, 2), 'linear')
    """

    kernel: np.ndarray
    bias: np.ndarray | None

    def __init__(
        self,
        units: int,
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
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer, float)):
            raise TypeError(f"`units` must be an integer, got {units!r}")
        self.units = int(units)
        if self.units < 0 or self.units != units:
            raise ValueError(
                "Received an invalid value for `units`, expected a positive integer. "
                f"Received: units={units}"
            )
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.input_spec = _InputSpec(min_ndim=2)
        self._fr_build_eagerly()

    def build(self, input_shape: Any) -> None:
        """Create ``kernel`` ``(input_shape[-1], units)`` and ``bias`` ``(units,)``."""
        input_shape = tuple(input_shape)
        if not input_shape:
            raise ValueError(f"Dense needs an input of rank >= 2, got input shape {input_shape}")
        last_dim = input_shape[-1]
        if last_dim is None:
            raise ValueError(
                "The last dimension of the inputs to a Dense layer should be defined. "
                f"Found None. Full input shape received: {input_shape}"
            )
        last_dim = int(last_dim)
        self.input_spec = _InputSpec(min_ndim=2, axes={-1: last_dim})
        _add_kernel_and_bias(self, (last_dim, self.units), self.units)
        self.built = True

    def _fr_convert_inputs(self, inputs: Any) -> np.ndarray:
        return _numeric_input(inputs, self)

    def call(self, inputs: np.ndarray) -> np.ndarray:
        """``activation(inputs · kernel + bias)``, one BLAS product."""
        x = inputs
        k = self.kernel
        lead = x.shape[:-1]
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            if x.dtype == np.float16:  # no float16 BLAS: multiply in float32, round once
                y = (x2.astype(np.float32) @ k.astype(np.float32)).astype(np.float16)
            else:
                y = x2 @ k
            y = y.reshape(*lead, self.units)
            if self.bias is not None:
                y = y + self.bias
        return self.activation(y)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        """``input_shape[:-1] + (units,)``."""
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        """Keras 2's Dense config (regularizers and initializers serialized)."""
        return _with_kernel_and_bias(self, super().get_config(), {"units": self.units})


class ActivityRegularization(Layer):
    """Identity layer whose activity regularizer is ``L1L2(l1, l2)``.

    The loss is divided by the batch size, as every activity loss.

    Args:
        l1: L1 factor (Keras 2 keeps it unvalidated in the config).
        l2: L2 factor.
        **kwargs: The :class:`Layer` keywords.

    >>> import numpy as np
    >>> layer = ActivityRegularization(l1=0.2, l2=0.3)
    >>> y = layer(2 * np.ones((4, 3)))
    >>> [round(float(v), 4) for v in layer.losses]
    [4.8]
    >>> {k: layer.get_config()[k] for k in ("l1", "l2")}
    {'l1': 0.2, 'l2': 0.3}
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = l1
        self.l2 = l2
        self._fr_build_eagerly()

    def get_config(self) -> dict[str, Any]:
        """Keras 2's config: the base keys (no ``activity_regularizer``) plus ``l1``, ``l2``."""
        config = super().get_config()
        config.pop("activity_regularizer")
        config.update({"l1": self.l1, "l2": self.l2})
        return config

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The input shape (identity)."""
        return input_shape
