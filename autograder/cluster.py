"""Grading on a Dask cluster: ``python -m autograder grade SUBMISSIONS --cluster ADDRESS``.

Only the executing moves. This process (the trusted parent) plans, scores, stores every result
per submission (``execute.result_path``) and writes every output, as on one machine. Each Dask
task is one submission's notebook: a worker runs it in the cold sandbox of its own host
(``execute.run_in_slot``: bubblewrap, limits, timeout, with the host's course ``.venv``) and
sends back the sandbox's signed-and-verified ``Outcome``; the parent scores it (``scoring``).
A stored result is never sent out again, so a stopped run resumes where it stopped.

A worker that dies mid-run loses nothing: Dask's scheduler runs its tasks again on the other
workers, and each future completes exactly once, so no row is lost or counted twice. A
submission whose task takes down every worker it lands on ends, after the scheduler's
``distributed.scheduler.allowed-failures`` deaths (Dask's default: 3), in ``KilledWorker``;
it becomes an ``error`` row saying so, and the run goes on.

``ADDRESS`` is a scheduler (``tcp://HOST:8786``) that workers started from the course's
``.venv`` have joined (``dask worker tcp://HOST:8786``), or ``local`` for a ``LocalCluster``
of ``--jobs`` one-thread workers on this machine.
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import queue
import tempfile
import threading
from pathlib import Path
from typing import Callable, Iterator

from .execute import reuse_stored, result_path, run_in_slot, scored
from .files import PRIVATE, write_atomic
from .plan import Task
from .record import ERROR, RESULT_VERSION, NotebookResult
from .sandbox import Limits, Outcome, Sandbox, bwrap_problem

LOCAL = "local"
CONNECT_SECONDS = 10     # to reach the scheduler
WORKERS_SECONDS = 60     # for a first worker to join it
SLOT_LOCKS = Path(tempfile.gettempdir()) / "autograder-cluster-slots"


class ClusterError(Exception):
    """The cluster cannot grade (unreachable scheduler, no workers, a worker without sandbox)."""


# ---------------------------------------------------------------- on the worker

class _WorkerSlots:
    """This worker process's sandboxes and job slots. Each process claims a host-wide index
    (a lock file held until it exits), so that two worker processes on one host pin their
    sandboxes to different cores and never share a slot uid."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sandboxes: dict[tuple, Sandbox] = {}
        self.slots: queue.Queue[int] | None = None
        self._claim = None  # the open lock file: closing it (or dying) frees the index

    def sandbox(self, limits: Limits, hidden: tuple[str, ...], use_bwrap: bool) -> Sandbox:
        with self.lock:
            key = (limits, hidden, use_bwrap)
            if key not in self.sandboxes:
                self.sandboxes[key] = Sandbox(limits, hide=[Path(p) for p in hidden],
                                              use_bwrap=use_bwrap, warm=False,
                                              why_unsandboxed="--no-sandbox was given")
            return self.sandboxes[key]

    def queue(self, threads: int) -> queue.Queue[int]:
        with self.lock:
            if self.slots is None:
                index = self._claim_index()
                self.slots = queue.Queue()
                for slot in range(index * threads, (index + 1) * threads):
                    self.slots.put(slot)
            return self.slots

    def _claim_index(self) -> int:
        SLOT_LOCKS.mkdir(mode=0o1777, exist_ok=True)
        for index in range(1024):
            handle = open(SLOT_LOCKS / f"{index}.lock", "a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            self._claim = handle
            return index
        return os.getpid() % 1024  # a thousand worker processes on one host: share cores


_SLOTS = _WorkerSlots()


def _worker_threads() -> int:
    from distributed import get_worker

    try:
        return max(1, get_worker().state.nthreads)
    except (ValueError, AttributeError):  # not inside a Dask worker (tests call it directly)
        return 1


def run_on_worker(notebook: dict, limits: Limits, hidden: tuple[str, ...],
                  use_bwrap: bool) -> Outcome:
    """One Dask task: ``notebook`` run in this host's sandbox, in a free slot of this worker."""
    sandbox = _SLOTS.sandbox(limits, hidden, use_bwrap)
    return run_in_slot(notebook, sandbox, _SLOTS.queue(_worker_threads()))


def worker_problem(use_bwrap: bool, version: str) -> str | None:
    """Why this worker cannot grade for the parent, or None (run on every worker first)."""
    if version != RESULT_VERSION:
        return (f"its grader is another version (results version {RESULT_VERSION}, the "
                f"parent's {version}): update the course checkout on the worker hosts")
    return bwrap_problem() if use_bwrap else None


# ---------------------------------------------------------------- in the parent

def _connect_message(address: str, exc: BaseException) -> str:
    detail = " ".join(str(exc).split())[:200] or type(exc).__name__
    return (f"cannot reach the Dask scheduler at {address} ({detail}): start one with "
            f"`dask scheduler` and its workers with `dask worker {address}` from the course's "
            ".venv, or check the address (`--cluster local` grades on this machine)")


@contextlib.contextmanager
def connect(address: str, jobs: int) -> Iterator:
    """A ``distributed.Client`` on ``address`` (or on a new ``LocalCluster``), closed after."""
    from distributed import Client, LocalCluster

    if address == LOCAL:
        with LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=logging.ERROR) as local, \
                Client(local) as client:
            yield client
        return
    try:
        client = Client(address, timeout=CONNECT_SECONDS)
    except (OSError, ValueError, TypeError) as exc:
        raise ClusterError(_connect_message(address, exc)) from None
    with client:
        yield client


