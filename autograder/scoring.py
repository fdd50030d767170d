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
from .sandbox import Outcome

GRADED, TIMEOUT, ERROR, MISSING, INVALID = "graded", "timeout", "error", "missing", "invalid"
ANSWER_KEY_ERROR = "AnswerKeyUsed"   # the exception course_utils.checks raises for the answer key


def _cell_name(nb: dict | None, index) -> str:
    if nb is None or index is None:
        return "a cell"
    try:
        grade_id = nbgrader_meta(nb["cells"][int(index)]).get("grade_id")
    except (IndexError, KeyError, ValueError, TypeError):
        return f"cell {index}"
    return f"cell {grade_id!r}" if grade_id else f"cell {index}"


def _error_text(cell: dict) -> str | None:
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
    error = _error_text(cell)
    if error:
        return error
    stderr = _stderr_text(cell)
    if stderr:
        return f"wrote to stderr (nbgrader scores that as a failure): {stderr.strip()}"
    if reply != "ok":
        return f"the cell ended with status {reply!r} but showed no error"
    return ""


def test_results(assignment: Assignment, nb: dict, replies: dict[str, str]) -> dict[str, dict]:
    """grade_id -> {"passed", "points", "message"} for every autograded test cell."""
    by_id = {}
    for index, cell in enumerate(nb["cells"]):
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id:
            by_id[grade_id] = (index, cell)
    results = {}
    for test in assignment.tests:
        index, cell = by_id[test.grade_id]
        message = cell_failure(cell, replies.get(str(index)))
        results[test.grade_id] = {"passed": not message, "points": test.points,
                                  "message": message}
    return results


def score(assignment: Assignment, outcome: Outcome, timeout: float) -> dict:
    """Status, score, reason, per-test results and flags for one executed submission."""
    result = {"status": GRADED, "score": None, "reason": "", "tests": {}, "flags": []}
    reply = outcome.reply
    if outcome.timed_out:
        return {**result, "status": TIMEOUT,
                "reason": f"still running after the whole-notebook limit of {timeout:g} s; killed"}
    if reply is None:
        return {**result, "status": ERROR, "reason": outcome.problem or "no result"}
    nb, failure = reply.get("notebook"), reply.get("failure")
    if reply.get("truncated"):
        result["flags"].append("output truncated: the notebook printed more than the grader keeps")
    if failure and failure["kind"] == "timeout":
        return {**result, "status": TIMEOUT, "notebook": nb,
                "reason": f"{_cell_name(nb, failure.get('cell'))} ran longer than {timeout:g} s"}
    if failure and failure["kind"] == "kernel_died":
        return {**result, "status": ERROR, "notebook": nb,
                "reason": f"the kernel died while running {_cell_name(nb, failure.get('cell'))} "
                          "(os._exit, out of memory, or a crash)"}
    if failure or nb is None:
        message = (failure or {}).get("message", "no notebook returned")
        return {**result, "status": ERROR, "reason": f"grading failed: {message}"}
    for index, cell in enumerate(nb["cells"]):
        text = _error_text(cell) if cell.get("cell_type") == "code" else None
        if text and text.startswith("SystemExit"):
            return {**result, "status": ERROR, "notebook": nb,
                    "reason": f"{_cell_name(nb, index)} called sys.exit() ({text})"}
    tests = test_results(assignment, nb, reply.get("replies", {}))
    total = sum(t["points"] for t in tests.values() if t["passed"])
    result["flags"] += answer_key_flags(tests)
    return {**result, "score": total, "tests": tests, "notebook": nb}


def answer_key_flags(tests: dict[str, dict]) -> list[str]:
    """``answer-key: <test>`` for each test the guard in ``checks.quiet()`` stopped."""
    return [f"answer-key: {grade_id}" for grade_id, t in tests.items()
            if t["message"].startswith(f"{ANSWER_KEY_ERROR}:")]
