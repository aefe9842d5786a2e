"""JAX CPU arrays in (fastreg._interop): read through DLPack without a copy; tracers refused."""

from __future__ import annotations

import numpy as np
import pytest

from fastreg import _convert
from fastreg import kernels as K
from fastreg import regularizers as R

jax = pytest.importorskip("jax", reason="JAX is not installed (pip install jax)")
jnp = jax.numpy

REGS = [R.L1(0.3), R.L2(0.2), R.L1L2(0.1, 0.05)]


@pytest.mark.parametrize("dtype", [jnp.float16, jnp.float32])
@pytest.mark.parametrize("reg", REGS, ids=repr)
def test_jax_arrays_equal_numpy(reg, dtype):
    x = jnp.linspace(-2, 2, 24, dtype=dtype).reshape(4, 6)
    a = np.asarray(x)
    assert np.array_equal(reg(x), reg(a)) and reg(x).dtype == a.dtype
    g = reg.gradient(x)
    assert type(g) is np.ndarray and np.array_equal(g, reg.gradient(a))
    assert np.array_equal(reg.prox(x, 0.5), reg.prox(a, 0.5))
    assert K.sum_abs_squares(x) == K.sum_abs_squares(a)
    out = np.zeros(a.shape, a.dtype)
    assert reg.gradient(x, out=out) is out


def test_read_in_place_and_read_only():
    x = jnp.arange(8, dtype=jnp.float32)
    view = _convert.as_float_array(x)
    assert not view.flags.writeable
    assert np.shares_memory(view, np.from_dlpack(x))  # the array's own buffer, no copy
    with pytest.raises(TypeError, match="numpy.ndarray"):
        R.L2(0.1).gradient(np.ones(8, np.float32), out=x)  # an immutable JAX array


def test_bfloat16():
    pytest.importorskip("ml_dtypes", reason="bfloat16 needs ml_dtypes")
    x = jnp.array([1.5, -2.0, 0.5, 4.0], dtype=jnp.bfloat16)
    a = np.asarray(x)
    assert R.L1L2(0.25, 0.5)(x).tobytes() == R.L1L2(0.25, 0.5)(a).tobytes()
    assert K.sum_abs(x) == 8.0


def test_tracers_are_refused_clearly():
    reg = R.L2(0.1)
    x = jnp.ones(3)
    for fn in (reg, reg.gradient, K.sum_abs):
        with pytest.raises(TypeError, match="pure_callback"):
            jax.jit(fn)(x)
    with pytest.raises(TypeError, match="pure_callback"):
        jax.grad(lambda w: reg(w))(x)


def test_int_arrays_are_refused():
    with pytest.raises(TypeError, match="int32"):
        R.L1(0.1)(jnp.arange(3))
