"""Optimizers: pure update rules, then thin classes that mirror ``torch.optim`` (notebooks 06, 07).

Notation: w the parameters, g = ∇L(w) the gradient, η = ``lr`` the learning rate, t = 1, 2, …
the step number, v / m / s the optimizer's state (velocity, first and second moments).

Pure rules take the state in and hand the new state back, and never mutate their inputs:

- ``sgd_step(w, g, lr) -> w``
- ``momentum_step(w, g, v, lr, beta) -> (w, v)``         torch's form: v ← βv + g
- ``ema_momentum_step(w, g, v, lr, beta) -> (w, v)``     EMA form:     v ← βv + (1 − β)g
- ``nesterov_step(w, g, v, lr, beta) -> (w, v)``         torch's ``nesterov=True``
- ``sutskever_momentum_step(w, g, v, lr, beta) -> (w, v)``  the notes' form: v ← βv − ηg, w ← w + v
- ``adagrad_step(w, g, s, lr, eps=1e-10) -> (w, s)``     as ``torch.optim.Adagrad``
- ``rmsprop_step(w, g, s, lr, alpha=0.99, eps=1e-8) -> (w, s)``
- ``adam_step(w, g, m, v, t, lr=1e-3, ...) -> (w, m, v)``   L2 weight decay, as ``torch.optim.Adam``
- ``adamw_step(w, g, m, v, t, lr=1e-3, ...) -> (w, m, v)``  decoupled decay, as ``torch.optim.AdamW``

Classes ``SGD``, ``RMSprop``, ``Adam``, ``AdamW`` hold a list of numpy arrays and update them in
place on ``step(grads)``, with torch's defaults and update order (they live in ``optimizers``
and are re-exported here; Adam and AdamW do the rules' arithmetic in place, bit for bit).
``opt.lr`` may be set between steps (as a schedule sets ``param_group["lr"]``) and
``opt.state[i]`` shows the state of ``params[i]`` under torch's names.

Every public function and constructor validates its arguments and raises ``ValueError`` /
``TypeError`` naming the argument.
"""
from __future__ import annotations

import functools
import inspect

import numpy as np

from . import arguments
from .i18n import _

__all__ = ["sgd_step", "momentum_step", "ema_momentum_step", "nesterov_step",
           "sutskever_momentum_step", "adagrad_step", "rmsprop_step", "adam_step", "adamw_step",
           "unchecked", "Optimizer", "SGD", "RMSprop", "Adam", "AdamW"]


# ---------------------------------------------------------------- argument checks (by name)

_ARRAYS = ("w", "g", "v", "m", "s")
_SCALARS = {
    "lr": arguments.positive,
    "beta": arguments.in_unit_interval,
    "beta1": arguments.in_unit_interval,
    "beta2": arguments.in_unit_interval,
    "alpha": arguments.in_unit_interval,
    "eps": arguments.positive,
    "weight_decay": arguments.non_negative,
    "t": functools.partial(arguments.integer, minimum=1),
}


_MATH = {}  # each checked rule -> its math; read through ``unchecked``


