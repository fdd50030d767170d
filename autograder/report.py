"""Everything the instructor reads: grades.csv, tests.csv, gradebook.db, feedback pages, report.

Written by the parent only, after (or, for feedback, as) results arrive. Feedback never shows a
solution or a hidden test: answer cells are the student's own, test cells go through nbgrader's
``ClearHiddenTests`` and their error outputs keep only the final message (a traceback would quote
the hidden lines), and only text and bitmap outputs are kept (no student HTML or scripts).
"""
from __future__ import annotations

import base64
import copy
import csv
import html
import io
import os
import tempfile
import warnings
from collections import Counter, defaultdict
from pathlib import Path

import nbformat

from .course import COURSE_ID, Assignment, nbgrader_meta
from .scoring import ERROR, GRADED, INVALID, MISSING, TIMEOUT

STATUSES = (GRADED, TIMEOUT, ERROR, MISSING, INVALID)
CSV_COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "reason", "flags",
               "file", "seconds"]
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def _num(x) -> str:
    return "" if x is None else f"{x:g}"


def sort_rows(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (r["student_id"], r["assignment"], r["file"]))


def write_csv(rows: list[dict], path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in sort_rows(rows):
        writer.writerow([r["student_id"], r["assignment"], _num(r["score"]), _num(r["max_score"]),
                         r["status"], r["reason"], " | ".join(r["flags"]), r["file"],
                         _num(r["seconds"])])
    _write_text(path, buffer.getvalue())


def write_tests_csv(rows: list[dict], path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student_id", "assignment", "test", "points", "passed", "message"])
    for r in sort_rows(rows):
        for test_id, t in r["tests"].items():
            writer.writerow([r["student_id"], r["assignment"], test_id, _num(t["points"]),
                             int(t["passed"]), t["message"]])
    _write_text(path, buffer.getvalue())


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600; these files are meant to be shared
    os.replace(tmp, path)


# --- feedback -------------------------------------------------------------------------------

SAFE_MIME = ("text/plain", "image/png", "image/jpeg")


def _safe_output(out: dict) -> dict:
    """Outputs come from code a student controls: keep text and bitmaps, never HTML or scripts."""
    if out.get("output_type") == "error":
        out["traceback"] = [f"{out.get('ename', 'Error')}: {out.get('evalue', '')}"]
    if "data" in out:
        out["data"] = {k: v for k, v in out["data"].items() if k in SAFE_MIME} or \
            {"text/plain": "[output not shown in feedback]"}
    return out


def feedback_notebook(assignment: Assignment, result: dict) -> nbformat.NotebookNode:
    """The executed notebook as the student may see it, with a summary cell on top."""
    from nbgrader.preprocessors import ClearHiddenTests

    nb = nbformat.from_dict(copy.deepcopy(result["notebook"]))
    test_ids, answer_ids = set(assignment.test_ids), set(assignment.answer_ids)
    clear = ClearHiddenTests()
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in test_ids:
            clear._remove_hidden_test_region(cell)
        if grade_id in answer_ids and cell.cell_type == "markdown":
            cell.source = html.escape(cell.source)  # markdown still renders; raw HTML does not
        cell["outputs"] = [_safe_output(o) for o in cell.get("outputs", [])]
        if cell.cell_type != "code":
            cell.pop("outputs")
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(summary_markdown(assignment, result)))
    return nb


def summary_markdown(assignment: Assignment, result: dict) -> str:
    lines = [f"# Feedback: {assignment.id}", ""]
    if result["status"] == GRADED:
        lines.append(f"**Score: {_num(result['score'])} / {_num(assignment.max_score)}** "
                     "autograded points"
                     + (f" (+ up to {_num(assignment.manual_points)} for written answers, graded "
                        "by hand)" if assignment.manual_points else "") + ".")
    else:
        lines.append(f"**Not graded — {result['status']}:** {html.escape(result['reason'])}")
    if result["tests"]:
        lines += ["", "| test | points | result |", "|---|---|---|"]
        for test_id, t in result["tests"].items():
            verdict = "passed" if t["passed"] else "failed: " + t["message"].replace("|", "\\|")
            lines.append(f"| {test_id} | {_num(t['points'])} | {html.escape(verdict)[:300]} |")
    return "\n".join(lines)


def _exporter():
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="classic")


