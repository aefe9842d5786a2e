# cython: language_level=3, boundscheck=False, wraparound=False
# cython: freethreading_compatible=True
"""Thin shim over the C kernels in csrc/ (see csrc/fastreg.h).

Arrays come in as plain ``numpy.ndarray`` objects and are read through the
NumPy C API (a few ns) rather than typed memoryviews (150-290 ns a call on
this project's machine). Anything that is not a native-byte-order float16,
float32 or float64 ndarray is handed to ``fastreg._convert``, which converts
it or raises the documented error. The GIL is released while a kernel runs
on more than GIL_MIN elements.

Small arrays are dominated by the call itself, so the three reductions are
METH_O functions, L1 / L2 / L1L2 instances are called through vectorcall
(fr_penalty_vectorcall) and result scalars are reused when nobody holds
them (FR_SCALAR).
"""
import os

cimport cython
cimport numpy as cnp
from libc.stdint cimport uint16_t

from fastreg cimport _cfastreg as c
from fastreg import _convert

cnp.import_array()


cdef extern from "numpy/arrayobject.h":
    object PyArray_NewLikeArray(cnp.ndarray prototype, cnp.NPY_ORDER order,
                                cnp.PyArray_Descr *descr, int subok)

cdef enum:
    # Below this many elements releasing and re-taking the GIL costs more
    # than the kernel itself.
    GIL_MIN = 4096


cdef int _code(cnp.ndarray x) noexcept:
    """Kernel element type of x, 0 when the C kernels cannot read it."""
    cdef int t = cnp.PyArray_TYPE(x)
    if not cnp.PyArray_ISNOTSWAPPED(x):
        return 0
    if t == cnp.NPY_FLOAT:
        return c.FR_F32
    if t == cnp.NPY_DOUBLE:
        return c.FR_F64
    if t == cnp.NPY_FLOAT16:
        return c.FR_F16
    return 0


cdef cnp.ndarray _array(object x):
    """x as an ndarray the kernels read, or the documented error."""
    if type(x) is cnp.ndarray and _code(<cnp.ndarray>x):
        return <cnp.ndarray>x
    return _convert.kernel_array(x)


cdef int _reduce(cnp.ndarray x, int what, double *sa, double *ss) except -1:
    return _reduce_code(x, _code(x), what, sa, ss)


cdef int _reduce_code(cnp.ndarray x, int code, int what, double *sa, double *ss) except -1:
    """fr_reduce of x (kernel dtype code), without the GIL past GIL_MIN elements."""
    cdef int err
    if cnp.PyArray_SIZE(x) < GIL_MIN:
        err = c.fr_reduce(cnp.PyArray_DATA(x), cnp.PyArray_NDIM(x), cnp.PyArray_DIMS(x),
                          cnp.PyArray_STRIDES(x), code, what, sa, ss)
    else:
        with nogil:
            err = c.fr_reduce(cnp.PyArray_DATA(x), cnp.PyArray_NDIM(x), cnp.PyArray_DIMS(x),
                              cnp.PyArray_STRIDES(x), code, what, sa, ss)
    if err != c.FR_OK:
        raise RuntimeError(f"fastreg kernel error {err}")
    return 0


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
    _reduce(_array(x), c.FR_ABS, &sa, NULL)
    return sa


@cython.binding(False)
@cython.always_allow_keywords(False)
def sum_squares(x):
    """sum_squares(x, /)
--

sum x**2 over every element, accumulated in float64."""
    cdef double ss = 0.0
    _reduce(_array(x), c.FR_SQ, NULL, &ss)
    return ss


@cython.binding(False)
@cython.always_allow_keywords(False)
def sum_abs_squares(x):
    """sum_abs_squares(x, /)
--

(sum |x|, sum x**2) in one pass over memory."""
    cdef double sa = 0.0, ss = 0.0
    _reduce(_array(x), c.FR_ABS | c.FR_SQ, &sa, &ss)
    return sa, ss


