"""The bare reductions, for users who want them without a regularizer.

Each takes a float16, float32 or float64 array of any shape, layout and
strides (read in place, never modified) and returns Python floats summed in
float64 in a fixed order, so the bits do not depend on the SIMD level. The
array is a positional-only argument (``sum_abs(x)``): a one-argument C call
is the cheapest CPython has, and for small arrays the call is the cost.

>>> import numpy as np
>>> from fastreg.kernels import sum_abs, sum_squares, sum_abs_squares
>>> x = np.array([[1.0, -2.0], [3.0, -4.0]], dtype=np.float32)
>>> sum_abs(x), sum_squares(x), sum_abs_squares(x)
(10.0, 30.0, (10.0, 30.0))
"""

from fastreg._core import sum_abs, sum_abs_squares, sum_squares

__all__ = ["sum_abs", "sum_squares", "sum_abs_squares"]
