"""Gradient checking: central differences and a relative error (notebooks 01, 04, 05).

An analytic gradient is trusted once it agrees with a numerical one:

>>> import numpy as np
>>> x = np.array([1.0, -2.0])
>>> check_gradient(lambda w: np.sum(w ** 2), lambda w: 2 * w, x) < 1e-8
True
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import arguments
from .i18n import _

__all__ = ["numerical_gradient", "relative_error", "check_gradient"]


def _scalar_output(value, entry: int) -> float:
    out = np.asarray(value, dtype=np.float64)
    if out.size != 1:
        raise ValueError(_("f must return a single number (the loss), got shape {shape} at entry "
                           "{entry}").format(shape=out.shape, entry=entry))
    return float(out.reshape(()))


def numerical_gradient(f: Callable[[np.ndarray], float], x, h: float = 1e-5) -> np.ndarray:
    """∂f/∂x by central differences, one entry of x at a time:

        ∂f/∂x_i ≈ (f(x + h·e_i) − f(x − h·e_i)) / (2h),

    whose error shrinks like h² (a one-sided difference only like h).

    ``f`` maps an array of the shape of ``x`` to a number; ``x`` has any shape; ``h`` > 0
    (default 1e-5: small enough for the h² term, large enough that rounding in f, ~1e-16/h,
    stays small). Returns an array of the shape of ``x``. ``x`` is never modified, even if
    ``f`` raises or writes into its argument: f is evaluated on a private copy.
    Cost: 2·x.size calls of f.
    """
    if not callable(f):
        raise TypeError(_("f must be a callable returning a number, got {kind}").format(
            kind=type(f).__name__))
    h = arguments.positive(h, "h")
    point = np.array(arguments.as_array(x, "x"), dtype=np.float64, copy=True)
    flat = point.reshape(-1)  # a view into the private copy: writes move the point f sees
    grad = np.zeros(point.size)
    for i in range(point.size):
        original = flat[i]
        flat[i] = original + h
        f_plus = _scalar_output(f(point), i)
        flat[i] = original - h
        f_minus = _scalar_output(f(point), i)
        flat[i] = original
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad.reshape(point.shape)


def relative_error(a, b) -> float:
    """Relative error between two arrays of one shape, normwise:

        max_i |a_i − b_i| / max(max_i (|a_i| + |b_i|), tiny),

    with tiny the smallest positive float64 (so two zero arrays give 0, not 0/0).

    In the spirit of CS231n's ``rel_error``, but the maximum is taken over the numerator and the
    denominator separately: an entry that should be 0 and comes out as 1e-17 does not make the
    error look like 1. Rules of thumb for float64 gradient checks: < 1e-7 fine, > 1e-4 a bug.
    """
    a = arguments.as_array(a, "a")
    b = arguments.as_array(b, "b")
    arguments.same_shape(a, b, "a", "b")
    if a.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(a) + np.abs(b))), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(a - b))) / scale


def check_gradient(f: Callable[[np.ndarray], float], grad_f: Callable[[np.ndarray], np.ndarray],
                   x, h: float = 1e-5) -> float:
    """``relative_error(grad_f(x), numerical_gradient(f, x, h))``; ``x`` is left unchanged."""
    if not callable(grad_f):
        raise TypeError(_("grad_f must be a callable returning an array, got {kind}").format(
            kind=type(grad_f).__name__))
    numeric = numerical_gradient(f, x, h)
    analytic = arguments.as_array(grad_f(np.array(x, dtype=np.float64, copy=True)), "grad_f(x)")
    arguments.same_shape(numeric, analytic, "x", "grad_f(x)")
    return relative_error(analytic, numeric)
