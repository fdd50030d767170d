"""Checks to run before and while training: overfit one batch, find η, stop early (notebook 10).

- ``overfit_one_batch``: a model that cannot drive the loss on a handful of examples towards 0
  has a bug (or a far too small η); one that can has passed a cheap first test.
- ``lr_range_test`` (Smith 2017, fastai's ``lr_find``): one step per mini-batch with η growing
  geometrically; the loss falls, flattens, then blows up. A good η is about ten times below
  the one where the loss was lowest.
- ``signal_through_depth``: the size of the activations and of the gradients at every layer
  of a deep network: they vanish or explode geometrically unless the initial weights have the
  right variance (``course_utils.init``).
- ``early_stopping``: keep the epoch with the best *validation* loss and stop once it has not
  improved for ``patience`` epochs (Keras's ``EarlyStopping`` rule, min_delta included).

The training steps are notebook 09's: ``logits = model.forward(X)``, the mean cross-entropy,
``grads = model.backward(losses.cross_entropy_grad(logits, y))``, ``optimizer.step(grads)``,
with a model like ``nn.MLP`` and an optimizer of ``course_utils.optim``.
"""
from __future__ import annotations

import math

import numpy as np

from . import arguments
from .i18n import _
from .losses import cross_entropy, cross_entropy_grad, sigmoid

__all__ = ["signal_through_depth", "overfit_one_batch", "lr_range_test", "early_stopping"]

_ACTIVATIONS = {  # σ(s) and σ′(s) from s and σ(s)
    "linear": (lambda s: s, lambda s, a: np.ones_like(s)),
    "tanh": (np.tanh, lambda s, a: 1.0 - a * a),
    "relu": (lambda s: np.maximum(s, 0.0), lambda s, a: (s > 0).astype(np.float64)),
    "sigmoid": (sigmoid, lambda s, a: a * (1.0 - a)),
}


