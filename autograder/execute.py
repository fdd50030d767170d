"""Execute planned tasks side by side, each in its own sandbox slot, and store every result.

Each result is written to ``OUT/.results/<student>/<assignment>.json`` as soon as its notebook
finishes (atomically, by this thread only), under the task's key: an interrupted run resumes
from the stored results and a re-run reuses them, so the grades come out identical.
"""
from __future__ import annotations

import concurrent.futures as cf
import queue
from pathlib import Path
from typing import Callable

from .files import PRIVATE, write_atomic
from .plan import Task
from .record import NotebookResult
from .sandbox import Limits, Outcome, Sandbox
from .scoring import score


def result_path(out: Path, task: Task) -> Path:
    return out / ".results" / task.student_id / f"{task.assignment.id}.json"


def load_stored(out: Path, task: Task) -> NotebookResult | None:
    """The stored result of ``task``, if there is one for exactly this task (same key)."""
    try:
        stored = NotebookResult.from_json(result_path(out, task).read_text())
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return stored if stored.key == task.key else None


def run_in_slot(notebook: dict, sandbox: Sandbox, slots: "queue.Queue[int]") -> Outcome:
    """Run one notebook in the first free slot's sandbox (on a Dask worker too: ``cluster``)."""
    slot = slots.get()
    try:
        return sandbox.run(notebook, slot)
    finally:
        slots.put(slot)


def scored(task: Task, outcome: Outcome, limits: Limits) -> NotebookResult:
    """The result of ``task`` from what its sandbox returned; scored here, in the parent."""
    result = score(task.assignment, outcome, limits.timeout)
    result.seconds = round(outcome.seconds, 2)
    result.key = task.key
    return result


def run_task(task: Task, sandbox: Sandbox, slots: "queue.Queue[int]") -> NotebookResult:
    return scored(task, run_in_slot(task.notebook, sandbox, slots), sandbox.limits)


def reuse_stored(tasks: list[Task], out: Path,
                 on_done: Callable[[Task, NotebookResult, bool], None]) -> list[Task]:
    """Hand on the results stored by an earlier run; the tasks still to execute."""
    todo = []
    for task in tasks:
        stored = load_stored(out, task)
        if stored is not None:
            on_done(task, stored, True)
        else:
            todo.append(task)
    return todo


def execute(tasks: list[Task], sandbox: Sandbox, out: Path, jobs: int,
            on_done: Callable[[Task, NotebookResult, bool], None]) -> None:
    """Run ``tasks`` on ``jobs`` sandboxes; ``on_done(task, result, stored)`` in this thread,
    first for the tasks whose result was stored by an earlier run."""
    todo = reuse_stored(tasks, out, on_done)
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(jobs):
        slots.put(slot)
    pool = cf.ThreadPoolExecutor(max_workers=jobs)
    try:
        futures = {pool.submit(run_task, t, sandbox, slots): t for t in todo}
        for future in cf.as_completed(futures):
            task, result = futures[future], future.result()
            write_atomic(result_path(out, task), result.to_json(), PRIVATE)
            on_done(task, result, False)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        sandbox.cancel()
        raise
    pool.shutdown()
    sandbox.close()
