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
from libc.stdint cimport uint16_t

from fastreg cimport _cfastreg as c
from fastreg import _convert

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

cdef enum:
    # Below this many elements releasing and re-taking the GIL costs more
    # than the kernel itself.
    GIL_MIN = 4096


# ---- test-only GIL probe ---------------------------------------------------
# Whether a kernel call really runs without the GIL cannot be told reliably
# from Python by timing other threads (the OS may not schedule them, or the
# kernel may end first). So each `with nogil:` block asks CPython directly:
# when _probe_on is set (by _gil_probe, for tests/test_threads.py only), it
# records PyGILState_Check() next to the kernel call. Off, it costs one
# predictable branch, and only on the released-GIL path (>= GIL_MIN elements).

cdef extern from "Python.h":
    int PyGILState_Check() nogil  # documented as callable without the GIL

cdef bint _probe_on = False
cdef Py_ssize_t _probe_free = 0  # probe calls that found the GIL released
cdef Py_ssize_t _probe_held = 0  # probe calls that found it held


cdef void _probe() noexcept nogil:
    global _probe_free, _probe_held
    if PyGILState_Check():
        _probe_held += 1
    else:
        _probe_free += 1


def _gil_probe(bint enable):
    """Test-only: turn the GIL probe on or off; returns and resets the counts.

    Returns ``(calls_without_gil, calls_with_gil)`` seen since the previous
    call. Not thread-safe: meant for one test thread at a time.
    """
    global _probe_on, _probe_free, _probe_held
    counts = (_probe_free, _probe_held)
    _probe_free = _probe_held = 0
    _probe_on = enable
    return counts


def _gil_probe_calibrate():
    """Test-only: reach the probe as the kernel calls do, once holding the GIL
    and once without it, so a test can show that it tells the two apart."""
    if _probe_on:
        _probe()
    with nogil:
        if _probe_on:
            _probe()


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
    """fr_reduce of x (kernel dtype code), without the GIL from GIL_MIN elements on."""
    cdef int err
    cdef const void *data = cnp.PyArray_DATA(x)
    cdef int ndim = cnp.PyArray_NDIM(x)
    cdef const cnp.npy_intp *shape = cnp.PyArray_DIMS(x)
    cdef const cnp.npy_intp *strides = cnp.PyArray_STRIDES(x)
    if cnp.PyArray_SIZE(x) < GIL_MIN:
        err = c.fr_reduce(data, ndim, shape, strides, code, what, sa, ss)
    else:
        with nogil:
            if _probe_on:
                _probe()
            err = c.fr_reduce(data, ndim, shape, strides, code, what, sa, ss)
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


cdef object _scalar(int code, double v):
    """v (already representable) as a NumPy scalar of the kernel dtype code."""
    if code == c.FR_F64:
        return fr_scalar_f64(v)
    if code == c.FR_F32:
        return fr_scalar_f32(<float>v)
    return fr_scalar_f16(c.fr_f64_to_f16(v))


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
        if type(x) is not cnp.ndarray or not _code(<cnp.ndarray>x):
            # lists, numbers, foreign arrays, byte-swapped or bfloat16 input
            x = _convert.as_float_array(x)
            if not _code(<cnp.ndarray>x):
                return self._call_slow(x)  # bfloat16: the Python subclass's slow path
        arr = <cnp.ndarray>x
        code = _code(arr)
        if self._terms:
            _reduce_code(arr, code, self._terms, &sa, &ss)
        return _scalar(code, self._value(code, sa, ss))

    cdef object _elementwise(self, object x, object out, int flags, bint prox,
                             double t, double d):
        cdef cnp.ndarray xa, oa
        cdef double sa = 0.0, ss = 0.0
        cdef int code
        if type(x) is cnp.ndarray and _code(<cnp.ndarray>x):
            xa = <cnp.ndarray>x
        else:
            conv = _convert.as_float_array(x)
            if not _code(<cnp.ndarray>conv):
                # bfloat16 (or anything else the kernels cannot read directly)
                return self._elementwise_slow(conv, out, flags, prox, t, d)
            xa = <cnp.ndarray>conv
        code = _code(xa)
        if out is None:
            if flags & c.FR_ACC:
                raise ValueError("accumulate=True needs an out= array to add into")
            oa = PyArray_NewLikeArray(xa, cnp.NPY_KEEPORDER, NULL, 0)
        else:
            oa = _out_array(xa, out)
            if _overlaps(xa, oa):
                # partial overlap: read from a copy so no element is read after
                # it was written (the kernels take out == x, nothing else)
                xa = cnp.PyArray_NewCopy(xa, cnp.NPY_KEEPORDER)
        if flags & (c.FR_ABS | c.FR_SQ):
            _kernel(prox, xa, oa, code, t, d, flags, &sa, &ss)
        elif prox:  # no term is on (L1L2(0, 0)): the prox is x
            cnp.PyArray_CopyInto(oa, xa)
        elif not flags & c.FR_ACC:  # ... and the gradient is 0
            cnp.PyArray_FillWithScalar(oa, 0)
        if flags & c.FR_VALUE:
            return _scalar(code, self._value(code, sa, ss)), oa
        return oa

    def _params(self):
        """(a, b, terms, l1l2) as set by _set, for the Python slow paths."""
        return self._a, self._b, self._terms, self._l1l2

    def _value_in(self, int code, double sa, double ss):
        """The value from the sums, rounded in dtype code (FR_BF16 too) as Keras does."""
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


