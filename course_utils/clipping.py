"""Gradient clipping: cap the size of a step when the gradient explodes (notebook 10).

Clipping by the **global norm** looks at all gradients of a model as one long vector g:

    ‖g‖ = ‖(‖g₁‖, ‖g₂‖, …)‖               (the norm of the per-array norms: the same number)
    g ← g · min(1, max_norm / (‖g‖ + 10⁻⁶))

so the direction of the step is kept and only its length is capped. Clipping each entry to
[−c, c] (``clip_grad_value``) instead changes the direction. Both mirror
``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_`` (the 10⁻⁶ is torch's), but return new
arrays instead of changing the gradients in place.
"""
from __future__ import annotations

import math

import numpy as np

from . import arguments
from .i18n import _

__all__ = ["total_norm", "clip_grad_norm", "clip_grad_value"]

EPS = 1e-6  # torch's: max_norm / (total_norm + 1e-6)


def _grads(grads) -> list[np.ndarray]:
    if isinstance(grads, (np.ndarray, str, bytes)) or not hasattr(grads, "__len__"):
        raise TypeError(_("grads must be a list of arrays (one per parameter), got {kind}").format(
            kind=type(grads).__name__))
    return [arguments.as_array(g, f"grads[{i}]") for i, g in enumerate(grads)]


def _norm_type(norm_type) -> float:
    norm_type = float(arguments.as_array(norm_type, "norm_type", ndim=0, finite=False))
    if not norm_type > 0:
        raise ValueError(_("norm_type must be > 0 (2.0 for the Euclidean norm, inf for the "
                           "largest entry), got {got}").format(got=norm_type))
    return norm_type


def _norm(values: np.ndarray, p: float) -> float:
    if values.size == 0:
        return 0.0
    if math.isinf(p):
        return float(np.max(np.abs(values)))
    if p == 2:
        return float(np.sqrt(np.sum(values * values)))
    return float(np.sum(np.abs(values) ** p) ** (1.0 / p))


def total_norm(grads, norm_type=2.0) -> float:
    """The p-norm of all gradients taken together (``torch.nn.utils.get_total_norm``):
    the p-norm of the vector of per-array p-norms; p = ``norm_type`` (2.0, or inf for the
    largest |entry|). An empty list has norm 0."""
    grads, p = _grads(grads), _norm_type(norm_type)
    return _norm(np.array([_norm(g.ravel(), p) for g in grads]), p)


def clip_grad_norm(grads, max_norm, norm_type=2.0) -> tuple[list[np.ndarray], float]:
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

        total = ‖(‖g₁‖, ‖g₂‖, …)‖ₚ          scale = min(1, max_norm / (total + 10⁻⁶))
        gᵢ ← scale · gᵢ

    As ``torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)``, but pure: returns
    (clipped, total) — new arrays in the order of ``grads``, and the norm *before* clipping
    (what torch returns; log it to watch for spikes). ``grads`` are not changed.
    """
    grads = _grads(grads)
    max_norm = arguments.non_negative(max_norm, "max_norm")
    total = total_norm(grads, norm_type)
    scale = min(max_norm / (total + EPS), 1.0)
    return [g * scale for g in grads], total


def clip_grad_value(grads, clip_value) -> list[np.ndarray]:
    """Clip every entry to [−clip_value, clip_value] (``torch.nn.utils.clip_grad_value_``).

    Unlike ``clip_grad_norm`` this changes the direction of the step. Returns new arrays."""
    grads = _grads(grads)
    clip_value = arguments.non_negative(clip_value, "clip_value")
    return [np.clip(g, -clip_value, clip_value) for g in grads]
