# Part of fastreg/_core.pyx (textually included there; shares its module state).

# ---- many weights in one C call (csrc/fr_group.c), for fastreg.ParamGroup --

from cpython.list cimport PyList_GET_ITEM
from cpython.mem cimport PyMem_Calloc, PyMem_Free
from cpython.tuple cimport PyTuple_GET_ITEM
from libc.stdlib cimport qsort
from libc.string cimport memcpy

GROUP_VALUE = c.FR_GROUP_VALUE
GROUP_GRAD = c.FR_GROUP_GRAD
GROUP_SGD = c.FR_GROUP_SGD
GROUP_PROX = c.FR_GROUP_PROX


cdef struct _Span:
    # the bytes one array of a step covers, and which array it is
    const char *lo
    const char *hi
    Py_ssize_t who  # 2*i: weights[i]; 2*i + 1: grads[i]
    Py_ssize_t at  # its place in the call's list of spans (the order cache)


cdef int _span_cmp(const void *a, const void *b) noexcept nogil:
    cdef const _Span *x = <const _Span *>a
    cdef const _Span *y = <const _Span *>b
    return -1 if x.lo < y.lo else (1 if x.lo > y.lo else 0)


@cython.auto_pickle(False)  # pointers into live arrays: nothing to pickle
cdef class Group:
    """The C side of ``fastreg.ParamGroup``: weights on the C path, one call a step.

    ``Group(weights, regs, members)``: ``members[i]`` true puts
    ``weights[i]`` (a contiguous native float32/float64 ndarray) on the C
    path with ``regs[i]`` (a ``Penalty`` or None); the other entries are
    ParamGroup's Python fallback and are not looked at here. A step
    re-reads each weight's data pointer, size, layout and writeability and
    the regularizer's factors (all cheap), and checks every gradient.
    """
    cdef c.fr_param *_p
    cdef Py_ssize_t _count
    # its own tuples: a step reads their items as borrowed pointers
    cdef tuple _weights, _regs
    cdef bytes _on
    cdef Py_ssize_t _elems  # the C members' elements, as of the last _refresh
    # One allocation, made once, for the overlap check of every step: the
    # spans of a call in list order, the same by start, and the last call's
    # order (see _check_spans).
    cdef _Span *_spans
    cdef _Span *_sorted
    cdef Py_ssize_t *_order
    cdef Py_ssize_t _norder

    def __cinit__(self, list weights, list regs, list members):
        self._count = len(weights)
        self._weights = tuple(weights)
        self._regs = tuple(regs)
        self._on = bytes([1 if m else 0 for m in members])
        if len(self._regs) != self._count or len(self._on) != self._count:
            raise ValueError("Group: weights, regs and members differ in length")
        self._p = <c.fr_param *>PyMem_Calloc(max(self._count, 1), sizeof(c.fr_param))
        self._spans = <_Span *>PyMem_Calloc(
            2 * max(self._count, 1), 2 * sizeof(_Span) + sizeof(Py_ssize_t))
        if self._p == NULL or self._spans == NULL:
            raise MemoryError()
        self._sorted = self._spans + 2 * max(self._count, 1)
        self._order = <Py_ssize_t *>(self._sorted + 2 * max(self._count, 1))
        self._norder = -1
        self._refresh(None, None, 0)  # the overlap check of the weights alone

    def __dealloc__(self):
        PyMem_Free(self._p)
        PyMem_Free(self._spans)

    cdef int _refresh(self, list grads, list vels, int op) except -1:
        """Fill the descriptors for one call, or raise before anything is written.

        Every item is a borrowed pointer into this Group's tuples or the
        caller's lists: no Python code runs until the checks are done (an
        error is worded by _grad_for, on the objects themselves).
        """
        cdef Py_ssize_t i, m = 0, nb, elems = 0
        cdef c.fr_param *p
        cdef PyObject *w
        cdef PyObject *r
        cdef PyObject *v
        cdef void *gdata
        cdef Penalty pen
        cdef _Span *spans = self._spans
        cdef const unsigned char *on = self._on
        cdef int written = op == c.FR_GROUP_GRAD
        for i in range(self._count):
            p = &self._p[i]
            w = PyTuple_GET_ITEM(self._weights, i)
            if not on[i]:
                # ParamGroup's fallback: no part in the C call (n = 0, and
                # any non-NULL g, never read), but no gradient may share
                # its memory either
                p.reg, p.n, p.dtype, p.g, p.v = 0, 0, c.FR_F32, self._p, NULL
                nb = fa_size(w)
                _span(&spans[m], <const char *>cnp.PyArray_DATA(<cnp.ndarray>w),
                      fa_nbytes(w, nb, fa_code(w)), 2 * i, m)
                m += 1
                continue
            if fa_weight(w, p, &nb):
                raise ValueError(f"weights[{i}] is no longer a writeable contiguous array")
            if p.dtype != c.FR_F32 and p.dtype != c.FR_F64:  # its dtype was set in place
                raise TypeError(f"weights[{i}] is no longer float32 or float64: its dtype is "
                                f"now {(<object>w).dtype}")
            elems += p.n
            p.g = p.v = NULL
            _span(&spans[m], <const char *>p.w, nb, 2 * i, m)
            m += 1
            r = PyTuple_GET_ITEM(self._regs, i)
            if r == <PyObject *>None:
                p.reg = 0
            else:
                pen = <Penalty>r
                p.reg, p.terms, p.l1l2, p.l1, p.l2 = 1, pen._terms, pen._l1l2, pen._a, pen._b
            if grads is not None:
                if fa_grad(PyList_GET_ITEM(grads, i), w, written, &gdata):
                    _grad_for(<cnp.ndarray>w, <object>PyList_GET_ITEM(grads, i), i, written)
                    raise SystemError(f"grads[{i}]: the checks disagree")  # (unreachable)
                p.g = gdata
                _span(&spans[m], <const char *>gdata, nb, 2 * i + 1, m)
                m += 1
            if vels is not None:
                v = PyList_GET_ITEM(vels, i)
                if v != <PyObject *>None:
                    if fa_size(v) != p.n:
                        raise ValueError(f"weights[{i}] changed size since its momentum was made")
                    p.v = cnp.PyArray_DATA(<cnp.ndarray>v)
        self._elems = elems
        self._check_spans(m)
        return 0

    cdef int _check_spans(self, Py_ssize_t m) except -1:
        """No two arrays of a call share a byte (sorted by start: neighbours only).

        The order of the last call is tried first: in a training loop the
        same arrays (or new ones, allocated alike) come in the same order of
        addresses every step, and confirming that order (strictly rising
        starts) and the check along it is one pass over the spans in place,
        where glibc's qsort of 64 spans costs about 20,000 instructions,
        half the C path's own work on 32 small weights. Any other order, a
        tie (an empty array, an alias), or an overlap is sorted afresh, so
        the spans compared, and the error, are those of a sort.
        """
        cdef Py_ssize_t k, j = -1
        cdef _Span *srt = self._sorted
        cdef const _Span *s
        cdef const char *lo = NULL
        cdef const char *top = NULL
        if self._norder == m:
            # the last call's order, in one pass: starts strictly rising and
            # each non-empty span starting at or past every end before it
            # is the sort's own check passing; anything else is sorted
            for k in range(m):
                s = &self._spans[self._order[k]]
                if k and not s.lo > lo:
                    break
                lo = s.lo
                if s.lo != s.hi:
                    if s.lo < top:
                        break
                    if s.hi > top:
                        top = s.hi
            else:
                return 0
        if m:
            memcpy(srt, self._spans, m * sizeof(_Span))
        qsort(srt, m, sizeof(_Span), _span_cmp)
        for k in range(m):
            self._order[k] = srt[k].at
        self._norder = m
        for k in range(m):
            if srt[k].lo == srt[k].hi:
                continue  # an empty array touches nothing
            if j >= 0 and srt[k].lo < srt[j].hi:
                raise ValueError(f"{_span_name(srt[j].who)} and {_span_name(srt[k].who)} "
                                 "share memory")
            if j < 0 or srt[k].hi > srt[j].hi:
                j = k
        return 0

    def step(self, int op, grads, double lr, double momentum, list vels, values):
        """One fr_group call; the C members' total (float64, in order).

        ``grads``: None, or one array per weight (a list, or any iterable,
        taken as a list). ``values``: None, or a float64 ndarray of length
        count whose C members' entries get each weight's value.
        """
        _own(self, Group, "step")
        cdef double total = 0.0
        cdef Py_ssize_t i, n
        cdef int err
        cdef double *out
        if grads is not None:
            if type(grads) is not list:
                grads = list(grads)
            if len(<list>grads) != self._count:
                raise ValueError(f"got {len(grads)} gradients for {self._count} weights")
        self._refresh(<list>grads, vels, op)
        if op == c.FR_GROUP_PROX:
            self._check_prox(lr)
        n = self._elems
        if n < GIL_MIN:
            err = c.fr_group(self._p, self._count, op, lr, momentum, &total)
        else:
            with nogil:
                err = c.fr_group(self._p, self._count, op, lr, momentum, &total)
        if err != c.FR_OK:
            raise RuntimeError(f"fastreg kernel error {err}")
        if values is not None:
            out = <double *>cnp.PyArray_DATA(<cnp.ndarray>values)
            for i in range(self._count):
                if self._on[i]:
                    out[i] = self._p[i].value
        return total

    cdef int _check_prox(self, double lr) except -1:
        """1 + 2*lr*l2 must be positive (a negative l2), as Proximal.prox checks."""
        cdef Py_ssize_t i
        cdef c.fr_param *p
        for i in range(self._count):
            p = &self._p[i]
            if self._on[i] and p.reg and p.terms & c.FR_SQ and lr != 0.0:
                if not 1.0 + 2.0 * lr * p.l2 > 0.0:
                    raise ValueError(
                        f"prox_step is undefined for lr={lr!r} with l2={p.l2!r} "
                        f"(weights[{i}]): 1 + 2*lr*l2 must be positive")
        return 0


