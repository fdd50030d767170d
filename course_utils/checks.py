"""Student-facing checks: every failure says what was expected, what came, and the likely mistake.

Notebook test cells use these instead of bare ``assert np.allclose(...)``:

>>> expect_close(adam_m, reference_m, "m after step 3",
...              mistakes={"m was not bias-corrected: divide by (1 - beta1**t)": m_uncorrected})

A failure message puts the diagnosis first and the details after it, because nbgrader's Validate
shows only the first line's first 90 characters or so: "m was not bias-corrected: divide by
(1 - beta1**t) [m after step 3]". In a notebook a failure shows the line of the cell that failed
and the message, not the frames of this module (``CheckFailure._render_traceback_``). A demo
cell that uses an exercise runs it inside ``with needs("Exercise 3", "run_gd_1d"):``, so that a
missing or wrong answer says "fix Exercise 3 above first" instead of a bare AssertionError.

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
from .failures import WRAP, CheckFailure, ExerciseNotReady, needs  # noqa: F401 (re-exported)
from .i18n import _

# Bound at import: answer cells that monkeypatch numpy do not change what these names mean.
_asarray = np.asarray
_abs = np.abs
_max = np.max
_isfinite = np.isfinite
_isnan = np.isnan
_all = np.all
_argmax = np.argmax
_unravel = np.unravel_index
_array_equal = np.array_equal
_float64 = np.float64
_ndarray = np.ndarray
_isinstance = isinstance
_len = len

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
    "ExerciseNotReady",
    "expect_close",
    "expect_equal",
    "expect_unchanged",
    "expect_raises",
    "expect_scalar",
    "expect_array",
    "expect_sequence",
    "expect_each_below",
    "fail",
    "needs",
    "verify_integrity",
    "snapshot",
    "passed",
    "quiet",
]

def _fail(message: str) -> None:
    __tracebackhide__ = True
    raise CheckFailure(message) from None


def fail(message: str) -> None:
    """Fail a test with ``message``, written for the student with the diagnosis first."""
    __tracebackhide__ = True
    _fail(message)


def _say(diagnosis: str, name: str, detail: str = "") -> str:
    """The diagnosis first (Validate shows ~80 characters), then what was checked and seen."""
    return f"{diagnosis} [{name}{': ' + detail if detail else ''}]"


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if _len(text) <= limit else text[:limit - 1] + "…"


def verify_integrity() -> None:
    """Fail if a notebook cell replaced numpy's comparison functions or these checks."""
    __tracebackhide__ = True
    for key, (owner, attr) in _WATCHED.items():
        if getattr(owner, attr) is not _ORIGINALS[key]:
            _fail(_("{name} was reassigned in this notebook; restore it (restart the kernel) — "
                    "tests compare with the original functions").format(name=key))
    for dotted, original in _REFERENCES.items():
        if answer_key.resolve(dotted) is not original:
            _fail(_("{name} was reassigned in this notebook; restart the kernel — tests compare "
                    "with the course's own reference").format(name=f"course_utils.{dotted}"))
    module = globals()
    for name in __all__:
        if module[name] is not _SELF[name]:
            _fail(_("{name} was reassigned; restart the kernel and re-run").format(
                name=f"course_utils.checks.{name}"))


def _as_numeric(got: Any, name: str) -> np.ndarray:
    __tracebackhide__ = True
    if got is None:
        _fail(_say(_("got None: did your function forget to `return` its result?"), name))
    if _isinstance(got, tuple) and _len(got) != 1:
        _fail(_say(_("got a tuple of {count} values where one array was expected: check what "
                     "your function returns").format(count=_len(got)), name))
    try:
        arr = _asarray(got, dtype=_float64)
    except (TypeError, ValueError):
        _fail(_say(_("expected numbers, got {kind} {text}").format(
            kind=type(got).__name__, text=repr(str(got)[:60])), name))
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
        return _("the sign is flipped (did you add where you should subtract, or swap ŷ − y?)")
    if expected.size < 2:
        return None  # one number: any two differ "by a factor", so that says nothing
    mask = _abs(expected) > 1e-3 * scale
    ratios = got[mask] / expected[mask]
    if ratios.size and float(_max(_abs(ratios - ratios.flat[0]))) <= 1e-6 * max(1.0, abs(float(ratios.flat[0]))):
        k = float(ratios.flat[0])
        if k != 0 and abs(k - 1) > 1e-9:
            extra = ""
            if abs(k - round(k)) < 1e-9 and abs(k) >= 2:
                extra = " " + _("(a missing 1/{n}: did you forget to average over the batch?)"
                                ).format(n=int(round(abs(k)))) if k > 0 else ""
            elif abs(1 / k - round(1 / k)) < 1e-9 and abs(1 / k) >= 2:
                extra = " " + _("(divided by {n} too many times?)").format(n=int(round(1 / k)))
            return _("every entry is off by the same factor {factor}").format(factor=_fmt(k)) + extra
    return None


