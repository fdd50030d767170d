"""Plan a grading run: one ``Task`` per notebook to execute, one ``GradeRow`` per row decided
without running anything (``invalid``, unreadable, ``missing``), and the files skipped.

Every submission is identified (its file name, or else the assignment whose cells it carries),
read, and transplanted into a pristine copy of its source notebook, in the edition (language)
it was handed in (``languages``: the same code and tests, the student's language). When a student sent several
notebooks for one assignment, the latest is graded (``Submitted.recency``: the LMS submission id,
then the ``-N`` suffix, then the file time; on a tie the one named exactly like the assignment),
the others are skipped, and the graded row is flagged ``duplicate: ...`` saying which and why.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .collect import Ignored, Submitted, collect, match_assignment
from .course import Assignment
from .flags import scan_answers
from .languages import DEFAULT_LANGUAGE, submission_language
from .record import ERROR, INVALID, MISSING, RESULT_VERSION, GradeRow, NotebookResult
from .reference_copy import copied_from_reference
from .sandbox import Limits
from .transplant import Unreadable, answer_overlap, cell_ids, read_notebook, stub_answers, transplant


@dataclass
class Task:
    """One notebook to execute."""

    student_id: str
    assignment: Assignment
    file_name: str
    origin: str
    notebook: dict
    flags: list[str]
    key: str                                             # the stored result's (``result_key``)
    answers: dict[str, str] = field(default_factory=dict)  # grade id -> source, for similarity
    sub: Submitted | None = field(default=None, repr=False)  # what was submitted (name, time)
    language: str = "en"                                 # the edition handed in

    def row(self, result: NotebookResult) -> GradeRow:
        """The row of this task once executed: the result, with the plan's flags first."""
        row = GradeRow(self.student_id, self.assignment.id, self.assignment.max_score,
                       result.status, result.reason, result.score, self.flags + result.flags,
                       self.file_name, self.origin, result.seconds, result.tests,
                       result.notebook)
        row.language = self.language
        return submission_fields(row, self.sub)


def submission_fields(row: GradeRow, sub: Submitted | None) -> GradeRow:
    """``row`` with the submitter's LMS name, submission time and late marker."""
    if sub is not None:
        row.name, row.submitted_at, row.late_marker = sub.name, sub.submitted_at, sub.late_marker
    return row


@dataclass
class Plan:
    tasks: list[Task] = field(default_factory=list)
    rows: list[GradeRow] = field(default_factory=list)   # rows decided without running anything
    ignored: list[Ignored] = field(default_factory=list)


