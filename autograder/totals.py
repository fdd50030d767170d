"""Per-student totals (``totals.csv``) and the gradebook import files of an LMS (``export``).

A student's points for an assignment are the row's ``final_score`` (autograded points after the
late penalty) plus the manually graded points stored in ``OUT/gradebook.db`` (formgrader,
through nbgrader's ``Gradebook`` API), reduced by the same late-penalty fraction. A row that is
not graded (``missing``, ``error``, ...) has an empty cell, never a 0; the total counts it as 0.

``totals.csv``: ``student_id, name, email, total, max_total``, then per assignment ``<id>`` (its
points) and ``<id> late`` (``yes`` or empty).

Export layouts (``python -m autograder export OUT --format ...``):

- ``canvas``: Canvas's gradebook CSV import ("Import Grades in the Gradebook", Canvas
  Instructor Guide): ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column per
  assignment; the second line is ``Points Possible`` (Student column) with each assignment's
  points. ``ID`` is the Canvas user id (the LMS file names' user id); a blank cell leaves the
  grade unchanged.
- ``moodle``: Moodle's "Import grades from CSV file": one identifier column per row mapped on
  import ("Map from"/"Map to": ``Email address`` -> useremail, ``ID number`` -> idnumber), then
  one column per grade item: ``ID number, Email address, Full name``, then the assignments.
- ``csv``: ``student_id, name, email``, one column per assignment, ``total``.
"""
from __future__ import annotations

import warnings
from pathlib import Path

from .course import COURSE_ID, Assignment
from .files import write_atomic
from .record import GRADED, INVALID, GradeRow
from .roster import Settings
from .tables import csv_text, number

FORMATS = ("canvas", "moodle", "csv")


def manual_points(out: Path, course: dict[str, Assignment]) -> dict[tuple[str, str], float]:
    """Manually graded points per (student, assignment) in ``OUT/gradebook.db``, if any."""
    path = out / "gradebook.db"
    if not path.exists():
        return {}
    from nbgrader.api import Gradebook, MissingEntry

    points: dict[tuple[str, str], float] = {}
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{path}", course_id=COURSE_ID) as gb:
        warnings.simplefilter("ignore")
        for assignment in gb.assignments:
            tests = {t.grade_id for t in course[assignment.name].tests} \
                if assignment.name in course else set()
            for submission in assignment.submissions:
                try:
                    total = sum(g.manual_score for nb in submission.notebooks for g in nb.grades
                                if g.manual_score is not None and g.name not in tests)
                except MissingEntry:
                    continue
                if total:
                    points[(submission.student.id, assignment.name)] = float(total)
    return points


class Term:
    """The term's students and assignments with each student's points, ready to write."""

    def __init__(self, course: dict[str, Assignment], rows: list[GradeRow], settings: Settings,
                 manual: dict[tuple[str, str], float]):
        counted = [r for r in rows if r.status != INVALID and r.assignment in course]
        self.assignments = sorted({r.assignment for r in counted})
        self.max = {a: course[a].max_score + course[a].manual_points for a in self.assignments}
        self.students = sorted({r.student_id for r in counted})
        self.rows = {(r.student_id, r.assignment): r for r in counted}
        self.settings, self.manual = settings, manual
        self.names = {r.student_id: r.name for r in reversed(counted) if r.name}

    def name(self, sid: str) -> str:
        return self.names.get(sid, "")

    def email(self, sid: str) -> str:
        student = self.settings.student(sid)
        return student.email if student else ""

    def points(self, sid: str, aid: str) -> float | None:
        row = self.rows.get((sid, aid))
        if row is None or row.status != GRADED or row.final_score is None:
            return None
        manual = self.manual.get((sid, aid), 0.0)
        kept = 1 - (row.penalty / row.score if row.score else 0.0)
        return round(row.final_score + manual * kept, 4)

    def late(self, sid: str, aid: str) -> bool:
        row = self.rows.get((sid, aid))
        return bool(row and row.late)

    def total(self, sid: str) -> float:
        return round(sum(self.points(sid, a) or 0.0 for a in self.assignments), 4)


def totals_text(term: Term) -> str:
    header = ["student_id", "name", "email", "total", "max_total"]
    for a in term.assignments:
        header += [a, f"{a} late"]
    lines = []
    for s in term.students:
        line = [s, term.name(s), term.email(s), number(term.total(s)),
                number(sum(term.max.values()))]
        for a in term.assignments:
            line += [number(term.points(s, a)), "yes" if term.late(s, a) else ""]
        lines.append(line)
    return csv_text(header, lines)


def export_text(term: Term, fmt: str) -> str:
    scores = [[number(term.points(s, a)) for a in term.assignments] for s in term.students]
    if fmt == "canvas":
        header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *term.assignments]
        possible = ["Points Possible", "", "", "", "", *(number(term.max[a])
                                                          for a in term.assignments)]
        return csv_text(header, [possible] + [
            [term.name(s) or s, s, "", term.email(s), "", *line]
            for s, line in zip(term.students, scores)])
    if fmt == "moodle":
        return csv_text(["ID number", "Email address", "Full name", *term.assignments], [
            [s, term.email(s), term.name(s), *line] for s, line in zip(term.students, scores)])
    if fmt == "csv":
        return csv_text(["student_id", "name", "email", *term.assignments, "total"], [
            [s, term.name(s), term.email(s), *line, number(term.total(s))]
            for s, line in zip(term.students, scores)])
    raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


def write_totals(term: Term, path: Path) -> None:
    write_atomic(path, totals_text(term))


def write_export(term: Term, fmt: str, path: Path) -> None:
    write_atomic(path, export_text(term, fmt))