cdef extern from *:
    """
    #include <numpy/arrayscalars.h>
    /*
     * A NumPy scalar of a built-in float type, as PyArray_Scalar makes for
     * a native float16/32/64 array, without its generic descr path.
     *
     * Allocating one (the type's tp_alloc, PyObject_Malloc, initialisation)
     * is ~15 ns, a quarter of a regularizer call at n = 16. So the last
     * result of each type is kept, and reused when this cache holds the
     * only reference: nobody else can see the object then (NumPy scalars
     * take no weak references), so changing its value is unobservable,
     * like CPython's float free list. A caller that keeps its result (the
     * count is 2) gets a fresh object, which then becomes the cached one.
     * The GIL makes the check and the reuse one step; a free-threaded
     * build always allocates.
     */
    #ifdef Py_GIL_DISABLED
    #define FR_SCALAR(NAME, TYPE, CTYPE)                                        \
        static PyObject *NAME(CTYPE v)                                          \
        {                                                                       \
            PyObject *o = PyArrayScalar_New(TYPE);                              \
            if (o)                                                              \
                PyArrayScalar_ASSIGN(o, TYPE, v);                               \
            return o;                                                           \
        }
    #else
    #define FR_SCALAR(NAME, TYPE, CTYPE)                                        \
        static PyObject *NAME##_cache;                                          \
        static PyObject *NAME(CTYPE v)                                          \
        {                                                                       \
            PyObject *o = NAME##_cache;                                         \
            if (o && Py_REFCNT(o) == 1) {                                       \
                PyArrayScalar_ASSIGN(o, TYPE, v);                               \
                Py_INCREF(o);                                                   \
                return o;                                                       \
            }                                                                   \
            o = PyArrayScalar_New(TYPE);                                        \
            if (!o)                                                             \
                return NULL;                                                    \
            PyArrayScalar_ASSIGN(o, TYPE, v);                                   \
            Py_INCREF(o);                                                       \
            Py_XSETREF(NAME##_cache, o);                                        \
            return o;                                                           \
        }
    #endif
    FR_SCALAR(fr_scalar_f64, Double, double)
    FR_SCALAR(fr_scalar_f32, Float, float)
    FR_SCALAR(fr_scalar_f16, Half, npy_half)
    """
    object fr_scalar_f64(double v)
    object fr_scalar_f32(float v)
    object fr_scalar_f16(uint16_t v)


cdef object _scalar(int code, double v):
    """v (already representable) as a NumPy scalar of the kernel dtype code."""
    if code == c.FR_F64:
        return fr_scalar_f64(v)
    if code == c.FR_F32:
        return fr_scalar_f32(<float>v)
    return fr_scalar_f16(c.fr_f64_to_f16(v))


