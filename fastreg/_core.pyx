# cython: language_level=3, boundscheck=False, wraparound=False
# cython: freethreading_compatible=True
"""Thin shim over the C kernels in csrc/ (see csrc/fastreg.h).

Arrays come in as plain ``numpy.ndarray`` objects and are read through the
NumPy C API (a few ns) rather than typed memoryviews (150-290 ns a call on
this project's machine). Anything that is not a native-byte-order float16,
float32 or float64 ndarray is handed to ``fastreg._convert``, which converts
it or raises the documented error. The GIL is released while a kernel runs
on GIL_MIN elements or more.

Small arrays are dominated by the call itself, so the three reductions are
METH_O functions, L1 / L2 / L1L2 instances are called through vectorcall
(fr_penalty_vectorcall) and result scalars are reused when nobody holds
them (FR_SCALAR).
"""
import os

cimport cython
cimport numpy as cnp
from cpython.object cimport PyObject_TypeCheck, PyTypeObject
from cpython.ref cimport PyObject
from libc.math cimport INFINITY
from libc.stdint cimport uint16_t

from fastreg cimport _cfastreg as c
from fastreg import _convert, _steps

cnp.import_array()


cdef extern from "numpy/arrayobject.h":
    object PyArray_NewLikeArray(cnp.ndarray prototype, cnp.NPY_ORDER order,
                                cnp.PyArray_Descr *descr, int subok)

# The C flags and type codes under their C names, for the Python modules
# (fastreg.regularizers, fastreg._slow): one definition, in csrc/fastreg.h.
FR_ABS = c.FR_ABS
FR_SQ = c.FR_SQ
FR_ACC = c.FR_ACC
FR_VALUE = c.FR_VALUE
FR_BF16 = c.FR_BF16
FR_F16 = c.FR_F16
FR_F32 = c.FR_F32
FR_F64 = c.FR_F64

cdef enum:
    # Below this many elements releasing and re-taking the GIL costs more
    # than the kernel itself.
    GIL_MIN = 4096


include "_core_probe.pxi"


cdef extern from "_core_arrays.h":
    # what the shim and Group read off an array, on its fields (borrowed pointers)
    Py_ssize_t fa_size(PyObject *o) noexcept
    bint fa_same_shape(PyObject *a, PyObject *b) noexcept
    int fa_code(PyObject *o) noexcept
    Py_ssize_t fa_nbytes(PyObject *o, Py_ssize_t n, int code) noexcept
    int fa_weight(PyObject *o, c.fr_param *p, Py_ssize_t *nbytes) noexcept
    int fa_grad(PyObject *o, PyObject *w, int written, void **data) noexcept


cdef inline int _code(cnp.ndarray x) noexcept:
    """Kernel element type of x, 0 when the C kernels cannot read it."""
    return fa_code(<PyObject *>x)


cdef inline cnp.npy_intp _size(cnp.ndarray a) noexcept:
    """PyArray_SIZE without its call into NumPy (PyArray_MultiplyList)."""
    return fa_size(<PyObject *>a)


cdef inline bint _same_shape(cnp.ndarray a, cnp.ndarray b) noexcept:
    """PyArray_SAMESHAPE without its call into NumPy (PyArray_CompareLists)."""
    return fa_same_shape(<PyObject *>a, <PyObject *>b)


cdef cnp.ndarray _array(object x):
    """x as an ndarray the kernels read, or the documented error."""
    if type(x) is cnp.ndarray and _code(<cnp.ndarray>x):
        return <cnp.ndarray>x
    return _convert.kernel_array(x)


cdef int _reduce(cnp.ndarray x, int what, double *sa, double *ss) except -1:
    return _reduce_code(x, _code(x), what, sa, ss)


cdef int _reduce_code(cnp.ndarray x, int code, int what, double *sa, double *ss) except -1:
    """fr_reduce of x (kernel dtype code), without the GIL from GIL_MIN elements on."""
    cdef int err
    cdef const void *data = cnp.PyArray_DATA(x)
    cdef int ndim = cnp.PyArray_NDIM(x)
    cdef const cnp.npy_intp *shape = cnp.PyArray_DIMS(x)
    cdef const cnp.npy_intp *strides = cnp.PyArray_STRIDES(x)
    if _size(x) < GIL_MIN:
        err = c.fr_reduce(data, ndim, shape, strides, code, what, sa, ss)
    else:
        with nogil:
            if _probe_on:
                _probe()
            err = c.fr_reduce(data, ndim, shape, strides, code, what, sa, ss)
    if err != c.FR_OK:
        raise RuntimeError(f"fastreg kernel error {err}")
    return 0


