/*
 * fr_extent.c - where an n-d strided array lies in memory: the bytes it
 * touches (fr_extent), and whether two of its elements may share memory
 * (fr_self_overlap). The Python layer uses them to check out= arguments.
 */
#include "fastreg.h"
#include "fr_contract.h"

void fr_extent(const void *data, int ndim, const ptrdiff_t *shape, const ptrdiff_t *strides,
               size_t item, const char **lo, const char **hi)
{
    const char *a = (const char *)data, *b = (const char *)data;
    int i;
    for (i = 0; i < ndim; i++) {
        if (shape[i] == 0) { /* empty: touches nothing */
            *lo = *hi = (const char *)data;
            return;
        }
        if (strides[i] < 0)
            a += (shape[i] - 1) * strides[i];
        else
            b += (shape[i] - 1) * strides[i];
    }
    *lo = a;
    *hi = b + item;
}

/* Sufficient test for "no two elements share memory": with the axes sorted
   by |stride|, every stride must step over everything the inner axes span. */
int fr_self_overlap(int ndim, const ptrdiff_t *shape, const ptrdiff_t *strides, size_t item)
{
    ptrdiff_t st[FR_MAXDIM], sh[FR_MAXDIM], span;
    int n = 0, i, j;
    if (ndim < 0 || ndim > FR_MAXDIM)
        return 1;
    for (i = 0; i < ndim; i++) {
        if (shape[i] == 0)
            return 0;
        if (shape[i] == 1)
            continue;
        st[n] = strides[i] < 0 ? -strides[i] : strides[i];
        sh[n] = shape[i];
        for (j = n; j > 0 && st[j - 1] > st[j]; j--) {
            ptrdiff_t t = st[j];
            st[j] = st[j - 1];
            st[j - 1] = t;
            t = sh[j];
            sh[j] = sh[j - 1];
            sh[j - 1] = t;
        }
        n++;
    }
    span = (ptrdiff_t)item;
    for (i = 0; i < n; i++) {
        if (st[i] < span)
            return 1;
        span = st[i] * (sh[i] - 1) + span;
    }
    return 0;
}
