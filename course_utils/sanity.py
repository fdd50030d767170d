"""Checks that catch a wrong backward pass or a wrong optimizer step (notebook 10's lab).

A check is only as good as the inputs it tries. Each of these chooses inputs on which the
classic bugs cannot hide:

- random values of order 1 (at 0 or near it tanh′ ≈ 1 and many wrong formulas agree);
- a batch of several examples (N = 1 hides a missing sum or an extra 1/N), a non-square W
  (hides a transpose), a non-zero bias;
- several optimizer steps (one step from m = v = 0 hides a wrong bias correction or a state
  that is not carried), and hyper-parameters away from their defaults (hides a hard-coded
  β1 or ε);
- every output compared, as a whole array, with a tolerance (a correct implementation
  written in another order differs in the last bits).

Both return True or False; an implementation that raises, or returns the wrong shapes, is
wrong.
"""
from __future__ import annotations

import numpy as np

from . import optim
from .i18n import _
from .gradcheck import numerical_gradient, relative_error

__all__ = ["check_dense_backward", "check_adam_step"]

# (N, n_in, n_out): several examples, non-square W, sizes that all differ
_LAYERS = ((5, 3, 4), (3, 4, 2))
# (lr, beta1, beta2, eps): torch's defaults, then values far from them
_ADAM_SETTINGS = ((1e-3, 0.9, 0.999, 1e-8), (0.05, 0.7, 0.9, 0.1))


def _callable(f, name: str) -> None:
    if not callable(f):
        raise TypeError(_("{name} must be a function, got {kind}").format(name=name,
                                                                           kind=type(f).__name__))


def check_dense_backward(backward, seed: int = 0, tol: float = 1e-6) -> bool:
    """Whether ``backward(x, W, b, grad_a) -> (dx, dW, db)`` is the backward pass of

        s = x Wᵀ + b,   a = tanh(s)     for x (N, n_in), W (n_out, n_in), b (n_out,),

    given grad_a = ∂L/∂a (N, n_out): the gradients of L = Σ grad_a ⊙ a by central differences,
    compared array by array (relative error < ``tol``), on two random layers.
    """
    _callable(backward, "backward")
    rng = np.random.default_rng(seed)
    for N, n_in, n_out in _LAYERS:
        x, W = rng.normal(size=(N, n_in)), rng.normal(size=(n_out, n_in))
        b, grad_a = rng.normal(size=n_out), rng.normal(size=(N, n_out))

        def loss(x, W, b):
            return float(np.sum(grad_a * np.tanh(x @ W.T + b)))

        expected = (numerical_gradient(lambda v: loss(v, W, b), x),
                    numerical_gradient(lambda v: loss(x, v, b), W),
                    numerical_gradient(lambda v: loss(x, W, v), b))
        try:
            got = backward(x.copy(), W.copy(), b.copy(), grad_a.copy())
            if not all(_close(g, e, tol) for g, e in zip(got, expected, strict=True)):
                return False
        except Exception:  # noqa: BLE001 - a backward pass that raises is wrong
            return False
    return True


def check_adam_step(adam_step, seed: int = 0, steps: int = 10, tol: float = 1e-9) -> bool:
    """Whether ``adam_step(w, g, m, v, t, lr, beta1, beta2, eps) -> (w, m, v)`` is Adam
    (``torch.optim.Adam`` without weight decay): ``steps`` steps from m = v = 0, t = 1, 2, …,
    each (w, m, v) compared with ``optim.adam_step`` (relative error < ``tol``), with torch's
    defaults and with hyper-parameters far from them.
    """
    _callable(adam_step, "adam_step")
    rng = np.random.default_rng(seed)
    for lr, beta1, beta2, eps in _ADAM_SETTINGS:
        w = rng.normal(size=(3, 4))
        expected = mine = (w, np.zeros_like(w), np.zeros_like(w))
        for t in range(1, steps + 1):
            g = rng.normal(size=w.shape)
            w_ref, m_ref, v_ref = expected
            expected = optim.adam_step(w_ref, g, m_ref, v_ref, t, lr, beta1, beta2, eps)
            w_mine, m_mine, v_mine = mine
            try:
                mine = adam_step(w_mine.copy(), g.copy(), m_mine.copy(), v_mine.copy(), t, lr,
                                 beta1, beta2, eps)
                if not all(_close(a, e, tol) for a, e in zip(mine, expected, strict=True)):
                    return False
                mine = tuple(np.asarray(a, dtype=np.float64) for a in mine)
            except Exception:  # noqa: BLE001 - a step that raises is wrong
                return False
    return True


def _close(got, expected: np.ndarray, tol: float) -> bool:
    got = np.asarray(got, dtype=np.float64)
    return got.shape == expected.shape and bool(np.all(np.isfinite(got))) and \
        relative_error(got, expected) < tol
