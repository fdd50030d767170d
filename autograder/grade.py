"""The grading run, from planning to the written outputs: ``grade(...)``.

1. load the course and check the inputs (SUBMISSIONS, a working sandbox, a writable OUT);
2. plan every (student, assignment) row (``plan``);
3. execute the tasks side by side, each result stored as it finishes (``execute``; on a Dask
   cluster's workers with ``--cluster``: ``cluster``), and write each row's feedback page as
   it arrives (``feedback``);
4. store the run's rows beside the earlier runs' (``term``: runs add up), and from all of them
   write ``grades.csv`` and ``tests.csv`` (``tables``), ``gradebook.db`` (``gradebook``; and
   into a shared database with ``--db``: ``database``),
   ``totals.csv`` (``totals``) and ``report.html`` (``report``); ``similarity.csv``
   (``similarity``) compares this run's answers; feedback pages of rows gone are removed.

Only this process (the trusted parent) writes anything under OUT, and it does so sequentially
and atomically (``files``). The caller sees progress through a ``Progress`` and gets a
``Summary`` back; ``cli`` prints both.
"""
from __future__ import annotations

import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from .collect import Ignored
from .course import Assignment, CourseError, load_course
from .database import check_database
from .execute import execute
from .gradebook import write_gradebook, write_shared_gradebook
from .languages import edition_courses
from .manual import Pages
from .plan import Plan, Task, plan
from .record import GradeRow, NotebookResult
from .report import write_report
from .report_table import term_table
from .roster import Settings
from .sandbox import INSTALL_BWRAP, Limits, Sandbox, bwrap_problem
from .similarity import write_similarity
from .tables import write_csv, write_tests_csv, write_timings_csv
from .term import prune_feedback, settings_path, store_rows, store_settings, term_rows
from .totals import Term, manual_points, write_totals

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
    term: list[GradeRow] = field(default_factory=list)  # every row of the term, this run's included

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
    if not Path(source).is_dir():
        raise GradeError(f"source folder {source} does not exist: run this inside the course "
                         "folder (the one holding notebooks/), or pass --source "
                         "PATH/TO/notebooks")
    try:
        return load_course(source)
    except CourseError as exc:
        raise GradeError(str(exc)) from None


def check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise GradeError(f"--out {out} is a file, not a folder: give a folder (it is created "
                         "if needed)")
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
             progress: Progress, cluster: str | None = None) -> list[GradeRow]:
    """Every row of the run: the planned ones and the executed (or stored) ones."""
    rows = list(work.rows)

    def on_done(task: Task, result: NotebookResult, stored: bool) -> None:
        row = task.row(result)
        feedback(row)
        rows.append(row)
        progress.done(row)

    progress.start(len(work.tasks), sandbox)
    try:
        if cluster:  # the same tasks, executed on a Dask cluster's workers
            from .cluster import execute_on_cluster
            execute_on_cluster(work.tasks, sandbox, out, cluster, jobs, on_done)
        else:
            execute(work.tasks, sandbox, out, jobs, on_done)
    finally:
        progress.close()
    for row in work.rows:
        feedback(row)
    return rows


def _write_outputs(course, work: Plan, rows: list[GradeRow], out: Path, sandbox: Sandbox,
                   settings: Settings, db: str | None = None) -> tuple[int, list[GradeRow]]:
    """Store the run's rows; from every row of the term: grades.csv, tests.csv, timings.csv,
    gradebook.db,
    totals.csv, report.html; similarity.csv from this run. The similar pairs and the rows."""
    store_rows(out, rows)
    store_settings(out, settings)
    everything = term_rows(course, out, settings)
    write_csv(everything, out / "grades.csv")
    write_tests_csv(everything, out / "tests.csv")
    write_timings_csv(everything, out / "timings.csv")
    if db:  # the shared gradebook first: OUT's own one then updates the answers' digests
        write_shared_gradebook(course, everything, out, db)
    write_gradebook(course, everything, out / "gradebook.db")
    similar, pairs = write_similarity(work.tasks, out / "similarity.csv")  # from answers
    term = Term(course, everything, settings, manual_points(out, course))
    write_totals(term, out / "totals.csv")
    write_report(course, everything, work.ignored, out / "report.html", sandbox.description,
                 unsandboxed=not sandbox.use_bwrap, sections=(term_table(term), similar))
    prune_feedback(out, everything)
    return pairs, everything


def grade(submissions: Path, out: Path, *, source: Path, build: Path, limits: Limits, jobs: int,
          sandboxed: bool = True, progress: Progress | None = None,
          settings: Settings | None = None, cluster: str | None = None,
          db: str | None = None) -> Summary:
    """Grade every notebook in ``submissions`` (a folder or a zip) into ``out``.

    ``sandboxed=False`` (``--no-sandbox``) runs without bubblewrap and flags every row
    ``unsandboxed``; otherwise a missing or broken bubblewrap stops the run before anything is
    written or run. ``settings``: the term's roster, due dates and late policy (default: those
    stored in ``out`` by earlier runs; ``term.merge_settings``). ``cluster``: a Dask scheduler's
    address, or ``local`` (``cluster``); None runs on this machine. ``db``: a database URL
    (``database.database_url``) that receives nbgrader's gradebook too (checked first).
    """
    started = time.monotonic()
    course = load(source)
    if not submissions.exists():
        raise GradeError(f"SUBMISSIONS {submissions} does not exist")
    problem = bwrap_problem() if sandboxed else None
    if problem:  # before anything is written or run
        raise GradeError(no_sandbox_message(problem))
    check_out(out)
    if db:
        check_database(db)
    hide = [source, submissions, out, build]
    sandbox = Sandbox(limits, hide=hide, use_bwrap=True) if sandboxed else \
        Sandbox(limits, hide=hide, use_bwrap=False, why_unsandboxed="--no-sandbox was given")
    editions = edition_courses(source, course, build / "editions")
    work = plan(submissions, course, limits, editions)
    if not sandboxed:
        _mark_unsandboxed(work)
    rows = _execute(work, sandbox, out, jobs, Pages(course, out, editions), progress or Silent(),
                    cluster)
    settings = settings or Settings.load(settings_path(out))
    pairs, everything = _write_outputs(course, work, rows, out, sandbox, settings, db)
    return Summary(rows, work.ignored, sandbox.description, pairs, time.monotonic() - started,
                   out, everything)