def signal_through_depth(X, weights, activation, grad_output) -> tuple[np.ndarray, ...]:
    """Forward and backward through a deep network without biases; the signal's size per layer.

    Layers l = 1 … L: s⁽ˡ⁾ = x⁽ˡ⁻¹⁾ W⁽ˡ⁾ᵀ, x⁽ˡ⁾ = σ(s⁽ˡ⁾), from x⁽⁰⁾ = X (N, n₀), with
    ``weights`` = [W⁽¹⁾, …, W⁽ᴸ⁾] (W⁽ˡ⁾ of shape (n_l, n_(l−1))) and σ = ``activation``
    ("tanh", "relu", "sigmoid" or "linear"). Backward from ∂L/∂x⁽ᴸ⁾ = ``grad_output`` (N, n_L):
    δ⁽ˡ⁾ = ∂L/∂x⁽ˡ⁾ ⊙ σ′(s⁽ˡ⁾), ∂L/∂W⁽ˡ⁾ = δ⁽ˡ⁾ᵀx⁽ˡ⁻¹⁾, ∂L/∂x⁽ˡ⁻¹⁾ = δ⁽ˡ⁾W⁽ˡ⁾.

    Returns three arrays of length L, each entry the root mean square of an array, rms(A) =
    √(mean of A²): rms(x⁽ˡ⁾) (activations), rms(∂L/∂x⁽ˡ⁻¹⁾) (the gradient that reaches layer
    l's input) and rms(∂L/∂W⁽ˡ⁾) (the gradient an optimizer gets for W⁽ˡ⁾).
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(_("activation must be one of {choices}, got {got}").format(
            choices=sorted(_ACTIVATIONS), got=repr(activation)))
    if not isinstance(weights, (list, tuple)) or not weights:
        raise TypeError(_("weights must be a non-empty list of arrays W⁽¹⁾ … W⁽ᴸ⁾"))
    x = arguments.as_array(X, "X", ndim=2)
    weights = [arguments.as_array(W, f"weights[{i}]", ndim=2) for i, W in enumerate(weights)]
    for i, W in enumerate(weights):
        width = x.shape[1] if i == 0 else weights[i - 1].shape[0]
        if W.shape[1] != width:
            raise ValueError(_("{name} must have shape (n_out, {width}) to follow {previous}, got "
                               "{got}").format(name=f"weights[{i}]", width=width, got=W.shape,
                                               previous="X" if i == 0 else f"weights[{i - 1}]"))
    grad = arguments.as_array(grad_output, "grad_output", ndim=2)
    if grad.shape != (x.shape[0], weights[-1].shape[0]):
        raise ValueError(_("grad_output must have the shape of the last activations {shape}, "
                           "got {got}").format(shape=(x.shape[0], weights[-1].shape[0]),
                                               got=grad.shape))
    sigma, sigma_prime = _ACTIVATIONS[activation]
    inputs, derivatives, forward = [], [], []
    with np.errstate(over="ignore", invalid="ignore"):  # an exploding signal is a result
        for W in weights:
            inputs.append(x)
            s = x @ W.T
            x = sigma(s)
            derivatives.append(sigma_prime(s, x))
            forward.append(_rms(x))
        backward, weight_grads = [], []
        for W, x_in, derivative in zip(reversed(weights), reversed(inputs), reversed(derivatives)):
            delta = grad * derivative
            weight_grads.append(_rms(delta.T @ x_in))
            grad = delta @ W
            backward.append(_rms(grad))
    return np.array(forward), np.array(backward[::-1]), np.array(weight_grads[::-1])


def _rms(a: np.ndarray) -> float:
    return float(np.sqrt(np.mean(a * a)))


def _trainable(model, optimizer) -> None:
    for name, obj, methods in (("model", model, ("forward", "backward")),
                               ("optimizer", optimizer, ("step",))):
        missing = [m for m in methods if not callable(getattr(obj, m, None))]
        if missing:
            raise TypeError(_("{name} must have {methods} methods (e.g. nn.MLP, optim.Adam), got "
                              "{kind} without {missing}").format(
                name=name, methods=_(" and ").join(methods), kind=type(obj).__name__,
                missing=missing[0]))


def overfit_one_batch(model, optimizer, X, y, steps) -> np.ndarray:
    """Train on the one batch (X, y) for ``steps`` steps; return the loss of every step.

    Each step: logits = model.forward(X); loss = mean cross-entropy (recorded, before the
    update); optimizer.step(model.backward(∂loss/∂logits)). Returns a float array (steps,).
    """
    _trainable(model, optimizer)
    steps = arguments.integer(steps, "steps", minimum=1)
    losses = np.empty(steps)
    for k in range(steps):
        logits = model.forward(X)
        losses[k] = cross_entropy(logits, y)
        optimizer.step(model.backward(cross_entropy_grad(logits, y)))
    return losses


def lr_range_test(model, optimizer, batches, lr_min, lr_max, divergence_factor=4.0
                  ) -> tuple[np.ndarray, np.ndarray]:
    """One step per mini-batch with η growing geometrically from lr_min to lr_max.

    With n = len(batches), step k = 0 … n−1 uses ηₖ = lr_min · (lr_max / lr_min)^(k / (n−1)):
    set optimizer.lr = ηₖ, forward, record the loss of the batch (before the update), then —
    unless this loss is not finite or exceeds ``divergence_factor`` × the lowest loss so far,
    which ends the test — backward and optimizer.step. Returns (lrs, losses), float arrays of
    one length: n, or fewer when the test ended early (its last entry is the loss that blew up).
    """
    _trainable(model, optimizer)
    if not isinstance(batches, (list, tuple)):
        raise TypeError(_("batches must be a list of (X, y) mini-batches, got {kind}").format(
            kind=type(batches).__name__))
    if len(batches) < 2:
        raise ValueError(_("batches must hold at least 2 mini-batches (one per learning rate), "
                           "got {count}").format(count=len(batches)))
    lr_min = arguments.positive(lr_min, "lr_min")
    lr_max = arguments.positive(lr_max, "lr_max")
    if lr_max <= lr_min:
        raise ValueError(_("lr_max must be > lr_min, got lr_min={lr_min}, lr_max={lr_max}").format(
            lr_min=lr_min, lr_max=lr_max))
    divergence_factor = arguments.positive(divergence_factor, "divergence_factor")
    if divergence_factor <= 1:
        raise ValueError(_("divergence_factor must be > 1, got {got}").format(
            got=divergence_factor))
    n = len(batches)
    lrs, losses = [], []
    for k, (xb, yb) in enumerate(batches):
        lr = lr_min * (lr_max / lr_min) ** (k / (n - 1))
        optimizer.lr = lr
        logits = model.forward(xb)
        loss = cross_entropy(logits, yb)
        lrs.append(lr)
        losses.append(loss)
        if not math.isfinite(loss) or loss > divergence_factor * min(losses):
            break
        optimizer.step(model.backward(cross_entropy_grad(logits, yb)))
    return np.array(lrs), np.array(losses)


def early_stopping(val_losses, patience, min_delta=0.0) -> tuple[int, int | None]:
    """Where to stop, reading the validation loss of each epoch in order (epochs from 0).

    An epoch *improves* when its loss < best − min_delta (best: the lowest loss so far); it
    then becomes the best epoch (a NaN or inf loss never improves). The run stops at the first epoch that ends a streak of
    ``patience`` epochs in a row without improvement. Returns (best_epoch, stop_epoch), with
    stop_epoch None when the losses end before that (training would go on).
    """
    losses = arguments.as_array(val_losses, "val_losses", ndim=1, finite=False)
    if losses.size == 0:
        raise ValueError(_("val_losses must hold at least one epoch's loss, got none"))
    patience = arguments.integer(patience, "patience", minimum=1)
    min_delta = arguments.non_negative(min_delta, "min_delta")
    best, best_epoch, waited = math.inf, 0, 0
    for epoch, loss in enumerate(losses):
        if loss < best - min_delta:
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return best_epoch, epoch
    return best_epoch, None
