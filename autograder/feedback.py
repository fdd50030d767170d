"""A feedback page per student and assignment: the executed notebook with a summary on top.

Feedback never shows a solution or a hidden test: answer cells are the student's own, test
cells go through nbgrader's ``ClearHiddenTests`` and their error outputs keep only the final
message (a traceback would quote the hidden lines), and only text and bitmap outputs are kept
(no student HTML or scripts).

Written for a student: an answer left as released says "not attempted" (not
``NotImplementedError``), an explorer's widget says to open the notebook in JupyterLab, a
test's result reads "passed", "failed: <why>" or "not attempted", written answers show the
points and comment a person gave in formgrader (``Written``), and a page for a file that could
not be read says how to hand it in again.
"""
from __future__ import annotations

import copy
import html
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .course import Assignment, nbgrader_meta
from .files import write_atomic
from .record import GRADED, GradeRow
from .tables import number

SAFE_MIME = ("text/plain", "image/png", "image/jpeg")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
EXPLORER = "interactive explorer: open the notebook in JupyterLab to use it"
NOT_ATTEMPTED = "not attempted"
STUB_ERROR = "NotImplementedError"   # what a released code answer raises until it is written
RESUBMIT = ("<p><b>What to do:</b> hand this assignment in again. In JupyterLab, open your "
            "notebook, use <i>File → Save and Checkpoint</i>, then upload that same "
            "<code>.ipynb</code> file. Not a PDF, not an HTML export, and not a copy re-created "
            "elsewhere (Google Colab, or a new notebook with your code pasted in): the grader "
            "needs the cells of the notebook you were given.</p>")


@dataclass
class Written:
    """A written answer (graded by hand): ``score`` None until a person graded it."""

    grade_id: str
    points: float
    score: float | None
    comment: str = ""
    attempted: bool = True


def _safe_output(out: dict) -> dict:
    """Outputs come from code a student controls: keep text and bitmaps, never HTML or scripts."""
    if out.get("output_type") == "error" and out.get("ename") == STUB_ERROR:
        return nbformat.from_dict({"output_type": "stream", "name": "stdout", "text":
                                   f"{NOT_ATTEMPTED}: an answer this cell uses is still blank\n"})
    if out.get("output_type") == "error":
        out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
    if "data" in out:
        if WIDGET_MIME in out["data"]:
            out["data"] = {"text/plain": EXPLORER}
        out["data"] = {k: v for k, v in out["data"].items() if k in SAFE_MIME} or \
            {"text/plain": "[output not shown in feedback]"}
    return out


def _untouched(assignment: Assignment, cell) -> bool:
    """The answer cell is as released: the student did not attempt it."""
    from nbgrader.utils import compute_checksum

    from .autograded import checksums

    expected = checksums(assignment).get(nbgrader_meta(cell).get("grade_id"))
    probe = copy.deepcopy(cell)
    probe.pop("outputs", None)
    return expected is not None and compute_checksum(probe) == expected


def _mark_not_attempted(cell) -> None:
    note = {"output_type": "stream", "name": "stdout", "text": NOT_ATTEMPTED + "\n"}
    if cell.cell_type == "code":
        cell["outputs"] = [o for o in cell.get("outputs", [])
                           if o.get("ename") != STUB_ERROR] + [nbformat.from_dict(note)]
    else:
        cell.source = f"*{NOT_ATTEMPTED}*"


def feedback_notebook(assignment: Assignment, row: GradeRow,
                      written: list[Written] = ()) -> nbformat.NotebookNode:
    """The executed notebook as the student may see it, with a summary cell on top."""
    from nbgrader.preprocessors import ClearHiddenTests

    nb = nbformat.from_dict(copy.deepcopy(row.notebook))
    test_ids, answer_ids = set(assignment.test_ids), set(assignment.answer_ids)
    clear = ClearHiddenTests()
    for index, cell in enumerate(nb.cells):
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in test_ids:
            clear.preprocess_cell(cell, {}, index)
        if grade_id in answer_ids and _untouched(assignment, cell):
            _mark_not_attempted(cell)
        elif grade_id in answer_ids and cell.cell_type == "markdown":
            cell.source = html.escape(cell.source)  # markdown still renders; raw HTML does not
        cell["outputs"] = [_safe_output(o) for o in cell.get("outputs", [])]
        if cell.cell_type != "code":
            cell.pop("outputs")
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(summary_markdown(assignment, row, written)))
    return nb


def verdict(message: str, passed: bool) -> str:
    """A test's result in words: passed, not attempted, or failed: <why>."""
    if passed:
        return "passed"
    if message.startswith(STUB_ERROR):
        return NOT_ATTEMPTED
    return "failed: " + message


def _written_verdict(w: Written) -> str:
    if not w.attempted:
        return NOT_ATTEMPTED
    if w.score is None:
        return "to be graded by hand"
    return f"graded by hand: {number(w.score)} / {number(w.points)}" + \
        (f" — {w.comment}" if w.comment else "")


def _score_line(assignment: Assignment, row: GradeRow, written: list[Written]) -> str:
    line = f"**Score: {number(row.score)} / {number(assignment.max_score)}** autograded points"
    if not assignment.manual_points:
        return line + "."
    done = [w for w in written if w.score is not None]
    if written and len(done) == len(written):
        got = sum(w.score for w in done)
        total = (row.score or 0) + got
        return (line + f", **{number(got)} / {number(assignment.manual_points)}** for written "
                f"answers: **total {number(total)} / "
                f"{number(assignment.max_score + assignment.manual_points)}**.")
    return line + (f" (+ up to {number(assignment.manual_points)} for written answers, "
                   "graded by hand; not graded yet).")


def summary_markdown(assignment: Assignment, row: GradeRow, written: list[Written] = ()) -> str:
    lines = [f"# Feedback: {assignment.id}", ""]
    if row.status == GRADED:
        lines.append(_score_line(assignment, row, written))
    else:
        lines.append(f"**Not graded — {row.status}:** {html.escape(row.reason)}")
    if row.tests or written:
        lines += ["", "| test | points | result |", "|---|---|---|"]
        for t in row.tests:
            text = verdict(t.message, t.passed).replace("|", "\\|")
            lines.append(f"| {t.grade_id} | {number(t.points)} | {html.escape(text)[:300]} |")
        for w in written:
            text = _written_verdict(w).replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {w.grade_id} (written) | {number(w.points)} | "
                         f"{html.escape(text)[:600]} |")
    return "\n".join(lines)


def exporter():
    """nbconvert's HTML exporter, made once per run (it is slow to set up)."""
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="classic")


def unreadable(row: GradeRow) -> bool:
    """The file handed in could not be graded as this course's notebook: resubmit it."""
    return row.reason.startswith("unreadable notebook") or "nbgrader metadata missing" in row.reason


def _plain_page(assignment: Assignment, row: GradeRow) -> str:
    advice = RESUBMIT if unreadable(row) else ""
    return (f"<!doctype html><meta charset='utf-8'><title>{assignment.id}</title>"
            "<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;"
            "line-height:1.5}</style>"
            f"<h1>Feedback: {assignment.id}</h1><p><b>Not graded — {row.status}:</b> "
            f"{html.escape(row.reason)}</p>{advice}")


def write_feedback(assignment: Assignment, row: GradeRow, path: Path, html_exporter=None,
                   written: list[Written] = ()) -> None:
    if row.notebook:
        nb = feedback_notebook(assignment, row, written)
        body, _ = (html_exporter or exporter()).from_notebook_node(nb)
    else:
        body = _plain_page(assignment, row)
    write_atomic(path, body)