def write_feedback(assignment: Assignment, result: dict, path: Path, exporter=None) -> None:
    if result.get("notebook"):
        body, _ = (exporter or _exporter()).from_notebook_node(feedback_notebook(assignment, result))
    else:
        body = (f"<!doctype html><meta charset='utf-8'><title>{assignment.id}</title>"
                f"<h1>Feedback: {assignment.id}</h1><p><b>Not graded — {result['status']}:</b> "
                f"{html.escape(result['reason'])}</p>")
    _write_text(path, body)


# --- gradebook ------------------------------------------------------------------------------

def write_gradebook(course: dict[str, Assignment], rows: list[dict], path: Path) -> None:
    """nbgrader's gradebook with every autograded score, built in a temp file, then swapped in."""
    from nbgrader.api import Gradebook

    from .course import _alembic_head
    import nbgrader.api

    nbgrader.api.get_alembic_version = _alembic_head
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".gradebook.", suffix=".db")
    os.close(fd)
    os.unlink(tmp)
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{tmp}", course_id=COURSE_ID) as gb:
        # nbgrader's add_submission trips SQLAlchemy's autoflush warnings; they are harmless
        warnings.simplefilter("ignore")
        for a in course.values():
            gb.update_or_create_assignment(a.id)
            gb.update_or_create_notebook(a.id, a.id)
            for cell in a.notebook.cells:
                meta = nbgrader_meta(cell)
                if meta.get("grade"):
                    gb.update_or_create_grade_cell(meta["grade_id"], a.id, a.id,
                                                   max_score=float(meta.get("points", 0)),
                                                   cell_type=cell.cell_type)
                if meta.get("solution"):
                    gb.update_or_create_solution_cell(meta["grade_id"], a.id, a.id)
        for r in sort_rows(rows):
            if r["status"] in (MISSING, INVALID) or r["assignment"] not in course:
                continue
            gb.update_or_create_student(r["student_id"])
            submission = gb.add_submission(r["assignment"], r["student_id"])
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    test = r["tests"].get(grade.name)
                    if test is not None and r["status"] == GRADED:
                        grade.auto_score = test["points"] if test["passed"] else 0.0
            gb.db.commit()
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


# --- report ---------------------------------------------------------------------------------

def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode()


def _figures(course: dict[str, Assignment], rows: list[dict]) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    graded = [r for r in rows if r["status"] == GRADED and r["assignment"] in course]
    present = [a for a in course.values() if any(r["assignment"] == a.id for r in graded)]
    if not present:
        return []
    figures = []
    fig, axes = plt.subplots(1, len(present), figsize=(3.2 * len(present), 2.8), squeeze=False)
    for i, (ax, a) in enumerate(zip(axes[0], present)):
        scores = [r["score"] for r in graded if r["assignment"] == a.id]
        ax.hist(scores, bins=max(int(a.max_score), 1), range=(0, max(a.max_score, 1)),
                color=OKABE_ITO[i % len(OKABE_ITO)], edgecolor="black", hatch="//" if i % 2 else "")
        ax.set_title(f"{a.id}\n(n = {len(scores)})", fontsize=9)
        ax.set_xlabel("autograded score (points)")
        ax.set_ylabel("students")
    fig.suptitle("Score distribution per assignment (graded submissions)", y=1.08)
    figures.append(("Score distribution", _png(fig)))
    plt.close(fig)

    labels, rates, colours = [], [], []
    for i, a in enumerate(present):
        subset = [r for r in graded if r["assignment"] == a.id]
        for test in a.tests:
            passed = sum(r["tests"].get(test.grade_id, {}).get("passed", False) for r in subset)
            labels.append(f"{a.id} · {test.grade_id}{' (hidden)' if test.hidden else ''}")
            rates.append(100 * passed / len(subset))
            colours.append(OKABE_ITO[i % len(OKABE_ITO)])
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(labels) + 1.2))
    ax.barh(range(len(labels)), rates, color=colours, edgecolor="black")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("graded submissions passing (%)")
    ax.set_title("Pass rate per test cell (colour = assignment)")
    figures.append(("Pass rate per test cell", _png(fig)))
    plt.close(fig)
    return figures