cdef object _reduce_other(object x, int what):
    """A reduction of anything but a kernel-dtype ndarray (a dask array's is lazy).

    Kept out of the three functions below so that their ndarray path holds no
    Python object of its own to set up and release.
    """
    cdef double sa = 0.0, ss = 0.0
    lazy = _convert.kernel_deferred(x, what)
    if lazy is not None:
        return lazy
    _reduce(_array(x), what, &sa if what & c.FR_ABS else NULL,
            &ss if what & c.FR_SQ else NULL)
    if what == c.FR_ABS:
        return sa
    if what == c.FR_SQ:
        return ss
    return sa, ss


# The three reductions are plain one-argument C functions (METH_O, no Cython
# binding): the cheapest call CPython has, which its specializing interpreter
# makes straight from the eval loop; at n = 16 the call is most of the time.
# So x is positional only, and the docstrings carry the text signature.
@cython.binding(False)
@cython.always_allow_keywords(False)
def sum_abs(x):
    """sum_abs(x, /)
--

sum |x| over every element, accumulated in float64."""
    cdef double sa = 0.0
    if type(x) is cnp.ndarray and _code(<cnp.ndarray>x):
        _reduce(<cnp.ndarray>x, c.FR_ABS, &sa, NULL)
        return sa
    return _reduce_other(x, c.FR_ABS)  # anything else, dask arrays too


@cython.binding(False)
@cython.always_allow_keywords(False)
def sum_squares(x):
    """sum_squares(x, /)
--

sum x**2 over every element, accumulated in float64."""
    cdef double ss = 0.0
    if type(x) is cnp.ndarray and _code(<cnp.ndarray>x):
        _reduce(<cnp.ndarray>x, c.FR_SQ, NULL, &ss)
        return ss
    return _reduce_other(x, c.FR_SQ)  # anything else, dask arrays too


@cython.binding(False)
@cython.always_allow_keywords(False)
def sum_abs_squares(x):
    """sum_abs_squares(x, /)
--

(sum |x|, sum x**2) in one pass over memory."""
    cdef double sa = 0.0, ss = 0.0
    if type(x) is cnp.ndarray and _code(<cnp.ndarray>x):
        _reduce(<cnp.ndarray>x, c.FR_ABS | c.FR_SQ, &sa, &ss)
        return sa, ss
    return _reduce_other(x, c.FR_ABS | c.FR_SQ)  # anything else, dask arrays too


cdef extern from "_core_glue.h":
    # reused result scalars (FR_SCALAR) and Penalty's vectorcall entry point
    object fr_scalar_f64(double v)
    object fr_scalar_f32(float v)
    object fr_scalar_f16(uint16_t v)
    ctypedef void *vectorcallfunc  # a C function pointer type (Python.h)
    ctypedef object (*fr_call1_t)(object, object)
    fr_call1_t fr_penalty_call1
    vectorcallfunc fr_penalty_vectorcall
    int fr_enable_vectorcall(object cls, object penalty, Py_ssize_t offset)


# ---- torch tensors: the plain CPU ones take a short cut -----------------------
# fastreg._interop registers torch.Tensor when it first reads a tensor (torch
# is never imported here). A tensor whose .numpy() view is a float16/32/64
# array then goes straight to the kernels; every other tensor (requires_grad,
# not on the CPU, bfloat16, conjugated, integer, ...) and every other
# subclass takes fastreg._interop's route, with its errors.

cdef object _TORCH_TENSOR = None  # torch.Tensor, once registered
cdef object _TORCH_FROM_NUMPY = None  # torch.from_numpy


def _register_torch(tensor_type, from_numpy):
    """Called by fastreg._interop with torch.Tensor and torch.from_numpy."""
    global _TORCH_TENSOR, _TORCH_FROM_NUMPY
    _TORCH_TENSOR, _TORCH_FROM_NUMPY = tensor_type, from_numpy


