"""A multilayer perceptron with hand-written backpropagation (notebooks 05 and 09).

Notation (one layer l, one example): the layer input is the activation x⁽ˡ⁻¹⁾, the
pre-activation is s⁽ˡ⁾ = W⁽ˡ⁾x⁽ˡ⁻¹⁾ + b⁽ˡ⁾ and the activation x⁽ˡ⁾ = σ(s⁽ˡ⁾). Backward, with
δ⁽ˡ⁾ = ∂L/∂s⁽ˡ⁾ = ∂L/∂x⁽ˡ⁾ ⊙ σ′(s⁽ˡ⁾):

    ∂L/∂W⁽ˡ⁾ = δ⁽ˡ⁾x⁽ˡ⁻¹⁾ᵀ,   ∂L/∂b⁽ˡ⁾ = δ⁽ˡ⁾,   ∂L/∂x⁽ˡ⁻¹⁾ = W⁽ˡ⁾ᵀδ⁽ˡ⁾.

In code a batch is a matrix with one example per *row* (X of shape (N, in), as torch), so
s = X Wᵀ + b and the per-example outer products δxᵀ are summed over the batch: ∂L/∂W = Δᵀ X.
The loss is already a batch mean, so its gradient carries the 1/N and nothing here divides.

Each layer's ``forward`` stores exactly what its ``backward`` needs (the memory cost of
backprop), and ``backward`` sits right below it. Gradients are overwritten on every call, never
accumulated, so calling ``backward`` twice gives the same result and there is no ``zero_grad``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from . import arguments
from .i18n import _
from .losses import cross_entropy, cross_entropy_grad, sigmoid

__all__ = ["Linear", "ReLU", "Sigmoid", "Tanh", "MLP", "count_parameters"]


def _incoming_gradient(grad_out, shape: tuple[int, ...], name: str, layer: str) -> np.ndarray:
    if shape is None:
        raise RuntimeError(_("{layer}.backward was called before {layer}.forward: nothing is "
                             "stored yet").format(layer=layer))
    g = arguments.as_array(grad_out, name)
    if g.shape != shape:
        raise ValueError(_("{name} must have the shape of the last {layer}.forward output "
                           "{shape}, got shape {got}").format(name=name, layer=layer, shape=shape,
                                                               got=g.shape))
    return g


class Linear:
    """Fully connected layer  s = x Wᵀ + b  for a batch x of shape (N, in_features).

    ``W`` has shape (out_features, in_features) and ``b`` shape (out_features,) (torch's layout).
    Both start uniform in [−1/√in_features, 1/√in_features], the bound torch's ``nn.Linear``
    uses, drawn from ``rng`` (a ``np.random.Generator``: W first, then b). ``dW``, ``db`` hold
    the gradients of the last ``backward``.
    """

    def __init__(self, in_features: int, out_features: int, rng: np.random.Generator):
        self.in_features = arguments.integer(in_features, "in_features", minimum=1)
        self.out_features = arguments.integer(out_features, "out_features", minimum=1)
        if not isinstance(rng, np.random.Generator):
            raise TypeError(_("rng must be a numpy.random.Generator, e.g. "
                              "np.random.default_rng(0), got {kind}").format(
                kind=type(rng).__name__))
        bound = 1.0 / np.sqrt(self.in_features)
        self.W = rng.uniform(-bound, bound, size=(self.out_features, self.in_features))
        self.b = rng.uniform(-bound, bound, size=self.out_features)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self._x = None

    @property
    def params(self) -> list[np.ndarray]:
        """[W, b]: the live arrays (an optimizer updating them in place changes this layer)."""
        return [self.W, self.b]

    @property
    def grads(self) -> list[np.ndarray]:
        """[dW, db] from the last ``backward``, aligned with ``params``."""
        return [self.dW, self.db]

    def forward(self, x) -> np.ndarray:
        """s = x Wᵀ + b, shape (N, out_features); stores the input x for ∂L/∂W."""
        x = arguments.as_array(x, "x", ndim=2)
        if x.shape[1] != self.in_features:
            raise ValueError(_("x must have shape (N, {width}) for this Linear layer, got shape "
                               "{shape}").format(width=self.in_features, shape=x.shape))
        self._x = x
        return x @ self.W.T + self.b

    def backward(self, grad_out) -> np.ndarray:
        """Given δ = ∂L/∂s of shape (N, out_features), with x the stored input:

            ∂L/∂W = Σ_n δ_n x_nᵀ = δᵀx   (out, in)
            ∂L/∂b = Σ_n δ_n              (out,)
            ∂L/∂x = δW  (row n is Wᵀδ_n)  (N, in)  ← returned; dW, db are stored.
        """
        shape = None if self._x is None else (self._x.shape[0], self.out_features)
        delta = _incoming_gradient(grad_out, shape, "grad_out", "Linear")
        self.dW = delta.T @ self._x
        self.db = delta.sum(axis=0)
        return delta @ self.W

    def __repr__(self) -> str:
        return f"Linear(in_features={self.in_features}, out_features={self.out_features})"


class _Activation:
    """Elementwise x = σ(s): no parameters; forward stores what σ′(s) needs."""

    _shape = None

    @property
    def params(self) -> list[np.ndarray]:
        return []

    @property
    def grads(self) -> list[np.ndarray]:
        return []

    def _input(self, s) -> np.ndarray:
        s = arguments.as_array(s, "s")
        self._shape = s.shape
        return s

    def _incoming(self, grad_out) -> np.ndarray:
        return _incoming_gradient(grad_out, self._shape, "grad_out", type(self).__name__)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ReLU(_Activation):
    """x = max(s, 0), elementwise."""

    def forward(self, s) -> np.ndarray:
        """max(s, 0); stores where s > 0 (all that σ′ needs)."""
        s = self._input(s)
        self._active = s > 0
        return np.where(self._active, s, 0.0)

    def backward(self, grad_out) -> np.ndarray:
        """δ = ∂L/∂x ⊙ σ′(s) with σ′(s) = 1 where s > 0, else 0 (0 at s = 0, as torch)."""
        return self._incoming(grad_out) * self._active


class Sigmoid(_Activation):
    """x = σ(s) = 1 / (1 + e^(−s)), elementwise."""

    def forward(self, s) -> np.ndarray:
        """σ(s), computed without overflow; stores the output x, since σ′(s) = x(1 − x)."""
        self._out = sigmoid(self._input(s))
        return self._out

    def backward(self, grad_out) -> np.ndarray:
        """δ = ∂L/∂x ⊙ x(1 − x)."""
        return self._incoming(grad_out) * self._out * (1.0 - self._out)


class Tanh(_Activation):
    """x = tanh(s), elementwise."""

    def forward(self, s) -> np.ndarray:
        """tanh(s); stores the output x, since tanh′(s) = 1 − x²."""
        self._out = np.tanh(self._input(s))
        return self._out

    def backward(self, grad_out) -> np.ndarray:
        """δ = ∂L/∂x ⊙ (1 − x²)."""
        return self._incoming(grad_out) * (1.0 - self._out ** 2)


_ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}


def _layer_sizes(sizes) -> tuple[int, ...]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, (Sequence, np.ndarray)):
        raise TypeError(_("sizes must be a sequence of layer widths such as (784, 16, 16, 10), "
                          "got {kind}").format(kind=type(sizes).__name__))
    widths = tuple(arguments.integer(n, f"sizes[{i}]", minimum=1) for i, n in enumerate(sizes))
    if len(widths) < 2:
        raise ValueError(_("sizes must list at least an input and an output width, got "
                           "{widths}").format(widths=widths))
    return widths


def count_parameters(sizes) -> int:
    """Weights and biases of an MLP with these layer widths: Σ_l (n_(l−1) + 1)·n_l.

    784-16-16-10: 785·16 + 17·16 + 17·10 = 12,560 + 272 + 170 = 13,002.
    """
    widths = _layer_sizes(sizes)
    return sum((n_in + 1) * n_out for n_in, n_out in zip(widths[:-1], widths[1:]))


class MLP:
    """Linear → activation → … → Linear, with no activation after the last layer (logits).

    ``sizes``: layer widths (in, hidden…, out), e.g. (64, 32, 10). ``activation``: "relu",
    "sigmoid" or "tanh". ``seed``: seeds the one ``np.random.Generator`` all layers draw their
    initial weights from, so MLP(sizes, seed=s) is reproducible.

    ``params`` is [W1, b1, W2, b2, …], the live arrays the layers compute with, so optimizers in
    ``course_utils.optim`` update the model by updating them in place (``p -= …``, not
    ``params[i] = …``). ``backward`` returns the gradients in the same order.
    """

    def __init__(self, sizes, activation: str = "relu", seed: int = 0):
        self.sizes = _layer_sizes(sizes)
        if not isinstance(activation, str):
            raise TypeError(_("activation must be one of {choices}, got {got}").format(
                choices=sorted(_ACTIVATIONS), got=type(activation).__name__))
        if activation not in _ACTIVATIONS:
            raise ValueError(_("activation must be one of {choices}, got {got}").format(
                choices=sorted(_ACTIVATIONS), got=repr(activation)))
        self.activation = activation
        rng = np.random.default_rng(arguments.integer(seed, "seed", minimum=0))
        self.layers: list = []
        for n_in, n_out in zip(self.sizes[:-1], self.sizes[1:]):
            if self.layers:
                self.layers.append(_ACTIVATIONS[activation]())
            self.layers.append(Linear(n_in, n_out, rng))
        self._logits_shape = None

    @property
    def params(self) -> list[np.ndarray]:
        """[W1, b1, W2, b2, …], W of shape (out, in): the live arrays of the layers."""
        return [p for layer in self.layers for p in layer.params]

    def forward(self, X) -> np.ndarray:
        """Logits of shape (N, sizes[-1]) for inputs X of shape (N, sizes[0]); every layer
        stores what its backward needs, so call ``backward`` after the matching ``forward``."""
        X = arguments.as_array(X, "X", ndim=2)
        if X.shape[1] != self.sizes[0]:
            raise ValueError(_("X must have shape (N, {width}), got shape {shape}").format(
                width=self.sizes[0], shape=X.shape))
        out = X
        for layer in self.layers:
            out = layer.forward(out)
        self._logits_shape = out.shape
        return out

    def backward(self, dlogits) -> list[np.ndarray]:
        """Backpropagate ∂L/∂logits (shape (N, sizes[-1])) through every layer, last to first;
        returns [∂L/∂W1, ∂L/∂b1, …], aligned with ``params``."""
        grad = _incoming_gradient(dlogits, self._logits_shape, "dlogits", "MLP")
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return [g for layer in self.layers for g in layer.grads]

    def loss_and_grads(self, X, labels) -> tuple[float, list[np.ndarray]]:
        """Mean cross-entropy of the logits against ``labels`` (int (N,) or rows (N, C)), and
        its gradients aligned with ``params``: one forward and one backward pass."""
        logits = self.forward(X)
        return cross_entropy(logits, labels), self.backward(cross_entropy_grad(logits, labels))

    def predict(self, X) -> np.ndarray:
        """Predicted class indices argmax_j logits_j, shape (N,). Overwrites the stored forward."""
        return np.argmax(self.forward(X), axis=1)

    def accuracy(self, X, labels) -> float:
        """Fraction of rows of X whose predicted class equals ``labels`` (int, shape (N,))."""
        predicted = self.predict(X)
        labels = np.asarray(labels)
        if labels.shape != predicted.shape:
            raise ValueError(_("labels must have shape {shape} (one class per row of X), got shape "
                               "{got}").format(shape=predicted.shape, got=labels.shape))
        return float(np.mean(predicted == labels))

    def __repr__(self) -> str:
        return f"MLP(sizes={self.sizes}, activation={self.activation!r})"
