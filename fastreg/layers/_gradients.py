"""Gradients of a layer's regularization losses, for NumPy backprop (Layer mixes these in).

Beyond Keras (SEMANTICS.md, "Beyond Keras"): ``layer.losses`` gives the
values; these give their gradients, from the regularizers' own ``gradient``
methods (the C kernels for the built-in ones).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fastreg.layers._input_spec import _shape_tuple
from fastreg.layers._nest import _nest_flatten


def trainable_with_regularizers(layer: Any) -> list[tuple[np.ndarray, Any]]:
    """``(weight, regularizer)`` for each of ``layer.trainable_weights``.

    A weight tracked with several regularizers (one array added to two
    layers) gets the first; :meth:`_Gradients.add_weight_gradients` adds
    them all.
    """
    regs = _regularizers_by_weight(layer)
    return [(w, (regs.get(id(w)) or [None])[0]) for w in layer.trainable_weights]


def _regularizers_by_weight(layer: Any) -> dict[int, list[Any]]:
    """id(weight) -> its regularizers, in the order ``layer.losses`` takes them."""
    regs: dict[int, list[Any]] = {}
    for sub in layer._flatten_layers():
        for slot in sub._fr_weights:
            if slot.regularizer is not None:
                regs.setdefault(id(slot.value), []).append(slot.regularizer)
    return regs


def _gradient_of(reg: Any, x: np.ndarray, what: str) -> np.ndarray:
    fn = getattr(reg, "gradient", None)
    if not callable(fn):
        raise TypeError(f"the {what} ({reg!r}) has no gradient() method")
    return np.asarray(fn(x))


class _Gradients:
    """The gradient methods of ``Layer``."""

    def add_weight_gradients(self, grads: list[np.ndarray] | None = None) -> list[np.ndarray]:
        """Add the gradient of ``sum(self.losses)`` w.r.t. each trainable weight.

        Only the weight regularizers' terms depend on the weights directly:
        ``grads[i] += ∇R(W_i)`` for every regularizer tracking
        ``self.trainable_weights[i]`` (this layer's and its sublayers').
        Activity losses reach the weights through the outputs: backpropagate
        :meth:`activity_gradient` for them. Losses added with ``add_loss``
        are not differentiated.

        Args:
            grads: One array per trainable weight (its shape and dtype),
                added into in place; None starts from zeros.

        Returns:
            The gradient arrays (``grads`` itself when given).

        Raises:
            ValueError: for a ``grads`` of the wrong length or shapes.
            TypeError: for a regularizer without a ``gradient`` method.

        >>> import numpy as np
        >>> from fastreg import layers, regularizers
        >>> d = layers.Dense(2, input_dim=2, kernel_initializer="ones",
        ...                  kernel_regularizer=regularizers.L2(0.5))
        >>> gk, gb = d.add_weight_gradients()
        >>> gk                                 # 2 * 0.5 * kernel
        array([[1., 1.],
               [1., 1.]], dtype=float32)
        >>> gb
        array([0., 0.], dtype=float32)
        """
        weights = self.trainable_weights  # type: ignore[attr-defined]
        if grads is None:
            grads = [np.zeros_like(w) for w in weights]
        elif len(grads) != len(weights):
            raise ValueError(f"got {len(grads)} gradients for {len(weights)} trainable weights")
        regs = _regularizers_by_weight(self)
        for i, (w, g) in enumerate(zip(weights, grads, strict=True)):
            if np.shape(g) != w.shape:
                raise ValueError(f"grads[{i}] has shape {np.shape(g)}, the weight {w.shape}")
        for w, g in zip(weights, grads, strict=True):
            for reg in regs.get(id(w), ()):
                if isinstance(g, np.ndarray) and hasattr(reg, "value_and_gradient"):
                    if g.dtype == w.dtype:  # the built-ins add in place, in one pass
                        reg.value_and_gradient(w, out=g, accumulate=True)
                        continue
                g += _gradient_of(reg, w, "weight regularizer")
        return grads

    def activity_gradient(self, outputs: Any) -> Any:
        """The gradient of this layer's activity losses w.r.t. its outputs.

        For each output ``y`` of the last call (after the activation, as the
        regularizer saw it), ``∇R(y) / y.shape[0]`` with the batch size in
        ``y``'s dtype, as the loss is divided; 0-d outputs are not divided
        and a batch of 0 gives zeros. No activity regularizer gives zeros.

        Args:
            outputs: What the layer's call returned (an array, or a nested
                list / tuple / dict of arrays).

        Returns:
            An array like ``outputs`` for one output, else a list with one
            per flattened output (None for None outputs).

        >>> import numpy as np
        >>> from fastreg import layers, regularizers
        >>> act = layers.ActivityRegularization(l1=0.5)
        >>> y = act(np.array([[1.0, -2.0], [0.0, 3.0]], dtype=np.float32))
        >>> act.activity_gradient(y)           # 0.5 * sign(y) / batch 2
        array([[ 0.25, -0.25],
               [ 0.  ,  0.25]], dtype=float32)
        """
        reg = self.activity_regularizer  # type: ignore[attr-defined]
        flat = _nest_flatten(outputs)
        grads = [None if y is None else self._fr_activity_grad(reg, y) for y in flat]
        if isinstance(outputs, np.ndarray) or len(flat) == 1 and flat[0] is outputs:
            return grads[0]
        return grads

    @staticmethod
    def _fr_activity_grad(reg: Any, y: Any) -> np.ndarray:
        y = np.asarray(y)
        if reg is None:
            return np.zeros_like(y)
        g = _gradient_of(reg, y, "activity regularizer")
        shape = _shape_tuple(y)
        if not shape:
            return g
        if shape[0] == 0:  # divide_no_nan: the loss is 0 whatever the batch
            return np.zeros_like(g)
        return g / g.dtype.type(shape[0]) if g.dtype.kind == "f" else g / shape[0]
