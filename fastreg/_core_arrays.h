/*
 * _core_arrays.h - what the shim (fastreg/_core.pyx) and Group's per-call
 * checks (fastreg/_core_group.pxi) read off an array, on its own fields,
 * inline: NumPy's PyArray_SIZE and PyArray_SAMESHAPE are calls through its
 * API table, and Cython's typed locals add a reference count per array;
 * small calls and a step's checks of every weight and gradient do this
 * often enough for it to be most of their cost. Each function only
 * answers; the callers raise the errors (Group's are worded by _grad_for),
 * so the rules stay in one place.
 */
#ifndef FR_CORE_ARRAYS_H
#define FR_CORE_ARRAYS_H

#include <Python.h>
#include <numpy/arrayobject.h>

#include "fastreg.h"

/* The elements of a (PyArray_SIZE, without the call). */
static inline Py_ssize_t fa_size(PyObject *o)
{
    PyArrayObject *a = (PyArrayObject *)o;
    const npy_intp *d = PyArray_DIMS(a);
    int k, nd = PyArray_NDIM(a);
    Py_ssize_t n = 1;
    for (k = 0; k < nd; k++)
        n *= d[k];
    return n;
}

/* a and b have the same shape (PyArray_SAMESHAPE, without the call). */
static inline int fa_same_shape(PyObject *a, PyObject *b)
{
    const npy_intp *da = PyArray_DIMS((PyArrayObject *)a), *db = PyArray_DIMS((PyArrayObject *)b);
    int k, nd = PyArray_NDIM((PyArrayObject *)a);
    if (nd != PyArray_NDIM((PyArrayObject *)b))
        return 0;
    for (k = 0; k < nd; k++)
        if (da[k] != db[k])
            return 0;
    return 1;
}

/* The kernel element type of an array, 0 when no kernel reads it. */
static inline int fa_code(PyObject *o)
{
    const PyArray_Descr *d = PyArray_DESCR((PyArrayObject *)o);
    if (!PyArray_ISNBO(d->byteorder))
        return 0;
    switch (d->type_num) {
    case NPY_FLOAT:
        return FR_F32;
    case NPY_DOUBLE:
        return FR_F64;
    case NPY_HALF:
        return FR_F16;
    default:
        return 0;
    }
}

/* Bytes of an array (PyArray_NBYTES). */
static inline Py_ssize_t fa_nbytes(PyObject *o, Py_ssize_t n, int code)
{
    return code == FR_F32   ? 4 * n
           : code == FR_F64 ? 8 * n
                            : (Py_ssize_t)PyArray_NBYTES((PyArrayObject *)o);
}

/* A weight's descriptor for the step: 0, or -1 (nothing set) when it is no
   longer writeable and contiguous. *nbytes: the bytes it covers. */
static inline int fa_weight(PyObject *o, fr_param *p, Py_ssize_t *nbytes)
{
    PyArrayObject *a = (PyArrayObject *)o;
    int f = PyArray_FLAGS(a);
    if (!(f & NPY_ARRAY_WRITEABLE) || !(f & (NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_F_CONTIGUOUS)))
        return -1;
    p->w = PyArray_DATA(a);
    p->n = fa_size(o);
    p->dtype = fa_code(o);
    *nbytes = fa_nbytes(o, p->n, p->dtype);
    return 0;
}

/* grads[i] for weight w: 0 and its data in *data when it passes every check
   of _grad_for (an ndarray of w's type number in native order, w's shape,
   contiguous in w's order, writeable if `written`), else -1. */
static inline int fa_grad(PyObject *o, PyObject *w, int written, void **data)
{
    PyArrayObject *g = (PyArrayObject *)o, *a = (PyArrayObject *)w;
    const PyArray_Descr *dg, *dw;
    int both;
    if (!PyArray_Check(o))
        return -1;
    dg = PyArray_DESCR(g);
    dw = PyArray_DESCR(a);
    if (dg->type_num != dw->type_num || !PyArray_ISNBO(dg->byteorder))
        return -1;
    if (!fa_same_shape(o, w))
        return -1;
    both = PyArray_FLAGS(g) & PyArray_FLAGS(a);
    if (!(both & (NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_F_CONTIGUOUS)))
        return -1;
    if (written && !(PyArray_FLAGS(g) & NPY_ARRAY_WRITEABLE))
        return -1;
    *data = PyArray_DATA(g);
    return 0;
}

#endif /* FR_CORE_ARRAYS_H */
