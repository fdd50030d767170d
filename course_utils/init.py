"""Initial weights that keep the signal's size through depth: Xavier (Glorot) and He (Kaiming).

For a layer s = x Wᵀ with n_in inputs and independent, zero-mean weights and inputs,

    Var(s_i) = n_in · Var(W) · E[x_j²],

so the forward signal keeps its size when Var(W) = 1/n_in, and the backward signal
(∂L/∂x = δ W sums over n_out) when Var(W) = 1/n_out. Glorot & Bengio (2010) take the
compromise Var(W) = 2/(n_in + n_out) for tanh-like units; He et al. (2015) double 1/n_in for
ReLU, which zeroes half its inputs: Var(W) = 2/n_in. A uniform U(−a, a) has variance a²/3,
so a = √3 · std.

The formulas are torch's (``torch.nn.init``), in its order of operations, for weights of
shape (fan_out, fan_in, *kernel) as torch's ``Linear`` / ``Conv`` store them. Each function
draws with one call of ``rng`` (a ``np.random.Generator``): ``rng.uniform(-a, a, size)`` or
``rng.normal(0, std, size)``. Given ``TorchDraws(seed)`` instead, the draws are torch's own,
and the result equals the ``torch.nn.init`` function to the last bit:

>>> W = xavier_uniform((3, 5), TorchDraws(0))
>>> # == torch.nn.init.xavier_uniform_(torch.empty(3, 5, dtype=torch.float64),
>>> #        generator=torch.Generator().manual_seed(0)).numpy()
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import arguments
from .i18n import _

__all__ = ["fans", "calculate_gain", "xavier_uniform", "xavier_normal", "kaiming_uniform",
           "kaiming_normal", "TorchDraws"]


def fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel), as torch computes them:
    fan_in = in · ∏kernel, fan_out = out · ∏kernel. A Linear W (out, in) has fan_in = in."""
    shape = _shape(shape)
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def calculate_gain(nonlinearity: str, param=None) -> float:
    """The gain torch recommends for a nonlinearity (``torch.nn.init.calculate_gain``):
    1 for linear and sigmoid, 5/3 for tanh, √2 for ReLU, √(2/(1 + slope²)) for leaky ReLU
    (slope = ``param``, default 0.01), 3/4 for SELU."""
    if not isinstance(nonlinearity, str):
        raise TypeError(_("nonlinearity must be a name such as 'relu', got {kind}").format(
            kind=type(nonlinearity).__name__))
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(arguments.as_array(param, "param", ndim=0))
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(_("nonlinearity must be one of {choices}, got {got}").format(
        choices=sorted(_LINEAR + ("sigmoid", "tanh", "relu", "leaky_relu", "selu")),
        got=repr(nonlinearity)))


_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d")


def xavier_uniform(shape, rng, gain=1.0) -> np.ndarray:
    """Glorot uniform: U(−a, a) with a = gain · √3 · √(2 / (fan_in + fan_out)).

    As ``torch.nn.init.xavier_uniform_(W, gain)``. Returns a new float64 array of ``shape``."""
    shape, rng, gain = _shape(shape), _rng(rng), arguments.positive(gain, "gain")
    fan_in, fan_out = fans(shape)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return _uniform(rng, a, shape)


def xavier_normal(shape, rng, gain=1.0) -> np.ndarray:
    """Glorot normal: N(0, std²) with std = gain · √(2 / (fan_in + fan_out)).

    As ``torch.nn.init.xavier_normal_(W, gain)``."""
    shape, rng, gain = _shape(shape), _rng(rng), arguments.positive(gain, "gain")
    fan_in, fan_out = fans(shape)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _normal(rng, std, shape)


def kaiming_uniform(shape, rng, gain=math.sqrt(2.0), mode="fan_in") -> np.ndarray:
    """He uniform: U(−a, a) with a = √3 · gain / √fan (fan = fan_in or fan_out, by ``mode``).

    ``torch.nn.init.kaiming_uniform_(W, a=slope, mode, nonlinearity)`` is this with
    gain = ``calculate_gain(nonlinearity, slope)``; the default gain √2 is ReLU's. torch's
    ``nn.Linear`` starts from gain = √(1/3) (``a=√5``): a = 1/√fan_in."""
    shape, rng, gain = _shape(shape), _rng(rng), arguments.positive(gain, "gain")
    std = gain / math.sqrt(_fan(shape, mode))
    bound = math.sqrt(3.0) * std
    return _uniform(rng, bound, shape)


