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

In the student's language: ``write_feedback(..., language="pt_BR")`` writes the page's own
words from the ``course_utils`` catalog (``course_utils.i18n``); the notebook's cells are already
in the edition the student handed in. Maths renders with no script and no network: the LaTeX of
markdown cells and of check messages becomes MathML as the page is written (``feedback_math``),
and the page loads no JavaScript at all (no MathJax, jQuery, require.js or mermaid from a CDN).
"""
from __future__ import annotations

import copy
import html
from dataclasses import dataclass
from pathlib import Path

import nbformat
from course_utils.i18n import N_, _, language as current_language, using

from .course import Assignment, nbgrader_meta
from .feedback_math import markdown_math, text_math
from .files import write_atomic
from .record import GRADED, GradeRow
from .tables import number

SAFE_MIME = ("text/plain", "image/png", "image/jpeg")
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# English here, in the page's language where used (``_(EXPLORER)``): N_ marks them for the catalog.
EXPLORER = N_("interactive explorer: open the notebook in JupyterLab to use it")
NOT_ATTEMPTED = N_("not attempted")
STUB_ERROR = "NotImplementedError"   # what a released code answer raises until it is written
RESUBMIT = N_("<b>What to do:</b> hand this assignment in again. In JupyterLab, open your "
              "notebook, use <i>File → Save and Checkpoint</i>, then upload that same "
              "<code>.ipynb</code> file. Not a PDF, not an HTML export, and not a copy re-created "
              "elsewhere (Google Colab, or a new notebook with your code pasted in): the grader "
              "needs the cells of the notebook you were given.")
HTML_LANG = {"en": "en", "pt_BR": "pt-BR", "es": "es"}
# The classic page without its scripts: widgets are gone from feedback and maths is MathML.
NO_SCRIPTS = ("{%- extends 'index.html.j2' -%}\n"
              "{% block html_head_js %}{% endblock html_head_js %}\n"
              "{% block html_head_js_mathjax %}{% endblock html_head_js_mathjax %}\n"
              "{% block jupyter_widgets %}{% endblock jupyter_widgets %}\n"
              # a maths font where there is one (Windows, macOS, TeX), the browser's otherwise
              "{% block html_head_css %}<style>math{font-family:'STIX Two Math','Cambria Math',"
              "'Latin Modern Math',math;font-size:1.1em}</style>{% endblock html_head_css %}\n")


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
                                   _("not attempted: an answer this cell uses is still blank")
                                   + "\n"})
    if out.get("output_type") == "error":
        out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
    if "data" in out:
        if WIDGET_MIME in out["data"]:
            out["data"] = {"text/plain": _(EXPLORER)}
        out["data"] = {k: v for k, v in out["data"].items() if k in SAFE_MIME} or \
            {"text/plain": _("[output not shown in feedback]")}
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
    note = {"output_type": "stream", "name": "stdout", "text": _(NOT_ATTEMPTED) + "\n"}
    if cell.cell_type == "code":
        cell["outputs"] = [o for o in cell.get("outputs", [])
                           if o.get("ename") != STUB_ERROR] + [nbformat.from_dict(note)]
    else:
        cell.source = f"*{_(NOT_ATTEMPTED)}*"


def feedback_notebook(assignment: Assignment, row: GradeRow, written: list[Written] = (),
                      language: str = "en") -> nbformat.NotebookNode:
    """The executed notebook as the student may see it, with a summary cell on top, in
    ``language`` ("en", "pt_BR", "es"), its formulas as MathML."""
    with using(language):
        return _feedback_notebook(assignment, row, written)


def _feedback_notebook(assignment: Assignment, row: GradeRow,
                       written: list[Written]) -> nbformat.NotebookNode:
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
            # markdown and maths still render; the student's raw HTML does not
            cell.source = markdown_math(cell.source, escape=True)
        elif cell.cell_type == "markdown":
            cell.source = markdown_math(cell.source)
        cell["outputs"] = [_safe_output(o) for o in cell.get("outputs", [])]
        if cell.cell_type != "code":
            cell.pop("outputs")
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(summary_markdown(assignment, row, written)))
    return nb


def verdict(message: str, passed: bool) -> str:
    """A test's result in words: passed, not attempted, or failed: <why>."""
    if passed:
        return _("passed")
    if message.startswith(STUB_ERROR):
        return _(NOT_ATTEMPTED)
    return _("failed: {why}").format(why=message)


