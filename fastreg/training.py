"""Training steps over all the weights of a model in one call: :class:`ParamGroup`.

Beyond Keras (SEMANTICS.md, "Beyond Keras"): a NumPy training loop keeps its
weights as long-lived arrays and, every step, adds the regularizers'
gradients to the loss gradients and updates the weights. ``ParamGroup`` does
that for every weight in one C call (``csrc/fr_group.c``), reading and
writing each weight once.
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from fastreg import _core, regularizers
from fastreg._regularizer_base import show

__all__ = ["ParamGroup"]

_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_VALUE, _GRAD, _SGD, _PROX = _core.GROUP_VALUE, _core.GROUP_GRAD, _core.GROUP_SGD, _core.GROUP_PROX
_FMAX = sys.float_info.max
_FLOAT_DTYPES = (np.dtype(np.float16), *_KERNEL_DTYPES)


class ParamGroup:
    """Weights with their regularizers, regularized and stepped in one C call.

    The total every method returns is ``Σ R_i(W_i)`` over the regularized
    weights, each term the Keras value ``float(reg(W))`` (rounded in the
    weight's dtype, as calling the regularizer gives it), added in weight
    order as Python floats (float64) starting from ``0.0``. It is the penalty
    of the weights as they were when the call began, and bit-identical on
    every SIMD level and thread count.

    Built-in ``L1``, ``L2`` and ``L1L2`` on float32 / float64 weights run in
    C: one call, the GIL released once, big weights split into superblocks
    over the thread pool as single-array calls are. Any other regularizer (a
    function, ``OrthogonalRegularizer``, a subclass overriding ``__call__``,
    ``gradient`` or ``prox``), and float16 weights, fall back to the
    regularizer's own methods, per weight, in NumPy, with the same formulas.

    Weights are checked once, here: each a writeable, contiguous,
    native-order float16/32/64 ``numpy.ndarray``, no two sharing memory. A
    step checks the gradients (dtype, shape, layout, no memory shared with
    any weight or other gradient), ``lr`` and ``momentum``, and whether the
    weights are still writeable and contiguous, before it writes anything;
    only an exception raised by a fallback regularizer's own code can stop
    a step half-way, and those run before the C call.

    Args:
        weights: The weight arrays (updated in place by the steps).
        regularizers: One regularizer for every weight, or a sequence with
            one per weight (None: not regularized, e.g. biases); anything
            :func:`fastreg.regularizers.get` accepts.

    Raises:
        TypeError: for a weight that is not a float16/32/64 ndarray.
        ValueError: for mismatched lengths, a read-only or non-contiguous
            weight, or weights that share memory.

    >>> import numpy as np
    >>> from fastreg import L1, L2, ParamGroup
    >>> W = np.array([[0.5, -1.0], [2.0, 0.0]], dtype=np.float32)
    >>> b = np.zeros(2, dtype=np.float32)
    >>> group = ParamGroup([W, b], [L2(0.5), None])
    >>> group.penalty()                   # 0.5 * (0.25 + 1 + 4)
    2.625
    >>> gW, gb = np.ones_like(W), np.ones_like(b)
    >>> group.sgd_step([gW, gb], lr=0.1)  # W -= 0.1 * (gW + 2*0.5*W)
    2.625
    >>> W
    array([[ 0.35, -1.  ],
           [ 1.7 , -0.1 ]], dtype=float32)
    >>> b
    array([-0.1, -0.1], dtype=float32)
    """

    def __init__(self, weights: Sequence[np.ndarray], regularizers: Any = None) -> None:
        weights = list(weights)
        regs = _per_weight(regularizers, len(weights))
        for i, w in enumerate(weights):
            _check_weight(i, w)
        self._weights = weights
        self._regs = regs
        self._fast = [
            w.dtype in _KERNEL_DTYPES and _on_c_path(r) for w, r in zip(weights, regs, strict=True)
        ]
        self._slow = [i for i, fast in enumerate(self._fast) if not fast]
        self._all_c = not self._slow  # every step is one Group.step call
        self._velocities: list[np.ndarray | None] | None = None
        # also checks that no two weights share memory
        self._c = _core.Group(
            weights, [r if f else None for r, f in zip(regs, self._fast, strict=True)], self._fast
        )

    @classmethod
    def from_layers(cls, layers: Any) -> ParamGroup:
        """The trainable weights of built layers, each with its own regularizer.

        Args:
            layers: A ``fastreg.layers.Layer`` or a sequence of them; the
                weights are taken in ``trainable_weights`` order, a weight
                shared between layers once.

        Returns:
            A new group (kernel regularizers on kernels, bias regularizers
            on biases, None for unregularized weights).
        """
        from fastreg.layers._gradients import trainable_with_regularizers

        if not isinstance(layers, (list, tuple)):
            layers = [layers]
        weights: list[np.ndarray] = []
        regs: list[Any] = []
        seen: set[int] = set()
        for layer in layers:
            for w, r in trainable_with_regularizers(layer):
                if id(w) not in seen:
                    seen.add(id(w))
                    weights.append(w)
                    regs.append(r)
        return cls(weights, regs)

    @property
    def weights(self) -> list[np.ndarray]:
        """The weight arrays (a new list of the arrays themselves)."""
        return list(self._weights)

    @property
    def regularizers(self) -> list[Any]:
        """The regularizer of each weight (None: not regularized)."""
        return list(self._regs)

    def penalty(self) -> float:
        """``Σ R_i(W_i)``: the total penalty, in one call."""
        if self._all_c:  # one C call (_run: the Python fallback weights too)
            return self._c.step(_VALUE, None, 0.0, 0.0, None, None)
        return self._run(_VALUE, None, 0.0, 0.0)

    def add_gradients(self, grads: Sequence[np.ndarray]) -> float:
        """``grads[i] += ∇R_i(W_i)`` in place, for every regularized weight.

        Args:
            grads: One writeable array per weight, with its weight's dtype,
                shape and memory order (C or Fortran).

        Returns:
            The total penalty (as :meth:`penalty`), from the same pass.
        """
        if self._all_c:  # one C call (_run: the Python fallback weights too)
            return self._c.step(_GRAD, grads, 0.0, 0.0, None, None)
        return self._run(_GRAD, grads, 0.0, 0.0)

    def sgd_step(self, grads: Sequence[np.ndarray], lr: float, momentum: float = 0.0) -> float:
        """One SGD step: ``W ← W − lr·(g + ∇R(W))``, with optional heavy-ball momentum.

        In each weight's dtype, as NumPy computes ``u = g + ∇R(W)``; with
        ``momentum`` μ > 0, ``v = μ·v + u`` (v starts at 0, kept by the
        group) and ``u = v``; then ``W -= lr*u`` (torch.optim.SGD's rule,
        with the regularizer's gradient in place of ``weight_decay``). The
        gradients are only read.

        Args:
            grads: One array per weight (dtype, shape and memory order of
                its weight).
            lr: The learning rate, a finite real number ≥ 0.
            momentum: μ, a finite real number ≥ 0.

        Returns:
            The total penalty of the weights before the step.
        """
        rate = _check_rate(lr, "lr")
        mu = _check_rate(momentum, "momentum")
        if mu != 0.0 and self._velocities is None:
            self._velocities = [np.zeros_like(w) for w in self._weights]
        if self._all_c:  # one C call (_run: the Python fallback weights too)
            vels = self._velocities if mu != 0.0 else None
            return self._c.step(_SGD, grads, rate, mu, vels, None)
        return self._run(_SGD, grads, rate, mu)

    def prox_step(self, grads: Sequence[np.ndarray], lr: float) -> float:
        """One proximal-gradient step: ``W ← prox_{lr·R}(W − lr·g)``.

        The prox is the regularizer's ``prox(x, lr)``: L1 soft-thresholds
        (exact zeros), L2 multiplies by the rounded reciprocal of
        ``1 + 2·lr·l2``, L1L2 does both.
        Unregularized weights take the plain step ``W − lr·g``.

        Args:
            grads: One array per weight (dtype, shape and memory order of
                its weight), only read.
            lr: The step size, a finite real number ≥ 0.

        Returns:
            The total penalty of the weights before the step.

        Raises:
            ValueError: also when ``1 + 2·lr·l2`` is not positive.
        """
        rate = _check_rate(lr, "lr")
        if self._all_c:  # one C call (_run: the Python fallback weights too)
            return self._c.step(_PROX, grads, rate, 0.0, None, None)
        return self._run(_PROX, grads, rate, 0.0)

    def reset_momentum(self) -> None:
        """Forget the heavy-ball velocities (they restart at 0)."""
        self._velocities = None

    def __len__(self) -> int:
        return len(self._weights)

    def __repr__(self) -> str:
        return f"ParamGroup({len(self._weights)} weights, {len(self._slow)} on the Python path)"

    # -- one step -------------------------------------------------------------

    def _run(self, op: int, grads: Any, lr: float, mu: float) -> float:
        # A step with weights on the Python path. When every weight is on
        # the C path, the public methods call Group.step themselves: this
        # frame was ~2,300 of the ~28,000 instructions of a 32-weight step
        # at n = 16 (python tools/callgrind_calls.py).
        vels = self._velocities if mu != 0.0 else None
        if grads is not None and type(grads) is not list:
            grads = list(grads)
        if grads is not None and len(grads) != len(self._weights):
            raise ValueError(f"got {len(grads)} gradients for {len(self._weights)} weights")
        # the fallback weights: check, then run the regularizers' own code,
        # all before anything is written
        values = np.zeros(len(self._weights))
        updates = [self._fallback(i, op, grads, lr, mu, vels, values) for i in self._slow]
        self._c.step(op, grads, lr, mu, vels, values)  # checks the C path, then writes
        for apply in updates:
            apply()
        total = 0.0
        for v in values.tolist():
            total += v
        return total

    def _fallback(
        self, i: int, op: int, grads: Any, lr: float, mu: float, vels: Any, values: np.ndarray
    ) -> Any:
        """Weight i's value into values[i], and a function that does its writes."""
        w, reg = self._weights[i], self._regs[i]
        if reg is not None:
            values[i] = float(reg(w))
        if op == _VALUE:
            return _nothing
        g = _check_slow_grad(i, w, grads[i], op == _GRAD, self._weights)
        if op == _PROX:
            z = w - lr * g
            if reg is not None and lr != 0.0:
                z = np.asarray(_method(reg, "prox", i, "prox_step")(z, lr), dtype=w.dtype)
            return lambda: np.copyto(w, z)
        d = None if reg is None else np.asarray(_method(reg, "gradient", i, op)(w), dtype=w.dtype)
        if op == _GRAD:
            return _nothing if d is None else lambda: np.add(g, d, out=g)
        u = g if d is None else g + d
        v = None if vels is None else vels[i]

        def apply() -> None:
            step = u
            if v is not None:  # v = mu*v + u, in place
                np.multiply(v, w.dtype.type(mu), out=v)
                np.add(v, u, out=v)
                step = v
            np.subtract(w, w.dtype.type(lr) * step, out=w)

        return apply


def _nothing() -> None:
    pass


def _per_weight(regs: Any, n: int) -> list[Any]:
    """The regularizers as a list of n (None: not regularized), resolved by get()."""
    if regs is None:
        return [None] * n
    if isinstance(regs, (list, tuple)):
        if len(regs) != n:
            raise ValueError(f"got {len(regs)} regularizers for {n} weights")
        return [regularizers.get(r) for r in regs]
    return [regularizers.get(regs)] * n


def _check_weight(i: int, w: Any) -> None:
    if not isinstance(w, np.ndarray):
        raise TypeError(f"weights[{i}] must be a NumPy array, got {type(w).__name__}")
    if w.dtype not in _FLOAT_DTYPES:
        raise TypeError(f"weights[{i}] must be float16, float32 or float64, got {w.dtype}")
    if not w.flags.writeable:
        raise ValueError(f"weights[{i}] is read-only")
    if not (w.flags.c_contiguous or w.flags.f_contiguous):
        raise ValueError(f"weights[{i}] must be contiguous (C or Fortran order)")


def _on_c_path(reg: Any) -> bool:
    """None, or a built-in L1 / L2 / L1L2 whose methods are all the built-in ones."""
    if reg is None:
        return True
    if not isinstance(reg, _core.Penalty):
        return False
    cls = type(reg)
    return all(
        getattr(cls, m, None) is getattr(_core.Penalty, m)
        for m in ("__call__", "gradient", "value_and_gradient", "prox", "_params")
    )


def _method(reg: Any, name: str, i: int, op: Any) -> Any:
    fn = getattr(reg, name, None)
    if not callable(fn):
        step = op if isinstance(op, str) else {1: "add_gradients", 2: "sgd_step"}[op]
        raise TypeError(
            f"the regularizer of weights[{i}] ({show(reg)}) has no {name}() method, "
            f"which {step} needs"
        )
    return fn


def _check_slow_grad(i: int, w: np.ndarray, g: Any, written: bool, weights: list) -> np.ndarray:
    """grads[i] of a fallback weight, checked as the C path checks its own."""
    if not isinstance(g, np.ndarray):
        raise TypeError(f"grads[{i}] must be a NumPy array, got {type(g).__name__}")
    if g.dtype != w.dtype:
        raise TypeError(f"grads[{i}] has dtype {g.dtype}, its weight {w.dtype}")
    if g.shape != w.shape:
        raise ValueError(f"grads[{i}] has shape {g.shape}, its weight {w.shape}")
    if written and not g.flags.writeable:
        raise ValueError(f"grads[{i}] is read-only")
    for j, other in enumerate(weights):
        if np.may_share_memory(g, other):
            raise ValueError(f"grads[{i}] and weights[{j}] share memory")
    return g


def _check_rate(x: Any, name: str) -> float:
    """lr / momentum as a float: a finite real number >= 0, else ValueError."""
    if type(x) is float and 0.0 <= x <= _FMAX:  # the usual case, first (NaN, inf fail)
        return x
    if type(x) is not float and type(x) is not int:
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, (numbers.Real, np.generic)):
            raise ValueError(f"{name} must be a finite real number >= 0, got {show(x)}")
    try:
        v = float(x)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name} must be a finite real number >= 0, got {show(x)}") from None
    if not (math.isfinite(v) and v >= 0.0):
        raise ValueError(f"{name} must be a finite real number >= 0, got {v!r}")
    return v
