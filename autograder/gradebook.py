"""``gradebook.db``: nbgrader's gradebook, for nbgrader's own tools (formgrader, ``nbgrader
export``, the ``Gradebook`` API). Built in a temporary file, then swapped in.

What it holds, in nbgrader's own terms:

- only the assignments graded into OUT (``nbgrader export`` lists every student for every
  assignment in the gradebook, so a course notebook nobody was given stays out of it);
- a ``graded`` row: a submission whose test cells carry their ``auto_score`` and are not
  ``needs_manual_grade``; a written answer (a graded solution cell) scores by nbgrader's rule
  (``utils.determine_grade``): untouched -> 0 and the comment "No response.", otherwise no
  automatic score and ``needs_manual_grade``, for a person to grade in formgrader;
- a ``missing`` row: the student, and no submission (nbgrader's own "did not submit": export
  writes an empty ``timestamp``);
- an ``error`` or ``timeout`` row: a submission ``flagged``, with no automatic score and every
  cell ``needs_manual_grade``, and each answer's comment saying why it was not graded;
- an ``invalid`` row (not the course's notebook) or a notebook of another course: nothing.

Grades given by hand (``manual_score``, ``extra_credit``, ``manual_comment``, ``flagged``) are
read from the previous gradebook and kept; when the student's written answers changed since
the last gradebook was written (a digest per submission in ``OUT/.gradebook-answers.json``),
the kept grade is marked ``needs_manual_grade`` again, as ``nbgrader autograde`` does.
"""
from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

import nbformat

from .autograded import answers_digest, autograded_path, written_answers
from .course import COURSE_ID, Assignment, alembic_head, nbgrader_meta
from .files import PRIVATE, replacing, write_atomic
from .record import ERROR, GRADED, INVALID, TIMEOUT, GradeRow, in_order

Key = tuple[str, str]          # (student, assignment)
EPOCH = dt.datetime(1970, 1, 1)
DIGESTS = ".gradebook-answers.json"  # per submission, the written answers the gradebook saw


def open_gradebook(path: Path | str):
    """nbgrader's ``Gradebook`` on the SQLite file ``path`` (or a database URL given as a
    string: ``--db``), without nbgrader's slow ``alembic`` subprocess."""
    import nbgrader.api

    nbgrader.api.get_alembic_version = alembic_head
    url = path if isinstance(path, str) else f"sqlite:///{path}"
    return nbgrader.api.Gradebook(url, course_id=COURSE_ID)


def _add_course(gb, course: dict[str, Assignment], assigned: set[str]) -> None:
    for a in course.values():
        if a.id not in assigned:
            continue
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


def previous_manual(path: Path) -> dict[Key, dict]:
    """What people entered in the gradebook at ``path``, per (student, assignment):
    ``grades`` {cell: (manual_score, extra_credit, needs_manual_grade)}, ``comments``
    {cell: text}, ``flagged``."""
    if not path.exists():
        return {}
    with warnings.catch_warnings(), open_gradebook(path) as gb:
        warnings.simplefilter("ignore")
        return manual_grades(gb, None)


def manual_grades(gb, assignments: set[str] | None) -> dict[Key, dict]:
    """``previous_manual`` of an open gradebook, for ``assignments`` (None: all of them)."""
    kept: dict[Key, dict] = {}
    for assignment in gb.assignments:
        if assignments is not None and assignment.name not in assignments:
            continue
        for sub in assignment.submissions:
            for nb in sub.notebooks:
                entry = {"flagged": bool(nb.flagged), "grades": {
                    g.name: (g.manual_score, g.extra_credit, g.needs_manual_grade)
                    for g in nb.grades if g.manual_score is not None or g.extra_credit},
                    "comments": {c.name: c.manual_comment for c in nb.comments
                                 if c.manual_comment}}
                kept[(sub.student.id, assignment.name)] = entry
    return kept


def _timestamp(row: GradeRow, results: Path | None) -> dt.datetime:
    """When the submission was handed in (``submitted_at``), else when it was graded (its
    stored result); nbgrader's export leaves it empty only for a student who submitted nothing."""
    given = getattr(row, "submitted_at", "")
    if given:
        try:
            return dt.datetime.fromisoformat(given).replace(tzinfo=None)
        except ValueError:
            pass
    stored = results / row.student_id / f"{row.assignment}.json" if results else None
    if stored is not None and stored.exists():
        return dt.datetime.utcfromtimestamp(int(stored.stat().st_mtime))
    return EPOCH


def _student(gb, row: GradeRow) -> None:
    name = getattr(row, "name", "")
    gb.update_or_create_student(row.student_id, **({"last_name": name} if name else {}))


def _score_graded(nb, row: GradeRow, written: dict[str, float | None]) -> None:
    for grade in nb.grades:
        test = row.test(grade.name)
        if test is not None:
            grade.auto_score = test.points if test.passed else 0.0
            grade.needs_manual_grade = False
        elif grade.name in written:
            grade.auto_score = written[grade.name]
            grade.needs_manual_grade = grade.auto_score is None
    for comment in nb.comments:
        if written.get(comment.name, None) == 0:
            comment.auto_comment = "No response."


def _not_graded(nb, row: GradeRow) -> None:
    nb.flagged = True
    for grade in nb.grades:
        grade.needs_manual_grade = True
    for comment in nb.comments:
        comment.auto_comment = f"Not graded ({row.status}): {row.reason}"