def _written_verdict(w: Written) -> str:
    if not w.attempted:
        return _(NOT_ATTEMPTED)
    if w.score is None:
        return _("to be graded by hand")
    return _("graded by hand: {score} / {points}").format(
        score=number(w.score), points=number(w.points)) + (f" — {w.comment}" if w.comment else "")


def _score_line(assignment: Assignment, row: GradeRow, written: list[Written]) -> str:
    line = _("**Score: {score} / {points}** autograded points").format(
        score=number(row.score), points=number(assignment.max_score))
    if not assignment.manual_points:
        return line + "."
    done = [w for w in written if w.score is not None]
    if written and len(done) == len(written):
        got = sum(w.score for w in done)
        total = (row.score or 0) + got
        return line + _(", **{score} / {points}** for written answers: **total {total} / "
                        "{max_total}**.").format(
            score=number(got), points=number(assignment.manual_points), total=number(total),
            max_total=number(assignment.max_score + assignment.manual_points))
    return line + _(" (+ up to {points} for written answers, graded by hand; not graded yet)."
                    ).format(points=number(assignment.manual_points))


def _cell_text(text: str, limit: int) -> str:
    """A result for the summary table: cut, on one line, escaped, its formulas as MathML; the
    prose's own | escaped after the maths (MathML's | is an entity already)."""
    return text_math(text[:limit].replace("\n", " ")).replace("|", "\\|")


def summary_markdown(assignment: Assignment, row: GradeRow, written: list[Written] = ()) -> str:
    """The summary cell on top of the page, in the current language (``i18n.using``)."""
    lines = ["# " + _("Feedback: {assignment}").format(assignment=assignment.id), ""]
    if row.status == GRADED:
        lines.append(_score_line(assignment, row, written))
    else:
        lines.append(_("**Not graded — {status}:** {reason}").format(
            status=row.status, reason=html.escape(row.reason)))
    if row.tests or written:
        lines += ["", "| {} | {} | {} |".format(_("test"), _("points"), _("result")),
                  "|---|---|---|"]
        for t in row.tests:
            text = _cell_text(verdict(t.message, t.passed), 300)
            lines.append(f"| {t.grade_id} | {number(t.points)} | {text} |")
        for w in written:
            text = _cell_text(_written_verdict(w), 600)
            lines.append(f"| {w.grade_id} ({_('written')}) | {number(w.points)} | {text} |")
    return "\n".join(lines)


def exporter():
    """nbconvert's HTML exporter, made once per run (it is slow to set up): the classic page
    with no scripts (``NO_SCRIPTS``)."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="classic", template_file="descent_feedback.html.j2",
                        extra_loaders=[DictLoader({"descent_feedback.html.j2": NO_SCRIPTS})])


def unreadable(row: GradeRow) -> bool:
    """The file handed in could not be graded as this course's notebook: resubmit it."""
    return row.reason.startswith("unreadable notebook") or "nbgrader metadata missing" in row.reason


def _plain_page(assignment: Assignment, row: GradeRow) -> str:
    advice = f"<p>{_(RESUBMIT)}</p>" if unreadable(row) else ""
    title = _("Feedback: {assignment}").format(assignment=assignment.id)
    not_graded = _("Not graded — {status}:").format(status=row.status)
    return (f"<!doctype html><html lang='{HTML_LANG[current_language()]}'><meta charset='utf-8'>"
            f"<title>{assignment.id}</title>"
            "<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;"
            "line-height:1.5}</style>"
            f"<h1>{title}</h1><p><b>{not_graded}</b> {html.escape(row.reason)}</p>{advice}")


def write_feedback(assignment: Assignment, row: GradeRow, path: Path, html_exporter=None,
                   written: list[Written] = (), language: str = "en") -> None:
    """The student's feedback page at ``path``, in ``language`` (the edition they handed in:
    "en", "pt_BR" or "es")."""
    with using(language):
        if row.notebook:
            nb = _feedback_notebook(assignment, row, written)
            page = html_exporter or exporter()
            body = page.from_notebook_node(nb)[0]
            # one exporter serves every language: the page's lang attribute is set here
            lang = HTML_LANG[current_language()]
            body = body.replace('<html lang="en">', f'<html lang="{lang}">', 1)
        else:
            body = _plain_page(assignment, row)
    write_atomic(path, body)
