"""The one training loop: every trajectory and training run of the course goes through it.

One rule signature, as in CS231n's ``optim.py``::

    next_w, state = rule(w, dw, state)

The state holds the hyper-parameters (``lr``, ``beta`` …) and what the rule carries from one
step to the next (``v``, ``m``, ``s``, ``t``); the rule returns a new state and changes nothing
in place. ``as_rule(optim.adam_step)`` gives a pure rule of ``course_utils.optim`` (or your own
rule written like one) this signature. ``descend`` is the loop::

    for k, batch in enumerate(batches):
        loss, dw = objective(w, batch)         # stop if the loss is not finite
        state["lr"] = lr[k]                     # only with a schedule
        w, state = rule(w, dw, state)           # stop if w blew up

``landscapes.run_optimizer`` and ``gradient_descent``, the explorers' paths, the optimizer race,
the noisy and the mini-batch runs and the digits training all run through ``descend``.
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from course_utils import arguments, optim
from course_utils.i18n import _

__all__ = ["Run", "as_rule", "descend"]

_CARRIED = ("v", "m", "s")  # the arrays a pure rule of optim carries: zeros at first
_CARRY, _STEP, _HYPER, _BY_NAME = "carried", "step number", "positional", "by name"


def as_rule(step: Callable, like: Callable | None = None) -> Callable:
    """``step`` with the loop's signature: ``next_w, state = rule(w, dw, state)``.

    ``step`` is a pure rule of ``course_utils.optim`` (its math runs without the checks: check
    the hyper-parameters once, before the loop), or your own function that takes the arguments
    of the rule ``like`` positionally and returns what it returns, e.g.
    ``as_rule(my_adam, like=optim.adam_step)``. After w and g, the rule's parameters come from
    the state by name:

        v, m, s   carried arrays: zeros of w's shape at first, then what the rule returned
        t         the step number: 1 at first, one more after every step
        others    hyper-parameters (lr, beta, alpha, beta1, beta2, eps, …), as given in the
                  state; one that is left out takes the rule's default (and so do all after it
                  that are not given; those given after it are passed by name)

    The returned rule has ``hyperparameters``: the names of those others, in signature order.
    """
    reference = step if like is None else like
    unchecked = optim.unchecked(reference)  # raises TypeError unless it is a rule of optim
    if like is None:
        step = unchecked
    elif not callable(step):
        raise TypeError(_("step must be a function like {reference}, got {kind}").format(
            reference=f"optim.{reference.__name__}", kind=type(step).__name__))
    params = list(inspect.signature(reference).parameters.values())[2:]  # after w and g
    carried = tuple(p.name for p in params if p.name in _CARRIED)
    slots = [(p.name, _CARRY if p.name in _CARRIED else _STEP if p.name == "t" else
              _BY_NAME if p.kind == p.KEYWORD_ONLY else _HYPER) for p in params]
    counts = "t" in (p.name for p in params)

    def rule(w, dw, state):
        args, by_name, named = [w, dw], {}, False
        for name, kind in slots:
            if kind is _CARRY:
                args.append(state[name] if name in state else np.zeros_like(w))
            elif kind is _STEP:
                args.append(state.get("t", 1))
            elif name not in state:
                named = True  # left out: its default; the ones after it go by name
            elif kind is _HYPER and not named:
                args.append(state[name])
            else:
                by_name[name] = state[name]
        out = step(*args, **by_name)
        if not carried and not counts:
            return out, state
        if not isinstance(out, tuple) or len(out) != 1 + len(carried):
            raise TypeError(_("{rule} must return {values} like {reference}, got {kind}").format(
                rule=rule.__name__, values=f"(w, {', '.join(carried)})",
                reference=f"optim.{reference.__name__}", kind=type(out).__name__))
        new = dict(state)
        new.update(zip(carried, out[1:]))
        if counts:
            new["t"] = state.get("t", 1) + 1
        return out[0], new

    rule.__name__ = getattr(step, "__name__", "rule")
    rule.hyperparameters = tuple(name for name, _ in slots
                                 if name not in carried and name != "t")
    return rule


@dataclass(frozen=True, eq=False)
class Run:
    """What ``descend`` returns.

    Attributes:
        path: (N + 1, *w.shape), w_0 … w_N, for a point (rows after a stop are NaN); None for
            a list of parameters (they were updated in place).
        losses: (N,), the loss ``objective`` gave at each step (NaN where it gave none, and
            after a stop).
        state: the rule's state after the last step (pass it back in to continue the run).
        steps: the updates taken (N unless the run stopped).
        diverged: True when the run stopped: a loss that is not finite, or w blew up.
    """

    path: np.ndarray | None
    losses: np.ndarray
    state: Any
    steps: int
    diverged: bool


def descend(rule: Callable, w, objective: Callable, batches, state=None, *, lr=None,
            limit: float = math.inf) -> Run:
    """Run ``rule`` from ``w``: the one training loop (see the module's docstring).

    Args:
        rule: ``next_w, state = rule(w, dw, state)``, e.g. ``as_rule(optim.momentum_step)``.
        w: where to start: an array or a number (a point, not modified; its path is
            recorded), or a list of float arrays (a model's parameters such as
            ``nn.MLP.params``: updated in place, so that the model sees every step, each with
            a state of its own).
        objective: ``loss, dw = objective(w, batch)``: the loss at w (a number, or None when the
            run needs none) and the gradient dw (like w).
        batches: one item per step (mini-batches, noise draws …), or a number N of steps that
            each see ``batch = None``.
        state: the rule's first state, e.g. ``{"lr": 0.1, "beta": 0.9}`` (default empty); for
            a list of parameters one dict for all, or a list of dicts (a previous run's state).
        lr: a schedule: N learning rates; step k runs with ``state["lr"] = lr[k]``.
        limit: the run stops after the first w with an entry not below ``limit`` in size; an
            inf or NaN entry always stops it. A loss that is not finite stops it before its
            update.
    """
    batches = _checked(rule, objective, batches, lr, limit)
    n = len(batches)
    model = isinstance(w, list) and any(isinstance(p, np.ndarray) for p in w)
    if model:
        state, path = _per_parameter(w, state), None
    else:
        w, state = arguments.as_array(w, "w").copy(), {} if state is None else state
        path = np.full((n + 1,) + w.shape, np.nan)
        path[0] = w
    losses = np.full(n, np.nan)
    kept = _kept_finite if limit == math.inf else (lambda x: bool((np.abs(x) < limit).all()))
    steps, diverged = 0, False
    with np.errstate(over="ignore", invalid="ignore"):  # divergence is a result, not an error
        for k, batch in enumerate(batches):
            loss, dw = objective(w, batch)
            if loss is not None:
                losses[k] = loss
                if not math.isfinite(loss):
                    diverged = True
                    break
            rate = None if lr is None else lr[k]
            if model:
                state = _update_in_place(rule, w, dw, state, rate)
                diverged = not all(kept(p) for p in w)
            else:
                w, state = _update_point(rule, w, dw, state, rate, k)
                path[k + 1] = w
                diverged = not kept(w)
            steps = k + 1
            if diverged:
                break
    return Run(path, losses, state, steps, diverged)


def _checked(rule, objective, batches, lr, limit) -> list:
    """The arguments of ``descend``, checked once; returns the batches as a sequence."""
    if not callable(rule) or not callable(objective):
        raise TypeError(_("rule and objective must be functions, got {rule} and {objective}"
                          ).format(rule=type(rule).__name__, objective=type(objective).__name__))
    if isinstance(batches, (int, np.integer)):
        batches = [None] * arguments.integer(batches, "batches", minimum=0)
    if lr is not None and len(lr) < len(batches):
        raise ValueError(_("lr must give one learning rate per step: {steps} steps, got {got}"
                           ).format(steps=len(batches), got=len(lr)))
    if not float(limit) > 0:
        raise ValueError(_("{name} must be > 0, got {got}").format(name="limit", got=repr(limit)))
    return batches


def _kept_finite(x) -> bool:
    return bool(np.isfinite(x).all())


def _per_parameter(params, state) -> list:
    for i, p in enumerate(params):
        if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
            raise TypeError(_("{name} must be a float numpy array (it is updated in place), got "
                              "{kind}").format(name=f"w[{i}]", kind=type(p).__name__))
    if isinstance(state, list):
        if len(state) != len(params):
            raise ValueError(_("state must hold one dict per parameter: {count} parameters, got "
                               "{got}").format(count=len(params), got=len(state)))
        return state
    return [dict(state or {}) for _ in params]


def _update_point(rule, w, dw, state, rate, k):
    if rate is not None:
        state = {**state, "lr": rate}
    next_w, state = rule(w, dw, state)
    next_w = np.asarray(next_w, dtype=np.float64)
    if next_w.shape != w.shape:
        raise ValueError(_("{rule} must return w with the shape of w0 {shape}, got {got} at step "
                           "{step}").format(rule=getattr(rule, "__name__", "rule"), shape=w.shape,
                                            got=next_w.shape, step=k + 1))
    return next_w, state


def _update_in_place(rule, params, grads, states, rate) -> list:
    new_states = []
    for p, g, state in zip(params, grads, states):
        if rate is not None:
            state = {**state, "lr": rate}
        p[...], state = rule(p, g, state)
        new_states.append(state)
    return new_states
