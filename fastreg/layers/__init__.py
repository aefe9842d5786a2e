"""The Keras 2 layer API for regularization, on NumPy arrays.

``fastreg.layers`` gives NumPy code what ``tf.keras.layers`` gives TensorFlow
code for regularization: the ``kernel_regularizer``, ``bias_regularizer``
and ``activity_regularizer`` keywords, a settable ``activity_regularizer``
on every layer, ``add_loss`` and ``layer.losses`` exactly as Keras 2
computes them (``../shared/spec/SEMANTICS.md``, "Layers"). Weights are plain
NumPy arrays owned by the layer; forward passes are vectorised NumPy (BLAS
matrix products).

Penalties always come from calling the regularizer (so from fastreg's C
kernels for the built-in ones): the layers add no arithmetic of their own,
apart from Keras's division of activity losses by the batch size.

>>> import numpy as np
>>> from fastreg import layers, regularizers
>>> layer = layers.Dense(5, input_dim=5, kernel_initializer="ones",
...                      kernel_regularizer=regularizers.L1(0.01),
...                      activity_regularizer=regularizers.L2(0.01))
>>> out = layer(np.ones((5, 5)) * 2)
>>> [float(v) for v in layer.losses]      # [activity, kernel]
[5.0, 0.25]
>>> float(np.sum(layer.losses, dtype=np.float32))
5.25
"""

from __future__ import annotations

import inspect
import math
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fastreg import activations, backend, initializers, regularizers

__all__ = [
    "ActivityRegularization",
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "Dense",
    "Layer",
]

# ---------------------------------------------------------------------------
# Call context, names, nested structures
# ---------------------------------------------------------------------------

_STATE = threading.local()  # .depth: how many Layer.__call__ frames are open


def _call_depth() -> int:
    return getattr(_STATE, "depth", 0)


_NAME_LOCK = threading.Lock()
_NAME_UIDS: dict[str, int] = {}


def _unique_name(base: str) -> str:
    """Keras's zero-based unique names: ``dense``, ``dense_1``, ``dense_2``, ..."""
    with _NAME_LOCK:
        n = _NAME_UIDS.get(base, 0)
        _NAME_UIDS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def _reset_names() -> None:
    """Forget the default-name counters (Keras's ``clear_session`` does this)."""
    with _NAME_LOCK:
        _NAME_UIDS.clear()


def _to_snake_case(name: str) -> str:
    """Keras's ``generic_utils.to_snake_case`` (``Conv2D`` → ``conv2d``)."""
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    insecure = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    if insecure[0] != "_":
        return insecure
    return "private" + insecure


def _nest_flatten(x: Any) -> list:
    """``tf.nest.flatten``: lists/tuples in order, dicts in sorted key order."""
    if isinstance(x, dict):
        try:
            keys = sorted(x)
        except TypeError:
            keys = list(x)
        return [leaf for k in keys for leaf in _nest_flatten(x[k])]
    if isinstance(x, (list, tuple)):
        return [leaf for item in x for leaf in _nest_flatten(item)]
    return [x]


def _nest_map(fn: Callable[[Any], Any], x: Any) -> Any:
    """``tf.nest.map_structure`` over lists, tuples (incl. namedtuples) and dicts."""
    if isinstance(x, dict):
        return type(x)((k, _nest_map(fn, v)) for k, v in x.items())
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(*(_nest_map(fn, v) for v in x))
    if isinstance(x, (list, tuple)):
        return type(x)(_nest_map(fn, v) for v in x)
    return fn(x)


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


def _shape_tuple(x: Any) -> tuple | None:
    if isinstance(x, (np.ndarray, np.generic)):
        return tuple(x.shape)
    if isinstance(x, (bool, int, float)):
        return ()
    shape = getattr(x, "shape", None)
    return None if shape is None else tuple(shape)