cdef extern from *:
    """
    /*
     * PEP 590 vectorcall for Penalty instances. A Python class (L1L2) that
     * inherits tp_call from this extension type is called through tp_call,
     * which packs the argument into a new tuple, and CPython before 3.12
     * never lets such a heap type inherit vectorcall: ~25 ns of a ~100 ns
     * call at n = 16. fr_enable_vectorcall gives a class the Penalty
     * instances' entry point (every instance stores it, see __cinit__).
     * One positional argument goes straight to Penalty._call; anything
     * else, or a class whose __call__ was replaced after it was enabled
     * (so its tp_call is no longer Penalty's), goes to the class's tp_call
     * with a tuple and dict, as if vectorcall were off.
     */
    typedef PyObject *(*fr_call1_t)(PyObject *self, PyObject *x);
    static fr_call1_t fr_penalty_call1;    /* _penalty_call1, set at import */
    static ternaryfunc fr_penalty_tp_call; /* Penalty's tp_call */

    static PyObject *fr_penalty_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf,
                                           PyObject *kwnames)
    {
        Py_ssize_t n = PyVectorcall_NARGS(nargsf), i;
        Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
        PyObject *tuple, *kw = NULL, *r = NULL;
        if (n == 1 && nkw == 0 && Py_TYPE(self)->tp_call == fr_penalty_tp_call)
            return fr_penalty_call1(self, args[0]);
        tuple = PyTuple_New(n);
        if (!tuple)
            return NULL;
        for (i = 0; i < n; i++) {
            Py_INCREF(args[i]);
            PyTuple_SET_ITEM(tuple, i, args[i]);
        }
        if (nkw) {
            kw = PyDict_New();
            for (i = 0; kw && i < nkw; i++)
                if (PyDict_SetItem(kw, PyTuple_GET_ITEM(kwnames, i), args[n + i]) < 0)
                    Py_CLEAR(kw);
            if (!kw)
                goto done;
        }
        r = Py_TYPE(self)->tp_call(self, tuple, kw);
    done:
        Py_DECREF(tuple);
        Py_XDECREF(kw);
        return r;
    }

    /* Turn vectorcall on for cls (Penalty or a subclass that still has
       Penalty's tp_call); offset is where instances keep the entry point. */
    static int fr_enable_vectorcall(PyObject *cls, PyObject *penalty, Py_ssize_t offset)
    {
        PyTypeObject *t = (PyTypeObject *)cls;
        fr_penalty_tp_call = ((PyTypeObject *)penalty)->tp_call;
        if (!PyType_IsSubtype(t, (PyTypeObject *)penalty) || t->tp_call != fr_penalty_tp_call)
            return 0;
        t->tp_vectorcall_offset = offset;
        t->tp_flags |= Py_TPFLAGS_HAVE_VECTORCALL;
        PyType_Modified(t);
        return 1;
    }
    """
    ctypedef void *vectorcallfunc  # a C function pointer type (Python.h)
    ctypedef object (*fr_call1_t)(object, object)
    fr_call1_t fr_penalty_call1
    vectorcallfunc fr_penalty_vectorcall
    int fr_enable_vectorcall(object cls, object penalty, Py_ssize_t offset)


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
        return (_new_penalty, (type(self),), self.__getstate__())

    def __getstate__(self):
        """The C state, the instance dict of a Python subclass, and its slots.

        The slot values are a sixth item, present only when some slot is
        set, so that the 5-item state of earlier versions stays the common
        form (and still loads here).
        """
        state = (self._a, self._b, self._terms, self._l1l2, getattr(self, "__dict__", None))
        slots = {}
        for name in _slot_names(type(self)):
            try:
                slots[name] = getattr(self, name)
            except AttributeError:  # an unset slot: nothing to restore
                pass
        return state + (slots,) if slots else state

    def __setstate__(self, state):
        a, b, terms, l1l2, d = state[:5]
        self._set(a, b, terms, l1l2)
        if d:
            self.__dict__.update(d)
        if len(state) > 5:
            for name, value in state[5].items():
                setattr(self, name, value)

    def _set(self, double a, double b, int terms, bint l1l2):
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
        cdef int code
        if type(x) is not cnp.ndarray:
            return _convert.call_slow(self, x)
        arr = <cnp.ndarray>x
        code = _code(arr)
        if code == 0:
            return _convert.call_slow(self, x)
        if self._terms:
            _reduce_code(arr, code, self._terms, &sa, &ss)
        return _scalar(code, self._value(code, sa, ss))

    cdef object _elementwise(self, object x, object out, int flags, bint prox,
                             double t, double d):
        cdef cnp.ndarray xa, oa
        cdef double sa = 0.0, ss = 0.0
        cdef int code, err
        cdef const char *xlo
        cdef const char *xhi
        cdef const char *olo
        cdef const char *ohi
        if type(x) is cnp.ndarray and _code(<cnp.ndarray>x):
            xa = <cnp.ndarray>x
        else:
            conv = _convert.as_float_array(x)
            if not _code(<cnp.ndarray>conv):
                # bfloat16 (or anything else the kernels cannot read directly)
                return _convert.elementwise_slow(self, conv, out, flags, prox, t, d)
            xa = <cnp.ndarray>conv
        code = _code(xa)
        if out is None:
            if flags & c.FR_ACC:
                raise ValueError("accumulate=True needs an out= array to add into")
            oa = PyArray_NewLikeArray(xa, cnp.NPY_KEEPORDER, NULL, 0)
        else:
            if not _out_ok(xa, out):
                _convert.bad_out(xa, out)
            oa = <cnp.ndarray>out
            c.fr_extent(cnp.PyArray_DATA(xa), cnp.PyArray_NDIM(xa), cnp.PyArray_DIMS(xa),
                        cnp.PyArray_STRIDES(xa), cnp.PyArray_ITEMSIZE(xa), &xlo, &xhi)
            c.fr_extent(cnp.PyArray_DATA(oa), cnp.PyArray_NDIM(oa), cnp.PyArray_DIMS(oa),
                        cnp.PyArray_STRIDES(oa), cnp.PyArray_ITEMSIZE(oa), &olo, &ohi)
            if xlo < ohi and olo < xhi and not _same_layout(xa, oa):
                # partial overlap: read from a copy so no element is read after
                # it was written
                xa = cnp.PyArray_NewCopy(xa, cnp.NPY_KEEPORDER)
        if not (flags & (c.FR_ABS | c.FR_SQ)):
            # no term is on (L1L2(0, 0)): the gradient is 0, the prox is x
            _convert.no_terms(xa, oa, flags, prox)
        elif cnp.PyArray_SIZE(xa) < GIL_MIN:
            if prox:
                err = c.fr_prox(cnp.PyArray_DATA(xa), cnp.PyArray_DATA(oa), cnp.PyArray_NDIM(xa),
                                cnp.PyArray_DIMS(xa), cnp.PyArray_STRIDES(xa),
                                cnp.PyArray_STRIDES(oa), code, t, d, flags)
            else:
                err = c.fr_grad(cnp.PyArray_DATA(xa), cnp.PyArray_DATA(oa), cnp.PyArray_NDIM(xa),
                                cnp.PyArray_DIMS(xa), cnp.PyArray_STRIDES(xa),
                                cnp.PyArray_STRIDES(oa), code, t, d, flags, &sa, &ss)
            if err != c.FR_OK:
                raise RuntimeError(f"fastreg kernel error {err}")
        else:
            with nogil:
                if prox:
                    err = c.fr_prox(cnp.PyArray_DATA(xa), cnp.PyArray_DATA(oa),
                                    cnp.PyArray_NDIM(xa), cnp.PyArray_DIMS(xa),
                                    cnp.PyArray_STRIDES(xa), cnp.PyArray_STRIDES(oa), code,
                                    t, d, flags)
                else:
                    err = c.fr_grad(cnp.PyArray_DATA(xa), cnp.PyArray_DATA(oa),
                                    cnp.PyArray_NDIM(xa), cnp.PyArray_DIMS(xa),
                                    cnp.PyArray_STRIDES(xa), cnp.PyArray_STRIDES(oa), code,
                                    t, d, flags, &sa, &ss)
            if err != c.FR_OK:
                raise RuntimeError(f"fastreg kernel error {err}")
        if flags & c.FR_VALUE:
            if not (flags & (c.FR_ABS | c.FR_SQ)) and self._terms:
                # the value needs sums the (empty) gradient did not take
                _reduce(xa, self._terms, &sa, &ss)
            return _scalar(code, self._value(code, sa, ss)), oa
        return oa

    def _params(self):
        """(a, b, terms, l1l2) as set by _set, for the Python slow paths."""
        return self._a, self._b, self._terms, self._l1l2

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
        cdef int flags = self._terms | c.FR_VALUE
        if accumulate:
            flags |= c.FR_ACC
        return self._elementwise(x, out, flags, False, self._a, 2.0 * self._b)

    def _prox(self, x, double t, double d, out=None):
        """Soft-threshold by t (if the l1 term is on), then divide by d."""
        return self._elementwise(x, out, self._terms, True, t, d)