def kaiming_normal(shape, rng, gain=math.sqrt(2.0), mode="fan_in") -> np.ndarray:
    """He normal: N(0, std²) with std = gain / √fan (fan = fan_in or fan_out, by ``mode``).

    ``torch.nn.init.kaiming_normal_(W, a=slope, mode, nonlinearity)`` is this with
    gain = ``calculate_gain(nonlinearity, slope)``; the default gain √2 is ReLU's."""
    shape, rng, gain = _shape(shape), _rng(rng), arguments.positive(gain, "gain")
    std = gain / math.sqrt(_fan(shape, mode))
    return _normal(rng, std, shape)


def _uniform(rng, a: float, shape) -> np.ndarray:
    return np.asarray(rng.uniform(-a, a, size=shape), dtype=np.float64)


def _normal(rng, std: float, shape) -> np.ndarray:
    return np.asarray(rng.normal(0.0, std, size=shape), dtype=np.float64)


def _fan(shape, mode) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(_("mode must be 'fan_in' or 'fan_out', got {got}").format(got=repr(mode)))
    fan_in, fan_out = fans(shape)
    return fan_in if mode == "fan_in" else fan_out


def _shape(shape) -> tuple[int, ...]:
    if isinstance(shape, (numbers.Integral, np.integer)) or not hasattr(shape, "__len__"):
        raise TypeError(_("shape must be a tuple such as (fan_out, fan_in), got {kind}").format(
            kind=type(shape).__name__))
    shape = tuple(arguments.integer(n, f"shape[{i}]", minimum=1) for i, n in enumerate(shape))
    if len(shape) < 2:
        raise ValueError(_("shape must have at least 2 dimensions (fan_out, fan_in), got {shape}: "
                           "fan_in and fan_out are not defined for a vector").format(shape=shape))
    return shape


def _rng(rng):
    if not callable(getattr(rng, "uniform", None)) or not callable(getattr(rng, "normal", None)):
        raise TypeError(_("rng must be a np.random.Generator (e.g. np.random.default_rng(0)) or a "
                          "TorchDraws, got {kind}").format(kind=type(rng).__name__))
    return rng


class TorchDraws:
    """A stand-in for a ``np.random.Generator`` whose numbers come from torch's generator.

    ``uniform``, ``normal``, ``random`` and ``standard_normal`` take numpy's arguments and
    return float64 arrays drawn by ``Tensor.uniform_`` / ``Tensor.normal_`` with a
    ``torch.Generator`` seeded with ``seed`` — the draws ``torch.nn.init`` makes with that
    generator. So an initializer that draws once with ``rng.uniform(-a, a, size)`` (or
    ``rng.normal(0, std, size)``) reproduces torch's weights exactly, and any difference left
    is in the formula for a or std.
    """

    def __init__(self, seed: int = 0):
        import torch

        self.seed = arguments.integer(seed, "seed", minimum=0)
        self._torch = torch
        self.generator = torch.Generator().manual_seed(self.seed)

    def _empty(self, size):
        size = () if size is None else (size,) if isinstance(size, (numbers.Integral, np.integer)) \
            else tuple(size)
        return self._torch.empty(size, dtype=self._torch.float64)

    def _out(self, tensor, size):
        values = tensor.numpy()
        return float(values) if size is None else values

    def uniform(self, low=0.0, high=1.0, size=None):
        """U(low, high) of shape ``size``: torch's ``uniform_(low, high)``."""
        return self._out(self._empty(size).uniform_(float(low), float(high), generator=self.generator), size)

    def normal(self, loc=0.0, scale=1.0, size=None):
        """N(loc, scale²) of shape ``size``: torch's ``normal_(loc, scale)``."""
        return self._out(self._empty(size).normal_(float(loc), float(scale), generator=self.generator), size)

    def random(self, size=None):
        """U(0, 1) of shape ``size``."""
        return self.uniform(0.0, 1.0, size)

    def standard_normal(self, size=None):
        """N(0, 1) of shape ``size``."""
        return self.normal(0.0, 1.0, size)

    def __repr__(self) -> str:
        return f"TorchDraws(seed={self.seed})"
