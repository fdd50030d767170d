"""course_utils.sanity: the lab's reference checks pass correct implementations and catch the bugs.

"Correct" here is torch: a dense tanh backward pass by torch autograd and an Adam step by
torch.optim.Adam pass, and so do the course's own nn layers and optim.adam_step. Every classic
bug fails, and so do the trivial checks' favourite targets (a function that raises, or returns
the wrong number of arrays).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils import nn, optim, sanity


def torch_backward(x, W, b, grad_a):
    x, W, b = (torch.tensor(a, requires_grad=True) for a in (x, W, b))
    torch.tanh(x @ W.T + b).backward(torch.from_numpy(grad_a))
    return x.grad.numpy(), W.grad.numpy(), b.grad.numpy()


def course_backward(x, W, b, grad_a):
    layer, act = nn.Linear(W.shape[1], W.shape[0], np.random.default_rng(0)), nn.Tanh()
    layer.W, layer.b = W, b
    act.forward(layer.forward(x))
    dx = layer.backward(act.backward(grad_a))
    return dx, layer.dW, layer.db


def buggy_backward(slip):
    def backward(x, W, b, grad_a):
        s = x @ W.T + (0.0 if slip == "no bias" else b)
        a = np.tanh(s)
        derivative = {"none": 1.0, "1 - a": 1 - a, "1 - s^2": 1 - s ** 2,
                      "finite difference": (np.tanh(s + 0.01) - np.tanh(s - 0.01)) / 0.02}.get(slip, 1 - a ** 2)
        delta = grad_a * derivative
        dW = delta.T @ x / (x.shape[0] if slip == "dW / N" else 1)
        if slip == "last row":
            dW[-1] = 0.0
        db = delta.mean(axis=0) if slip == "db mean" else delta.sum(axis=0)
        dx = {"dx skips tanh'": grad_a @ W, "dx sign": -(delta @ W)}.get(slip, delta @ W)
        if slip == "two outputs":
            return dx, dW
        if slip == "raises":
            raise ValueError("shapes")
        return dx, dW, db
    return backward


BACKWARD_BUGS = ["none", "1 - a", "1 - s^2", "finite difference", "no bias", "dW / N", "last row", "db mean", "dx skips tanh'",
                 "dx sign", "two outputs", "raises"]


def test_check_dense_backward_passes_torch_and_the_course_layers():
    assert sanity.check_dense_backward(torch_backward) is True
    assert sanity.check_dense_backward(course_backward) is True
    assert sanity.check_dense_backward(buggy_backward(None)) is True


@pytest.mark.parametrize("slip", BACKWARD_BUGS)
def test_check_dense_backward_catches_every_bug(slip):
    assert sanity.check_dense_backward(buggy_backward(slip)) is False


def torch_adam_step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    p = torch.tensor(w, requires_grad=True)
    adam = torch.optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)
    adam.state[p] = {"step": torch.tensor(float(t - 1)), "exp_avg": torch.tensor(m),
                     "exp_avg_sq": torch.tensor(v)}
    p.grad = torch.tensor(g)
    adam.step()
    state = adam.state[p]
    return p.detach().numpy(), state["exp_avg"].numpy(), state["exp_avg_sq"].numpy()


def buggy_adam(slip):
    def step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        if slip == "float32":
            w, g, m, v = (np.asarray(a, dtype=np.float32) for a in (w, g, m, v))
        b1 = 0.9 if slip == "beta1 fixed" else beta1
        m_new = b1 * (v if slip == "m from v" else m) + (1 - b1) * g
        v_new = beta2 * v + (1 - beta2) * (np.abs(g) if slip == "|g|" else g * g)
        tt = 1 if slip == "t fixed" else t + 1 if slip == "t + 1" else t
        bias1, bias2 = 1 - b1 ** tt, 1 - beta2 ** tt
        if slip == "no bias correction":
            bias1 = bias2 = 1.0
        if slip == "corrections swapped":
            bias1, bias2 = bias2, bias1
        m_used = m / bias1 if slip == "old m" else m_new / bias1
        denom = np.sqrt(v_new / bias2 + eps) if slip == "eps in sqrt" else np.sqrt(v_new / bias2) + eps
        w_new = w - lr * m_used / denom
        return (w_new, m, v) if slip == "stale state" else (w_new, m_new, v_new)
    return step


ADAM_BUGS = ["beta1 fixed", "|g|", "t fixed", "t + 1", "no bias correction", "corrections swapped", "old m",
             "eps in sqrt", "stale state", "m from v", "float32"]


def test_check_adam_step_passes_torch_and_the_course_rule():
    assert sanity.check_adam_step(torch_adam_step) is True
    assert sanity.check_adam_step(optim.adam_step) is True
    assert sanity.check_adam_step(buggy_adam(None)) is True


@pytest.mark.parametrize("slip", ADAM_BUGS)
def test_check_adam_step_catches_every_bug(slip):
    assert sanity.check_adam_step(buggy_adam(slip)) is False


def test_a_raising_or_malformed_step_is_wrong():
    assert sanity.check_adam_step(lambda *args: (_ for _ in ()).throw(RuntimeError("no"))) is False
    assert sanity.check_adam_step(lambda w, g, m, v, *rest: (w, m)) is False
    with pytest.raises(TypeError, match="adam_step must be a function"):
        sanity.check_adam_step("adam")
    with pytest.raises(TypeError, match="backward must be a function"):
        sanity.check_dense_backward(None)