def _new_penalty(cls):
    """An unset instance of cls, for unpickling (Penalty.__reduce__)."""
    return cls.__new__(cls)


def _slot_names(cls):
    """The attribute names of the __slots__ declared by cls and its bases.

    Private names are mangled as Python stores them (``__x`` declared in
    class ``C`` is the attribute ``_C__x``); ``__dict__`` and
    ``__weakref__`` are not values.
    """
    names = []
    for klass in cls.__mro__:
        slots = klass.__dict__.get("__slots__", ())
        if isinstance(slots, str):
            slots = (slots,)
        for name in slots:
            if name in ("__dict__", "__weakref__"):
                continue
            if name.startswith("__") and not name.endswith("__"):
                name = f"_{klass.__name__.lstrip('_')}{name}"
            names.append(name)
    return names


cdef object _penalty_call1(object self, object x):
    """Penalty instances' vectorcall with one argument (fr_penalty_vectorcall)."""
    return (<Penalty>self)._call(x)


fr_penalty_call1 = _penalty_call1


cdef Py_ssize_t _vectorcall_offset():
    """Where every Penalty instance (and subclass instance) keeps its entry point."""
    cdef Penalty probe = Penalty.__new__(Penalty)
    return <char *>&probe._vectorcall - <char *><void *>probe


cdef Py_ssize_t _VECTORCALL_OFFSET = _vectorcall_offset()


