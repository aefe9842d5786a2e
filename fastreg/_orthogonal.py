"""``OrthogonalRegularizer``, Keras 2's tensor semantics in NumPy (private).

Public as ``fastreg.regularizers.OrthogonalRegularizer``; its ``__module__``
names that path, so pickles and reprs do not depend on this file.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fastreg import _convert, _core, _interop
from fastreg._regularizer_base import (
    Regularizer,
    check_penalty_number,
    fmt,
    keras_signature,
    to_floatx,
)

_ORTH_EPS = 1e-12  # tf.math.l2_normalize's epsilon (on the sum of squares)


def _eye(like: Any, size: int, ct: Any) -> Any:
    """The identity matrix, of like's kind (a dask array for a dask input)."""
    if isinstance(like, np.ndarray):
        return np.eye(size, dtype=ct)
    import dask.array as da

    return da.eye(size, chunks=like.chunks[0][0] or "auto", dtype=ct)


def _rounded(v: Any, dtype: np.dtype) -> Any:
    """v rounded to dtype: a 0-d NumPy value, or a lazy 0-d dask array for a dask v."""
    return v.astype(dtype) if hasattr(v, "__dask_graph__") else dtype.type(v)


class OrthogonalRegularizer(Regularizer):
    """Penalises non-orthogonal rows (or columns) of a rank-2 array.

    Keras 2's tensor semantics: each row (``mode="rows"``) or column
    (``mode="columns"``) is normalised with ``v * rsqrt(max(sum(v**2), 1e-12))``,
    and the result is ``factor * 0.5 * sum(|offdiag(P)|) / (n*(n-1)/2)`` with
    ``P`` the matrix of dot products of the ``n`` normalised vectors (the
    mean absolute cosine similarity over pairs, times ``factor``). One
    vector, or none, gives NaN (0/0), as Keras. float16 and bfloat16 are
    computed in float32 and rounded once.

    Args:
        factor: A Python ``int`` or ``float`` (finite; no ``None`` default).
        mode: ``"rows"`` or ``"columns"``.

    Raises:
        ValueError: for a bad factor, or a mode other than ``"rows"`` or
            ``"columns"``.

    >>> import numpy as np
    >>> reg = OrthogonalRegularizer(factor=1.0, mode="rows")
    >>> x = np.array([[1, 1, 1, 1], [2, 0, 0, 0], [0, 0, 3, 1]], np.float32)
    >>> print(reg(x))
    0.3774852
    >>> print(reg(np.eye(3)))
    0.0
    >>> reg.gradient(np.eye(2)).shape
    (2, 2)
    """

    # the public path: pickles (also those made before the split) and reprs name it
    __module__ = "fastreg.regularizers"

    @keras_signature
    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        check_penalty_number(factor)
        self.factor = to_floatx(factor)
        if mode not in ("rows", "columns"):
            raise ValueError(
                'Invalid value for argument `mode`. Expected one of {"rows", "columns"}. '
                f"Received: mode={mode}"
            )
        self.mode = str(mode)

    def _input(self, inputs: Any) -> Any:
        if _convert._kind(inputs) == "dask":  # computed lazily, by dask's own array ops
            x = _interop.dask_float_array(inputs)
        else:
            x = _convert.float_array(inputs)
        if x.ndim != 2:
            raise ValueError(
                "Inputs to OrthogonalRegularizer must have rank 2. "
                f"Received: inputs.shape == {tuple(x.shape)}"
            )
        return x

    def _forward(self, x: np.ndarray, need_grad: bool) -> tuple[Any, np.ndarray | None]:
        """(value, gradient or None) for a validated rank-2 float array.

        The value is rounded to x's dtype; the gradient is left in the compute
        dtype (float32 for float16/bfloat16) for the caller to round once.
        """
        ct = np.float32 if x.dtype.itemsize < 4 else x.dtype.type
        v = x.astype(ct, copy=False)
        columns = self.mode != "rows"
        if columns:
            v = v.T
        size = v.shape[0]
        with np.errstate(all="ignore"):
            ss = np.sum(np.square(v), axis=1)
            r = ct(1.0) / np.sqrt(np.maximum(ss, ct(_ORTH_EPS)))
            n = v * r[:, None]
            p = n @ n.T
            eye = _eye(v, size, ct)
            p = p * (ct(1.0) - eye)
            total = np.sum(np.abs(p), dtype=ct)
            num_pairs = size * (size - 1.0) / 2.0
            half = ct(np.asarray(self.factor) * 0.5)
            value = _rounded(half * total / ct(num_pairs), x.dtype)
            if not need_grad:
                return value, None
            # d/dP_ij of c*|P_ij| (i != j) is c*sign(P_ij); P = N N^T
            c = half / ct(num_pairs)
            s = c * np.sign(p) * (ct(1.0) - eye)
            g_n = (s + s.T) @ n
            # back through N = v * rsqrt(max(ss, eps)): r * (g_n - N (g_n . N)) where
            # ss >= eps (tf.maximum's gradient goes to ss on ties), r * g_n below it
            # (r is the constant 1e6 there). Projecting on N rather than v keeps the
            # exact zeros, e.g. for parallel rows.
            dot = np.where(ss >= ct(_ORTH_EPS), np.sum(g_n * n, axis=1), ct(0.0))
            g = r[:, None] * (g_n - n * dot[:, None])
        if columns:
            g = g.T
        return value, g

    def __call__(self, x: Any) -> Any:
        """The penalty of the rank-2 array ``x``: a 0-d value of its dtype."""
        return self._forward(self._input(x), False)[0]

    def gradient(self, x: Any, out: np.ndarray | None = None) -> np.ndarray:
        """The analytic gradient of the penalty with respect to ``x``.

        ``sign(0)`` is taken as 0; a row (column) whose squared norm is below
        the 1e-12 epsilon is scaled by a constant, as in the forward pass.

        Args:
            x: A rank-2 float array (same input rules as calling).
            out: Optional array for the result (same shape and dtype, writeable).

        Returns:
            The gradient array (``out`` when given).
        """
        return self.value_and_gradient(x, out)[1]

    def value_and_gradient(
        self, x: Any, out: np.ndarray | None = None, accumulate: bool = False
    ) -> tuple[Any, np.ndarray]:
        """The penalty (exactly ``self(x)``) and its gradient.

        Args:
            x: A rank-2 float array.
            out: Optional array for the gradient.
            accumulate: Add the gradient into ``out`` instead of overwriting it.

        Returns:
            ``(value, gradient)``.
        """
        a = self._input(x)
        if out is None and accumulate:
            raise ValueError("accumulate=True needs an out= array to add into")
        if out is not None:
            if not isinstance(a, np.ndarray):
                raise TypeError(_interop.DASK_OUT)
            _core._check_out(a, out)
        value, g = self._forward(a, True)
        if g is None:  # pragma: no cover - _forward always returns it here
            raise AssertionError("no gradient")
        if accumulate and out is not None:
            with np.errstate(all="ignore"):
                g = out.astype(g.dtype) + g
        g = g.astype(a.dtype)
        if out is None:
            return value, g
        np.copyto(out, g)
        return value, out

    def get_config(self) -> dict[str, Any]:
        """``{"factor": float, "mode": str}``."""
        return {"factor": float(self.factor), "mode": self.mode}

    def __repr__(self) -> str:
        return f"OrthogonalRegularizer(factor={fmt(self.factor)}, mode={self.mode!r})"