def _same(got: np.ndarray, wrong: np.ndarray, rtol: float, atol: float) -> bool:
    """Whether ``got`` is what a mistake produces: equal where finite, the same NaN/inf elsewhere."""
    if wrong.shape != got.shape:
        return False
    finite = _isfinite(wrong)
    if not _array_equal(finite, _isfinite(got)):
        return False
    if not bool(_all(_isnan(got[~finite]) == _isnan(wrong[~finite]))):
        return False
    if not bool(_all(got[~finite & ~_isnan(wrong)] == wrong[~finite & ~_isnan(wrong)])):
        return False
    return bool(_all(_abs(got[finite] - wrong[finite]) <= atol + rtol * _abs(wrong[finite])))


def expect_close(got: Any, expected: Any, name: str, *, rtol: float = 1e-6, atol: float = 1e-9,
                 mistakes: Mapping[str, Any] | None = None, hint: str | None = None) -> None:
    """Check ``got`` against ``expected`` entry by entry.

    The most specific diagnosis wins: a match with one of ``mistakes`` (a description of a
    classic error mapped to the value that error produces, NaN and inf included) comes before
    the generic messages about shape, NaN/inf and values. ``hint`` leads any other failure.
    """
    __tracebackhide__ = True
    g = _as_numeric(got, name)
    e = _asarray(expected, dtype=_float64)
    if g.shape == e.shape and bool(_all(_isfinite(g))):
        err = _abs(g - e)
        bound = atol + rtol * _abs(e)
        if bool(_all(err <= bound)):
            return
    for description, wrong in (mistakes or {}).items():
        try:
            w = _asarray(wrong, dtype=_float64)
        except (TypeError, ValueError):
            continue
        if _same(g, w, rtol, atol):
            _fail(_say(description, name))
    lead = f"{hint}; " if hint else ""
    if g.shape != e.shape:
        _fail(_say(lead + _("wrong shape: check which axis you reduce over and whether you kept "
                            "or dropped a dimension"), name, _shapes(e.shape, g.shape)))
    if not bool(_all(_isfinite(g))):
        _fail(_say(lead + _("got NaN or inf: an overflow (exp of a large number?) or a division "
                            "by zero"), name))
    err = _abs(g - e)
    bound = atol + rtol * _abs(e)
    where = _unravel(int(_argmax(err - bound)), e.shape) if e.ndim else ()
    values = dict(expected=_fmt(float(e[where])), got=_fmt(float(g[where])),
                  error=_fmt(float(_max(err))), index=tuple(int(i) for i in where))
    detail = (_("expected {expected} at index {index}, got {got} (max abs error {error})")
              if e.ndim else _("expected {expected}, got {got} (max abs error {error})")
              ).format(**values)
    why = _explain_mismatch(g, e)
    diagnosis = "; ".join(part for part in (hint, why) if part)   # the test's own words first
    _fail(_say(diagnosis, name, detail) if diagnosis else f"{name}: {detail}")


def _shapes(expected: tuple, got: tuple) -> str:
    return _("expected shape {expected}, got shape {got}").format(expected=expected, got=got)


def expect_scalar(got: Any, expected: float, name: str, **kwargs) -> None:
    """Like ``expect_close`` but first insists on a single number (not an array of shape (N,))."""
    __tracebackhide__ = True
    g = _as_numeric(got, name)
    if g.size != 1:
        _fail(_say(_("did you forget to sum or average? Expected a single number"), name,
                   _("got an array of shape {shape}").format(shape=g.shape)))
    expect_close(float(g.reshape(())), expected, name, **kwargs)


def expect_array(got: Any, name: str, *, shape: tuple[int, ...] | None = None,
                 hint: str | None = None) -> np.ndarray:
    """Insist on a numpy array (what a docstring that says "array" promises), of ``shape`` if given.

    A list or a tuple of numbers fails with a message that says so: the next cell may index it
    like an array (``path[:, 0]``, ``path * 2``) and crash far from the mistake.
    """
    __tracebackhide__ = True
    if got is None:
        _fail(_say(_("got None: did your function forget to `return` its result?"), name))
    if not _isinstance(got, _ndarray):
        _fail(_say(_("returned a {kind}, not a numpy array: the docstring promises an array, so "
                     "return np.array(...)").format(kind=type(got).__name__), name))
    if shape is not None and tuple(got.shape) != tuple(shape):
        _fail(_say(hint or _("wrong shape"), name, _shapes(tuple(shape), tuple(got.shape))))
    return got


