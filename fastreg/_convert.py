"""Input policy: what the C kernels are given, and the errors for the rest.

The Cython shim (``fastreg._core``) only takes native-byte-order float16,
float32 and float64 ndarrays on its fast path. Everything else comes here,
once per call, and is converted, *deferred* to the Python slow path, or
refused with an error that names what was passed. One policy for every
entry point (the regularizers' call, ``gradient``, ``value_and_gradient``,
``prox``, ``out=``, and ``fastreg.kernels``):

========================================  =====================================================
input                                     what happens
========================================  =====================================================
float16/32/64 ndarray, any strides        read in place (the fast path, no Python at all)
byte-swapped float16/32/64                converted to native order (a copy)
bfloat16 ndarray (``ml_dtypes``)          computed in float32 (exact), results bfloat16;
                                          the kernels return the float64 sums
Python list / tuple / int / float         no dtype of its own: ``floatx()`` (Keras's rule), or
                                          ``out``'s dtype when ``out=`` is given; the kernels
                                          read it as float64 (their sums are float64)
int / uint / bool / complex / str /       TypeError naming the dtype: an array's dtype is a
object ndarray (or tensor of one)         statement, and casting it would hide the bug (Keras
                                          2 truncates ints); a list is not, hence the row above
masked array, None                        TypeError (a mask would be ignored)
``__array__`` / ``__dlpack__`` objects    read through them (no copy where possible), then the
                                          rows above by dtype
torch CPU tensor                          a zero-copy view (``t.numpy()``); ``out=`` may be a
                                          tensor; array results come back as tensors; bfloat16
                                          needs ``ml_dtypes``
torch tensor that requires grad           TypeError: pass ``x.detach()`` (no autograd here)
torch tensor not on the CPU               TypeError: pass ``x.cpu()``
JAX CPU array                             read-only zero-copy view through DLPack; NumPy results
JAX tracer (inside ``jit``/``grad``)      TypeError: use ``jax.pure_callback`` or call outside
dask array                                lazy dask results (``fastreg._interop``); ``out=`` is
                                          refused (dask arrays are immutable)
other dask collections                    TypeError: pass the dask array
========================================  =====================================================

Inputs that need their ``out=`` or must give a lazy or tensor result (dask
arrays, torch tensors, Python lists and numbers) cannot be returned to the
shim as an ndarray it can read: ``as_float_array`` returns them *deferred*,
wrapped in a 0-d object ndarray. The shim sees a dtype it has no kernel for
and calls the regularizer's slow-path hooks (``_call_slow`` /
``_elementwise_slow``, see ``fastreg._slow``), which unwrap it. An object
array from a user never gets there: it is refused above.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fastreg import backend

KERNEL_DTYPES = ("float16", "float32", "float64")
# the same by dtype.char ("e", "f", "d"): dtype.name builds a string (~1 us)
_KERNEL_CHARS = ("e", "f", "d")
SIMD_LEVELS = ("scalar", "sse2", "avx2", "avx512", "neon")

# The libraries with a route of their own, by the top-level module of the
# input's type: checked only for inputs off the fast path, and cached per
# type (a dict look-up) because this is on every torch call.
_KINDS: dict[type, str] = {}
_EMPTY_OBJECT = np.empty((), dtype=object)


def _kind(x: Any) -> str:
    """ "torch", "jax", "dask" or "" for anything else."""
    t = type(x)
    kind = _KINDS.get(t)
    if kind is None:
        # the first library in the type's MRO: a user's subclass of
        # torch.Tensor is a tensor (its own module is the user's)
        tops = [str(getattr(c, "__module__", "")).partition(".")[0] for c in t.__mro__]
        top = next((m for m in tops if m in ("torch", "jax", "jaxlib")), tops[0])
        if top == "torch" and hasattr(x, "numpy"):
            kind = "torch"
        elif top in ("jax", "jaxlib"):
            kind = "jax"
        elif hasattr(x, "__dask_graph__"):
            kind = "dask"
        else:
            return ""  # not cached: arbitrary user types would pile up
        _KINDS[t] = kind
    return kind


_INTEROP: Any = None


def _interop() -> Any:
    """fastreg._interop, imported on first use (it imports fastreg._core, which imports us)."""
    global _INTEROP
    if _INTEROP is None:
        from fastreg import _interop as module

        _INTEROP = module
    return _INTEROP


def defer(x: Any) -> np.ndarray:
    """x wrapped in a 0-d object array, for the slow-path hooks to unwrap."""
    box = _EMPTY_OBJECT.copy()  # cheaper than np.empty
    box[()] = x
    return box


def is_deferred(a: np.ndarray) -> bool:
    return a.dtype.kind == "O"


def _dtype_error(dtype: Any, what: str = "Regularizers") -> TypeError:
    return TypeError(
        f"{what} take floating-point input (float16, float32, float64, bfloat16); got dtype {dtype}"
    )


def _is_bfloat16(dtype: np.dtype) -> bool:
    return dtype.name == "bfloat16"


def _foreign_to_numpy(x: Any) -> np.ndarray:
    """An ndarray view of a non-NumPy object, refusing the unsafe kinds."""
    if x is None:
        raise TypeError("Regularizer input must be an array, got None")
    kind = _kind(x)
    if kind:
        return _interop().to_numpy(x, kind)
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


def from_python(x: Any, dtype: Any = None) -> np.ndarray:
    """Lists, tuples and Python numbers, converted with dtype (default floatx(), as Keras 2)."""
    try:
        a = np.asarray(x)
    except ValueError as err:
        raise ValueError(f"Regularizer input is not a rectangular array: {err}") from err
    if a.dtype.kind not in "iuf":  # bool, complex, strings, objects: refused
        raise _dtype_error(a.dtype)
    return a.astype(backend.floatx() if dtype is None else dtype)


def _float_dtype(a: np.ndarray) -> np.ndarray:
    """a if its dtype is one fastreg computes in (byte-swapped made native), else TypeError."""
    if a.dtype.char in _KERNEL_CHARS:
        return a if a.dtype.isnative else a.astype(a.dtype.newbyteorder("="))
    if _is_bfloat16(a.dtype):
        return a
    raise _dtype_error(a.dtype)


def as_float_array(x: Any) -> np.ndarray:
    """What the shim computes on: a float ndarray (bfloat16 included) or a deferred input.

    Python lists and numbers, torch tensors and dask arrays come back
    deferred (see the module docstring); NumPy arrays keep their dtype
    (byte-swapped floats are converted to native order); anything else that
    is not a float array raises TypeError naming its dtype.
    """
    if isinstance(x, (list, tuple, int, float)) and not isinstance(x, np.generic):
        return defer(x)
    if isinstance(x, np.generic):
        return _float_dtype(np.asarray(x))
    kind = _KINDS.get(type(x)) or _kind(x)
    if kind == "torch" or kind == "dask":
        return defer(x)
    return _float_dtype(_foreign_to_numpy(x))


def float_array(x: Any) -> np.ndarray:
    """x as a float ndarray (never deferred): for code that needs the values now.

    A dask array raises TypeError (reading it would compute the whole graph).
    """
    if isinstance(x, (list, tuple, int, float)) and not isinstance(x, np.generic):
        return from_python(x)
    if isinstance(x, np.generic):
        return _float_dtype(np.asarray(x))
    if _kind(x) == "dask":
        raise TypeError("this fastreg function does not take dask arrays (it would compute them)")
    return _float_dtype(_foreign_to_numpy(x))


def kernel_array(x: Any) -> np.ndarray:
    """Input policy of ``fastreg.kernels``: an ndarray of a kernel dtype.

    bfloat16 is widened to float32 (exact) and byte-swapped floats are made
    native; lists and numbers are read as float64 (the sums are float64).
    """
    if isinstance(x, (list, tuple, int, float)) and not isinstance(x, np.generic):
        a = from_python(x, np.float64)
    else:
        a = x if type(x) is np.ndarray else _foreign_to_numpy(x)
    if a.dtype.char not in _KERNEL_CHARS:
        if _is_bfloat16(a.dtype):
            return a.astype(np.float32)
        raise _dtype_error(a.dtype, "The fastreg kernels")
    if not a.dtype.isnative:
        return a.astype(a.dtype.newbyteorder("="))
    return a


def kernel_deferred(x: Any, what: int) -> Any:
    """The lazy result of a kernel for a dask array x, or None for anything else."""
    if _kind(x) != "dask":
        return None
    return _interop().dask_kernel(x, what)


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
