"""The grading run: plan every (student, assignment) row, execute in parallel, commit each result.

Only this process (the trusted parent) writes anything under OUT, and it does so sequentially:
``OUT/.results/<student>/<assignment>.json`` (atomically, as each submission finishes — an
interrupted run resumes from them and a re-run reuses them), then ``grades.csv``, ``tests.csv``,
``gradebook.db``, the feedback pages and ``report.html``.
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import os
import queue
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .collect import Ignored, Submitted, collect, match_assignment
from .course import Assignment, load_course
from .flags import scan_answers
from .reference_copy import copied_from_reference
from .sandbox import Limits, Sandbox
from .scoring import ERROR, INVALID, MISSING, score
from .transplant import Unreadable, answer_overlap, cell_ids, read_notebook, stub_answers, transplant

RESULT_VERSION = "1"  # bump when a change of the grader must invalidate stored results


class GradeError(Exception):
    """The run cannot proceed (bad SUBMISSIONS, unwritable OUT, unusable course)."""


@dataclass
class Task:
    """One notebook to execute."""

    student_id: str
    assignment: Assignment
    file_name: str
    origin: str
    notebook: dict
    flags: list[str]
    key: str
    answers: dict[str, str] = field(default_factory=dict)  # grade id -> source, for similarity


@dataclass
class Plan:
    tasks: list[Task] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)       # rows decided without running anything
    ignored: list[Ignored] = field(default_factory=list)


def row(student_id: str, assignment: str, max_score: float | None, status: str, reason: str,
        file_name: str = "", origin: str = "", flags: list[str] | None = None) -> dict:
    return {"student_id": student_id, "assignment": assignment, "score": None,
            "max_score": max_score, "status": status, "reason": reason, "flags": flags or [],
            "file": file_name, "origin": origin, "tests": {}, "seconds": None}


def _key(notebook: dict, limits: Limits) -> str:
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


def _code(assignment: Assignment) -> list[str]:
    return [c.source for c in assignment.notebook.cells if c.cell_type == "code"]


def _answer_flags(answers: dict[str, str], assignment: Assignment) -> list[str]:
    """Flags read from the answers' source: tampering, and copies of the answer key's source."""
    return scan_answers(answers, _code(assignment)) + copied_from_reference(answers)


def plan(submissions: Path, course: dict[str, Assignment], limits: Limits) -> Plan:
    found, ignored = collect(submissions)
    result = Plan(ignored=list(ignored))
    stubs = {a.id: stub_answers(a) for a in course.values()}
    claimed: dict[tuple[str, str], Task] = {}
    for sub in found:
        stem = Path(sub.file_name).stem
        guess, _ = match_assignment(sub.file_name, list(course))
        if sub.problem:
            result.rows.append(row(sub.student_id, guess or stem, None, INVALID, sub.problem,
                                   sub.file_name, sub.origin))
            continue
        try:
            nb = read_notebook(sub.data)
        except Unreadable as exc:
            max_score = course[guess].max_score if guess else None
            result.rows.append(row(sub.student_id, guess or stem, max_score, ERROR,
                                   f"unreadable notebook: {exc}", sub.file_name, sub.origin))
            continue
        aid, flags = _identify(sub, nb, course)
        if aid is None:
            result.rows.append(row(sub.student_id, stem, None, INVALID,
                                   "not a notebook of this course (unknown name, no known cells)",
                                   sub.file_name, sub.origin))
            continue
        assignment = course[aid]
        if not set(cell_ids(nb)) & (set(assignment.answer_ids) | set(assignment.test_ids)):
            result.rows.append(row(sub.student_id, aid, assignment.max_score, INVALID,
                                   "none of the assignment's cells were found (nbgrader metadata "
                                   "missing: was the notebook re-created or copied?)",
                                   sub.file_name, sub.origin))
            continue
        graft = transplant(assignment, nb, stubs[aid])
        task = Task(sub.student_id, assignment, sub.file_name, sub.origin, graft.notebook,
                    flags + graft.flags + _answer_flags(graft.answers, assignment),
                    _key(graft.notebook, limits), graft.answers)
        previous = claimed.get((sub.student_id, aid))
        if previous is not None:
            exact = Path(task.file_name).stem == aid and Path(previous.file_name).stem != aid
            keep, drop = (task, previous) if exact else (previous, task)
            result.ignored.append(Ignored(drop.origin, f"second notebook for {aid} of "
                                          f"{sub.student_id}; graded {keep.origin}"))
            claimed[(sub.student_id, aid)] = keep
            continue
        claimed[(sub.student_id, aid)] = task
    result.tasks = list(claimed.values())
    # A student who handed in some assignments but not others gets a ``missing`` row for each
    # assignment that anyone in this batch handed in.
    students = {t.student_id for t in result.tasks} | {r["student_id"] for r in result.rows
                                                       if r["status"] != INVALID}
    assignments = {t.assignment.id for t in result.tasks}
    have = {(t.student_id, t.assignment.id) for t in result.tasks} | \
        {(r["student_id"], r["assignment"]) for r in result.rows}
    for student in sorted(students):
        for aid in sorted(assignments):
            if (student, aid) not in have:
                result.rows.append(row(student, aid, course[aid].max_score, MISSING,
                                       "no notebook for this assignment"))
    return result


def _result_path(out: Path, student_id: str, aid: str) -> Path:
    return out / ".results" / student_id / f"{aid}.json"


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def load_cached(out: Path, task: Task) -> dict | None:
    path = _result_path(out, task.student_id, task.assignment.id)
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return stored if stored.get("key") == task.key else None


def run_task(task: Task, sandbox: Sandbox, slots: "queue.Queue[int]") -> dict:
    slot = slots.get()
    try:
        outcome = sandbox.run(task.notebook, slot)
    finally:
        slots.put(slot)
    result = score(task.assignment, outcome, sandbox.limits.timeout)
    result["seconds"] = round(outcome.seconds, 2)
    result["key"] = task.key
    return result


def finish(task: Task, result: dict) -> dict:
    """The CSV row of an executed task: stored result + this run's flags and names."""
    return {**row(task.student_id, task.assignment.id, task.assignment.max_score,
                  result["status"], result["reason"], task.file_name, task.origin),
            "score": result["score"], "tests": result["tests"], "seconds": result["seconds"],
            "flags": task.flags + result["flags"], "notebook": result.get("notebook")}


def execute(tasks: list[Task], sandbox: Sandbox, out: Path, jobs: int, on_done) -> None:
    """Run ``tasks`` on ``jobs`` sandboxes; ``on_done(task, result, cached)`` in this thread."""
    todo = []
    for task in tasks:
        cached = load_cached(out, task)
        if cached is not None:
            on_done(task, cached, True)
        else:
            todo.append(task)
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(jobs):
        slots.put(slot)
    pool = cf.ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = {pool.submit(run_task, t, sandbox, slots): t for t in todo}
        for future in cf.as_completed(futures):
            task, result = futures[future], future.result()
            write_atomic(_result_path(out, task.student_id, task.assignment.id),
                         json.dumps(result).encode())
            on_done(task, result, False)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        sandbox.cancel()
        raise
    pool.shutdown()


def check_out(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=".probe-")
        probe.close()
    except OSError as exc:
        raise GradeError(f"cannot write to the output folder {out}: {exc.strerror or exc}") from None


def load(source: Path):
    from .course import CourseError

    try:
        return load_course(source)
    except CourseError as exc:
        raise GradeError(str(exc)) from None