class _InputSpec:
    """Keras's ``InputSpec`` (the parts the built-in layers use)."""

    def __init__(
        self,
        ndim: int | None = None,
        min_ndim: int | None = None,
        axes: dict[int, int] | None = None,
    ) -> None:
        self.ndim = ndim
        self.min_ndim = min_ndim
        self.axes = dict(axes or {})

    def check(self, shape: tuple, layer_name: str, index: int = 0) -> None:
        """Raise Keras 2's ValueError when ``shape`` does not fit."""
        ndim = len(shape)
        head = f'Input {index} of layer "{layer_name}" is incompatible with the layer: '
        if self.ndim is not None and ndim != self.ndim:
            raise ValueError(
                f"{head}expected ndim={self.ndim}, found ndim={ndim}. "
                f"Full shape received: {tuple(shape)}"
            )
        if self.min_ndim is not None and ndim < self.min_ndim:
            raise ValueError(
                f"{head}expected min_ndim={self.min_ndim}, found ndim={ndim}. "
                f"Full shape received: {tuple(shape)}"
            )
        for axis, value in self.axes.items():
            if value is None:
                continue
            if -ndim <= axis < ndim and shape[axis] is not None and shape[axis] != value:
                raise ValueError(
                    f"{head}expected axis {axis} of input shape to have value {value}, "
                    f"but received input with shape {tuple(shape)}"
                )


class _Weight:
    """One weight: the array the layer owns, and how it is regularized."""

    __slots__ = ("name", "regularizer", "trainable", "value")

    def __init__(self, name: str, value: np.ndarray, trainable: bool, regularizer: Any):
        self.name = name
        self.value = value
        self.trainable = trainable
        self.regularizer = regularizer

    def assign(self, new: Any, layer_name: str) -> None:
        """Write ``new`` into the weight in place (``Variable.assign``)."""
        arr = np.asarray(new)
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"Cannot assign a value of dtype {arr.dtype} to weight "
                f"{layer_name}/{self.name} ({self.value.dtype})"
            )
        if arr.shape != self.value.shape:
            raise ValueError(
                f"Cannot assign a value of shape {arr.shape} to weight "
                f"{layer_name}/{self.name} of shape {self.value.shape}"
            )
        self.value[...] = arr


_INTERNAL = "_fr_"  # prefix of Layer's own bookkeeping attributes (never tracked)
_MISSING = object()
_LAYER_KWARGS = {
    "input_dim",
    "input_shape",
    "batch_input_shape",
    "batch_size",
    "weights",
    "autocast",
    "dynamic",
}

# ---------------------------------------------------------------------------
# Layer
# ---------------------------------------------------------------------------


