# C declarations of csrc/fastreg.h, in one place.
from libc.stdint cimport uint16_t
from numpy cimport npy_intp


cdef extern from "fastreg.h" nogil:
    enum:
        FR_F16
        FR_F32
        FR_F64
        FR_BF16
        FR_ABS
        FR_SQ
        FR_ACC
        FR_VALUE
        FR_OK
        FR_EDTYPE
        FR_EARG
        FR_ISA_COUNT
        FR_MAX_THREADS

    int fr_reduce(const void *data, int ndim, const npy_intp *shape,
                  const npy_intp *strides, int dtype, int what,
                  double *sum_abs, double *sum_sq)
    int fr_grad(const void *x, void *out, int ndim, const npy_intp *shape,
                const npy_intp *xstrides, const npy_intp *ostrides, int dtype,
                double a, double b, int flags, double *sum_abs, double *sum_sq)
    int fr_prox(const void *x, void *out, int ndim, const npy_intp *shape,
                const npy_intp *xstrides, const npy_intp *ostrides, int dtype,
                double t, double d, int flags)
    void fr_extent(const void *data, int ndim, const npy_intp *shape,
                   const npy_intp *strides, size_t item, const char **lo,
                   const char **hi)
    int fr_self_overlap(int ndim, const npy_intp *shape, const npy_intp *strides,
                        size_t item)
    double fr_penalty_value(int dtype, double sum_abs, double sum_sq, double a, double b,
                            int terms, int l1l2)
    uint16_t fr_f64_to_f16(double v)

    int fr_init(const char *cap)
    const char *fr_isa_name(int isa)
    int fr_isa_from_name(const char *name)
    unsigned fr_isa_detected()
    unsigned fr_isa_compiled()
    int fr_isa_active()
    int fr_isa_set(int isa)

    int fr_set_num_threads(int n)
    int fr_get_num_threads()
    int fr_set_parallel_min(int superblocks)

    enum:
        FR_ENOMEM
        FR_GROUP_VALUE
        FR_GROUP_GRAD
        FR_GROUP_SGD
        FR_GROUP_PROX

    ctypedef struct fr_param:
        void *w
        void *g
        void *v
        npy_intp n
        int dtype
        int reg
        int terms
        int l1l2
        double l1
        double l2
        double value

    int fr_group(fr_param *p, npy_intp count, int op, double lr, double momentum,
                 double *total)