def result_key(notebook: dict, limits: Limits) -> str:
    """What a stored result is valid for: this grader version, notebook and limits."""
    blob = json.dumps([RESULT_VERSION, notebook, limits.__dict__], sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


def _identify(sub: Submitted, nb, course: dict[str, Assignment]) -> tuple[str | None, list[str]]:
    aid, renamed = match_assignment(sub.file_name, list(course))
    flags = []
    if aid is None:  # the name says nothing: which assignment do its cells belong to?
        overlaps = {a.id: answer_overlap(a, nb) for a in course.values()}
        best = max(overlaps.values(), default=0)
        winners = [a for a, n in overlaps.items() if n == best]
        if best > 0 and len(winners) == 1:
            aid, renamed = winners[0], True
    if aid and renamed:
        flags.append(f"renamed: submitted as {sub.file_name!r}")
    return aid, flags


def _answer_flags(answers: dict[str, str], assignment: Assignment) -> list[str]:
    """Flags read from the answers' source: tampering, and copies of the answer key's source."""
    code = [c.source for c in assignment.notebook.cells if c.cell_type == "code"]
    return scan_answers(answers, code) + copied_from_reference(answers)


class _Planner:
    """Turns each submission into a task or a row decided without running it."""

    def __init__(self, course: dict[str, Assignment], limits: Limits,
                 editions: dict[str, dict[str, Assignment]] | None = None):
        self.course, self.limits = course, limits
        self.editions = editions or {DEFAULT_LANGUAGE: course}
        self.stubs = {a.id: stub_answers(a) for a in course.values()}

    def task_or_row(self, sub: Submitted) -> Task | GradeRow:
        stem = Path(sub.file_name).stem
        guess, _ = match_assignment(sub.file_name, list(self.course))

        def refused(assignment: str, max_score, status: str, reason: str) -> GradeRow:
            return submission_fields(GradeRow(sub.student_id, assignment, max_score, status,
                                              reason, file=sub.file_name, origin=sub.origin), sub)

        if sub.problem:
            return refused(guess or stem, None, INVALID, sub.problem)
        try:
            nb = read_notebook(sub.data)
        except Unreadable as exc:
            return refused(guess or stem, self.course[guess].max_score if guess else None, ERROR,
                           f"unreadable notebook: {exc}")
        aid, flags = _identify(sub, nb, self.course)
        if aid is None:
            return refused(stem, None, INVALID,
                           "not a notebook of this course (unknown name, no known cells)")
        assignment = self.course[aid]
        if not set(cell_ids(nb)) & (set(assignment.answer_ids) | set(assignment.test_ids)):
            return refused(aid, assignment.max_score, INVALID, "none of the assignment's cells "
                           "were found (nbgrader metadata missing: was the notebook re-created "
                           "or copied?)")
        language = submission_language(nb)
        edition = self.editions.get(language, {}).get(aid)
        if edition is None:   # an edition not built for this run: graded in English
            language, edition = DEFAULT_LANGUAGE, assignment
        graft = transplant(edition, nb, self.stubs[aid])
        return Task(sub.student_id, edition, sub.file_name, sub.origin, graft.notebook,
                    flags + graft.flags + _answer_flags(graft.answers, assignment),
                    result_key(graft.notebook, self.limits), graft.answers, sub, language)


def _recency(task: Task) -> tuple:
    exact = Path(task.file_name).stem == task.assignment.id
    return (*(task.sub.recency if task.sub else ()), exact)


def _one_per_assignment(tasks: list[Task], ignored: list[Ignored]) -> list[Task]:
    """One task per student and assignment: the latest submission; the others are skipped
    (listed in ``ignored``) and the kept one is flagged ``duplicate``."""
    groups: dict[tuple[str, str], list[Task]] = {}
    for task in tasks:
        groups.setdefault((task.student_id, task.assignment.id), []).append(task)
    kept = []
    for (student, aid), group in groups.items():
        keep = max(group, key=_recency)
        kept.append(keep)
        if len(group) == 1:
            continue
        others = [t for t in group if t is not keep]
        for drop in others:
            ignored.append(Ignored(drop.origin, f"earlier notebook for {aid} of {student}; "
                                   f"graded {keep.origin}"))
        keep.flags.insert(0, f"duplicate: graded {keep.origin} (the latest of {len(group)}, "
                          "by LMS submission id, -N suffix, then file time); skipped "
                          + ", ".join(t.origin for t in others))
    return kept


def _missing(result: Plan, course: dict[str, Assignment]) -> list[GradeRow]:
    """A ``missing`` row for each assignment that anyone in this batch handed in and a student
    who handed in others did not."""
    students = {t.student_id for t in result.tasks} | {r.student_id for r in result.rows
                                                       if r.status != INVALID}
    assignments = {t.assignment.id for t in result.tasks}
    have = {(t.student_id, t.assignment.id) for t in result.tasks} | \
        {(r.student_id, r.assignment) for r in result.rows}
    return [GradeRow(student, aid, course[aid].max_score, MISSING, "no notebook for this assignment")
            for student in sorted(students) for aid in sorted(assignments)
            if (student, aid) not in have]


def plan(submissions: Path, course: dict[str, Assignment], limits: Limits,
         editions: dict[str, dict[str, Assignment]] | None = None) -> Plan:
    """``editions``: lang -> the course in that edition (``languages.edition_courses``); without
    it every submission is graded against the English source."""
    found, ignored = collect(submissions)
    result = Plan(ignored=list(ignored))
    planner = _Planner(course, limits, editions)
    tasks = []
    for sub in found:
        item = planner.task_or_row(sub)
        (tasks if isinstance(item, Task) else result.rows).append(item)
    result.tasks = _one_per_assignment(tasks, result.ignored)
    result.rows += _missing(result, course)
    return result
