"""Argument checks shared by every public function: validation at the edge, once.

Each helper raises ``TypeError`` (wrong kind of thing) or ``ValueError`` (right kind, wrong
value) with a message that names the argument, says what was expected and what came, in the
notebook's language (``course_utils.i18n``). Internal code calls these on entry and then
trusts its inputs.
"""
from __future__ import annotations

import numbers

import numpy as np

from course_utils.i18n import _

__all__ = [
    "as_array",
    "same_shape",
    "positive",
    "non_negative",
    "in_unit_interval",
    "integer",
]


def _describe(x) -> str:
    if isinstance(x, np.ndarray):
        return _("an array of shape {shape} and dtype {dtype}").format(shape=x.shape,
                                                                        dtype=x.dtype)
    return f"{type(x).__name__} {x!r}"[:80]


def as_array(x, name: str, *, ndim: int | tuple[int, ...] | None = None, finite: bool = True) -> np.ndarray:
    """Return ``x`` as a float64 array (no copy when it already is one).

    Raises TypeError for non-numeric input, ValueError for the wrong number of dimensions or
    (when ``finite``) for NaN/inf entries.
    """
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(_not_numbers().format(name=name, got=_describe(x)))
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(_not_numbers().format(name=name, got=_describe(x))) from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = _(" or ").join(str(d) for d in allowed)
            raise ValueError(_("{name} must have {ndim} dimension(s), got shape {shape}").format(
                name=name, ndim=want, shape=arr.shape))
    if finite and not np.all(np.isfinite(arr)):
        bad = "NaN" if np.any(np.isnan(arr)) else "inf"
        raise ValueError(_("{name} contains {bad}; check the values you pass in (a diverged "
                           "run?)").format(name=name, bad=bad))
    return arr


def _not_numbers() -> str:
    return _("{name} must be a number or an array of numbers, got {got}")


def same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise ValueError unless ``a`` and ``b`` have the same shape."""
    if np.shape(a) != np.shape(b):
        raise ValueError(_("{name_b} must have the same shape as {name_a}: {name_a} has shape "
                           "{shape_a}, {name_b} has shape {shape_b}").format(
            name_a=name_a, name_b=name_b, shape_a=np.shape(a), shape_b=np.shape(b)))


def _real(x, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (numbers.Real, np.floating, np.integer)):
        if isinstance(x, np.ndarray) and x.ndim == 0:
            x = x.item()
        else:
            raise TypeError(_("{name} must be a real number, got {got}").format(
                name=name, got=_describe(x)))
    x = float(x)
    if not np.isfinite(x):
        raise ValueError(_("{name} must be finite, got {got}").format(name=name, got=x))
    return x


def positive(x, name: str) -> float:
    """Return ``x`` as a float, requiring ``x > 0`` (e.g. a learning rate)."""
    x = _real(x, name)
    if x <= 0:
        raise ValueError(_("{name} must be > 0, got {got}").format(name=name, got=x))
    return x


def non_negative(x, name: str) -> float:
    """Return ``x`` as a float, requiring ``x >= 0`` (e.g. weight decay)."""
    x = _real(x, name)
    if x < 0:
        raise ValueError(_("{name} must be >= 0, got {got}").format(name=name, got=x))
    return x


def in_unit_interval(x, name: str, *, include_one: bool = False) -> float:
    """Return ``x`` as a float in [0, 1) (or [0, 1] with ``include_one``), e.g. a beta."""
    x = _real(x, name)
    hi_ok = x <= 1 if include_one else x < 1
    if not (0 <= x and hi_ok):
        interval = "[0, 1]" if include_one else "[0, 1)"
        raise ValueError(_("{name} must be in {interval}, got {got}").format(
            name=name, interval=interval, got=x))
    return x


def integer(x, name: str, *, minimum: int | None = None) -> int:
    """Return ``x`` as an int, requiring an integral value ``>= minimum`` if given."""
    if isinstance(x, bool) or not isinstance(x, (numbers.Integral, np.integer)):
        raise TypeError(_("{name} must be an integer, got {got}").format(name=name,
                                                                          got=_describe(x)))
    x = int(x)
    if minimum is not None and x < minimum:
        raise ValueError(_("{name} must be >= {minimum}, got {got}").format(
            name=name, minimum=minimum, got=x))
    return x
