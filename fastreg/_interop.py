"""Arrays from other libraries: torch tensors, JAX arrays and dask arrays (private).

Reached only from the slow path (``fastreg._convert`` / ``fastreg._slow``):
a plain ndarray never comes here, and neither torch, JAX nor dask is
imported unless the input is one of theirs (its type's module says so).

- torch (CPU): read and written in place through ``t.numpy()`` (a view; the
  cheapest zero-copy route: DLPack costs ~5x more per call), bfloat16
  through an int16 view re-typed as ``ml_dtypes.bfloat16``. ``out=`` may be
  a tensor, array results come back as tensors, values as NumPy scalars.
- JAX (CPU): read through DLPack (read-only, no copy); results are NumPy.
- dask: nothing is computed here. Values are ``da.reduction`` graphs whose
  chunks give fastreg's float64 sums and whose combine steps add them with
  ``math.fsum`` (correctly rounded, so the order tasks finish in cannot
  matter); the value is rounded from the total by ``Penalty._value_in`` (C's
  ``fr_penalty_value``), as for an ndarray. Elementwise results are
  ``map_blocks`` of the NumPy methods.
"""

from __future__ import annotations

import functools
import math
import sys
from typing import Any

import numpy as np

from fastreg import _convert, _core

# ---- torch -----------------------------------------------------------------


def _ml_bfloat16() -> Any:
    try:
        import ml_dtypes
    except ImportError:
        raise TypeError(
            "bfloat16 tensors need ml_dtypes for NumPy's view of them: pip install ml_dtypes"
        ) from None
    return ml_dtypes.bfloat16


def torch_view(t: Any) -> np.ndarray:
    """The ndarray sharing t's memory (any strides), or a clear TypeError."""
    if t.requires_grad:
        raise TypeError(
            "fastreg cannot read a tensor that requires grad (it has no autograd); pass x.detach()"
        )
    if not t.is_cpu:
        raise TypeError(
            f"fastreg computes on the CPU; got a tensor on {t.device}: pass x.cpu() (a copy)"
        )
    try:
        torch = sys.modules["torch"]  # imported: t is one of its tensors
        # let the shim take plain CPU tensors straight to the kernels from now
        # on (fastreg/_core.pyx; two assignments, so no "done once" flag)
        _core._register_torch(torch.Tensor, torch.from_numpy)
        if t.dtype is torch.bfloat16:
            return t.view(torch.int16).numpy().view(_ml_bfloat16())
        return t.numpy()
    except (RuntimeError, TypeError) as err:  # sparse, conjugated, unsupported dtypes
        raise TypeError(f"fastreg cannot read this tensor ({t.dtype}, {t.layout}): {err}") from err


def _to_torch(a: np.ndarray) -> Any:
    """a as a tensor sharing its memory."""
    torch = sys.modules["torch"]  # imported: the input was a tensor
    if a.dtype.char in _convert._KERNEL_CHARS:  # (not dtype.name: it costs ~1 us)
        return torch.from_numpy(a)
    return torch.from_numpy(a.view(np.int16)).view(torch.bfloat16)


def _torch_out(out: Any) -> Any:
    """The ndarray an out= (tensor or ndarray) is written through."""
    if _convert._kind(out) == "torch":
        return torch_view(out)
    return out  # an ndarray, or something the methods refuse with their error


# ---- JAX -------------------------------------------------------------------


def jax_view(x: Any) -> np.ndarray:
    """A read-only ndarray sharing a JAX CPU array's memory."""
    import jax

    if isinstance(x, jax.core.Tracer):
        raise TypeError(
            "fastreg cannot compute on a JAX tracer (inside jit, grad or vmap it has no "
            "values): use jax.pure_callback, or call fastreg outside jit"
        )
    try:
        return np.from_dlpack(x)
    except (BufferError, RuntimeError, TypeError) as err:
        if x.dtype == jax.numpy.bfloat16:  # DLPack into NumPy cannot carry bfloat16
            return np.asarray(x)  # jax gives NumPy an ml_dtypes.bfloat16 array
        raise TypeError(f"fastreg cannot read this JAX array: {err} (is it on the CPU?)") from err


# ---- dispatch from fastreg._convert / fastreg._slow --------------------------


def to_numpy(x: Any, kind: str) -> np.ndarray:
    """The ndarray view of a torch or JAX array (a dask array raises)."""
    if kind == "torch":
        return torch_view(x)
    if kind == "jax":
        return jax_view(x)
    raise TypeError(
        "this fastreg function does not take dask arrays: reading one would compute "
        "the whole graph (the regularizers and fastreg.kernels take them lazily)"
    )


def value(pen: Any, x: Any) -> Any:
    """pen(x) for a deferred input (fastreg._convert.defer)."""
    kind = _convert._kind(x)
    if kind == "torch":
        return pen(torch_view(x))
    if kind == "dask":
        return dask_value(pen, _dask_array(x))
    return pen(_convert.from_python(x))


def elementwise(pen: Any, x: Any, out: Any, flags: int, prox: bool, t: float, d: float) -> Any:
    """gradient / value_and_gradient / prox for a deferred input."""
    kind = _convert._kind(x)
    if kind == "dask":
        return dask_elementwise(pen, _dask_array(x), out, flags, prox, t, d)
    if kind == "torch":
        res = _apply(pen, torch_view(x), _torch_out(out), flags, prox, t, d)
        if out is not None:  # the caller's own out, tensor or ndarray
            return (res[0], out) if flags & _core.FR_VALUE else out
        if flags & _core.FR_VALUE:
            return res[0], _to_torch(res[1])
        return _to_torch(res)
    # a list or number: it has no dtype, so it takes out's when there is one
    dtype = None
    if isinstance(out, np.ndarray) and (
        out.dtype.char in _convert._KERNEL_CHARS or _convert._is_bfloat16(out.dtype)
    ):
        dtype = out.dtype
    return _apply(pen, _convert.from_python(x, dtype), out, flags, prox, t, d)


