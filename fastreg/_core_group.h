/*
 * _core_group.h - the per-call checks of Group (fastreg/_core_group.pxi) on
 * the arrays' own fields, inline: NumPy's PyArray_SIZE and
 * PyArray_SAMESHAPE are calls through its API table, and Cython's typed
 * locals add a reference count per array; a step makes these checks for
 * every weight and gradient, so they are most of a small step's cost.
 * Each function only answers; Group raises the errors (_grad_for words
 * them), so the rules stay in one place.
 */
#ifndef FR_CORE_GROUP_H
#define FR_CORE_GROUP_H

#include <Python.h>
#include <numpy/arrayobject.h>

#include "fastreg.h"

/* The elements of a (PyArray_SIZE, without the call). */
static inline Py_ssize_t frg_size(PyObject *o)
{
    PyArrayObject *a = (PyArrayObject *)o;
    const npy_intp *d = PyArray_DIMS(a);
    int k, nd = PyArray_NDIM(a);
    Py_ssize_t n = 1;
    for (k = 0; k < nd; k++)
        n *= d[k];
    return n;
}

/* _code (_core.pyx): the kernel element type, 0 when no kernel reads it. */
static inline int frg_code(PyObject *o)
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
static inline Py_ssize_t frg_nbytes(PyObject *o, Py_ssize_t n, int code)
{
    return code == FR_F32   ? 4 * n
           : code == FR_F64 ? 8 * n
                            : (Py_ssize_t)PyArray_NBYTES((PyArrayObject *)o);
}

/* A weight's descriptor for the step: 0, or -1 (nothing set) when it is no
   longer writeable and contiguous. *nbytes: the bytes it covers. */
static inline int frg_weight(PyObject *o, fr_param *p, Py_ssize_t *nbytes)
{
    PyArrayObject *a = (PyArrayObject *)o;
    int f = PyArray_FLAGS(a);
    if (!(f & NPY_ARRAY_WRITEABLE) || !(f & (NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_F_CONTIGUOUS)))
        return -1;
    p->w = PyArray_DATA(a);
    p->n = frg_size(o);
    p->dtype = frg_code(o);
    *nbytes = frg_nbytes(o, p->n, p->dtype);
    return 0;
}

/* grads[i] for weight w: 0 and its data in *data when it passes every check
   of _grad_for (an ndarray of w's type number in native order, w's shape,
   contiguous in w's order, writeable if `written`), else -1. */
static inline int frg_grad(PyObject *o, PyObject *w, int written, void **data)
{
    PyArrayObject *g = (PyArrayObject *)o, *a = (PyArrayObject *)w;
    const PyArray_Descr *dg, *dw;
    const npy_intp *sg, *sw;
    int k, nd, both;
    if (!PyArray_Check(o))
        return -1;
    dg = PyArray_DESCR(g);
    dw = PyArray_DESCR(a);
    if (dg->type_num != dw->type_num || !PyArray_ISNBO(dg->byteorder))
        return -1;
    nd = PyArray_NDIM(g);
    if (nd != PyArray_NDIM(a))
        return -1;
    sg = PyArray_DIMS(g);
    sw = PyArray_DIMS(a);
    for (k = 0; k < nd; k++)
        if (sg[k] != sw[k])
            return -1;
    both = PyArray_FLAGS(g) & PyArray_FLAGS(a);
    if (!(both & (NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_F_CONTIGUOUS)))
        return -1;
    if (written && !(PyArray_FLAGS(g) & NPY_ARRAY_WRITEABLE))
        return -1;
    *data = PyArray_DATA(g);
    return 0;
}

#endif /* FR_CORE_GROUP_H */