def _table(header: list[str], body: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                   for r in body)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def status_counts(rows: list[dict]) -> Counter:
    return Counter(r["status"] for r in rows)


UNSANDBOXED_BANNER = (
    "<div id='unsandboxed-banner' role='alert' style='background:#b00020;color:#fff;"
    "border:4px solid #5c0011;padding:1em 1.2em;margin:0 0 1.5em;font-size:17px;line-height:1.4'>"
    "<div style='font-size:26px;font-weight:bold;margin-bottom:.3em'>&#9888; UNSANDBOXED RUN: "
    "these grades cannot be trusted</div>"
    "This run used <code style='color:#fff;white-space:nowrap'>--no-sandbox</code>: every submission ran without a "
    "sandbox, with the grader's access, and could have read the hidden tests, the solutions and "
    "the other students' files, or changed files the grader can write. Every row is flagged "
    "<code style='color:#fff;white-space:nowrap'>unsandboxed</code>. Install bubblewrap (<code style='color:#fff;white-space:nowrap'>"
    "make sysdeps</code>, or <code style='color:#fff;white-space:nowrap'>apt-get</code>/<code style='color:#fff;white-space:nowrap'>dnf"
    " install bubblewrap</code>) and grade again without <code style='color:#fff;white-space:nowrap'>--no-sandbox"
    "</code>.</div>")


def write_report(course: dict[str, Assignment], rows: list[dict], ignored, path: Path,
                 sandbox: str, unsandboxed: bool = False, sections: tuple[str, ...] = ()) -> None:
    """``sections``: ready HTML added after the flags (e.g. the similar-answers section)."""
    counts = status_counts(rows)
    per_assignment = defaultdict(Counter)
    for r in rows:
        per_assignment[r["assignment"]][r["status"]] += 1
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Grading report</title><style>"
        "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;"
        "font-size:13px;text-align:left;vertical-align:top}th{background:#eee}</style></head><body>",
        UNSANDBOXED_BANNER if unsandboxed else "",
        "<h1>Grading report</h1>",
        f"<p>{len(rows)} rows: " + ", ".join(f"{counts[s]} {s}" for s in STATUSES) + ".</p>",
        f"<p>Execution: {html.escape(sandbox)}.</p>",
        "<p>A test cell passes iff it ran, its reply status was <code>ok</code> and it showed no "
        "error (text on stderr does not cost points). Scores are autograded points only; written "
        "answers are graded by hand.</p>",
        "<h2>Status per assignment</h2>",
        _table(["assignment", *STATUSES],
               [[a, *[per_assignment[a][s] for s in STATUSES]] for a in sorted(per_assignment)]),
    ]
    for title, png in _figures(course, rows):
        parts.append(f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' "
                     f"src='data:image/png;base64,{png}'>")
    not_graded = [r for r in sort_rows(rows) if r["status"] != GRADED]
    parts.append(f"<h2>Not graded ({len(not_graded)})</h2>")
    parts.append(_table(["student", "assignment", "status", "reason", "file"],
                        [[r["student_id"], r["assignment"], r["status"], r["reason"],
                          r["origin"] or r["file"]] for r in not_graded]))
    flagged = [r for r in sort_rows(rows) if r["flags"]]
    parts.append(f"<h2>Flagged ({len(flagged)})</h2><p>Flags never change a score; they point "
                 "at answers a human should look at.</p>")
    parts.append(_table(["student", "assignment", "status", "flags"],
                        [[r["student_id"], r["assignment"], r["status"], "; ".join(r["flags"])]
                         for r in flagged]))
    parts.extend(sections)
    if ignored:
        parts.append(f"<h2>Files not graded ({len(ignored)})</h2>")
        parts.append(_table(["file", "why"], [[i.origin, i.reason] for i in ignored]))
    parts.append("</body></html>")
    _write_text(path, "\n".join(parts))
