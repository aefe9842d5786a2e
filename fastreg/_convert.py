"""Input policy: what the C kernels are given, and the errors for the rest.

The Cython shim (``fastreg._core``) only takes native-byte-order float16,
float32 and float64 ndarrays on its fast path. Everything else comes here,
once per call, and is either converted (lists, scalars, ``__array__`` /
``__dlpack__`` objects, byte-swapped floats, bfloat16) or refused with an
error that names what was passed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fastreg import backend

KERNEL_DTYPES = ("float16", "float32", "float64")
SIMD_LEVELS = ("scalar", "sse2", "avx2", "avx512", "neon")


def _dtype_error(dtype: Any, what: str = "Regularizers") -> TypeError:
    return TypeError(
        f"{what} take floating-point input (float16, float32, float64"
        f"{', bfloat16' if what == 'Regularizers' else ''}); got dtype {dtype}"
    )


def _is_bfloat16(dtype: np.dtype) -> bool:
    return dtype.name == "bfloat16"


def _foreign_to_numpy(x: Any) -> np.ndarray:
    """An ndarray view of a non-NumPy object, refusing the unsafe kinds."""
    if x is None:
        raise TypeError("Regularizer input must be an array, got None")
    if hasattr(x, "__dask_graph__"):
        raise TypeError(
            "fastreg does not take dask arrays: converting one would compute the "
            "whole graph; apply the regularizer per block (da.map_blocks / reduction)"
        )
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            "fastreg does not take masked arrays (the mask would be ignored); "
            "pass x.filled(0) or x.compressed()"
        )
    if isinstance(x, np.ndarray):  # other subclasses (matrix, memmap, ...)
        return np.asarray(x)
    if hasattr(x, "__dlpack__") and not isinstance(x, (list, tuple)):
        try:
            return np.from_dlpack(x)
        except (BufferError, RuntimeError, TypeError) as err:
            if hasattr(x, "requires_grad") and getattr(x, "requires_grad", False):
                raise TypeError(
                    "fastreg cannot read a tensor that requires grad; pass x.detach()"
                ) from err
            # fall through to __array__ (e.g. bfloat16, which DLPack cannot carry)
    try:
        return np.asarray(x)
    except RuntimeError as err:  # torch: "Can't call numpy() on Tensor that requires grad"
        raise TypeError(f"fastreg cannot read this {type(x).__name__}: {err}") from err


def _from_python(x: Any) -> np.ndarray:
    """Lists, tuples and Python numbers, converted with floatx() (as Keras 2)."""
    try:
        a = np.asarray(x)
    except ValueError as err:
        raise ValueError(f"Regularizer input is not a rectangular array: {err}") from err
    if a.dtype.kind not in "iuf":  # bool, complex, strings, objects: refused
        raise _dtype_error(a.dtype)
    return a.astype(backend.floatx())


def as_float_array(x: Any) -> np.ndarray:
    """x as an ndarray of a float dtype fastreg computes in (bfloat16 included).

    Python lists and numbers become floatx() arrays; NumPy arrays keep their
    dtype (byte-swapped floats are converted to native order); anything else
    that is not a float array raises TypeError naming its dtype.
    """
    if isinstance(x, (list, tuple, int, float)) and not isinstance(x, np.generic):
        return _from_python(x)
    if isinstance(x, np.generic):
        a = np.asarray(x)
    else:
        a = _foreign_to_numpy(x)
    if a.dtype.kind == "f" and a.dtype.name in KERNEL_DTYPES:
        return a if a.dtype.isnative else a.astype(a.dtype.newbyteorder("="))
    if _is_bfloat16(a.dtype):
        return a
    raise _dtype_error(a.dtype)


def kernel_array(x: Any) -> np.ndarray:
    """Input policy of ``fastreg.kernels``: float16/32/64 in native byte order."""
    a = x if type(x) is np.ndarray else _foreign_to_numpy(x)
    if a.dtype.name not in KERNEL_DTYPES:
        raise _dtype_error(a.dtype, "The fastreg kernels")
    if not a.dtype.isnative:
        raise TypeError(
            f"The fastreg kernels take native byte order; got {a.dtype.str}: "
            "pass x.astype(x.dtype.newbyteorder('='))"
        )
    return a


def bad_out(x: np.ndarray, out: Any) -> None:
    """Raise the error that says why ``out`` cannot take the result for x."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != x.dtype:
        raise TypeError(f"out has dtype {out.dtype}, but the result has dtype {x.dtype}")
    if out.shape != x.shape:
        raise ValueError(f"out has shape {out.shape}, but the result has shape {x.shape}")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    raise ValueError(
        "out has elements that share memory (e.g. a zero stride); "
        "pass an array whose elements are distinct"
    )


def simd_unknown(name: str) -> str:
    return f"unknown SIMD level {name!r}; the levels are {', '.join(SIMD_LEVELS)}"


def simd_level(name: Any) -> str:
    """The canonical (lower-case) level name for ``name``, in any case.

    Checked here, against the names themselves, before anything reaches C:
    the C lookup would stop at an embedded NUL ("avx2\\x00junk") and a lone
    surrogate cannot even be encoded for it.
    """
    if not isinstance(name, str):
        raise TypeError(f"SIMD level must be a str, got {type(name).__name__}")
    level = str.lower(name)
    if level not in SIMD_LEVELS:
        raise ValueError(simd_unknown(name))
    return level


# The order FASTREG_SIMD caps in: each x86-64 level runs everything the ones
# before it do; scalar is below every level; NEON is the only ARM level. So
# "neon" on x86-64 (or "avx2" on ARM) caps to scalar.
SIMD_CHAINS = (("scalar", "sse2", "avx2", "avx512"), ("scalar", "neon"))


def simd_from_env(value: str, usable: list[str]) -> str | None:
    """The level ``FASTREG_SIMD=value`` selects, given the ``usable`` levels.

    Unset or empty: None (the best level). A level name (any case) caps the
    level: the best usable level at or below it in SIMD_CHAINS, with one
    RuntimeWarning when that is not the level asked for (the CPU or build
    lacks it). Anything else raises ValueError.
    """
    if not value:
        return None
    try:
        want = simd_level(value)
    except ValueError:
        raise ValueError("FASTREG_SIMD: " + simd_unknown(value)) from None
    chain = next(ch for ch in SIMD_CHAINS if want in ch)
    below = chain[: chain.index(want) + 1]
    level = next(name for name in reversed(below) if name in usable)  # scalar always is
    if level != want:
        import warnings

        warnings.warn(
            f"FASTREG_SIMD={value!r}: this CPU and build cannot run {want!r} "
            f"(they can run {', '.join(usable)}); using {level!r}, the best level below it",
            RuntimeWarning,
            stacklevel=2,
        )
    return level


def simd_unavailable(name: str, info: dict) -> str:
    usable = [n for n in info["detected"] if n in info["compiled"]]
    return (
        f"SIMD level {name!r} is not available here: this CPU and build can run {', '.join(usable)}"
    )
