"""``report.html``: what the instructor reads first after a grading run.

Counts per status and assignment, score distributions and pass rates per test cell (figures),
every row that was not graded with its reason, every flagged row, the sections other modules
add (similar answers) and the files that were skipped; a red banner on top when the run was
not sandboxed.
"""
from __future__ import annotations

import base64
import html
import io
from collections import Counter, defaultdict
from pathlib import Path

from .course import Assignment
from .files import write_atomic
from .record import GRADED, STATUSES, GradeRow, in_order

# Okabe-Ito, colour-blind safe, one colour per assignment (neighbours also differ in hatching)
_PALETTE_ORDER = ("blue", "orange", "bluish_green", "vermillion", "reddish_purple", "sky_blue",
                  "yellow", "black")


def _png(plt, fig) -> str:
    """The figure as base64 PNG, for an ``<img>`` in the report; the figure is closed."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    finally:
        plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _colours() -> list[str]:
    from course_utils.plotting import OKABE_ITO

    return [OKABE_ITO[name] for name in _PALETTE_ORDER]


COLUMNS = 3  # panels per row of the distribution figure: 3 x 3.3 in at 100 dpi fits the page


def _score_figure(plt, present: list[Assignment], graded: list[GradeRow]) -> str:
    from matplotlib.ticker import MaxNLocator

    colours = _colours()
    rows_, cols = -(-len(present) // COLUMNS), min(len(present), COLUMNS)
    fig, axes = plt.subplots(rows_, cols, figsize=(3.3 * cols, 2.9 * rows_), squeeze=False,
                             layout="constrained")
    for ax in axes.flat[len(present):]:
        ax.set_visible(False)
    for i, (ax, a) in enumerate(zip(axes.flat, present)):
        scores = [r.score for r in graded if r.assignment == a.id]
        ax.hist(scores, bins=max(int(a.max_score), 1), range=(0, max(a.max_score, 1)),
                color=colours[i % len(colours)], edgecolor="black", hatch="//" if i % 2 else "")
        ax.set_title(f"{a.id}\n(n = {len(scores)})", fontsize=9)
        ax.set_xlabel("autograded score (points)", fontsize=8)
        ax.set_ylabel("students", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts and points: whole
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle("Score distribution per assignment (graded submissions)")
    return _png(plt, fig)


def _pass_rate_figure(plt, present: list[Assignment], graded: list[GradeRow]) -> str:
    palette = _colours()
    labels, rates, colours = [], [], []
    for i, a in enumerate(present):
        subset = [r for r in graded if r.assignment == a.id]
        for test in a.tests:
            passed = sum(1 for r in subset if (t := r.test(test.grade_id)) and t.passed)
            labels.append(f"{a.id} · {test.grade_id}{' (hidden)' if test.hidden else ''}")
            rates.append(100 * passed / len(subset))
            colours.append(palette[i % len(palette)])
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(labels) + 1.2), layout="constrained")
    ax.barh(range(len(labels)), rates, color=colours, edgecolor="black")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("graded submissions passing (%)")
    ax.set_title("Pass rate per test cell (colour = assignment)")
    return _png(plt, fig)


def _figures(course: dict[str, Assignment], rows: list[GradeRow]) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    graded = [r for r in rows if r.status == GRADED and r.assignment in course]
    present = [a for a in course.values() if any(r.assignment == a.id for r in graded)]
    if not present:
        return []
    return [("Score distribution", _score_figure(plt, present, graded)),
            ("Pass rate per test cell", _pass_rate_figure(plt, present, graded))]


def _table(header: list[str], body: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                   for r in body)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def status_counts(rows: list[GradeRow]) -> Counter:
    return Counter(r.status for r in rows)


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


STYLE = ("<!doctype html><html><head><meta charset='utf-8'><title>Grading report</title><style>"
         "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
         "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:3px 8px;"
         "font-size:13px;text-align:left;vertical-align:top}th{background:#eee}img{max-width:100%;height:auto}</style></head><body>")


def _overview(rows: list[GradeRow], sandbox: str) -> list[str]:
    counts = status_counts(rows)
    per_assignment = defaultdict(Counter)
    for r in rows:
        per_assignment[r.assignment][r.status] += 1
    return [
        "<h1>Grading report</h1>",
        f"<p>{len(rows)} rows: " + ", ".join(f"{counts[s]} {s}" for s in STATUSES) + ".</p>",
        f"<p>Execution: {html.escape(sandbox)}.</p>",
        "<p>A test cell passes iff it ran to the end with no error and wrote nothing to stderr "
        "(nbgrader's own rule, the one of the Validate button students press). Scores are "
        "autograded points only; written answers are graded by hand.</p>",
        "<h2>Status per assignment</h2>",
        _table(["assignment", *STATUSES],
               [[a, *[per_assignment[a][s] for s in STATUSES]] for a in sorted(per_assignment)]),
    ]


def _row_lists(rows: list[GradeRow]) -> list[str]:
    not_graded = [r for r in in_order(rows) if r.status != GRADED]
    flagged = [r for r in in_order(rows) if r.flags]
    return [
        f"<h2>Not graded ({len(not_graded)})</h2>",
        _table(["student", "assignment", "status", "reason", "file"],
               [[r.student_id, r.assignment, r.status, r.reason, r.origin or r.file]
                for r in not_graded]),
        f"<h2>Flagged ({len(flagged)})</h2><p>Flags never change a score; they point "
        "at answers a human should look at.</p>",
        _table(["student", "assignment", "status", "flags"],
               [[r.student_id, r.assignment, r.status, "; ".join(r.flags)] for r in flagged]),
    ]


def write_report(course: dict[str, Assignment], rows: list[GradeRow], ignored, path: Path,
                 sandbox: str, unsandboxed: bool = False, sections: tuple[str, ...] = ()) -> None:
    """``sections``: ready HTML added after the flags (e.g. the similar-answers section)."""
    parts = [STYLE, UNSANDBOXED_BANNER if unsandboxed else "", *_overview(rows, sandbox)]
    for title, png in _figures(course, rows):
        parts.append(f"<h2>{html.escape(title)}</h2><img alt='{html.escape(title)}' "
                     f"src='data:image/png;base64,{png}'>")
    parts += _row_lists(rows)
    parts.extend(sections)
    if ignored:
        parts.append(f"<h2>Files not graded ({len(ignored)})</h2>")
        parts.append(_table(["file", "why"], [[i.origin, i.reason] for i in ignored]))
    parts.append("</body></html>")
    write_atomic(path, "\n".join(parts))
