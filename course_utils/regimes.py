"""Learning-rate regimes of gradient descent: from the theory of a quadratic, and from a path.

Pure maths, no figures: the learning-rate explorers (notebooks 01 and 02) draw with it.

    REGIMES = ("too small", "good", "oscillating", "diverging")

- ``quadratic_regime(lr, λ_max, λ_min)``: what theory says on ½ wᵀAw;
- ``regime_edges(λ_max, λ_min, steps, tolerance)``: the η where that answer changes;
- ``classify_regime(path, landscape)``: what a path shows, on any landscape.
"""
from __future__ import annotations

import numpy as np

from course_utils import arguments, landscapes
from course_utils.i18n import N_, _

__all__ = ["REGIMES", "quadratic_regime", "regime_edges", "classify_regime", "regime_name"]

REGIMES = ("too small", "good", "oscillating", "diverging")
# The names a student reads (badges, bands), in the notebook's language; REGIMES stay the keys.
# Translators: a learning rate (feminine in pt/es) that is too small / good / oscillating / diverging.
_NAMES = {"too small": N_("too small"), "good": N_("good"), "oscillating": N_("oscillating"),
          "diverging": N_("diverging")}


def regime_name(regime: str) -> str:
    """The name of one of ``REGIMES`` in the current language (``course_utils.i18n``)."""
    return _(_NAMES[regime])


def quadratic_regime(lr, max_curvature, min_curvature=None, steps: int = 30,
                     tolerance: float = 0.1) -> str:
    """The learning-rate regime of gradient descent on a quadratic, from theory.

    On L(w) = ½ wᵀAw each step multiplies the component along an eigenvector of A (eigenvalue
    λ) by (1 − ηλ). With λ_max and λ_min the extreme eigenvalues:

        "diverging"    η λ_max > 2                     (|1 − ηλ_max| > 1)
        "oscillating"  1 < η λ_max ≤ 2                 (the steepest component flips sign)
        "too small"    (1 − η λ_min)^steps > tolerance (after ``steps`` steps the slowest
                                                       component has not shrunk by 1/tolerance)
        "good"         otherwise

    Args:
        lr: η > 0.
        max_curvature: λ_max > 0.
        min_curvature: λ_min in (0, λ_max]; default λ_max (a 1-D parabola).
        steps: N, integer >= 1; default 30.
        tolerance: in (0, 1); default 0.1.

    Returns one of ``REGIMES``. Agrees with ``classify_regime`` on a 1-D parabola.
    """
    lr = arguments.positive(lr, "lr")
    lam_max, lam_min, steps, tolerance = _quadratic(max_curvature, min_curvature, steps,
                                                    tolerance)
    if lr * lam_max > 2:
        return "diverging"
    if lr * lam_max > 1:
        return "oscillating"
    if (1 - lr * lam_min) ** steps > tolerance:
        return "too small"
    return "good"


def regime_edges(max_curvature, min_curvature=None, steps: int = 30,
                 tolerance: float = 0.1) -> tuple[float, float, float]:
    """η where the answer of ``quadratic_regime`` changes, from small η to large.

    Returns (too small below, oscillating above = 1/λ_max, diverging above = 2/λ_max); the
    first is (1 − tolerance^(1/steps)) / λ_min. Same arguments as ``quadratic_regime``.
    """
    lam_max, lam_min, steps, tolerance = _quadratic(max_curvature, min_curvature, steps,
                                                    tolerance)
    too_small_below = (1 - tolerance ** (1 / steps)) / lam_min
    return too_small_below, 1 / lam_max, 2 / lam_max


def _quadratic(max_curvature, min_curvature, steps, tolerance):
    lam_max = arguments.positive(max_curvature, "max_curvature")
    lam_min = lam_max if min_curvature is None else arguments.positive(min_curvature, "min_curvature")
    if lam_min > lam_max:
        raise ValueError(_("min_curvature must be <= max_curvature, got {low} > {high}").format(
            low=lam_min, high=lam_max))
    return lam_max, lam_min, arguments.integer(steps, "steps", minimum=1), check_tolerance(tolerance)


def check_tolerance(tolerance) -> float:
    """``tolerance`` as a float in (0, 1), or ValueError naming it."""
    tolerance = arguments.positive(tolerance, "tolerance")
    if tolerance >= 1:
        raise ValueError(_("{name} must be in {interval}, got {got}").format(
            name="tolerance", interval="(0, 1)", got=tolerance))
    return tolerance


def classify_regime(path, landscape: landscapes.Landscape, tolerance: float = 0.1) -> str:
    """Name the learning-rate regime a gradient-descent path shows, from the path alone.

    With w_0 … w_N the path and Δ_k = w_{k+1} − w_k the steps:

        "diverging"    the run blew up (inf/NaN) or ended higher than it started, L(w_N) > L(w_0)
        "oscillating"  most consecutive steps point against each other, Δ_k · Δ_{k+1} < 0
        "too small"    still far from a stationary point: ‖∇L(w_N)‖ > tolerance · ‖∇L(w_0)‖
        "good"         otherwise

    Args:
        path: (N + 1,) for a 1-D loss or (N + 1, d), N >= 1 — e.g. ``landscapes.run_optimizer``.
        landscape: the ``Landscape`` the path descends.
        tolerance: in (0, 1); default 0.1.

    Returns one of ``REGIMES``. Works on any landscape; on a quadratic it agrees with the
    theory of ``quadratic_regime`` in 1-D.
    """
    if not isinstance(landscape, landscapes.Landscape):
        raise TypeError(_("landscape must be a Landscape, got {kind}").format(
            kind=type(landscape).__name__))
    path = arguments.as_array(path, "path", ndim=(1, 2), finite=False)
    if path.shape[0] < 2:
        raise ValueError(_("path must hold at least 2 points (w_0 and w_1), got shape {shape}"
                           ).format(shape=path.shape))
    tolerance = check_tolerance(tolerance)
    points = path.reshape(path.shape[0], -1)
    if not np.all(np.isfinite(points)):
        return "diverging"
    first, last = (p.reshape(path.shape[1:]) for p in (points[0], points[-1]))
    with np.errstate(over="ignore", invalid="ignore"):
        loss_first, loss_last = landscape.value(first), landscape.value(last)
        if not np.isfinite(loss_last) or loss_last > loss_first + 1e-12 * max(1.0, abs(loss_first)):
            return "diverging"
        if _mostly_turning(points):
            return "oscillating"
        grad_first = np.linalg.norm(landscape.grad(first))
        grad_last = np.linalg.norm(landscape.grad(last))
    if grad_first > 0 and grad_last > tolerance * grad_first:
        return "too small"
    return "good"


def _mostly_turning(points: np.ndarray) -> bool:
    """Do most consecutive steps point against each other (Δ_k · Δ_{k+1} < 0)?"""
    deltas = np.diff(points, axis=0)
    lengths = np.linalg.norm(deltas, axis=1)
    # Steps that vanished (converged to the last bit) say nothing about direction.
    moving = (lengths[:-1] > 1e-12) & (lengths[1:] > 1e-12)
    turns = np.sum(deltas[:-1] * deltas[1:], axis=1) < 0
    return bool(moving.any() and turns[moving].mean() >= 0.5)