def _checked(rule):
    """Validate a rule's arguments by their names, so that the rule's body is only its math.

    Arrays (w, g, v, m, s) become float64 arrays of w's shape, with no NaN/inf; lr and eps must
    be > 0, betas and alpha in [0, 1), weight_decay >= 0, t an integer >= 1.
    The classes call the unchecked math, ``unchecked(rule)``: they check their arguments once
    (at construction and in ``step``), and a schedule may legitimately set their lr to 0.
    """
    signature = inspect.signature(rule)

    @functools.wraps(rule)
    def checked_rule(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = bound.arguments
        for name, value in values.items():  # w comes first, so the others are compared to it
            if name in _ARRAYS:
                values[name] = arguments.as_array(value, name)
                arguments.same_shape(values["w"], values[name], "w", name)
            elif name in _SCALARS:
                values[name] = _SCALARS[name](value, name)
            elif name == "bias_correction" and not isinstance(value, (bool, np.bool_)):
                raise TypeError(_("{name} must be True or False, got {got}").format(
                    name="bias_correction", got=repr(value)))
        return rule(*bound.args, **bound.kwargs)

    _MATH[checked_rule] = rule
    return checked_rule


# ---------------------------------------------------------------- pure update rules

@_checked
def sgd_step(w, g, lr):
    """Plain gradient descent: w ← w − η g.

    w, g: arrays of one shape (a number is fine). lr: η > 0. Returns the new w.
    """
    return w - lr * g


@_checked
def momentum_step(w, g, v, lr, beta):
    """Momentum in torch's form (the seed's v ← ρv + g, w ← w − αv):

        v ← β v + g
        w ← w − η v

    w, g, v: arrays of one shape; v starts at 0. lr: η > 0. beta: β in [0, 1), e.g. 0.9.
    Returns (w, v). Same trajectory as ``ema_momentum_step`` with lr η/(1 − β), from v = 0.
    """
    v = beta * v + g
    return w - lr * v, v


@_checked
def ema_momentum_step(w, g, v, lr, beta):
    """Momentum as an exponential moving average of the gradients:

        v ← β v + (1 − β) g
        w ← w − η v

    w, g, v: arrays of one shape; v starts at 0. lr: η > 0. beta: β in [0, 1), e.g. 0.9.
    Returns (w, v). v here is (1 − β) times torch's velocity, so this rule with lr η/(1 − β)
    follows exactly the path of ``momentum_step`` with lr η.
    """
    v = beta * v + (1 - beta) * g
    return w - lr * v, v


@_checked
def nesterov_step(w, g, v, lr, beta):
    """Nesterov momentum in torch's ``nesterov=True`` form:

        v ← β v + g
        w ← w − η (g + β v)

    Nesterov's "gradient at the look-ahead point", rewritten so that w is the look-ahead point
    and only one gradient per step is needed (Sutskever et al., 2013).
    w, g, v: arrays of one shape; v starts at 0. lr: η > 0. beta: β in [0, 1). Returns (w, v).
    """
    v = beta * v + g
    return w - lr * (g + beta * v), v


@_checked
def sutskever_momentum_step(w, g, v, lr, beta):
    """Momentum in the lecture notes' first form (Sutskever et al., 2013), η inside the velocity:

        v ← β v − η g
        w ← w + v

    w, g, v: arrays of one shape; v starts at 0. lr: η > 0. beta: β in [0, 1). Returns (w, v).
    For a constant η, v is −η times the velocity of ``momentum_step`` (torch's form) and the two
    paths are equal. When η changes between steps they differ: this v keeps each past gradient
    at the η of its own step, while torch's form multiplies its whole velocity by today's η.
    """
    v = beta * v - lr * g
    return w + v, v


@_checked
def adagrad_step(w, g, s, lr, eps=1e-10):
    """AdaGrad as ``torch.optim.Adagrad`` (lr_decay = 0, initial_accumulator_value = 0):

        s ← s + g²                      (the SUM of all squared gradients so far)
        w ← w − η g / (√s + ε)          (ε outside the square root, as torch)

    w, g, s: arrays of one shape; s starts at 0. lr: η > 0 (torch's default is 1e-2).
    eps: ε > 0, default 1e-10 as torch. Returns (w, s). Since s only grows, every parameter's
    step shrinks like 1/√t; RMSprop replaces the sum by a moving average to stop that.
    """
    s = s + g**2
    return w - lr * g / (np.sqrt(s) + eps), s


@_checked
def rmsprop_step(w, g, s, lr, alpha=0.99, eps=1e-8):
    """RMSprop as ``torch.optim.RMSprop`` (not centered, no momentum):

        s ← α s + (1 − α) g²
        w ← w − η g / (√s + ε)          (ε outside the square root, as torch)

    w, g, s: arrays of one shape; s starts at 0. lr: η > 0. alpha: α in [0, 1), default 0.99.
    eps: ε > 0, default 1e-8. Returns (w, s).
    """
    s = alpha * s + (1 - alpha) * g**2
    return w - lr * g / (np.sqrt(s) + eps), s


@_checked
def adam_step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, *,
              bias_correction=True):
    """Adam as ``torch.optim.Adam``; weight decay is an L2 term added to the gradient:

        g ← g + λ w
        m ← β1 m + (1 − β1) g              v ← β2 v + (1 − β2) g²
        m̂ = m / (1 − β1ᵗ)                   v̂ = v / (1 − β2ᵗ)
        w ← w − η m̂ / (√v̂ + ε)             (ε outside the square root, as torch)

    w, g, m, v: arrays of one shape; m and v start at 0. t: the step number, 1 on the first step.
    Defaults: lr η = 1e-3, beta1 = 0.9, beta2 = 0.999, eps ε = 1e-8, weight_decay λ = 0.
    bias_correction=False uses m and v for m̂ and v̂ (for teaching: from m = v = 0 the first
    steps are then (1 − β1)/√(1 − β2) ≈ 3.2 times too long with the default betas).
    Returns (w, m, v) with the uncorrected m and v.
    """
    g = g + weight_decay * w
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    if bias_correction:
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    else:
        m_hat, v_hat = m, v
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@_checked
def adamw_step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2, *,
               bias_correction=True):
    """AdamW as ``torch.optim.AdamW``: weight decay decoupled from the gradient.

        w ← w − η λ w                      (first, on w itself; g is left alone)
        then the Adam step of ``adam_step`` with no L2 term.

    Same arguments as ``adam_step``, but weight_decay λ defaults to 1e-2. With L2 (Adam), λw is
    divided by √v̂ like the rest of the gradient, so weights with large gradients barely decay;
    decoupled, every weight shrinks by the same factor (1 − ηλ). Returns (w, m, v).
    """
    w = w * (1 - lr * weight_decay)
    return unchecked(adam_step)(w, g, m, v, t, lr, beta1, beta2, eps, 0.0,
                                bias_correction=bias_correction)


def unchecked(rule):
    """The math of one of the pure rules above, without its argument checks.

    ``unchecked(sgd_step)(w, g, lr)`` is w − lr·g with no conversion and no validation: for
    loops that check their arguments once, at their edge, then call the rule at every step
    (the classes in ``optimizers``, ``course_utils.loop``, the explorers).
    """
    if not callable(rule) or rule not in _MATH:
        raise TypeError(_("rule must be one of the pure rules of course_utils.optim, got {got}"
                          ).format(got=repr(rule)))
    return _MATH[rule]


# The classes that mirror torch.optim live next door and loop over the rules above.
from .optimizers import SGD, Adam, AdamW, Optimizer, RMSprop  # noqa: E402
