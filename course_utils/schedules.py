"""Learning-rate schedules: the learning rate as a pure function of the step (notebook 08).

Every schedule answers one question: *which lr does step t use?*  ``t`` is the 0-based step,
so ``schedule(t)`` equals ``optimizer.param_groups[0]["lr"]`` after ``t`` calls of
``scheduler.step()`` on the matching ``torch.optim.lr_scheduler`` (the ``tests`` prove it over
hundreds of steps). Unlike a stateful scheduler, a function of ``t`` gives the same answer no
matter how often or in which order notebook cells run.

``t`` is a non-negative integer or an integer array of steps (vectorised, for plots): a scalar
``t`` gives a ``float``, an array gives a float64 array of the same shape.

=====================================  ==================================================
here                                   torch
=====================================  ==================================================
``step_lr(t, lr0, step_size, gamma)``  ``StepLR(opt, step_size, gamma)``
``cosine_lr(t, lr0, T, lr_min)``       ``CosineAnnealingLR(opt, T_max=T, eta_min=lr_min)``
``linear_lr(t, lr0, T, s, e)``         ``LinearLR(opt, start_factor=s, end_factor=e,
                                       total_iters=T)``
``inverse_sqrt_lr(t, lr0)``            ``LambdaLR(opt, lambda t: 1 / sqrt(t + 1))``
``with_warmup(f, W, s)``               ``SequentialLR(opt, [LinearLR(opt, s, 1.0, W), main],
                                       milestones=[W])``  (see ``with_warmup``)
=====================================  ==================================================
"""
from __future__ import annotations

import math
import numbers
from typing import Callable

import numpy as np

from course_utils import arguments
from course_utils.i18n import _

__all__ = [
    "step_lr",
    "cosine_lr",
    "linear_lr",
    "inverse_sqrt_lr",
    "with_warmup",
    "lr_curve",
]

Schedule = Callable[[int | np.ndarray], float | np.ndarray]


def _steps(t) -> tuple[np.ndarray, bool]:
    """Return ``t`` as an int64 array and whether it was a scalar; steps are integers >= 0."""
    if isinstance(t, bool) or isinstance(t, (str, bytes)) or t is None:
        raise TypeError(_("t must be a non-negative integer step or an integer array, got {got}"
                          ).format(got=repr(t))[:120])
    if isinstance(t, (numbers.Integral, np.integer)):
        steps, scalar = np.asarray(int(t), dtype=np.int64), True
    else:
        steps = np.asarray(t)
        scalar = steps.ndim == 0
        if steps.dtype.kind not in "iu":
            raise TypeError(_("t must be a non-negative integer step or an integer array (steps "
                              "count 0, 1, 2, ...), got {got}").format(
                got=f"dtype {steps.dtype}" if steps.ndim else repr(t)))
        steps = steps.astype(np.int64)
    if np.any(steps < 0):
        raise ValueError(_("t must be >= 0 (the first step is t = 0), got min {got}").format(
            got=int(steps.min())))
    return steps, scalar


def _out(lr: np.ndarray, scalar: bool) -> float | np.ndarray:
    return float(lr) if scalar else np.asarray(lr, dtype=np.float64)


def _factor(x, name: str, *, allow_zero: bool) -> float:
    """A multiplicative factor in (0, 1] (or [0, 1]), as torch's LinearLR requires."""
    x = arguments.non_negative(x, name) if allow_zero else arguments.positive(x, name)
    if x > 1:
        raise ValueError(_("{name} must be <= 1, got {got}").format(name=name, got=x))
    return x