def _apply(pen: Any, x: np.ndarray, out: Any, flags: int, prox: bool, t: float, d: float) -> Any:
    """The public method that the shim's (flags, prox) stand for, on an ndarray."""
    if prox:
        return pen._prox(x, t, d, out)
    if flags & _core.FR_VALUE:
        return pen.value_and_gradient(x, out, bool(flags & _core.FR_ACC))
    return pen.gradient(x, out)


# ---- dask ------------------------------------------------------------------

# the partial sums of a block: float64, whatever the array's dtype
_SUMS = np.dtype([("sa", np.float64), ("ss", np.float64)])
DASK_OUT = (
    "out= cannot take a dask result (dask arrays are immutable): use the returned "
    "lazy array, e.g. da.store(result, target)"
)
_CODES = {"float16": _core.FR_F16, "float32": _core.FR_F32, "float64": _core.FR_F64}


def _dask_array(x: Any) -> Any:
    import dask.array as da

    if not isinstance(x, da.Array):
        raise TypeError(
            f"fastreg takes dask arrays, not other dask collections ({type(x).__name__}): "
            "pass the dask array (e.g. .data or .to_dask_array())"
        )
    return x


def _block_sums(block: np.ndarray, axis: Any, keepdims: bool, what: int) -> np.ndarray:
    """One chunk's (sum |x|, sum x**2), by the kernels, as a keepdims record."""
    sums = np.zeros((1,) * block.ndim, _SUMS)
    if what & _core.FR_ABS and what & _core.FR_SQ:
        sums["sa"], sums["ss"] = _core.sum_abs_squares(block)
    elif what & _core.FR_ABS:
        sums["sa"] = _core.sum_abs(block)
    elif what & _core.FR_SQ:
        sums["ss"] = _core.sum_squares(block)
    return sums


def _add_sums(parts: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    """The partial sums added, correctly rounded (math.fsum): independent of their order."""
    sums = np.zeros((1,) * parts.ndim if keepdims else (), _SUMS)
    sums["sa"] = math.fsum(parts["sa"].ravel())
    sums["ss"] = math.fsum(parts["ss"].ravel())
    return sums


def _sums(x: Any, what: int) -> Any:
    """A lazy 0-d record of x's float64 (sum |x|, sum x**2)."""
    import dask.array as da

    if x.ndim == 0:
        x = x.reshape(1)
    return da.reduction(
        x,
        functools.partial(_block_sums, what=what),
        _add_sums,
        combine=_add_sums,
        axis=None,
        keepdims=False,
        dtype=_SUMS,
        concatenate=True,
        meta=np.zeros((), _SUMS),
        name="fastreg-sums",
    )


def _value_of_sums(sums: np.ndarray, pen: Any, dtype: np.dtype) -> np.ndarray:
    code = _core.FR_BF16 if dtype.name == "bfloat16" else _CODES[dtype.name]
    v = pen._value_in(code, float(sums["sa"]), float(sums["ss"]))
    return np.asarray(v).astype(dtype)  # exact: v is representable in dtype


def dask_value(pen: Any, x: Any) -> Any:
    """pen(x) as a lazy 0-d dask array of x's dtype."""
    dtype = _check_dask_dtype(x)
    terms = pen._params()[2]
    return _sums(x, terms).map_blocks(
        _value_of_sums, pen, dtype, dtype=dtype, meta=np.zeros((), dtype), name="fastreg-value"
    )


def dask_float_array(x: Any) -> Any:
    """x, if it is a dask array of a dtype fastreg computes in (else TypeError)."""
    x = _dask_array(x)
    _check_dask_dtype(x)
    return x


def _check_dask_dtype(x: Any) -> np.dtype:
    """x's dtype, if fastreg computes in it (the same policy as for ndarrays)."""
    return _convert._float_dtype(np.empty(0, x.dtype)).dtype.newbyteorder("=")


def _block_op(block: np.ndarray, pen: Any, prox: bool, t: float, d: float) -> np.ndarray:
    if prox:
        return pen._prox(block, t, d)
    return pen.gradient(block)


def dask_elementwise(pen: Any, x: Any, out: Any, flags: int, prox: bool, t: float, d: float) -> Any:
    """gradient / prox as lazy map_blocks; value_and_gradient as (lazy value, lazy gradient)."""
    if out is not None:
        raise TypeError(DASK_OUT)
    if flags & _core.FR_ACC:
        raise ValueError("accumulate=True needs an out= array to add into")
    dtype = _check_dask_dtype(x)
    g = x.map_blocks(
        _block_op, pen, prox, t, d, dtype=dtype, name="fastreg-prox" if prox else "fastreg-grad"
    )
    if flags & _core.FR_VALUE:
        return dask_value(pen, x), g
    return g


def dask_kernel(x: Any, what: int) -> Any:
    """fastreg.kernels on a dask array: lazy 0-d float64 sums (a pair for both)."""
    x = _dask_array(x)
    _check_dask_dtype(x)
    sums = _sums(x, what)
    if what == _core.FR_ABS | _core.FR_SQ:
        return sums["sa"], sums["ss"]
    return sums["sa"] if what & _core.FR_ABS else sums["ss"]
