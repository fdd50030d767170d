"""How a failed check reads: the diagnosis first, the student's own lines, no course internals.

``CheckFailure`` is what every check in ``checks`` raises; IPython (and so JupyterLab and
nbgrader's feedback) shows it through ``_render_traceback_``: the frames of the student's own
cells, then the message wrapped to fit nbgrader's Validate dialog. ``needs`` turns any failure of
an exercise used by a demo cell into "fix Exercise N above first".
"""
from __future__ import annotations

import linecache
import textwrap
import traceback

from ._answer_guard import is_library
from .i18n import _

WRAP = 78   # Validate cuts every line at 87 characters (width 90, indent 4): wrap below that


def _student_frames(tb) -> list[str]:
    """The lines of a traceback that are the student's (notebook cells, their own files)."""
    try:
        from IPython import get_ipython
        shell = get_ipython()
    except ImportError:  # pragma: no cover - the course always has IPython
        shell = None
    lines: list[str] = []
    for frame, lineno in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        if is_library(filename):
            continue
        named = shell.compile.format_code_name(filename) if shell is not None else None
        where = f"{named[0]} {named[1]}, line {lineno}" if named else f"File {filename}:{lineno}"
        code = linecache.getline(filename, lineno, frame.f_globals).strip()
        lines.append(f"{where}\n----> {lineno} {code}" if code else where)
    return lines


def _wrapped(kind: str, message: str) -> str:
    return "\n".join(textwrap.wrap(f"{kind}: {message}", WRAP, subsequent_indent="    ",
                                   break_on_hyphens=False)) or kind


class CheckFailure(AssertionError):
    """A check failed; the message is written for the student (diagnosis first)."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows: the student's lines and the message, no frames of course_utils."""
        return [*_student_frames(self.__traceback__), _wrapped(type(self).__name__, str(self))]


class ExerciseNotReady(CheckFailure):
    """A demo cell uses an exercise that is missing or not right yet."""

    def _render_traceback_(self) -> list[str]:
        return [*_student_frames(getattr(self, "cause_traceback", None) or self.__traceback__),
                _wrapped(type(self).__name__, str(self))]


class needs:
    """A demo cell that uses an exercise: ``with checks.needs("Exercise 3", "run_gd_1d"):``.

    Anything the block raises (``NotImplementedError`` of a blank answer, a failed comparison,
    a helper's error on a wrong result) becomes one message: "fix Exercise 3 above first
    (run_gd_1d)", what went wrong, and the student's own lines, with no course internals.
    """

    def __init__(self, exercise: str, *names: str):
        self.exercise, self.names = exercise, names

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        __tracebackhide__ = True
        if exc_type is None or not issubclass(exc_type, Exception):
            return False
        uses = f" ({', '.join(self.names)})" if self.names else ""
        if issubclass(exc_type, NotImplementedError):
            why = _("it is not written yet (NotImplementedError)")
        elif isinstance(exc, CheckFailure):
            why = _("its result is off: {message}").format(message=exc)
        elif isinstance(exc, AssertionError):
            why = _("its result does not agree with the reference") + (f": {exc}" if str(exc) else "")
        else:
            why = _("it raised {kind}: {message}").format(kind=exc_type.__name__, message=exc)
        error = ExerciseNotReady(_("fix {exercise} above first{uses}: this cell uses it, and {why}"
                                   ).format(exercise=self.exercise, uses=uses, why=why))
        error.cause_traceback = tb
        raise error from None