cdef cnp.ndarray _grad_for(cnp.ndarray w, object grad, Py_ssize_t i, bint written):
    """grads[i] as the array the C call reads (and writes), or the error."""
    cdef cnp.ndarray g
    if not isinstance(grad, cnp.ndarray):
        raise TypeError(f"grads[{i}] must be a NumPy array, got {type(grad).__name__}")
    g = <cnp.ndarray>grad
    if cnp.PyArray_TYPE(g) != cnp.PyArray_TYPE(w) or not cnp.PyArray_ISNOTSWAPPED(g):
        raise TypeError(f"grads[{i}] has dtype {g.dtype}, its weight {w.dtype}")
    if not cnp.PyArray_SAMESHAPE(g, w):
        raise ValueError(
            f"grads[{i}] has shape {(<object>g).shape}, its weight {(<object>w).shape}")
    # element k of g must be element k of w in memory order
    if not (cnp.PyArray_IS_C_CONTIGUOUS(w) and cnp.PyArray_IS_C_CONTIGUOUS(g)
            or cnp.PyArray_IS_F_CONTIGUOUS(w) and cnp.PyArray_IS_F_CONTIGUOUS(g)):
        raise ValueError(f"grads[{i}] must be contiguous in the order of its weight")
    if written and not cnp.PyArray_ISWRITEABLE(g):
        raise ValueError(f"grads[{i}] is read-only")
    return g


cdef inline void _span(_Span *s, const char *lo, Py_ssize_t nbytes, Py_ssize_t who,
                       Py_ssize_t at) noexcept:
    s.lo, s.hi, s.who, s.at = lo, lo + nbytes, who, at


cdef str _span_name(Py_ssize_t who):
    return f"{'grads' if who & 1 else 'weights'}[{who // 2}]"
