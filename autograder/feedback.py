"""A feedback page per student and assignment: the executed notebook with a summary on top.

Feedback never shows a solution or a hidden test: answer cells are the student's own, test
cells go through nbgrader's ``ClearHiddenTests`` and their error outputs keep only the final
message (a traceback would quote the hidden lines), and only text and bitmap outputs are kept
(no student HTML or scripts).
"""
from __future__ import annotations

import copy
import html
from pathlib import Path

import nbformat

from .course import Assignment, nbgrader_meta
from .files import write_atomic
from .record import GRADED, GradeRow
from .tables import number

SAFE_MIME = ("text/plain", "image/png", "image/jpeg")


def _safe_output(out: dict) -> dict:
    """Outputs come from code a student controls: keep text and bitmaps, never HTML or scripts."""
    if out.get("output_type") == "error":
        out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
    if "data" in out:
        out["data"] = {k: v for k, v in out["data"].items() if k in SAFE_MIME} or \
            {"text/plain": "[output not shown in feedback]"}
    return out


def feedback_notebook(assignment: Assignment, row: GradeRow) -> nbformat.NotebookNode:
    """The executed notebook as the student may see it, with a summary cell on top."""
    from nbgrader.preprocessors import ClearHiddenTests

    nb = nbformat.from_dict(copy.deepcopy(row.notebook))
    test_ids, answer_ids = set(assignment.test_ids), set(assignment.answer_ids)
    clear = ClearHiddenTests()
    for index, cell in enumerate(nb.cells):
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in test_ids:
            clear.preprocess_cell(cell, {}, index)
        if grade_id in answer_ids and cell.cell_type == "markdown":
            cell.source = html.escape(cell.source)  # markdown still renders; raw HTML does not
        cell["outputs"] = [_safe_output(o) for o in cell.get("outputs", [])]
        if cell.cell_type != "code":
            cell.pop("outputs")
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(summary_markdown(assignment, row)))
    return nb


def summary_markdown(assignment: Assignment, row: GradeRow) -> str:
    lines = [f"# Feedback: {assignment.id}", ""]
    if row.status == GRADED:
        lines.append(f"**Score: {number(row.score)} / {number(assignment.max_score)}** "
                     "autograded points"
                     + (f" (+ up to {number(assignment.manual_points)} for written answers, "
                        "graded by hand)" if assignment.manual_points else "") + ".")
    else:
        lines.append(f"**Not graded — {row.status}:** {html.escape(row.reason)}")
    if row.tests:
        lines += ["", "| test | points | result |", "|---|---|---|"]
        for t in row.tests:
            verdict = "passed" if t.passed else "failed: " + t.message.replace("|", "\\|")
            lines.append(f"| {t.grade_id} | {number(t.points)} | {html.escape(verdict)[:300]} |")
    return "\n".join(lines)


def exporter():
    """nbconvert's HTML exporter, made once per run (it is slow to set up)."""
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="classic")


def write_feedback(assignment: Assignment, row: GradeRow, path: Path, html_exporter=None) -> None:
    if row.notebook:
        body, _ = (html_exporter or exporter()).from_notebook_node(feedback_notebook(assignment, row))
    else:
        body = (f"<!doctype html><meta charset='utf-8'><title>{assignment.id}</title>"
                f"<h1>Feedback: {assignment.id}</h1><p><b>Not graded — {row.status}:</b> "
                f"{html.escape(row.reason)}</p>")
    write_atomic(path, body)
