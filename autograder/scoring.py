"""Turn what the sandbox returned into a status and a score. Runs in the trusted parent.

Rule for a test cell — the one rule of the project, nbgrader's own, used by the grader,
``validate``, ``nbtools check`` and the tests (``cell_failure``): it passes iff the kernel ran
it to the end with no error output and nothing on stderr. nbgrader's Validate button, which
students press, and ``nbgrader autograde`` judge the same way, so the three always agree;
``checks.quiet()`` sends the student code's warnings to stdout so that a harmless overflow
warning costs nothing. All-or-nothing per cell, as nbgrader without partial credit.

A test stopped by the answer-key guard (``AnswerKeyUsed``) fails like any other and flags the
row ``answer-key: <test>``.

Statuses: ``graded`` (ran to the end), ``timeout`` (a cell or the whole notebook ran too long),
``error`` (unreadable file, kernel died, ``sys.exit``, grader failure). Non-graded rows have no
score: an empty cell in the CSV, never a silent 0.
"""
from __future__ import annotations

from .course import Assignment, nbgrader_meta
from .record import ERROR, GRADED, TIMEOUT, NotebookResult, TestResult
from .sandbox import Outcome

ANSWER_KEY_ERROR = "AnswerKeyUsed"   # the exception course_utils.checks raises for the answer key


def _cell_name(nb: dict | None, index) -> str:
    if nb is None or index is None:
        return "a cell"
    try:
        grade_id = nbgrader_meta(nb["cells"][int(index)]).get("grade_id")
    except (IndexError, KeyError, ValueError, TypeError):
        return f"cell {index}"
    return f"cell {grade_id!r}" if grade_id else f"cell {index}"


def error_text(cell: dict) -> str | None:
    """The error a cell raised (``Name: value``), or None."""
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            value = str(out.get("evalue", ""))
            return f"{out.get('ename', 'Error')}: {value}"[:500]
    return None


def _stderr_text(cell: dict) -> str | None:
    text = "".join(str(out.get("text", "")) for out in cell.get("outputs", [])
                   if out.get("output_type") == "stream" and out.get("name") == "stderr")
    return text[:300] if text else None


def cell_failure(cell: dict, reply: str | None = "ok") -> str:
    """Why an executed test cell failed, or "" when it passed (the module's one rule).

    ``reply`` is the kernel's execute_reply status when known (None: the cell never ran).
    """
    if reply is None:
        return "not run"
    error = error_text(cell)
    if error:
        return error
    stderr = _stderr_text(cell)
    if stderr:
        return f"wrote to stderr (nbgrader scores that as a failure): {stderr.strip()}"
    if reply != "ok":
        return f"the cell ended with status {reply!r} but showed no error"
    return ""


def test_results(assignment: Assignment, nb: dict, replies: dict[str, str]) -> list[TestResult]:
    """A ``TestResult`` for every autograded test cell, by the one rule (``cell_failure``)."""
    by_id = {}
    for index, cell in enumerate(nb["cells"]):
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id:
            by_id[grade_id] = (index, cell)
    results = []
    for test in assignment.tests:
        index, cell = by_id[test.grade_id]
        message = cell_failure(cell, replies.get(str(index)))
        results.append(TestResult(test.grade_id, test.points, not message, message))
    return results


def score(assignment: Assignment, outcome: Outcome, timeout: float) -> NotebookResult:
    """Status, score, reason, per-test results and flags for one executed submission."""
    reply = outcome.reply
    if outcome.timed_out:
        return NotebookResult(TIMEOUT, f"still running after the whole-notebook limit of "
                                       f"{timeout:g} s; killed")
    if reply is None:
        return NotebookResult(ERROR, outcome.problem or "no result")
    nb, failure = reply.get("notebook"), reply.get("failure")
    flags = ["output truncated: the notebook printed more than the grader keeps"] \
        if reply.get("truncated") else []
    if failure and failure["kind"] in ("timeout", "kernel_died"):
        where = _cell_name(nb, failure.get("cell"))
        if failure["kind"] == "timeout":
            return NotebookResult(TIMEOUT, f"{where} ran longer than {timeout:g} s", flags=flags,
                                  notebook=nb)
        return NotebookResult(ERROR, f"the kernel died while running {where} (os._exit, out of "
                                     "memory, or a crash)", flags=flags, notebook=nb)
    if failure or nb is None:
        message = (failure or {}).get("message", "no notebook returned")
        return NotebookResult(ERROR, f"grading failed: {message}", flags=flags)
    for index, cell in enumerate(nb["cells"]):
        text = error_text(cell) if cell.get("cell_type") == "code" else None
        if text and text.startswith("SystemExit"):
            return NotebookResult(ERROR, f"{_cell_name(nb, index)} called sys.exit() ({text})",
                                  flags=flags, notebook=nb)
    tests = test_results(assignment, nb, reply.get("replies", {}))
    total = sum(t.points for t in tests if t.passed)
    return NotebookResult(GRADED, "", total, tests, flags + answer_key_flags(tests), notebook=nb)


def answer_key_flags(tests: list[TestResult]) -> list[str]:
    """``answer-key: <test>`` for each test the guard in ``checks.quiet()`` stopped."""
    return [f"answer-key: {t.grade_id}" for t in tests
            if t.message.startswith(f"{ANSWER_KEY_ERROR}:")]
