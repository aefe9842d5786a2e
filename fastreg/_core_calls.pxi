# Part of fastreg/_core.pyx (textually included there; shares its module state).

# ---- one kernel call over an array, with or without the GIL -----------------

cdef int _kernel(bint prox, cnp.ndarray xa, cnp.ndarray oa, int code, double t, double d,
                 int flags, double *sa, double *ss, cnp.npy_intp size) except -1:
    """fr_prox or fr_grad of xa (size elements) into oa, without the GIL from GIL_MIN on."""
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
    if size < GIL_MIN:
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
                and _same_shape(oa, xa)
                and cnp.PyArray_ISWRITEABLE(oa)
                and (cnp.PyArray_IS_C_CONTIGUOUS(oa)  # distinct elements: skip the C check
                     or not c.fr_self_overlap(cnp.PyArray_NDIM(oa), cnp.PyArray_DIMS(oa),
                                              cnp.PyArray_STRIDES(oa),
                                              cnp.PyArray_ITEMSIZE(oa)))):
            return oa
    _convert.bad_out(xa, out)


def _check_out(cnp.ndarray x, out):
    """Raise the documented error unless out can take a result like x."""
    _out_array(x, out)


cdef bint _overlaps(cnp.ndarray a, cnp.ndarray b, cnp.npy_intp nbytes):
    """a and b share memory, other than as the very same elements.

    nbytes is the size of each in bytes: _out_array gave them one shape and dtype.
    """
    cdef const char *alo
    cdef const char *ahi
    cdef const char *blo
    cdef const char *bhi
    cdef int i
    if cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_IS_C_CONTIGUOUS(b):
        # the usual small call: each array is its [data, data + nbytes), and
        # the very same elements only when the data pointers are equal
        alo = <const char *>cnp.PyArray_DATA(a)
        blo = <const char *>cnp.PyArray_DATA(b)
        return alo != blo and alo < blo + nbytes and blo < alo + nbytes
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
