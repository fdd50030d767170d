"""Check the course itself: every solution gets full marks, every blank release gets 0, and the
release is fit for students (``release_problems``). Runs only the course's own notebooks, with
the sandbox when there is one and without it otherwise."""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .course import Assignment, nbgrader_meta, release
from .execute import execute
from .grade import Progress, Silent, load
from .nbtools import errors_outside_tests
from .plan import Task
from .record import GRADED, GradeRow, NotebookResult
from .sandbox import Limits, Sandbox
from .transplant import stub_answers, transplant

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def release_problems(nb) -> list[str]:
    """Why a released notebook is not fit for students (empty list when it is)."""
    problems = []
    for index, cell in enumerate(nb.cells):
        text = cell.source
        for marker in MARKERS:
            if marker in text:
                problems.append(f"cell {index} contains {marker!r}")
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            problems.append(f"cell {index} has outputs")
        meta = nbgrader_meta(cell)
        if cell.cell_type == "code" and meta.get("solution") and \
                "raise NotImplementedError()" not in text:
            problems.append(f"answer cell {meta.get('grade_id')} has no `raise NotImplementedError()`")
    return problems


@dataclass
class Verdict:
    """One assignment: its solution's row, its blank release's row, and what is wrong."""

    assignment: Assignment
    solution: GradeRow
    blank: GradeRow
    problems: list[str] = field(default_factory=list)


def _problems(a: Assignment, released: Path, sol: GradeRow, blank: GradeRow) -> list[str]:
    problems = release_problems(nbformat.read(released, as_version=4))
    if sol.status != GRADED or sol.score != a.max_score:
        failing = [f"{t.grade_id}: {t.message[:120]}" for t in sol.tests if not t.passed]
        problems.append(f"solution: {sol.status} {sol.reason} {'; '.join(failing)}".strip())
    problems += [f"solution: cell {index} raised {text[:200]}"
                 for index, text in errors_outside_tests(sol.notebook or {"cells": []})]
    if blank.status != GRADED or blank.score != 0:
        passing = [t.grade_id for t in blank.tests if t.passed]
        problems.append(f"blank release: {blank.status} {blank.reason} "
                        f"passes {', '.join(passing)}".strip())
    return problems


def validate(source: Path, build: Path, limits: Limits, jobs: int,
             progress: Progress | None = None) -> tuple[list[Verdict], Sandbox]:
    """A ``Verdict`` per assignment, and the sandbox the notebooks ran in."""
    progress = progress or Silent()
    course = load(source)
    released = release(course, build, build / "release-flat")
    sandbox = Sandbox(limits, hide=[source, build])
    tasks = []
    for a, path in zip(course.values(), released):
        for who, nb in (("solution", a.notebook), ("blank", nbformat.read(path, as_version=4))):
            graft = transplant(a, nb, stub_answers(a))
            tasks.append(Task(who, a, path.name, who, graft.notebook, graft.flags, ""))
    rows: dict[tuple[str, str], GradeRow] = {}

    def on_done(task: Task, result: NotebookResult, stored: bool) -> None:
        rows[(task.student_id, task.assignment.id)] = task.row(result)
        progress.done(rows[(task.student_id, task.assignment.id)])

    progress.start(len(tasks), sandbox)
    with tempfile.TemporaryDirectory() as scratch:
        try:
            execute(tasks, sandbox, Path(scratch), jobs, on_done)
        finally:
            progress.close()
    verdicts = []
    for a, path in zip(course.values(), released):
        sol, blank = rows[("solution", a.id)], rows[("blank", a.id)]
        verdicts.append(Verdict(a, sol, blank, _problems(a, path, sol, blank)))
    return verdicts, sandbox