def expect_sequence(got: Any, length: int, name: str, *, items: str = "") -> tuple:
    """Accept ``length`` values as a tuple, a list or a 1-D array; return them as a tuple.

    ``items`` names them for the message, e.g. "(dL_dw, dL_db)".
    """
    __tracebackhide__ = True
    what = f" {items}" if items else ""
    if got is None:
        _fail(_say(_("got None: did your function forget to `return` its {count} values{items}?"
                     ).format(count=length, items=what), name))
    if _isinstance(got, (tuple, list)):
        values = tuple(got)
    elif _isinstance(got, _ndarray) and got.ndim == 1:
        values = tuple(got)
    elif _isinstance(got, _ndarray) and got.ndim > 1 and got.shape[0] == length:
        values = tuple(got)
    else:
        _fail(_say(_("return {count} values{items}, e.g. as a tuple; got one {kind}").format(
            count=length, items=what, kind=type(got).__name__), name, _short(got)))
    if _len(values) != length:
        _fail(_say(_("return {count} values{items}; got {got}").format(
            count=length, items=what, got=_len(values)), name, _short(got)))
    return values


def expect_each_below(values: Mapping[str, float], bound: float, name: str, *,
                      hint: str | None = None) -> None:
    """Fail, naming every entry at once, unless each value is finite and ≤ ``bound``.

    For a report over several arrays (a gradient check of every parameter): the student sees
    all the bad entries, not the first one.
    """
    __tracebackhide__ = True
    bad = {k: float(v) for k, v in values.items() if not float(v) <= bound}
    if bad:
        listed = ", ".join(f"{k} {v:.1e}" for k, v in bad.items())
        lead = f"{hint}; " if hint else ""
        _fail(_say(lead + _("{count} of {total} above {bound}: {names}").format(
            count=_len(bad), total=_len(values), bound=f"{bound:g}", names=", ".join(bad)),
            name, listed))


def expect_equal(got: Any, expected: Any, name: str, *, hint: str | None = None) -> None:
    """Exact equality for integers, labels, counts and shapes."""
    __tracebackhide__ = True
    if _isinstance(expected, (tuple, list, np.ndarray)):
        try:
            ok = _array_equal(_asarray(got), _asarray(expected))
        except (TypeError, ValueError):
            ok = False
    else:
        ok = got == expected
    if not ok:
        detail = _("expected {expected}, got {got}").format(expected=_short(expected),
                                                            got=_short(got))
        _fail(_say(hint, name, detail) if hint else f"{name}: {detail}")


def snapshot(*arrays: Any) -> list[np.ndarray]:
    """Copies of the inputs, to check afterwards that a function left them alone."""
    return [np.array(a, copy=True) for a in arrays]


def expect_unchanged(before: list[np.ndarray], after: list[Any], names: list[str]) -> None:
    """Fail if a function modified any of its input arrays in place."""
    __tracebackhide__ = True
    for b, a, n in zip(before, after, names):
        if not _array_equal(b, _asarray(a)):
            _fail(_("{name} was modified in place — your function must return new arrays and "
                    "leave its inputs unchanged (use `w = w - ...`, not `w -= ...`)").format(name=n))


def expect_raises(fn: Callable[[], Any], error: type[BaseException] | tuple, name: str) -> None:
    """Fail unless calling ``fn()`` raises ``error``."""
    __tracebackhide__ = True
    try:
        fn()
    except error:
        return
    except NotImplementedError:
        raise
    except Exception as exc:  # noqa: BLE001 - the student sees what was raised instead
        _fail(_("expected {error}, got {kind}: {message}").format(
            error=getattr(error, "__name__", error), kind=type(exc).__name__, message=exc)
            + f" [{name}]")
    _fail(_("expected {error} to be raised, but nothing was").format(
        error=getattr(error, "__name__", error)) + f" [{name}]")


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
        __tracebackhide__ = True
        try:
            self._guard.__exit__(*exc_info)
        finally:
            self._context.__exit__(*exc_info)
        return False


def passed(what: str) -> None:
    """Print a one-line success message (stdout only: nbgrader scores stderr output as 0)."""
    print(f"✓ {what}")


AnswerKeyUsed._render_traceback_ = CheckFailure._render_traceback_   # the same short traceback
_SELF = {name: globals()[name] for name in __all__}