class Layer:
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
    _fr_tracked: list[str]
    _fr_weights: list[_Weight]
    _fr_call_losses: list[Any]
    _fr_callable_losses: list[Callable[[], Any]]
    _fr_trainable: bool
    _fr_dtype: np.dtype
    _fr_name: str
    _fr_activity_regularizer: Any
    _fr_autocast: bool
    _fr_initial_weights: Any
    _fr_batch_input_shape: tuple | None
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

    # -- attribute tracking -------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith(_INTERNAL):
            object.__setattr__(self, name, value)
            return
        d = self.__dict__
        current = d.get(name, _MISSING)
        if isinstance(current, np.ndarray) and value is not current:
            slot = self._fr_slot_of(current)
            if slot is not None and self._fr_slot_of(value) is None:
                slot.assign(value, self.name)
                return
        object.__setattr__(self, name, value)
        tracked = d.setdefault("_fr_tracked", [])
        if name in tracked:
            tracked.remove(name)
        if isinstance(value, (Layer, list, tuple, dict)):
            tracked.append(name)

    def __delattr__(self, name: str) -> None:
        object.__delattr__(self, name)
        tracked = self.__dict__.get("_fr_tracked", [])
        if name in tracked:
            tracked.remove(name)

    def _fr_slot_of(self, array: Any) -> _Weight | None:
        for slot in self.__dict__.get("_fr_weights", ()):
            if slot.value is array:
                return slot
        return None

    def _fr_check_init(self) -> None:
        if "_fr_weights" not in self.__dict__:
            raise RuntimeError(
                f"It looks like you are subclassing `Layer` ({type(self).__name__}) and "
                "forgot to call `super().__init__()`. Always start with this line."
            )

    def _fr_children(self) -> list[Layer]:
        """Direct sublayers in tracking order (containers opened; dicts by sorted key)."""
        out: list[Layer] = []

        def collect(v: Any, seen: set[int]) -> None:
            if isinstance(v, Layer):
                out.append(v)
            elif isinstance(v, (list, tuple, dict)):
                if id(v) in seen:
                    return
                seen.add(id(v))
                if isinstance(v, dict):
                    try:
                        items = [v[k] for k in sorted(v)]
                    except TypeError:
                        items = list(v.values())
                else:
                    items = list(v)
                for item in items:
                    collect(item, seen)

        d = self.__dict__
        for name in d.get("_fr_tracked", ()):
            collect(d.get(name), set())
        return out

    def _flatten_layers(self, include_self: bool = True) -> list[Layer]:
        """This layer and all sublayers: depth-first pre-order, de-duplicated."""
        seen = {id(self)}
        order: list[Layer] = [self] if include_self else []
        stack = list(reversed(self._fr_children()))
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            order.append(layer)
            stack.extend(reversed(layer._fr_children()))
        return order

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
    def trainable(self) -> bool:
        """Whether the weights are trainable; setting it sets every sublayer too."""
        return self._fr_trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        for layer in self._flatten_layers():
            layer._fr_trainable = bool(value)

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

    def _fr_gather(self, mode: str, path: frozenset[int]) -> list[np.ndarray]:
        """Keras 2's weight lists, recursively; ``path`` (the ancestors) stops cycles."""
        if id(self) in path:
            return []
        if mode == "all":
            return self._fr_gather("trainable", path) + self._fr_gather("non_trainable", path)
        inner = path | {id(self)}
        kids = self._fr_children()
        own_t = [s.value for s in self._fr_weights if s.trainable]
        own_n = [s.value for s in self._fr_weights if not s.trainable]
        if mode == "trainable":
            if not self.trainable:
                return []
            return own_t + [w for c in kids for w in c._fr_gather("trainable", inner)]
        if self.trainable:
            return own_n + [w for c in kids for w in c._fr_gather("non_trainable", inner)]
        return own_t + own_n + [w for c in kids for w in c._fr_gather("all", inner)]

    @property
    def trainable_weights(self) -> list[np.ndarray]:
        """Trainable weights of this layer, then of its sublayers ([] when not trainable)."""
        return _dedup(self._fr_gather("trainable", frozenset()))

    @property
    def non_trainable_weights(self) -> list[np.ndarray]:
        """Non-trainable weights (all weights when the layer is not trainable)."""
        return _dedup(self._fr_gather("non_trainable", frozenset()))

    @property
    def weights(self) -> list[np.ndarray]:
        """``trainable_weights + non_trainable_weights`` (the arrays themselves)."""
        return _dedup(self.trainable_weights + self.non_trainable_weights)

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

    # -- weights ------------------------------------------------------------

    def add_weight(
        self,
        name: str | None = None,
        shape: Any = (),
        dtype: Any = None,
        initializer: Any = None,
        regularizer: Any = None,
        trainable: bool = True,
    ) -> np.ndarray:
        """Create a weight: a NumPy array owned by this layer, returned.

        Args:
            name: The weight's name (used in messages).
            shape: Its shape (a tuple, or an int for 1-D).
            dtype: Its dtype; the layer dtype when None.
            initializer: Anything :func:`fastreg.initializers.get` accepts, or
                a callable ``f(shape, dtype=None)``; ``glorot_uniform`` for
                float weights and ``zeros`` for integer/bool ones when None.
            regularizer: Anything :func:`fastreg.regularizers.get` accepts;
                its penalty is recomputed on every read of :attr:`losses`.
            trainable: Whether it is listed in :attr:`trainable_weights`.

        Returns:
            The weight array.

        Raises:
            ValueError: for an unknown initializer or regularizer name, or an
                initializer result of the wrong shape.
        """
        self._fr_check_init()
        if name is None:
            name = "Variable"
        if shape is None:
            shape = ()
        elif isinstance(shape, (int, np.integer)):
            shape = (int(shape),)
        shape = tuple(int(s) for s in shape)
        dt = self._fr_dtype if dtype is None else np.dtype(dtype)
        if initializer is None:
            if dt.kind == "f":
                initializer = "glorot_uniform"
            elif dt.kind in "biu":
                initializer = "zeros"
            else:
                raise ValueError(
                    f"An initializer for variable {name} of type {dt} is required for "
                    f"layer {self.name}. Received: {initializer}."
                )
        init = initializers.get(initializer)
        reg = regularizers.get(regularizer)
        value = np.array(init(shape, dtype=dt), dtype=dt, copy=True, order="C")
        if value.shape != shape:
            raise ValueError(
                f"The initializer of weight {self.name}/{name} returned shape "
                f"{value.shape}, expected {shape}"
            )
        self._fr_weights.append(_Weight(name, value, bool(trainable), reg))
        return value

    def get_weights(self) -> list[np.ndarray]:
        """Copies of :attr:`weights`."""
        return [np.array(w, copy=True) for w in self.weights]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Copy values into :attr:`weights`, in order (all shapes checked first).

        Raises:
            ValueError: for a wrong number of arrays or a shape mismatch.
        """
        params = self.weights
        weights = list(weights)
        if len(params) != len(weights):
            raise ValueError(
                f'You called `set_weights(weights)` on layer "{self.name}" with a weight '
                f"list of length {len(weights)}, but the layer was expecting "
                f"{len(params)} weights. Provided weights: {str(weights)[:50]}..."
            )
        arrays = [np.asarray(w) for w in weights]
        for param, arr in zip(params, arrays, strict=True):
            if param.shape != arr.shape:
                raise ValueError(
                    f"Layer weight shape {param.shape} not compatible with provided "
                    f"weight shape {arr.shape}"
                )
            if arr.dtype.kind not in "biuf":
                raise TypeError(f"Cannot set a weight from an array of dtype {arr.dtype}")
        for param, arr in zip(params, arrays, strict=True):
            param[...] = arr

    # -- losses ---------------------------------------------------------------

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


def _dedup(arrays: list[np.ndarray]) -> list[np.ndarray]:
    seen: set[int] = set()
    out = []
    for a in arrays:
        if id(a) not in seen:
            seen.add(id(a))
            out.append(a)
    return out


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


# ---------------------------------------------------------------------------
# Dense
# ---------------------------------------------------------------------------


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
        config = super().get_config()
        activity = config.pop("activity_regularizer")
        config.update(
            {
                "units": self.units,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": activity,
                "kernel_constraint": None,
                "bias_constraint": None,
            }
        )
        return config


# ---------------------------------------------------------------------------
# Convolutions
# ---------------------------------------------------------------------------


def _normalize_tuple(value: Any, n: int, name: str, allow_zero: bool = False) -> tuple:
    """Keras's ``conv_utils.normalize_tuple``: an int or n ints → a tuple of n ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        out = (int(value),) * n
    else:
        try:
            out = tuple(value)
        except TypeError:
            raise ValueError(
                f"The `{name}` argument must be a tuple of {n} integers. Received: {value!r}"
            ) from None
        if len(out) != n or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in out
        ):
            raise ValueError(
                f"The `{name}` argument must be a tuple of {n} integers. Received: {value!r}"
            )
        out = tuple(int(v) for v in out)
    bad = [v for v in out if (v < 0 if allow_zero else v <= 0)]
    if bad:
        req = ">= 0" if allow_zero else "> 0"
        raise ValueError(
            f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value!r} "
            f"including {set(bad)} that does not satisfy the requirement `{req}`."
        )
    return out