cdef object _tensor_view(object t):
    """t.numpy() (a view) when it is a float array the kernels read, else None."""
    try:
        view = t.numpy()
    except Exception:  # torch's refusals: the slow route says it clearly
        return None
    if type(view) is cnp.ndarray and _code(<cnp.ndarray>view):
        return view
    return None


cdef object _scalar(int code, double v):
    """v (already representable) as a NumPy scalar of the kernel dtype code."""
    if code == c.FR_F64:
        return fr_scalar_f64(v)
    if code == c.FR_F32:
        return fr_scalar_f32(<float>v)
    return fr_scalar_f16(c.fr_f64_to_f16(v))


cdef int _own(object self, type cls, str name) except -1:
    """Refuse a self of another type. Cython's method objects do not check
    self when a method is called through its class (``Penalty.prox(obj, x,
    1.0)``), and the method would read obj's memory as the class's fields."""
    if PyObject_TypeCheck(self, <PyTypeObject *>cls):
        return 0
    raise TypeError(f"descriptor '{name}' for '{cls.__name__}' objects doesn't apply to a "
                    f"'{type(self).__name__}' object")


@cython.auto_pickle(False)  # the state is pickled by __getstate__ / __setstate__
cdef class Penalty:
    """C state of a built-in L1 / L2 / L1L2 regularizer.

    ``_set(a, b, terms, l1l2)``: a is the l1 factor, b the l2 factor (as
    stored, i.e. already rounded to floatx); terms is FR_ABS | FR_SQ, the
    sums the value needs; l1l2 selects Keras's L1L2 rule (start from 0 and
    add each term that is on).
    """
    cdef vectorcallfunc _vectorcall  # instances' vectorcall entry point
    cdef double _a, _b
    cdef int _terms
    cdef bint _l1l2

    def __cinit__(self):
        self._vectorcall = fr_penalty_vectorcall

    def __reduce__(self):
        """Pickle / copy: a new instance of the class, then __setstate__."""
        _own(self, Penalty, "__reduce__")
        return (_new_penalty, (type(self),), self.__getstate__())

    def __getstate__(self):
        """The C state, the instance dict of a Python subclass, and its slots.

        The slot values are a sixth item, present only when some slot is
        set, so that the 5-item state of earlier versions stays the common
        form (and still loads here).
        """
        _own(self, Penalty, "__getstate__")
        state = (self._a, self._b, self._terms, self._l1l2, getattr(self, "__dict__", None))
        slots = {}
        for name in _slot_names(type(self)):
            try:
                slots[name] = getattr(self, name)
            except AttributeError:  # an unset slot: nothing to restore
                pass
        return state + (slots,) if slots else state

    def __setstate__(self, state):
        _own(self, Penalty, "__setstate__")
        a, b, terms, l1l2, d = state[:5]
        self._set(a, b, terms, l1l2)
        if d:
            self.__dict__.update(d)
        if len(state) > 5:
            for name, value in state[5].items():
                setattr(self, name, value)

    def _set(self, double a, double b, int terms, bint l1l2):
        _own(self, Penalty, "_set")
        self._a = a
        self._b = b
        self._terms = terms
        self._l1l2 = l1l2

    cdef double _value(self, int code, double sa, double ss) noexcept:
        return c.fr_penalty_value(code, sa, ss, self._a, self._b, self._terms, self._l1l2)

    def __call__(self, x):
        """The penalty of ``x``: a 0-d NumPy value of ``x``'s float dtype.

        The sums are accumulated in higher precision and rounded once to the
        dtype, then multiplied by ``dtype(factor)`` (Keras's rounding). A
        native-order float16/32/64 ndarray goes straight to the kernels;
        anything else goes through ``fastreg._convert`` (lists and numbers
        with ``floatx()``, bfloat16, ``__array__``/``__dlpack__`` objects) or
        raises TypeError naming its dtype.
        """
        return self._call(x)

    cdef object _call(self, x):
        cdef cnp.ndarray arr
        cdef double sa = 0.0, ss = 0.0
        cdef int code = 0
        if type(x) is cnp.ndarray:
            arr = <cnp.ndarray>x
            code = _code(arr)
        elif type(x) is _TORCH_TENSOR:
            view = _tensor_view(x)
            if view is not None:
                arr = <cnp.ndarray>view
                code = _code(arr)
        if not code:
            # lists, numbers, foreign arrays, byte-swapped or bfloat16 input
            arr = _convert.as_float_array(x)
            code = _code(arr)
            if not code:
                return self._call_slow(arr)  # bfloat16 etc.: the Python subclass's slow path
        if self._terms:
            _reduce_code(arr, code, self._terms, &sa, &ss)
        return _scalar(code, self._value(code, sa, ss))

    cdef object _elementwise(self, object x, object out, int flags, bint prox,
                             double t, double d):
        cdef cnp.ndarray xa, oa
        cdef double sa = 0.0, ss = 0.0
        cdef int code
        cdef cnp.npy_intp size
        if type(x) is cnp.ndarray and _code(<cnp.ndarray>x):
            xa = <cnp.ndarray>x
        elif type(x) is _TORCH_TENSOR and (view := _tensor_view(x)) is not None:
            return self._elementwise_tensor(x, view, out, flags, prox, t, d)
        else:
            conv = _convert.as_float_array(x)
            if not _code(<cnp.ndarray>conv):
                # bfloat16 (or anything else the kernels cannot read directly)
                return self._elementwise_slow(conv, out, flags, prox, t, d)
            xa = <cnp.ndarray>conv
        code = _code(xa)
        size = _size(xa)
        if out is None:
            if flags & c.FR_ACC:
                raise ValueError("accumulate=True needs an out= array to add into")
            oa = PyArray_NewLikeArray(xa, cnp.NPY_KEEPORDER, NULL, 0)
        else:
            oa = _out_array(xa, out)
            if _overlaps(xa, oa, size * cnp.PyArray_ITEMSIZE(xa)):
                # partial overlap: read from a copy so no element is read after
                # it was written (the kernels take out == x, nothing else)
                xa = cnp.PyArray_NewCopy(xa, cnp.NPY_KEEPORDER)
        if flags & (c.FR_ABS | c.FR_SQ):
            _kernel(prox, xa, oa, code, t, d, flags, &sa, &ss, size)
        elif prox:  # no term is on (L1L2(0, 0)): the prox is x
            cnp.PyArray_CopyInto(oa, xa)
        elif not flags & c.FR_ACC:  # ... and the gradient is 0
            cnp.PyArray_FillWithScalar(oa, 0)
        if flags & c.FR_VALUE:
            return _scalar(code, self._value(code, sa, ss)), oa
        return oa

    cdef object _elementwise_tensor(self, object x, object xview, object out, int flags,
                                    bint prox, double t, double d):
        """_elementwise of a tensor x through xview, its _tensor_view.

        What fastreg._interop.elementwise returns, without its Python layers
        (the cheapest zero-copy route for small tensors): ``out`` itself
        when given, else a tensor sharing the result's memory. An ``out``
        that is neither an ndarray nor a plain tensor goes the slow route.
        """
        view = out
        if out is not None and type(out) is not cnp.ndarray:
            view = _tensor_view(out) if type(out) is _TORCH_TENSOR else None
            if view is None:
                return self._elementwise_slow(_convert.defer(x), out, flags, prox, t, d)
        res = self._elementwise(xview, view, flags, prox, t, d)
        if out is not None:
            return (res[0], out) if flags & c.FR_VALUE else out
        if flags & c.FR_VALUE:
            return res[0], _TORCH_FROM_NUMPY(res[1])
        return _TORCH_FROM_NUMPY(res)

    def _params(self):
        """(a, b, terms, l1l2) as set by _set, for the Python slow paths."""
        _own(self, Penalty, "_params")
        return self._a, self._b, self._terms, self._l1l2

    def _value_in(self, int code, double sa, double ss):
        """The value from the sums, rounded in dtype code (FR_BF16 too) as Keras does."""
        _own(self, Penalty, "_value_in")
        return c.fr_penalty_value(code, sa, ss, self._a, self._b, self._terms, self._l1l2)

    def gradient(self, x, out=None):
        """The gradient of the penalty with respect to ``x``.

        L1: ``l1*sign(x)`` (sign(0) = 0, NaN stays NaN); L2: ``2*l2*x``;
        L1L2: the sum of the terms whose factor is non-zero. Computed in
        ``x``'s dtype (float16 and bfloat16 in float32, rounded once).

        Args:
            x: The weights (same input rules as calling the regularizer).
            out: Optional array to write into: same shape and dtype as the
                result, writeable; it may be ``x`` itself.

        Returns:
            The gradient array (``out`` when given).

        Raises:
            TypeError: for non-float input, or an ``out`` of another type or dtype.
            ValueError: for an ``out`` of another shape, read-only, or with
                elements that share memory.
        """
        _own(self, Penalty, "gradient")
        return self._elementwise(x, out, self._terms, False, self._a, 2.0 * self._b)

    def value_and_gradient(self, x, out=None, accumulate=False):
        """The penalty and its gradient in one pass over memory.

        The value is exactly ``self(x)``; the gradient is as
        :meth:`gradient`'s.

        Args:
            x: The weights (same input rules as calling the regularizer).
            out: Optional array for the gradient (see :meth:`gradient`).
            accumulate: Add the gradient into ``out`` (``out += grad``, the
                usual ``grads += reg'(w)``) instead of overwriting it; needs
                ``out``.

        Returns:
            ``(value, gradient)``: a 0-d value of the input's dtype and the
            gradient array (``out`` when given).

        Raises:
            TypeError, ValueError: as :meth:`gradient`; ValueError also when
                ``accumulate`` is true and ``out`` is None.
        """
        _own(self, Penalty, "value_and_gradient")
        cdef int flags = self._terms | c.FR_VALUE
        if accumulate:
            flags |= c.FR_ACC
        return self._elementwise(x, out, flags, False, self._a, 2.0 * self._b)

    def _prox(self, x, double t, double d, out=None):
        """Soft-threshold by t (if the l1 term is on), then multiply by 1/d (rounded once)."""
        _own(self, Penalty, "_prox")
        return self._elementwise(x, out, self._terms, True, t, d)

    def prox(self, x, step, out=None):
        """The proximal map of ``step * penalty`` at ``x``.

        ``argmin_z step*penalty(z) + ½‖z − x‖²``: L1 soft-thresholds by
        ``step*l1`` (exact zeros inside the threshold, signs kept, NaN stays
        NaN); L2 scales by ``1/(1 + 2*step*l2)``; L1L2 does both, in that
        order. Computed in ``x``'s dtype (float16 and bfloat16 in float32,
        rounded once). The L2 scaling multiplies by the reciprocal of
        ``1 + 2*step*l2`` rounded once in that dtype (not a division per
        element, which may differ in the last bit); the same bits on every
        SIMD level.

        Args:
            x: The weights (same input rules as calling the regularizer).
            step: The step size: a finite real number ≥ 0 that fits in a
                float (0 gives ``x`` back, whatever the factors).
            out: Optional array for the result (same shape and dtype,
                writeable); ``out=x`` updates ``x`` in place.

        Returns:
            The result array (``out`` when given).

        Raises:
            ValueError: for an invalid ``step``, or when ``1 + 2*step*l2`` is
                not positive (negative ``l2``); ``out`` errors as
                :meth:`gradient`.
        """
        _own(self, Penalty, "prox")
        cdef double s, d
        # A float step that is finite and >= 0 is checked here; anything else
        # (ints, NumPy scalars, Fractions, errors) by fastreg._steps, whose
        # messages are the documented ones.
        if type(step) is float and 0.0 <= <double>step < INFINITY:
            s = <double>step
        else:
            s = _steps.check_step(step)
        if s == 0.0:  # the identity, also for a factor stored as inf (0*inf is nan)
            return self._elementwise(x, out, self._terms, True, 0.0, 1.0)
        d = 1.0 + 2.0 * s * self._b
        if self._terms & c.FR_SQ and not d > 0.0:
            _steps.undefined(s, self._b)
        return self._elementwise(x, out, self._terms, True, s * self._a, d)


include "_core_pickle.pxi"
include "_core_vectorcall.pxi"
include "_core_calls.pxi"
include "_core_control.pxi"
include "_core_group.pxi"