def _keep_manual(nb, kept: dict | None, changed: bool) -> None:
    if not kept:
        return
    nb.flagged = nb.flagged or kept["flagged"]
    for grade in nb.grades:
        if grade.name in kept["grades"]:
            grade.manual_score, grade.extra_credit, pending = kept["grades"][grade.name]
            grade.needs_manual_grade = pending or changed
    for comment in nb.comments:
        if comment.name in kept["comments"]:
            comment.manual_comment = kept["comments"][comment.name]


def _add_row(gb, row: GradeRow, written: dict, kept: dict | None, changed: bool,
             stamp: dt.datetime) -> None:
    submission = gb.add_submission(row.assignment, row.student_id, timestamp=stamp.isoformat())
    for nb in submission.notebooks:
        if row.status == GRADED:
            _score_graded(nb, row, written)
        else:
            _not_graded(nb, row)
        _keep_manual(nb, kept, changed)
        if getattr(row, "penalty", None):
            nb.late_submission_penalty = row.penalty
    gb.db.commit()


def _stamp_folders(out: Path, row: GradeRow, stamp: dt.datetime) -> None:
    """nbgrader's ``submitted/`` and ``autograded/`` folders of a submission, each with the
    ``timestamp.txt`` of the gradebook: formgrader counts a submission as autograded only when
    the two agree."""
    for folder in ("submitted", "autograded"):
        target = out / folder / row.student_id / row.assignment
        if folder == "submitted" or target.is_dir():
            write_atomic(target / "timestamp.txt", stamp.isoformat(sep=" ") + "\n", PRIVATE)


def _written(course: dict[str, Assignment], row: GradeRow, out: Path) -> tuple[dict, str]:
    """nbgrader's score of each written answer of a graded row, read from its autograded
    notebook (``autograded.written_answers``), and a digest of those answers; ({}, "") when
    there is none."""
    path = autograded_path(out, row.student_id, row.assignment)
    if row.status != GRADED or not path.exists():
        return {}, ""
    nb = nbformat.read(path, as_version=4)
    return written_answers(course[row.assignment], nb), answers_digest(nb)


def digests(path: Path) -> dict[str, str]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _gradebook_rows(course: dict[str, Assignment], rows: list[GradeRow]) -> list[GradeRow]:
    return [r for r in in_order(rows) if r.assignment in course and r.status != INVALID]


def _fill(gb, course: dict[str, Assignment], rows: list[GradeRow], out: Path, results: Path,
          kept: dict[Key, dict], seen: dict[str, str]) -> dict[str, str]:
    """Add ``rows`` (the gradebook's: ``_gradebook_rows``) to the open gradebook ``gb``, each
    submission with the grades given by hand in ``kept``; the written answers' digests."""
    submitted = [r for r in rows if r.status in (GRADED, ERROR, TIMEOUT)]
    now: dict[str, str] = {}
    _add_course(gb, course, {r.assignment for r in rows})
    for row in rows:
        _student(gb, row)
    for row in submitted:
        key = f"{row.student_id}/{row.assignment}"
        written, now[key] = _written(course, row, out)
        stamp = _timestamp(row, results)
        _add_row(gb, row, written, kept.get((row.student_id, row.assignment)),
                 seen.get(key, now[key]) != now[key], stamp)
        _stamp_folders(out, row, stamp)
    return now


def write_gradebook(course: dict[str, Assignment], rows: list[GradeRow], path: Path, *,
                    results: Path | None = None) -> None:
    """Write the gradebook of ``rows`` at ``path`` (in OUT, beside ``autograded/``), keeping the
    grades given by hand. ``results``: the stored results, whose times stand in for a
    submission time the rows do not give (default: OUT/.results)."""
    out = path.parent
    kept, seen = previous_manual(path), digests(out / DIGESTS)
    with replacing(path) as tmp, warnings.catch_warnings(), open_gradebook(tmp) as gb:
        # nbgrader's add_submission trips SQLAlchemy's autoflush warnings; they are harmless
        warnings.simplefilter("ignore")
        now = _fill(gb, course, _gradebook_rows(course, rows), out, results or out / ".results",
                    kept, seen)
    write_atomic(out / DIGESTS, json.dumps(now, sort_keys=True, indent=0), PRIVATE)


def write_shared_gradebook(course: dict[str, Assignment], rows: list[GradeRow], out: Path,
                           url: str) -> None:
    """Write the gradebook of ``rows`` into the shared database at ``url`` (``--db``), in place:
    this run's submissions replace their earlier versions, grades given by hand (formgrader on
    that database) are kept, and everything else in the database stays. Runs take turns
    (``database.taking_turns``), so two runs writing at once lose nothing. Call it before
    ``write_gradebook`` of the same OUT, which updates the digests both compare with."""
    from .database import taking_turns

    rows = _gradebook_rows(course, rows)
    submitted = {(r.student_id, r.assignment) for r in rows
                 if r.status in (GRADED, ERROR, TIMEOUT)}
    with taking_turns(url), warnings.catch_warnings(), open_gradebook(url) as gb:
        warnings.simplefilter("ignore")
        kept = manual_grades(gb, {a for _, a in submitted})
        for student, assignment in sorted(submitted & set(kept)):  # re-added just below
            gb.remove_submission(assignment, student)
        _fill(gb, course, rows, out, out / ".results", kept, digests(out / DIGESTS))
