"""The grading run, from planning to the written outputs: ``grade(...)``.

1. load the course and check the inputs (SUBMISSIONS, a working sandbox, a writable OUT);
2. plan every (student, assignment) row (``plan``);
3. execute the tasks side by side, each result stored as it finishes (``execute``), and write
   each row's feedback page as it arrives (``feedback``);
4. write ``grades.csv`` and ``tests.csv`` (``tables``), ``gradebook.db`` (``gradebook``),
   ``similarity.csv`` (``similarity``) and ``report.html`` (``report``).

Only this process (the trusted parent) writes anything under OUT, and it does so sequentially
and atomically (``files``). The caller sees progress through a ``Progress`` and gets a
``Summary`` back; ``cli`` prints both.
"""
from __future__ import annotations

import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .collect import Ignored
from .course import Assignment, CourseError, load_course
from .execute import execute
from .gradebook import write_gradebook
from .manual import Pages
from .plan import Plan, Task, plan
from .record import GradeRow, NotebookResult
from .report import write_report
from .sandbox import INSTALL_BWRAP, Limits, Sandbox, bwrap_problem
from .similarity import write_similarity
from .tables import write_csv, write_tests_csv

UNSANDBOXED = "unsandboxed"  # the flag of every row graded with --no-sandbox


class GradeError(Exception):
    """The run cannot proceed (bad SUBMISSIONS, unwritable OUT, unusable course)."""


class Progress(Protocol):
    """What the caller is told while the run goes on."""

    def start(self, total: int, sandbox: Sandbox) -> None: ...   # about to execute ``total``
    def done(self, row: GradeRow) -> None: ...                   # one executed (or stored) row
    def close(self) -> None: ...                                 # executing ended, or failed


class Silent:
    def start(self, total: int, sandbox: Sandbox) -> None: pass
    def done(self, row: GradeRow) -> None: pass
    def close(self) -> None: pass


@dataclass
class Summary:
    """What a finished run did; ``out`` holds its files."""

    rows: list[GradeRow]
    ignored: list[Ignored]
    sandbox: str            # how the notebooks were executed (``Sandbox.description``)
    pairs: int              # pairs of students with similar answers (``similarity.csv``)
    seconds: float
    out: Path

    def counts(self) -> Counter:
        return Counter(r.status for r in self.rows)


def no_sandbox_message(problem: str) -> str:
    """Why ``grade`` refuses to run without a sandbox, and what to do about it."""
    return (f"refusing to grade without a sandbox: {problem}.\n"
            "Without one, a submission runs with the grader's access and can read the hidden "
            "tests, the solutions and the other students' files (and change files the grader "
            "can write).\n"
            f"To fix it, {INSTALL_BWRAP}, then run the same command again.\n"
            "To grade anyway, accepting that risk, add --no-sandbox: every row is then flagged "
            f"`{UNSANDBOXED}`.")


def load(source: Path) -> dict[str, Assignment]:
    try:
        return load_course(source)
    except CourseError as exc:
        raise GradeError(str(exc)) from None


def check_out(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=".probe-")
        probe.close()
    except OSError as exc:
        raise GradeError(f"cannot write to the output folder {out}: {exc.strerror or exc}") from None


def _mark_unsandboxed(work: Plan) -> None:
    for row in work.rows:
        row.flags.insert(0, UNSANDBOXED)
    for task in work.tasks:
        task.flags.insert(0, UNSANDBOXED)
        task.key += "-" + UNSANDBOXED  # a later sandboxed run never reuses these results


def _execute(work: Plan, sandbox: Sandbox, out: Path, jobs: int, feedback: Pages,
             progress: Progress) -> list[GradeRow]:
    """Every row of the run: the planned ones and the executed (or stored) ones."""
    rows = list(work.rows)

    def on_done(task: Task, result: NotebookResult, stored: bool) -> None:
        row = task.row(result)
        feedback(row)
        rows.append(row)
        progress.done(row)

    progress.start(len(work.tasks), sandbox)
    try:
        execute(work.tasks, sandbox, out, jobs, on_done)
    finally:
        progress.close()
    for row in work.rows:
        feedback(row)
    return rows


def _write_outputs(course, work: Plan, rows: list[GradeRow], out: Path, sandbox: Sandbox) -> int:
    """grades.csv, tests.csv, gradebook.db, similarity.csv, report.html; the similar pairs."""
    write_csv(rows, out / "grades.csv")
    write_tests_csv(rows, out / "tests.csv")
    write_gradebook(course, rows, out / "gradebook.db")
    similar, pairs = write_similarity(work.tasks, out / "similarity.csv")  # from answers
    write_report(course, rows, work.ignored, out / "report.html", sandbox.description,
                 unsandboxed=not sandbox.use_bwrap, sections=(similar,))
    return pairs


def grade(submissions: Path, out: Path, *, source: Path, build: Path, limits: Limits, jobs: int,
          sandboxed: bool = True, progress: Progress | None = None) -> Summary:
    """Grade every notebook in ``submissions`` (a folder or a zip) into ``out``.

    ``sandboxed=False`` (``--no-sandbox``) runs without bubblewrap and flags every row
    ``unsandboxed``; otherwise a missing or broken bubblewrap stops the run before anything is
    written or run.
    """
    started = time.monotonic()
    course = load(source)
    if not submissions.exists():
        raise GradeError(f"SUBMISSIONS {submissions} does not exist")
    problem = bwrap_problem() if sandboxed else None
    if problem:  # before anything is written or run
        raise GradeError(no_sandbox_message(problem))
    check_out(out)
    hide = [source, submissions, out, build]
    sandbox = Sandbox(limits, hide=hide, use_bwrap=True) if sandboxed else \
        Sandbox(limits, hide=hide, use_bwrap=False, why_unsandboxed="--no-sandbox was given")
    work = plan(submissions, course, limits)
    if not sandboxed:
        _mark_unsandboxed(work)
    rows = _execute(work, sandbox, out, jobs, Pages(course, out), progress or Silent())
    pairs = _write_outputs(course, work, rows, out, sandbox)
    return Summary(rows, work.ignored, sandbox.description, pairs, time.monotonic() - started,
                   out)