def _enable_vectorcall(cls):
    """Call instances of cls (Penalty or a subclass) through vectorcall.

    A no-op, returning False, for a class whose ``__call__`` is not
    Penalty's (a subclass that overrides it keeps its own).
    """
    return bool(fr_enable_vectorcall(cls, Penalty, _VECTORCALL_OFFSET))


_enable_vectorcall(Penalty)


cdef bint _out_ok(cnp.ndarray xa, object out):
    """out can take a result shaped and typed like xa (native xa)."""
    cdef cnp.ndarray oa
    if not isinstance(out, cnp.ndarray):
        return False
    oa = <cnp.ndarray>out
    return (cnp.PyArray_TYPE(oa) == cnp.PyArray_TYPE(xa)
            and cnp.PyArray_ISNOTSWAPPED(oa)
            and cnp.PyArray_SAMESHAPE(oa, xa)
            and cnp.PyArray_ISWRITEABLE(oa)
            and not c.fr_self_overlap(cnp.PyArray_NDIM(oa), cnp.PyArray_DIMS(oa),
                                      cnp.PyArray_STRIDES(oa), cnp.PyArray_ITEMSIZE(oa)))


def _check_out(cnp.ndarray x, out):
    """Raise the documented error unless out can take a result like x."""
    if not _out_ok(x, out):
        _convert.bad_out(x, out)


cdef bint _same_layout(cnp.ndarray a, cnp.ndarray b) noexcept:
    cdef int i
    if cnp.PyArray_DATA(a) != cnp.PyArray_DATA(b):
        return False
    for i in range(cnp.PyArray_NDIM(a)):
        if cnp.PyArray_DIMS(a)[i] > 1 and cnp.PyArray_STRIDES(a)[i] != cnp.PyArray_STRIDES(b)[i]:
            return False
    return True


# ---- SIMD level control ----------------------------------------------------

def simd_info():
    """{"detected": [...], "compiled": [...], "active": name}."""
    cdef unsigned det = c.fr_isa_detected(), comp = c.fr_isa_compiled()
    cdef int i
    names = [c.fr_isa_name(i).decode() for i in range(c.FR_ISA_COUNT)]
    return {
        "detected": [names[i] for i in range(c.FR_ISA_COUNT) if det >> i & 1],
        "compiled": [names[i] for i in range(c.FR_ISA_COUNT) if comp >> i & 1],
        "active": names[c.fr_isa_active()],
    }


def set_simd(name):
    """Force a SIMD level by name (any case); returns the previous one.

    Meant for tests and benchmarks: it changes the level for every thread.
    A name that is not a level raises ValueError, a level this CPU or build
    cannot run ValueError, a non-str TypeError.
    """
    cdef bytes b
    cdef int isa, prev
    b = _convert.simd_level(name).encode()
    isa = c.fr_isa_from_name(b)
    if isa < 0:
        raise ValueError(_convert.simd_unknown(name))
    prev = c.fr_isa_set(isa)
    if prev < 0:
        raise ValueError(_convert.simd_unavailable(name, simd_info()))
    return c.fr_isa_name(prev).decode()


# ---- threads (fastreg/_threads.py checks the arguments) ----------------------

MAX_THREADS = c.FR_MAX_THREADS


def _set_num_threads(int n):
    """Set the pool's thread count (1 .. MAX_THREADS); returns the previous one."""
    cdef int prev = c.fr_set_num_threads(n)
    if prev < 0:
        raise ValueError(f"number of threads must be 1 .. {MAX_THREADS}, got {n}")
    return prev


def _get_num_threads():
    return c.fr_get_num_threads()


def _set_parallel_min(int superblocks):
    """Fewest superblocks that go parallel (tests, benchmarks); returns the previous."""
    cdef int prev = c.fr_set_parallel_min(superblocks)
    if prev < 0:
        raise ValueError(f"parallel minimum must be >= 2 superblocks, got {superblocks}")
    return prev


def _init():
    """Apply FASTREG_SIMD: a cap, lowered to what this CPU and build can run."""
    info = simd_info()
    usable = [n for n in info["detected"] if n in info["compiled"]]
    level = _convert.simd_from_env(os.environ.get("FASTREG_SIMD", ""), usable)
    cdef bytes name = level.encode() if level else b""
    err = c.fr_init(name)
    if err != c.FR_OK:  # level is one of usable: C and Python disagree on the names
        raise RuntimeError(f"fastreg: cannot select SIMD level {level!r} (error {err})")


_init()
