"""Student-facing checks: every failure says what was expected, what came, and the likely mistake.

Notebook test cells use these instead of bare ``assert np.allclose(...)``:

>>> expect_close(adam_m, reference_m, "m after step 3",
...              mistakes={"m was not bias-corrected: divide by (1 - beta1**t)": m_uncorrected})

The comparison code binds the numpy functions it needs when this module is imported (a locked
cell imports it before any answer cell runs), so an answer cell that reassigns
``np.allclose`` or ``np.testing.assert_allclose`` cannot fool it; ``verify_integrity()`` also
fails loudly if such a reassignment happened.
"""
from __future__ import annotations

import builtins
import contextlib
import sys
import warnings
from typing import Any, Callable, Mapping

import numpy as np

from . import answer_key
from ._answer_guard import AnswerKeyUsed, Guard

# Bound at import: answer cells that monkeypatch numpy do not change what these names mean.
_asarray = np.asarray
_abs = np.abs
_max = np.max
_isfinite = np.isfinite
_all = np.all
_argmax = np.argmax
_unravel = np.unravel_index
_array_equal = np.array_equal
_float64 = np.float64

_WATCHED = {
    "numpy.allclose": (np, "allclose"),
    "numpy.isclose": (np, "isclose"),
    "numpy.array_equal": (np, "array_equal"),
    "numpy.testing.assert_allclose": (np.testing, "assert_allclose"),
    "numpy.testing.assert_array_equal": (np.testing, "assert_array_equal"),
    "numpy.testing.assert_almost_equal": (np.testing, "assert_almost_equal"),
    "builtins.isinstance": (builtins, "isinstance"),
    "builtins.len": (builtins, "len"),
    "builtins.abs": (builtins, "abs"),
}
_ORIGINALS = {key: getattr(owner, attr) for key, (owner, attr) in _WATCHED.items()}
_REFERENCES = {dotted: answer_key.resolve(dotted) for exercise in answer_key.exercises()
               for dotted in answer_key.references(exercise) if not dotted.startswith("torch.")}

__all__ = [
    "AnswerKeyUsed",
    "CheckFailure",
    "expect_close",
    "expect_equal",
    "expect_unchanged",
    "expect_raises",
    "expect_scalar",
    "verify_integrity",
    "snapshot",
    "passed",
    "quiet",
]


class CheckFailure(AssertionError):
    """A check failed; the message is written for the student."""


def _fail(message: str) -> None:
    # Short tracebacks: the message is the feedback, the internals are noise.
    raise CheckFailure(message) from None


def verify_integrity() -> None:
    """Fail if a notebook cell replaced numpy's comparison functions or these checks."""
    for key, (owner, attr) in _WATCHED.items():
        if getattr(owner, attr) is not _ORIGINALS[key]:
            _fail(f"{key} was reassigned in this notebook; restore it (restart the kernel) — "
                  "tests compare with the original functions")
    for dotted, original in _REFERENCES.items():
        if answer_key.resolve(dotted) is not original:
            _fail(f"course_utils.{dotted} was reassigned in this notebook; restart the kernel — "
                  "tests compare with the course's own reference")
    module = globals()
    for name in __all__:
        if module[name] is not _SELF[name]:
            _fail(f"course_utils.checks.{name} was reassigned; restart the kernel and re-run")


def _as_numeric(got: Any, name: str) -> np.ndarray:
    if got is None:
        _fail(f"{name}: got None — did your function forget to `return` its result?")
    if isinstance(got, tuple) and len(got) != 1:
        _fail(f"{name}: got a tuple of {len(got)} values where one array was expected — "
              "check what your function returns")
    try:
        arr = _asarray(got, dtype=_float64)
    except (TypeError, ValueError):
        _fail(f"{name}: expected numbers, got {type(got).__name__} {str(got)[:60]!r}")
    return arr


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _explain_mismatch(got: np.ndarray, expected: np.ndarray) -> str | None:
    """Recognise the classic slips: a flipped sign, a constant factor (1/N, 2, 1-beta...)."""
    scale = float(_max(_abs(expected))) if expected.size else 0.0
    if scale == 0.0:
        return None
    tol = 1e-6 * scale + 1e-12
    if float(_max(_abs(got + expected))) <= tol:
        return "the sign is flipped (did you add where you should subtract, or swap ŷ − y?)"
    if expected.size < 2:
        return None  # one number: any two differ "by a factor", so that says nothing
    mask = _abs(expected) > 1e-3 * scale
    ratios = got[mask] / expected[mask]
    if ratios.size and float(_max(_abs(ratios - ratios.flat[0]))) <= 1e-6 * max(1.0, abs(float(ratios.flat[0]))):
        k = float(ratios.flat[0])
        if k != 0 and abs(k - 1) > 1e-9:
            extra = ""
            if abs(k - round(k)) < 1e-9 and abs(k) >= 2:
                extra = f" (a missing 1/{int(round(abs(k)))}: did you forget to average over the batch?)" \
                    if k > 0 else ""
            elif abs(1 / k - round(1 / k)) < 1e-9 and abs(1 / k) >= 2:
                extra = f" (divided by {int(round(1 / k))} too many times?)"
            return f"every entry is off by the same factor {_fmt(k)}{extra}"
    return None