def check_workers(client, use_bwrap: bool) -> None:
    """Stop before sending anything when no worker joined or one cannot grade."""
    try:
        client.wait_for_workers(1, timeout=WORKERS_SECONDS)
    except (TimeoutError, OSError):
        raise ClusterError(f"no Dask worker joined the scheduler at {client.scheduler.address}"
                           f" within {WORKERS_SECONDS} s: start workers with `dask worker "
                           f"{client.scheduler.address}` from the course's .venv") from None
    problems = client.run(worker_problem, use_bwrap, RESULT_VERSION)
    bad = {address: p for address, p in problems.items() if p}
    if bad:
        address, problem = sorted(bad.items())[0]
        raise ClusterError(f"Dask worker {address} cannot grade: {problem}"
                           + (f" (and {len(bad) - 1} more worker(s))" if len(bad) > 1 else ""))


def killed_result(task: Task, exc: BaseException) -> NotebookResult:
    """The ``error`` row of a submission whose task took down every worker it ran on."""
    return NotebookResult(ERROR, "every Dask worker that ran this submission died (out of "
                          f"memory, or killed) before it finished; gave up after the "
                          f"scheduler's allowed failures ({' '.join(str(exc).split())[:200]})",
                          key=task.key)


def _task_key(task: Task) -> str:
    # unique per row: two students handing in the same notebook have the same task.key
    return f"grade-{task.student_id}/{task.assignment.id}-{task.key[:16]}"


def execute_on_cluster(tasks: list[Task], sandbox: Sandbox, out: Path, address: str,
                       jobs: int, on_done: Callable[[Task, NotebookResult, bool], None],
                       remote: Callable[..., Outcome] = run_on_worker) -> None:
    """``execute.execute`` on a Dask cluster: ``on_done(task, result, stored)`` in this thread,
    first for the stored results. ``remote`` is what each task runs (tests replace it)."""
    todo = reuse_stored(tasks, out, on_done)
    if not todo:
        return
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    hidden = tuple(sandbox.hidden)
    with connect(address, jobs) as client:
        check_workers(client, sandbox.use_bwrap)
        futures = {client.submit(remote, task.notebook, sandbox.limits, hidden,
                                 sandbox.use_bwrap, key=_task_key(task), pure=False): task
                   for task in todo}
        try:
            for future in as_completed(futures):
                task = futures[future]
                try:
                    result = scored(task, future.result(), sandbox.limits)
                except KilledWorker as exc:
                    result = killed_result(task, exc)
                except Exception as exc:  # a bug or a broken worker host: stop, keep what is stored
                    raise ClusterError(f"grading {task.student_id}/{task.assignment.id} failed "
                                       f"on a Dask worker: {type(exc).__name__}: {exc}") from None
                write_atomic(result_path(out, task), result.to_json(), PRIVATE)
                on_done(task, result, False)
        except BaseException:
            client.cancel(list(futures))
            raise
