"""torch CPU tensors in and out (fastreg._interop): views, out= tensors, bfloat16, errors."""

from __future__ import annotations

import numpy as np
import pytest

from fastreg import kernels as K
from fastreg import regularizers as R

torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch)")

REGS = [R.L1(0.3), R.L2(0.2), R.L1L2(0.1, 0.05)]


def _same(a, b) -> bool:
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
@pytest.mark.parametrize("reg", REGS, ids=repr)
def test_tensor_results_equal_numpy(reg, dtype):
    # strided and transposed: the view keeps the strides, no copy is made
    base = torch.linspace(-2, 2, 60, dtype=dtype).reshape(6, 10)
    for t in (base, base.T, base[::2, 1::3]):
        a = t.numpy()
        v = reg(t)
        assert type(v) is type(reg(a)) and _same(v, reg(a))
        g = reg.gradient(t)
        assert isinstance(g, torch.Tensor) and g.dtype == t.dtype
        assert _same(g.numpy(), reg.gradient(a))
        p = reg.prox(t, 0.5)
        assert isinstance(p, torch.Tensor) and _same(p.numpy(), reg.prox(a, 0.5))
        value, g2 = reg.value_and_gradient(t)
        assert _same(value, reg(a)) and _same(g2.numpy(), reg.gradient(a))
        assert K.sum_abs_squares(t) == K.sum_abs_squares(a)


def test_out_tensor_is_written_in_place_and_returned():
    reg = R.L1L2(0.1, 0.05)
    t = torch.linspace(-1, 1, 12).reshape(3, 4)
    grad = torch.ones(4, 3).T  # a strided out
    value, got = reg.value_and_gradient(t, out=grad, accumulate=True)
    assert got is grad
    np.testing.assert_array_equal(grad.numpy(), 1.0 + reg.gradient(t.numpy()))
    assert reg.gradient(t, out=grad) is grad
    np.testing.assert_array_equal(grad.numpy(), reg.gradient(t.numpy()))
    y = t.clone()
    assert reg.prox(y, 0.5, out=y) is y  # in place
    np.testing.assert_array_equal(y.numpy(), reg.prox(t.numpy(), 0.5))
    # an ndarray out for a tensor input works too
    o = np.zeros((3, 4), np.float32)
    assert reg.gradient(t, out=o) is o


def test_out_tensor_errors():
    reg = R.L2(0.5)
    t = torch.ones(3)
    with pytest.raises(TypeError, match="float64"):
        reg.gradient(t, out=torch.zeros(3, dtype=torch.float64))
    with pytest.raises(ValueError, match="shape"):
        reg.gradient(t, out=torch.zeros(4))
    with pytest.raises(ValueError, match="accumulate"):
        reg.value_and_gradient(t, accumulate=True)


def test_bfloat16_tensors():
    pytest.importorskip("ml_dtypes", reason="bfloat16 needs ml_dtypes")
    reg = R.L1L2(0.25, 0.5)
    t = torch.tensor([1.5, -2.0, 0.5, 4.0], dtype=torch.bfloat16)
    a = t.view(torch.int16).numpy().view("bfloat16")
    assert _same(reg(t), reg(a))
    g = reg.gradient(t)
    assert g.dtype == torch.bfloat16
    assert _same(g.float().numpy(), reg.gradient(a).astype(np.float32))
    out = torch.zeros(4, dtype=torch.bfloat16)
    assert reg.prox(t, 0.5, out=out) is out
    assert _same(out.float().numpy(), reg.prox(a, 0.5).astype(np.float32))
    assert K.sum_abs(t) == 8.0 and K.sum_squares(t) == 22.5


def test_requires_grad_cuda_and_dtypes_are_refused_clearly():
    reg = R.L1(0.1)
    p = torch.ones(3, requires_grad=True)
    for fn in (reg, reg.gradient, lambda x: reg.prox(x, 0.1), K.sum_abs):
        with pytest.raises(TypeError, match="detach"):
            fn(p)
    for bad, name in ((torch.arange(3), "int64"), (torch.ones(2, dtype=torch.bool), "bool")):
        for fn in (reg, reg.gradient, K.sum_abs):
            with pytest.raises(TypeError, match=name):
                fn(bad)
    meta = torch.ones(3, device="meta")  # not on the CPU, like a CUDA tensor
    with pytest.raises(TypeError, match="CPU"):
        reg(meta)
    with pytest.raises(TypeError, match="CPU"):
        reg.gradient(torch.ones(3), out=torch.ones(3, device="meta"))