def step_lr(t, lr0: float, step_size: int, gamma: float = 0.1) -> float | np.ndarray:
    """Step decay: multiply the learning rate by ``gamma`` every ``step_size`` steps.

        lr(t) = lr0 · gamma^⌊t / step_size⌋

    Args:
        t: step(s), integer >= 0 (scalar or array).
        lr0: initial learning rate, > 0.
        step_size: steps between decays, integer >= 1.
        gamma: decay factor in (0, 1]; default 0.1.

    torch: ``StepLR(optimizer, step_size, gamma)``.
    """
    steps, scalar = _steps(t)
    lr0 = arguments.positive(lr0, "lr0")
    step_size = arguments.integer(step_size, "step_size", minimum=1)
    gamma = _factor(gamma, "gamma", allow_zero=False)
    return _out(lr0 * gamma ** (steps // step_size), scalar)


def cosine_lr(t, lr0: float, total_steps: int, lr_min: float = 0.0) -> float | np.ndarray:
    """Cosine annealing from ``lr0`` down to ``lr_min`` over ``total_steps`` steps.

        lr(t) = lr_min + ½ (lr0 − lr_min) (1 + cos(π t / total_steps))

    At t = total_steps the rate reaches ``lr_min``. Beyond it the formula keeps going, so the
    rate climbs back to ``lr0`` at t = 2·total_steps: periodic with period 2·total_steps, which
    is exactly what torch does if you keep stepping (stop at ``total_steps`` in practice).

    Args:
        t: step(s), integer >= 0 (scalar or array).
        lr0: initial (maximum) learning rate, > 0.
        total_steps: half-period T, integer >= 1.
        lr_min: final (minimum) learning rate, 0 <= lr_min <= lr0; default 0.

    torch: ``CosineAnnealingLR(optimizer, T_max=total_steps, eta_min=lr_min)``.
    """
    steps, scalar = _steps(t)
    lr0 = arguments.positive(lr0, "lr0")
    total_steps = arguments.integer(total_steps, "total_steps", minimum=1)
    lr_min = arguments.non_negative(lr_min, "lr_min")
    if lr_min > lr0:
        raise ValueError(_("lr_min must be <= lr0 (it is where the rate ends), got lr_min={lr_min} > "
                           "lr0={lr0}").format(lr_min=lr_min, lr0=lr0))
    return _out(lr_min + 0.5 * (lr0 - lr_min) * (1.0 + np.cos(math.pi * steps / total_steps)), scalar)


def linear_lr(t, lr0: float, total_steps: int, start_factor: float = 1.0,
              end_factor: float = 0.0) -> float | np.ndarray:
    """Linear interpolation of the factor from ``start_factor`` to ``end_factor``, then flat.

        lr(t) = lr0 · (start_factor + (end_factor − start_factor) · min(t, total_steps) / total_steps)

    Args:
        t: step(s), integer >= 0 (scalar or array).
        lr0: base learning rate, > 0.
        total_steps: steps of the ramp, integer >= 1; afterwards lr stays at lr0·end_factor.
        start_factor: factor at t = 0, in (0, 1]; default 1.
        end_factor: factor from t = total_steps on, in [0, 1]; default 0 (decay to zero).

    torch: ``LinearLR(optimizer, start_factor, end_factor, total_iters=total_steps)``
    (note torch's own defaults differ: start_factor=1/3, end_factor=1, total_iters=5).
    """
    steps, scalar = _steps(t)
    lr0 = arguments.positive(lr0, "lr0")
    total_steps = arguments.integer(total_steps, "total_steps", minimum=1)
    start_factor = _factor(start_factor, "start_factor", allow_zero=False)
    end_factor = _factor(end_factor, "end_factor", allow_zero=True)
    progress = np.minimum(steps, total_steps) / total_steps
    return _out(lr0 * (start_factor + (end_factor - start_factor) * progress), scalar)


def inverse_sqrt_lr(t, lr0: float) -> float | np.ndarray:
    """Inverse square-root decay: the step size behind averaged SGD's O(1/√T) on convex problems.

        lr(t) = lr0 / √(t + 1)

    It does NOT meet the Robbins–Monro conditions: Σ lr(t) = ∞ as they ask, but Σ lr(t)² is the
    harmonic series, also ∞. (lr0 / (t + 1) meets both.) Steps ∝ 1/√t with iterate averaging give
    an error O(1/√T) on convex problems without knowing the curvature; transformers use this decay
    after their warmup.

    Args:
        t: step(s), integer >= 0 (scalar or array).
        lr0: learning rate at t = 0, > 0.

    torch: ``LambdaLR(optimizer, lambda t: 1 / math.sqrt(t + 1))``.
    """
    steps, scalar = _steps(t)
    lr0 = arguments.positive(lr0, "lr0")
    return _out(lr0 / np.sqrt(steps + 1.0), scalar)


def with_warmup(schedule: Schedule, warmup_steps: int, start_factor: float = 0.1) -> Schedule:
    """Prepend a linear warmup of ``warmup_steps`` steps to any schedule.

    With ``f = schedule`` and ``W = warmup_steps`` the returned function is

        lr(t) = f(0) · (start_factor + (1 − start_factor) · t / W)   for t < W
        lr(t) = f(t − W)                                              for t >= W

    so the rate climbs from ``start_factor·f(0)`` towards ``f(0)`` and the main schedule then
    starts from its own step 0 (it is shifted by W, not overlapped).

    torch equivalent, whenever ``f(0) == lr0`` (true for ``step_lr``, ``cosine_lr``,
    ``inverse_sqrt_lr`` and ``linear_lr`` with start_factor=1)::

        SequentialLR(opt, [LinearLR(opt, start_factor, 1.0, total_iters=W), main], milestones=[W])

    and in every case ``LambdaLR(opt, lambda t: lr(t) / lr0)`` — the only form for a warmup from 0
    (start_factor=0, the usual choice for large models), since ``LinearLR`` needs start_factor > 0.

    Args:
        schedule: a function of the step t, e.g. ``lambda t: cosine_lr(t, 0.1, 1000)``.
        warmup_steps: W, integer >= 1.
        start_factor: fraction of f(0) used at t = 0, in [0, 1]; default 0.1 (0: from zero).

    Returns:
        A function of t (scalar or integer array), like the schedules in this module.
    """
    if not callable(schedule):
        raise TypeError(_("schedule must be a function of the step t, got {kind}").format(
            kind=type(schedule).__name__))
    warmup_steps = arguments.integer(warmup_steps, "warmup_steps", minimum=1)
    start_factor = _factor(start_factor, "start_factor", allow_zero=True)

    def warmed_up(t):
        steps, scalar = _steps(t)
        peak = float(schedule(0))
        ramp = peak * (start_factor + (1.0 - start_factor) * steps / warmup_steps)
        shifted = np.maximum(steps - warmup_steps, 0)
        main = np.asarray(schedule(int(shifted) if scalar else shifted), dtype=np.float64)
        return _out(np.where(steps < warmup_steps, ramp, main), scalar)

    return warmed_up


def lr_curve(schedule: Schedule, n_steps: int) -> np.ndarray:
    """The learning rates of steps 0 … n_steps−1 as a float64 array of shape (n_steps,).

    Works with the vectorised schedules here and with scalar-only functions (e.g. a student's),
    which are called once per step.
    """
    if not callable(schedule):
        raise TypeError(_("schedule must be a function of the step t, got {kind}").format(
            kind=type(schedule).__name__))
    n_steps = arguments.integer(n_steps, "n_steps", minimum=1)
    steps = np.arange(n_steps)
    try:
        lrs = np.asarray(schedule(steps), dtype=np.float64)
    except (TypeError, ValueError):
        lrs = None
    if lrs is None or lrs.shape != (n_steps,):
        # A scalar-only schedule: ask it one step at a time, as a scheduler would.
        lrs = np.array([float(schedule(int(t))) for t in steps], dtype=np.float64)
    return lrs