def expect_close(got: Any, expected: Any, name: str, *, rtol: float = 1e-6, atol: float = 1e-9,
                 mistakes: Mapping[str, Any] | None = None, hint: str | None = None) -> None:
    """Check ``got`` against ``expected`` entry by entry (shape, finiteness, then values).

    ``mistakes`` maps a description of a classic error to the value that error produces; when
    ``got`` matches one, the failure message names it. ``hint`` is added to any other failure.
    """
    g = _as_numeric(got, name)
    e = _asarray(expected, dtype=_float64)
    if g.shape != e.shape:
        _fail(f"{name}: expected shape {e.shape}, got shape {g.shape} — check which axis you "
              "reduce over and whether you kept or dropped a dimension")
    if not bool(_all(_isfinite(g))):
        _fail(f"{name}: contains NaN or inf — an overflow (exp of a large number?) or a division "
              "by zero")
    err = _abs(g - e)
    bound = atol + rtol * _abs(e)
    if bool(_all(err <= bound)):
        return
    for description, wrong in (mistakes or {}).items():
        w = _asarray(wrong, dtype=_float64)
        if w.shape == g.shape and bool(_all(_abs(g - w) <= atol + rtol * _abs(w))):
            _fail(f"{name}: {description}")
    where = _unravel(int(_argmax(err - bound)), e.shape) if e.ndim else ()
    at = f" at index {tuple(int(i) for i in where)}" if e.ndim else ""
    msg = (f"{name}: expected {_fmt(float(e[where]))}{at}, got {_fmt(float(g[where]))} "
           f"(max abs error {_fmt(float(_max(err)))})")
    why = _explain_mismatch(g, e)
    if why:
        msg += f"; {why}"
    if hint:
        msg += f". Hint: {hint}"
    _fail(msg)


def expect_scalar(got: Any, expected: float, name: str, **kwargs) -> None:
    """Like ``expect_close`` but first insists on a single number (not an array of shape (N,))."""
    g = _as_numeric(got, name)
    if g.size != 1:
        _fail(f"{name}: expected a single number, got an array of shape {g.shape} — "
              "did you forget to sum or average?")
    expect_close(float(g.reshape(())), expected, name, **kwargs)


def expect_equal(got: Any, expected: Any, name: str, *, hint: str | None = None) -> None:
    """Exact equality for integers, labels, counts and shapes."""
    if isinstance(expected, (tuple, list, np.ndarray)):
        ok = _array_equal(_asarray(got), _asarray(expected))
    else:
        ok = got == expected
    if not ok:
        msg = f"{name}: expected {expected!r}, got {got!r}"
        _fail(msg + (f". Hint: {hint}" if hint else ""))


def snapshot(*arrays: Any) -> list[np.ndarray]:
    """Copies of the inputs, to check afterwards that a function left them alone."""
    return [np.array(a, copy=True) for a in arrays]


def expect_unchanged(before: list[np.ndarray], after: list[Any], names: list[str]) -> None:
    """Fail if a function modified any of its input arrays in place."""
    for b, a, n in zip(before, after, names):
        if not _array_equal(b, _asarray(a)):
            _fail(f"{n} was modified in place — your function must return new arrays and leave "
                  f"its inputs unchanged (use `w = w - ...`, not `w -= ...`)")


def expect_raises(fn: Callable[[], Any], error: type[BaseException] | tuple, name: str) -> None:
    """Fail unless calling ``fn()`` raises ``error``."""
    try:
        fn()
    except error:
        return
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - the student sees what was raised instead
        _fail(f"{name}: expected {getattr(error, '__name__', error)}, got "
              f"{type(exc).__name__}: {exc}")
    _fail(f"{name}: expected {getattr(error, '__name__', error)} to be raised, but nothing was")


class quiet:
    """Run student code inside a test cell: quietly, and without the answer key.

    nbgrader scores a test cell that writes anything to stderr as 0, so warnings (overflow in
    ``exp``, deprecations) are silenced and stray stderr prints go to stdout instead.

    The block also guards the exercise under test: if the student's code gets its result from
    that exercise's own reference in ``course_utils`` (or torch's), however it reaches it, the
    block ends with ``AnswerKeyUsed`` and the test gives no points (see ``_answer_guard``).
    """

    def __enter__(self):
        self._context = contextlib.ExitStack()
        self._context.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")
        self._context.enter_context(np.errstate(all="ignore"))
        self._context.enter_context(contextlib.redirect_stderr(sys.stdout))
        self._guard = Guard().__enter__()  # last in, first out: it sees only the student's code
        return self

    def __exit__(self, *exc_info):
        try:
            self._guard.__exit__(*exc_info)
        finally:
            self._context.__exit__(*exc_info)
        return False


def passed(what: str) -> None:
    """Print a one-line success message (stdout only: nbgrader scores stderr output as 0)."""
    print(f"✓ {what}")


_SELF = {name: globals()[name] for name in __all__}