def test_parameter_and_no_copy():
    w = torch.nn.Parameter(torch.linspace(-1, 1, 8))
    reg = R.L2(0.5)
    with pytest.raises(TypeError, match="detach"):
        reg(w)
    d = w.detach()
    assert reg.prox(d, 1.0, out=d) is d  # writes reach the parameter: no copy was made
    np.testing.assert_allclose(w.detach().numpy(), np.linspace(-1, 1, 8) / 2, rtol=1e-6)


def test_training_loop_gradients_match_autograd():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    reg = R.L1L2(0.01, 0.02)
    l1 = float(reg.l1)
    l2 = float(reg.l2)
    x = torch.randn(32, 5)
    y = torch.randn(32, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        data_grads = [p.grad.clone() for p in model.parameters()]
        total = 0.0
        for p in model.parameters():
            value, g = reg.value_and_gradient(p.detach(), out=p.grad, accumulate=True)
            assert g is p.grad
            total += float(value)
        # the same penalty through autograd
        want = []
        for p, dg in zip(model.parameters(), data_grads, strict=True):
            q = p.detach().clone().requires_grad_(True)
            pen = l1 * q.abs().sum() + l2 * (q * q).sum()
            (gq,) = torch.autograd.grad(pen, q)
            want.append(dg + gq)
        for p, w in zip(model.parameters(), want, strict=True):
            torch.testing.assert_close(p.grad, w, rtol=1e-6, atol=1e-7)
        want_total = sum(
            float(l1 * p.detach().abs().sum() + l2 * (p.detach() ** 2).sum())
            for p in model.parameters()
        )
        assert total == pytest.approx(want_total, rel=1e-5)
        opt.step()


def _register():
    """The first tensor read registers torch.Tensor with the shim's short cut."""
    R.L2(0.1)(torch.ones(2))


def test_plain_cpu_tensors_skip_the_python_route(monkeypatch):
    # after registration, float16/32/64 CPU tensors (ndarray or tensor out=)
    # go straight to the kernels: the Python route may not be called
    from fastreg import _interop

    _register()

    def route(*args, **kwargs):
        raise AssertionError("the Python route was taken")

    monkeypatch.setattr(_interop, "value", route)
    monkeypatch.setattr(_interop, "elementwise", route)
    reg = R.L1L2(0.1, 0.05)
    for dtype in (torch.float16, torch.float32, torch.float64):
        t = torch.linspace(-1, 1, 12, dtype=dtype).reshape(3, 4)
        a = t.numpy()
        assert _same(reg(t), reg(a))
        g = reg.gradient(t)
        assert isinstance(g, torch.Tensor) and g.dtype == dtype
        assert _same(g.numpy(), reg.gradient(a))
        o = torch.zeros(4, 3, dtype=dtype).T  # a strided tensor out
        value, got = reg.value_and_gradient(t, out=o)
        assert got is o and _same(value, reg(a)) and _same(o.numpy(), reg.gradient(a))
        n = np.zeros((3, 4), a.dtype)
        assert reg.prox(t, 0.5, out=n) is n and _same(n, reg.prox(a, 0.5))


def test_short_cut_leaves_other_tensors_to_the_python_route():
    # what t.numpy() refuses or the kernels cannot read keeps its own handling
    _register()
    reg = R.L1(0.1)
    with pytest.raises(TypeError, match="detach"):
        reg.gradient(torch.ones(3), out=torch.zeros(3, requires_grad=True))
    with pytest.raises(TypeError, match="int64"):
        reg.gradient(torch.arange(3))
    with pytest.raises(TypeError, match="complex|Complex|conj"):
        reg(torch.ones(3, dtype=torch.complex64).conj())
    neg = torch._neg_view(torch.linspace(-1, 1, 5))  # a view with the negative bit set
    with pytest.raises(TypeError, match="fastreg cannot read this tensor"):
        reg(neg)
    # a tensor subclass is not torch.Tensor itself: the Python route, same results
    sub = torch.linspace(-1, 1, 6).as_subclass(_MyTensor)
    assert _same(reg(sub), reg(sub.numpy()))
    g = reg.gradient(sub)
    assert isinstance(g, torch.Tensor) and _same(g.numpy(), reg.gradient(sub.numpy()))


class _MyTensor(torch.Tensor):
    pass
