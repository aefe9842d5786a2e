"""Sublayer tracking and weight bookkeeping: the half of ``Layer`` that owns state.

:class:`_Tracking` is a mixin of :class:`fastreg.layers.Layer` (its only
user), kept apart so that ``base.py`` reads as the layer protocol: losses,
build and call, config.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from fastreg import initializers, regularizers


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


class _Tracking:
    """Keras 2's attribute tracking, ``trainable`` and weight lists, for ``Layer``.

    Layers (also inside lists, tuples and dicts) assigned to attributes are
    sublayers; arrays assigned over a weight are written into it. Layer's
    ``__init__`` sets the ``_fr_*`` state this mixin reads.
    """

    # Layer's bookkeeping state (set in Layer.__init__; declared here, where the
    # `_fr_` prefix is handled, for type checkers)
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

    if TYPE_CHECKING:  # Layer's read-only property (messages name the layer)

        @property
        def name(self) -> str: ...

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
        if isinstance(value, (_Tracking, list, tuple, dict)):
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

    def _fr_children(self) -> list[_Tracking]:
        """Direct sublayers in tracking order (containers opened; dicts by sorted key)."""
        out: list[_Tracking] = []

        def collect(v: Any, seen: set[int]) -> None:
            if isinstance(v, _Tracking):
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

    def _flatten_layers(self, include_self: bool = True) -> list[_Tracking]:
        """This layer and all sublayers: depth-first pre-order, de-duplicated."""
        seen = {id(self)}
        order: list[_Tracking] = [self] if include_self else []
        stack = list(reversed(self._fr_children()))
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            order.append(layer)
            stack.extend(reversed(layer._fr_children()))
        return order

    # -- trainable and the weight lists ---------------------------------------

    @property
    def trainable(self) -> bool:
        """Whether the weights are trainable; setting it sets every sublayer too."""
        return self._fr_trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        for layer in self._flatten_layers():
            layer._fr_trainable = bool(value)

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


def _dedup(arrays: list[np.ndarray]) -> list[np.ndarray]:
    seen: set[int] = set()
    out = []
    for a in arrays:
        if id(a) not in seen:
            seen.add(id(a))
            out.append(a)
    return out
