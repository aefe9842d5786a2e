"""``Layer``: Keras 2's base layer, with its losses, build/call protocol and config.

The sublayer tracking and weight bookkeeping live in ``_tracking.py``.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

import numpy as np

from fastreg import backend, regularizers
from fastreg.layers._gradients import _Gradients
from fastreg.layers._input_spec import _shape_tuple
from fastreg.layers._nest import _nest_flatten, _nest_map, _to_snake_case, _unique_name
from fastreg.layers._tracking import _Tracking

_STATE = threading.local()  # .depth: how many Layer.__call__ frames are open


def _call_depth() -> int:
    return getattr(_STATE, "depth", 0)


def _as_loss(value: Any) -> Any:
    """A loss value as Keras 2 keeps it: arrays as they are, Python numbers → floatx."""
    if value is None or isinstance(value, (np.ndarray, np.generic)):
        return value
    if isinstance(value, (bool, int, float)):
        return np.asarray(value, dtype=backend.floatx())
    return np.asarray(value)


def _divide_no_nan(loss: Any, batch: int) -> Any:
    """``loss / batch`` with the batch size cast to the loss dtype; 0 for batch 0.

    tf.math.divide_no_nan: a zero batch gives 0 whatever the loss (even nan).
    The zero has the type the division gives for any other batch (a NumPy
    scalar for a 0-d loss, where ``np.zeros_like`` alone makes a 0-d array).
    """
    dt = np.asarray(loss).dtype
    one = dt.type(1) if dt.kind == "f" else 1
    if batch == 0:
        return np.zeros_like(loss / one)[()]
    return loss / (dt.type(batch) if dt.kind == "f" else batch)


def _layer_dtype(dtype: Any) -> np.dtype:
    """The layer dtype: None → floatx(); float16/32/64 (or a Keras Policy dict)."""
    if dtype is None:
        return np.dtype(backend.floatx())
    if isinstance(dtype, dict):  # Keras 2.13+ serialized Policy
        dtype = dtype.get("config", {}).get("name", dtype)
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in ("float16", "float32", "float64"):
        raise ValueError(
            "fastreg layers compute in float16, float32 or float64 "
            f"(mixed-precision policies are not supported); got dtype={dtype!r}"
        )
    return dt


_LAYER_KWARGS = {
    "input_dim",
    "input_shape",
    "batch_input_shape",
    "batch_size",
    "weights",
    "autocast",
    "dynamic",
}


class Layer(_Tracking, _Gradients):
    """Base layer with Keras 2's weight, loss and sublayer bookkeeping.

    Subclass it like a Keras layer: create weights in ``build`` with
    :meth:`add_weight`, compute in ``call``, add extra losses with
    :meth:`add_loss`. Layers assigned to attributes (also inside lists,
    tuples and dicts) are tracked as sublayers: their weights and losses
    are part of this layer's.

    ``layer.losses`` follows Keras 2 exactly: depth-first pre-order over
    this layer and its sublayers; for each, the losses of the last
    outermost call (``add_loss`` values in call order, then the activity
    loss) followed by its weight penalties (recomputed from the current
    weights on every read, non-trainable weights included) and its
    ``add_loss(callable)`` results. The activity loss of each output is
    ``activity_regularizer(output) / output.shape[0]`` (batch 0 gives 0; a
    0-d output is not divided).

    Assigning an array to an attribute that holds one of the layer's
    weights writes the values into that weight (like ``Variable.assign``):
    the shape must match and the weight keeps its dtype.

    Args:
        trainable: Whether the layer's weights are trainable.
        name: The layer name; a unique snake-case default (``dense``,
            ``dense_1``, ...) when None.
        dtype: The compute and weight dtype: ``float16``, ``float32`` or
            ``float64``; :func:`fastreg.backend.floatx` when None. Floating
            inputs are cast to it.
        activity_regularizer: Anything :func:`fastreg.regularizers.get`
            accepts; applied to the outputs of every call.
        **kwargs: Keras 2's ``input_shape``, ``input_dim``,
            ``batch_input_shape``, ``batch_size``, ``weights`` (initial
            weights, set after the build), ``autocast``, ``dynamic``.

    Raises:
        TypeError: for an unknown keyword argument or a non-string name.
        ValueError: for an unsupported dtype or an unknown regularizer name.

    >>> import numpy as np
    >>> from fastreg import regularizers
    >>> class Scale(Layer):
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight(name="w", shape=(input_shape[-1],),
    ...                                  initializer="ones",
    ...                                  regularizer=regularizers.L2(0.5))
    ...     def call(self, x):
    ...         self.add_loss(np.sum(x))
    ...         return x * self.w
    >>> s = Scale(activity_regularizer=regularizers.L1(1.0))
    >>> y = s(np.ones((2, 3)))
    >>> [float(v) for v in s.losses]      # [add_loss, activity, weight]
    [6.0, 3.0, 1.5]
    >>> s.w = [2.0, 2.0, 2.0]             # written into the weight
    >>> [float(v) for v in s.losses]      # the weight penalty is fresh
    [6.0, 3.0, 6.0]
    """

    # instance state (set in __init__; declared here for type checkers)
    built: bool
    input_spec: Any

    def __init__(
        self,
        trainable: bool = True,
        name: str | None = None,
        dtype: Any = None,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ) -> None:
        unknown = set(kwargs) - _LAYER_KWARGS
        if unknown:
            raise TypeError(f"Keyword argument not understood: {sorted(unknown)[0]!r}")
        d = self.__dict__
        d.setdefault("_fr_tracked", [])
        d["_fr_weights"] = []
        d["_fr_call_losses"] = []
        d["_fr_callable_losses"] = []
        d["_fr_trainable"] = bool(trainable)
        d["_fr_dtype"] = _layer_dtype(dtype)
        if name is None or name == "":
            name = _unique_name(_to_snake_case(type(self).__name__))
        elif not isinstance(name, str):
            raise TypeError(f"Expected `name` argument to be a string, but got: {name!r}")
        d["_fr_name"] = name
        d["_fr_activity_regularizer"] = regularizers.get(activity_regularizer)
        d["_fr_autocast"] = bool(kwargs.get("autocast", True))
        d["_fr_initial_weights"] = kwargs.get("weights")
        batch_input_shape = None
        if "batch_input_shape" in kwargs:
            batch_input_shape = tuple(kwargs["batch_input_shape"])
        elif "input_shape" in kwargs or "input_dim" in kwargs:
            shape = kwargs.get("input_shape")
            if shape is None:
                shape = (kwargs["input_dim"],)
            elif isinstance(shape, (int, np.integer)):
                shape = (shape,)
            batch_input_shape = (kwargs.get("batch_size"), *tuple(shape))
        d["_fr_batch_input_shape"] = batch_input_shape
        if "built" not in d:
            self.built = False
        if "input_spec" not in d:
            self.input_spec = None

    # -- properties ------------------------------------------------------------

    @property
    def name(self) -> str:
        """The layer's name (read-only)."""
        return self._fr_name

    @property
    def dtype(self) -> str:
        """The compute and weight dtype, as a string (``"float32"``)."""
        return self._fr_dtype.name

    @property
    def activity_regularizer(self) -> Any:
        """The activity regularizer, or None.

        Assignment stores the value as it is (it does not go through
        :func:`fastreg.regularizers.get`, as in Keras): assign a callable or
        None.
        """
        return self.__dict__.get("_fr_activity_regularizer")

    @activity_regularizer.setter
    def activity_regularizer(self, regularizer: Any) -> None:
        self._fr_activity_regularizer = regularizer

    # -- losses ---------------------------------------------------------------

    @property
    def losses(self) -> list[Any]:
        """The losses, in Keras 2's order (see the class docstring).

        Weight penalties and ``add_loss(callable)`` results are computed on
        every read; a regularizer or callable returning a Python number gives
        a 0-d array of :func:`fastreg.backend.floatx`, and None results are
        left out.
        """
        self._fr_check_init()
        collected: list[Any] = []
        for layer in self._flatten_layers():
            collected.extend(layer._fr_call_losses)
            for slot in layer._fr_weights:
                if slot.regularizer is not None:
                    value = _as_loss(slot.regularizer(slot.value))
                    if value is not None:
                        collected.append(value)
            for fn in layer._fr_callable_losses:
                value = _as_loss(fn())
                if value is not None:
                    collected.append(value)
        return collected

    def add_loss(self, losses: Any, **kwargs: Any) -> None:
        """Add a loss (or a nested list of them), as Keras 2's ``add_loss``.

        Inside ``call``, a number or array is kept until the next outermost
        call (Python numbers become 0-d :func:`~fastreg.backend.floatx`
        arrays; arrays are kept as they are). Anywhere, a zero-argument
        callable is evaluated on every read of :attr:`losses` and never
        cleared. None entries are skipped.

        Args:
            losses: A loss, a callable, None, or a nested list of them.
            **kwargs: Only Keras's deprecated ``inputs`` (ignored).

        Raises:
            ValueError: for a number or array outside ``call`` (Keras 2's
                message).
            TypeError: for any other keyword argument.
        """
        self._fr_check_init()
        kwargs.pop("inputs", None)
        if kwargs:
            raise TypeError(f"Unknown keyword arguments: {sorted(kwargs)}")
        eager = []
        for loss in _nest_flatten(losses):
            if callable(loss):
                self._fr_callable_losses.append(loss)
            elif loss is not None:
                eager.append(_as_loss(loss))
        if eager and _call_depth() == 0:
            raise ValueError(
                "Expected a symbolic Tensors or a callable for the loss value. "
                "Please wrap your loss computation in a zero argument `lambda`."
            )
        self._fr_call_losses.extend(eager)

    def _clear_losses(self) -> None:
        for layer in self._flatten_layers():
            layer._fr_call_losses.clear()

    # -- build and call -------------------------------------------------------

    def build(self, input_shape: Any) -> None:
        """Create the weights (override it); marks the layer built."""
        self.built = True

    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """The computation (override it); the base layer is the identity."""
        return inputs

    def _fr_convert_inputs(self, inputs: Any) -> Any:
        """Keras 2's autocast: floating arrays and Python floats → the layer dtype."""
        if not self._fr_autocast:
            return inputs
        dt = self._fr_dtype

        def cast(x: Any) -> Any:
            if isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind == "f":
                return x if x.dtype == dt else x.astype(dt)
            if isinstance(x, float):
                return np.asarray(x, dtype=dt)
            return x

        return _nest_map(cast, inputs)

    def _fr_check_input_spec(self, inputs: Any) -> None:
        spec = self.__dict__.get("input_spec")
        if spec is None:
            return
        specs = spec if isinstance(spec, (list, tuple)) else [spec]
        flat = _nest_flatten(inputs)
        for i, (s, x) in enumerate(zip(specs, flat, strict=False)):
            shape = _shape_tuple(x)
            if s is not None and shape is not None:
                s.check(shape, self.name, i)

    def _fr_build(self, input_shape: Any) -> None:
        self.build(input_shape)
        self.built = True
        initial = self._fr_initial_weights
        if initial is not None:
            self._fr_initial_weights = None
            self.set_weights(initial)

    def _fr_build_eagerly(self) -> None:
        """Build from ``input_shape`` / ``input_dim`` (used by the built-in layers)."""
        shape = self._fr_batch_input_shape
        if shape is not None and not self.built:
            if self.input_spec is not None:
                self.input_spec.check(shape, self.name)
            self._fr_build(shape)

    def _fr_call_accepts(self, arg: str) -> bool:
        try:
            params = inspect.signature(self.call).parameters
        except (TypeError, ValueError):  # pragma: no cover - builtins
            return True
        return arg in params or any(p.kind is p.VAR_KEYWORD for p in params.values())

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """Run the layer: clear losses (outermost call only), build, call, regularize.

        ``training`` and ``mask`` keywords are passed to ``call`` only when
        it accepts them.
        """
        self._fr_check_init()
        for key in ("training", "mask"):
            if key in kwargs and not self._fr_call_accepts(key):
                del kwargs[key]
        if _call_depth() == 0:
            self._clear_losses()
        inputs = self._fr_convert_inputs(inputs)
        _STATE.depth = _call_depth() + 1
        try:
            self._fr_check_input_spec(inputs)
            if not self.built:
                self._fr_build(_nest_map(_shape_tuple, inputs))
            outputs = self.call(inputs, *args, **kwargs)
            regularizer = self._fr_activity_regularizer
            if regularizer is not None:
                self._fr_handle_activity_regularization(regularizer, outputs)
        finally:
            _STATE.depth -= 1
        return outputs

    def _fr_handle_activity_regularization(self, regularizer: Any, outputs: Any) -> None:
        """One loss per output: ``reg(output) / output.shape[0]`` (divide-no-nan)."""
        for output in _nest_flatten(outputs):
            if output is None:
                continue
            loss = _as_loss(regularizer(output))
            if loss is None:
                continue
            shape = _shape_tuple(output)
            if shape:  # not 0-d: divide by the batch size (Keras 3's rule for 0-d)
                loss = _divide_no_nan(loss, shape[0])
            self._fr_call_losses.append(loss)

    # -- config ---------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """Keras 2's base config: name, trainable, dtype, [batch_input_shape], activity_regularizer.

        Raises:
            NotImplementedError: for a subclass whose ``__init__`` has
                arguments of its own and that does not override this method.
        """
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        if self._fr_batch_input_shape is not None:
            config["batch_input_shape"] = self._fr_batch_input_shape
        config["dtype"] = self.dtype
        config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        if type(self).get_config is Layer.get_config:
            params = inspect.signature(type(self).__init__).parameters
            extra = [
                p
                for p, v in params.items()
                if p != "self"
                and v.kind not in (v.VAR_KEYWORD, v.VAR_POSITIONAL)
                and p not in ("trainable", "name", "dtype", "activity_regularizer")
            ]
            if extra:
                raise NotImplementedError(
                    f"Layer {type(self).__name__} has arguments {extra} in `__init__` and "
                    "therefore must override `get_config()`."
                )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """A new layer from :meth:`get_config`'s output (regularizers deserialized)."""
        config = dict(config)
        for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
            if isinstance(config.get(key), dict):
                config[key] = regularizers.deserialize(config[key])
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"