def _conv_forward(
    x: np.ndarray,
    kernel: np.ndarray,
    strides: tuple,
    dilations: tuple,
    pads: list[tuple[int, int]],
    out_sizes: tuple,
) -> np.ndarray:
    """N-D cross-correlation, channels-last: ``x`` ``(N, *spatial, C)``, ``kernel`` ``(*k, C, F)``.

    im2col: a strided sliding-window view of the padded input gives every
    patch; one matrix product per batch chunk (chunks keep the patch copy
    under ~32 MiB) contracts ``(*k, C)``.
    """
    rank = len(strides)
    ksize = kernel.shape[:rank]
    channels, filters = kernel.shape[rank], kernel.shape[rank + 1]
    n = x.shape[0]
    out = np.zeros((n, *out_sizes, filters), dtype=x.dtype)
    if out.size == 0:
        return out
    if any(p != (0, 0) for p in pads):
        x = np.pad(x, [(0, 0), *pads, (0, 0)])
    eff = tuple((k - 1) * d + 1 for k, d in zip(ksize, dilations, strict=True))
    win = np.lib.stride_tricks.sliding_window_view(x, eff, axis=tuple(range(1, rank + 1)))
    index = (
        (slice(None),)
        + tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out_sizes, strides, strict=True))
        + (slice(None),)
        + tuple(slice(None, None, d) for d in dilations)
    )
    win = win[index]  # (N, *out, C, *k)
    win = np.moveaxis(win, rank + 1, -1)  # (N, *out, *k, C): matches kernel's order
    cols = math.prod(ksize) * channels
    kmat = kernel.reshape(cols, filters)
    per_sample = math.prod(out_sizes)
    chunk = max(1, (32 << 20) // max(1, per_sample * cols * x.dtype.itemsize))
    flat_out = out.reshape(n, per_sample, filters)
    for start in range(0, n, chunk):
        stop = min(n, start + chunk)
        patches = win[start:stop].reshape((stop - start) * per_sample, cols)
        np.matmul(patches, kmat, out=flat_out[start:stop].reshape(-1, filters))
    return out


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
        pads: list[tuple[int, int]] = []
        outs: list[int | None] = []
        plan = zip(spatial, self.kernel_size, self.strides, self.dilation_rate, strict=True)
        for n, k, s, d in plan:
            eff = (k - 1) * d + 1
            if n is None:
                pads.append((0, 0))
                outs.append(None)
            elif self.padding == "valid":
                if n < eff:
                    raise ValueError(
                        "One of the dimensions in the output is <= 0 due to downsampling in "
                        f"{self.name}. Consider increasing the input size. Received input "
                        f"spatial shape {tuple(spatial)} with kernel_size {self.kernel_size} "
                        f"and dilation_rate {self.dilation_rate}, which would produce an "
                        "output shape with a zero or negative value in a dimension."
                    )
                pads.append((0, 0))
                outs.append((n - eff) // s + 1)
            elif self.padding == "same":
                out = -(-n // s)
                total = max((out - 1) * s + eff - n, 0)
                pads.append((total // 2, total - total // 2))  # extra pad at the end, as TF
                outs.append(out)
            else:  # causal: all the padding before
                pads.append((eff - 1, 0))
                outs.append(-(-n // s))
        return pads, tuple(outs)

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
        config = super().get_config()
        activity = config.pop("activity_regularizer")
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "groups": 1,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": activity,
                "kernel_constraint": None,
                "bias_constraint": None,
            }
        )
        return config


class Conv1D(_Conv):
    """1-D convolution over ``(batch, steps, channels)`` (or channels-first) inputs.

    Keras 2's arguments and defaults; ``padding`` is ``"valid"``, ``"same"``
    (TensorFlow's split: the odd extra pad goes at the end) or ``"causal"``
    (all padding before the first step). The kernel has shape
    ``(kernel_size, in_channels, filters)``. Extra leading dimensions are
    batch dimensions.

    Args:
        filters: Number of output channels.
        kernel_size: An int or a 1-tuple.
        strides: An int or a 1-tuple.
        padding: ``"valid"``, ``"same"`` or ``"causal"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        dilation_rate: An int or a 1-tuple.
        activation: An activation name or callable; None is linear.
        use_bias: Whether to add a bias vector.
        kernel_initializer: Initializer of the kernel.
        bias_initializer: Initializer of the bias.
        kernel_regularizer: Regularizer of the kernel.
        bias_regularizer: Regularizer of the bias.
        activity_regularizer: Regularizer of the output.
        **kwargs: The :class:`Layer` keywords (``input_shape``, ``name``, ``dtype``, ...).

    >>> import numpy as np
    >>> c = Conv1D(1, 2, padding="causal", kernel_initializer="ones",
    ...            activity_regularizer="l1")
    >>> c(np.arange(4.0).reshape(1, 4, 1))[..., 0]
    array([[0., 1., 3., 5.]], dtype=float32)
    >>> [round(float(v), 4) for v in c.losses]
    [0.09]
    """

    _RANK = 1


class Conv2D(_Conv):
    """2-D convolution over ``(batch, rows, cols, channels)`` (or channels-first) inputs.

    Keras 2's arguments and defaults; ``padding`` ``"valid"`` or ``"same"``
    (TensorFlow's split: the odd extra pad goes at the end). The kernel has
    shape ``kernel_size + (in_channels, filters)``.

    Args:
        filters: Number of output channels.
        kernel_size: An int or a 2-tuple.
        strides: An int or a 2-tuple.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        dilation_rate: An int or a 2-tuple.
        activation: An activation name or callable; None is linear.
        use_bias: Whether to add a bias vector.
        kernel_initializer: Initializer of the kernel.
        bias_initializer: Initializer of the bias.
        kernel_regularizer: Regularizer of the kernel.
        bias_regularizer: Regularizer of the bias.
        activity_regularizer: Regularizer of the output.
        **kwargs: The :class:`Layer` keywords (``input_shape``, ``name``, ``dtype``, ...).

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


class Conv3D(_Conv):
    """3-D convolution over ``(batch, d1, d2, d3, channels)`` (or channels-first) inputs.

    Keras 2's arguments and defaults; ``padding`` ``"valid"`` or ``"same"``
    (TensorFlow's split). The kernel has shape ``kernel_size +
    (in_channels, filters)``.

    Args:
        filters: Number of output channels.
        kernel_size: An int or a 3-tuple.
        strides: An int or a 3-tuple.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        dilation_rate: An int or a 3-tuple.
        activation: An activation name or callable; None is linear.
        use_bias: Whether to add a bias vector.
        kernel_initializer: Initializer of the kernel.
        bias_initializer: Initializer of the bias.
        kernel_regularizer: Regularizer of the kernel.
        bias_regularizer: Regularizer of the bias.
        activity_regularizer: Regularizer of the output.
        **kwargs: The :class:`Layer` keywords (``input_shape``, ``name``, ``dtype``, ...).

    >>> import numpy as np
    >>> c = Conv3D(4, (1, 2, 3), strides=2, data_format="channels_first")
    >>> c(np.ones((2, 3, 5, 6, 7))).shape
    (2, 4, 3, 3, 3)
    >>> c.kernel.shape
    (1, 2, 3, 3, 4)
    """

    _RANK = 3


# ---------------------------------------------------------------------------
# ActivityRegularization
# ---------------------------------------------------------------------------


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
