/*
 * _core_glue.h - the CPython-facing C of fastreg._core (included by
 * _core.pyx only): the reused result scalars and the vectorcall entry point
 * of Penalty instances. The kernels in csrc/ never see the Python API; this
 * file is the one place where C meets it.
 */
#ifndef FR_CORE_GLUE_H
#define FR_CORE_GLUE_H

#include <Python.h>
#include <numpy/arrayobject.h>
#include <numpy/arrayscalars.h>

/*
 * A NumPy scalar of a built-in float type, as PyArray_Scalar makes for a
 * native float16/32/64 array, without its generic descr path.
 *
 * Allocating one (the type's tp_alloc, PyObject_Malloc, initialisation) is
 * ~15 ns, a quarter of a regularizer call at n = 16. So the last result of
 * each type is kept, and reused when this cache holds the only reference:
 * nobody else can see the object then (NumPy scalars take no weak
 * references), so changing its value is unobservable, like CPython's float
 * free list. A caller that keeps its result (the count is 2) gets a fresh
 * object, which then becomes the cached one. The GIL makes the check and the
 * reuse one step; a free-threaded build always allocates.
 */
#ifdef Py_GIL_DISABLED
#define FR_SCALAR(NAME, TYPE, CTYPE)                                                               \
    static PyObject *NAME(CTYPE v)                                                                 \
    {                                                                                              \
        PyObject *o = PyArrayScalar_New(TYPE);                                                     \
        if (o)                                                                                     \
            PyArrayScalar_ASSIGN(o, TYPE, v);                                                      \
        return o;                                                                                  \
    }
#else
#define FR_SCALAR(NAME, TYPE, CTYPE)                                                               \
    static PyObject *NAME##_cache;                                                                 \
    static PyObject *NAME(CTYPE v)                                                                 \
    {                                                                                              \
        PyObject *o = NAME##_cache;                                                                \
        if (o && Py_REFCNT(o) == 1) {                                                              \
            PyArrayScalar_ASSIGN(o, TYPE, v);                                                      \
            Py_INCREF(o);                                                                          \
            return o;                                                                              \
        }                                                                                          \
        o = PyArrayScalar_New(TYPE);                                                               \
        if (!o)                                                                                    \
            return NULL;                                                                           \
        PyArrayScalar_ASSIGN(o, TYPE, v);                                                          \
        Py_INCREF(o);                                                                              \
        Py_XSETREF(NAME##_cache, o);                                                               \
        return o;                                                                                  \
    }
#endif
FR_SCALAR(fr_scalar_f64, Double, double)
FR_SCALAR(fr_scalar_f32, Float, float)
FR_SCALAR(fr_scalar_f16, Half, npy_half)

/*
 * PEP 590 vectorcall for Penalty instances. A Python class (L1L2) that
 * inherits tp_call from this extension type is called through tp_call, which
 * packs the argument into a new tuple, and CPython before 3.12 never lets
 * such a heap type inherit vectorcall: ~25 ns of a ~100 ns call at n = 16.
 * fr_enable_vectorcall gives a class the Penalty instances' entry point
 * (every instance stores it, see Penalty.__cinit__). One positional argument
 * goes straight to Penalty._call; anything else, or a class whose __call__
 * was replaced after it was enabled (so its tp_call is no longer Penalty's),
 * goes to the class's tp_call with a tuple and dict, as if vectorcall were
 * off.
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

#endif /* FR_CORE_GLUE_H */
