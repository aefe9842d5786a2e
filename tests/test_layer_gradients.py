"""Layer.add_weight_gradients and Layer.activity_gradient against finite differences and torch.

The finite differences differentiate ``sum(layer.losses)`` itself (weight
terms recomputed on each read) and the activity loss ``reg(y) / batch`` as
the layer computes it, in float64, at points away from the kinks of |x|.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from fastreg import L1, L1L2, L2, layers

EPS = 1e-6


def _losses_sum(layer: Any) -> float:
    return float(np.sum([np.float64(v) for v in layer.losses]))


def _away_from_zero(a: np.ndarray) -> None:
    a[np.abs(a) < 0.05] = 0.3  # |x| is not differentiable at 0


def _model() -> tuple[Any, np.ndarray]:
    rng = np.random.default_rng(0)
    d = layers.Dense(
        4,
        input_dim=3,
        dtype="float64",
        kernel_regularizer=L1L2(0.03, 0.2),
        bias_regularizer=L1(0.5),
        activity_regularizer=L2(0.1),
    )
    x = rng.standard_normal((5, 3))
    d(x)
    for w in d.trainable_weights:
        w[...] = rng.standard_normal(w.shape)
        _away_from_zero(w)
    return d, x


def test_weight_gradients_match_finite_differences() -> None:
    d, x = _model()
    d(x)
    grads = d.add_weight_gradients()
    for w, g in zip(d.trainable_weights, grads, strict=True):
        fd = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            keep = w[idx]
            w[idx] = keep + EPS
            up = _losses_sum(d)
            w[idx] = keep - EPS
            down = _losses_sum(d)
            w[idx] = keep
            fd[idx] = (up - down) / (2 * EPS)
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


def test_weight_gradients_add_into_given_arrays() -> None:
    d, _ = _model()
    start = [np.full(w.shape, 1.5) for w in d.trainable_weights]
    given = [s.copy() for s in start]
    out = d.add_weight_gradients(given)
    assert out is given
    fresh = d.add_weight_gradients()
    for g, s, f in zip(given, start, fresh, strict=True):
        np.testing.assert_array_equal(g, s + f)
    with pytest.raises(ValueError, match="1 gradients for 2"):
        d.add_weight_gradients(given[:1])


def test_shared_weight_counts_every_regularizer() -> None:
    class Twice(layers.Layer):
        def build(self, input_shape: Any) -> None:
            self.w = self.add_weight("w", shape=(3,), regularizer=L2(0.5), dtype="float64")
            self.inner = layers.Layer(dtype="float64")
            # the same array tracked again, with another regularizer
            self.inner._fr_weights.append(type(self._fr_weights[0])("w2", self.w, True, L1(0.25)))

        def call(self, x: Any) -> Any:
            return x * self.w

    t = Twice(dtype="float64")
    t(np.ones((2, 3)))
    t.w[...] = [1.0, -2.0, 3.0]
    (g,) = t.add_weight_gradients()
    np.testing.assert_array_equal(g, 2 * 0.5 * t.w + 0.25 * np.sign(t.w))


def test_activity_gradient_matches_finite_differences() -> None:
    reg = L1L2(0.05, 0.3)
    act = layers.ActivityRegularization(l1=0.05, l2=0.3, dtype="float64")
    y = np.random.default_rng(1).standard_normal((6, 4))
    _away_from_zero(y)
    out = act(y)
    g = act.activity_gradient(out)
    fd = np.zeros_like(y)
    for idx in np.ndindex(y.shape):
        yp, ym = y.copy(), y.copy()
        yp[idx] += EPS
        ym[idx] -= EPS
        fd[idx] = (float(reg(yp)) - float(reg(ym))) / 6 / (2 * EPS)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-9)
    # the loss the layer recorded is that same function at y
    assert float(act.losses[0]) == pytest.approx(float(reg(y)) / 6, rel=1e-15)


def test_activity_gradient_batch_rules() -> None:
    act = layers.ActivityRegularization(l2=0.5)
    empty = act(np.zeros((0, 3), dtype=np.float32))
    g = act.activity_gradient(empty)
    assert g.shape == (0, 3) and g.dtype == np.float32
    y = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    g = act.activity_gradient(act(y))
    # 2 * 0.5 * y / batch 2, the batch size divided in float32
    np.testing.assert_array_equal(g, y / np.float32(2))
    plain = layers.Dense(2, input_dim=2)
    np.testing.assert_array_equal(plain.activity_gradient(y), np.zeros_like(y))
    nested = act.activity_gradient([y, y])
    assert isinstance(nested, list) and len(nested) == 2


def test_activity_gradient_needs_a_gradient_method() -> None:
    d = layers.Dense(2, input_dim=2, activity_regularizer=lambda y: np.sum(y))
    y = d(np.ones((3, 2), dtype=np.float32))
    with pytest.raises(TypeError, match="activity regularizer.*no gradient"):
        d.activity_gradient(y)


def test_against_torch_autograd() -> None:
    torch = pytest.importorskip("torch", reason="torch is not installed")
    d, x = _model()
    y = d(x)
    grads = d.add_weight_gradients()
    gy = d.activity_gradient(y)
    kernel = torch.tensor(d.kernel, requires_grad=True)
    bias = torch.tensor(d.bias, requires_grad=True)
    out = torch.tensor(x) @ kernel + bias
    kr, br, ar = d.kernel_regularizer, d.bias_regularizer, d.activity_regularizer
    l1, l2, b1, a2 = float(kr.l1), float(kr.l2), float(br.l1), float(ar.l2)  # as stored
    weight_loss = l1 * kernel.abs().sum() + l2 * (kernel**2).sum() + b1 * bias.abs().sum()
    activity = a2 * (out**2).sum() / out.shape[0]
    (weight_loss + activity).backward()
    out_t = out.detach().requires_grad_(True)
    (a2 * (out_t**2).sum() / out_t.shape[0]).backward()
    np.testing.assert_allclose(gy, out_t.grad.numpy(), rtol=1e-12)
    # torch's weight gradients hold both paths; the activity one is x.T @ dL/dy
    through = x.T @ out_t.grad.numpy()
    np.testing.assert_allclose(grads[0] + through, kernel.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        grads[1] + out_t.grad.numpy().sum(0), bias.grad.numpy(), rtol=1e-12, atol=1e-14
    )