cdef int _kernel(bint prox, cnp.ndarray xa, cnp.ndarray oa, int code, double t, double d,
                 int flags, double *sa, double *ss) except -1:
    """fr_prox or fr_grad of xa into oa, without the GIL from GIL_MIN elements on."""
    cdef int err
    cdef _Call k
    k.prox = prox
    k.x = cnp.PyArray_DATA(xa)
    k.out = cnp.PyArray_DATA(oa)
    k.ndim = cnp.PyArray_NDIM(xa)
    k.shape = cnp.PyArray_DIMS(xa)
    k.xstrides = cnp.PyArray_STRIDES(xa)
    k.ostrides = cnp.PyArray_STRIDES(oa)
    k.code, k.t, k.d, k.flags, k.sa, k.ss = code, t, d, flags, sa, ss
    if cnp.PyArray_SIZE(xa) < GIL_MIN:
        err = _run(&k)
    else:
        with nogil:
            if _probe_on:
                _probe()
            err = _run(&k)
    if err != c.FR_OK:
        raise RuntimeError(f"fastreg kernel error {err}")
    return 0


cdef struct _Call:
    # one fr_prox / fr_grad call, so that it is written once (_run) and made
    # with or without the GIL
    bint prox
    const void *x
    void *out
    int ndim
    const cnp.npy_intp *shape
    const cnp.npy_intp *xstrides
    const cnp.npy_intp *ostrides
    int code, flags
    double t, d
    double *sa
    double *ss


cdef inline int _run(const _Call *k) noexcept nogil:
    if k.prox:
        return c.fr_prox(k.x, k.out, k.ndim, k.shape, k.xstrides, k.ostrides, k.code, k.t, k.d,
                         k.flags)
    return c.fr_grad(k.x, k.out, k.ndim, k.shape, k.xstrides, k.ostrides, k.code, k.t, k.d,
                     k.flags, k.sa, k.ss)


# ---- the out= policy, in one place -----------------------------------------
# out must have x's dtype (native order) and shape, be writeable and have
# distinct elements; it may be x itself (same data and strides), and any other
# overlap with x is resolved by reading x from a copy (_overlaps).

cdef cnp.ndarray _out_array(cnp.ndarray xa, object out):
    """out as the ndarray a result like xa is written to, or the documented error."""
    cdef cnp.ndarray oa
    if isinstance(out, cnp.ndarray):
        oa = <cnp.ndarray>out
        if (cnp.PyArray_TYPE(oa) == cnp.PyArray_TYPE(xa)
                and cnp.PyArray_ISNOTSWAPPED(oa)
                and cnp.PyArray_SAMESHAPE(oa, xa)
                and cnp.PyArray_ISWRITEABLE(oa)
                and not c.fr_self_overlap(cnp.PyArray_NDIM(oa), cnp.PyArray_DIMS(oa),
                                          cnp.PyArray_STRIDES(oa), cnp.PyArray_ITEMSIZE(oa))):
            return oa
    _convert.bad_out(xa, out)


def _check_out(cnp.ndarray x, out):
    """Raise the documented error unless out can take a result like x."""
    _out_array(x, out)


cdef bint _overlaps(cnp.ndarray a, cnp.ndarray b):
    """a and b share memory, other than as the very same elements."""
    cdef const char *alo
    cdef const char *ahi
    cdef const char *blo
    cdef const char *bhi
    cdef int i
    c.fr_extent(cnp.PyArray_DATA(a), cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a),
                cnp.PyArray_STRIDES(a), cnp.PyArray_ITEMSIZE(a), &alo, &ahi)
    c.fr_extent(cnp.PyArray_DATA(b), cnp.PyArray_NDIM(b), cnp.PyArray_DIMS(b),
                cnp.PyArray_STRIDES(b), cnp.PyArray_ITEMSIZE(b), &blo, &bhi)
    if not (alo < bhi and blo < ahi):
        return False
    if cnp.PyArray_DATA(a) != cnp.PyArray_DATA(b):
        return True
    for i in range(cnp.PyArray_NDIM(a)):
        if cnp.PyArray_DIMS(a)[i] > 1 and cnp.PyArray_STRIDES(a)[i] != cnp.PyArray_STRIDES(b)[i]:
            return True
    return False


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
