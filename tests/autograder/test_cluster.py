"""Grading on a Dask cluster (``grade --cluster``): a real scheduler and two workers, started
here as separate processes over TCP on localhost, grade a small class exactly as one machine
does; killing a worker mid-run loses no row and counts none twice; a submission that kills
every worker it lands on ends as an ``error`` row; an unreachable scheduler is one line."""
from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import distributed  # noqa: F401  (before dask.config.set: see the kill test)
import pytest

import small_class
from autograder.cli import main
from autograder.cluster import _WorkerSlots, execute_on_cluster, run_on_worker, worker_problem
from autograder.course import load_course
from autograder.plan import plan
from autograder.record import RESULT_VERSION
from autograder.sandbox import Limits, Sandbox, have_bwrap
from conftest import FIXTURE_COURSE, REPO

sys.path.insert(0, str(REPO))  # `bench` is run from the checkout (python -m bench), not installed
from bench.cluster import dask_processes  # noqa: E402  (the test's cluster is the bench's)

STUDENTS = 4            # × 2 assignments: 8 notebooks, ~2 s each
START_SECONDS = 60      # for the scheduler and the workers to come up on a loaded machine

needs_bwrap = pytest.mark.skipif(not have_bwrap(), reason="bubblewrap cannot sandbox here")


@pytest.fixture
def dask_cluster(tmp_path):
    """A scheduler and two one-thread workers (no nanny: a killed worker stays dead), each a
    process of its own on 127.0.0.1; all of them ended afterwards, whatever happened."""
    with dask_processes(tmp_path / "cluster", 2) as (address, workers):
        yield {"address": address, "workers": workers}


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    build, subs = small_class.build(root, STUDENTS)
    return root, build, subs


def _grade(subs: Path, out: Path, build: Path, *extra: str) -> int:
    return main(["grade", str(subs), "--out", str(out), "--source", str(FIXTURE_COURSE),
                 "--build", str(build), "--jobs", "2", "--timeout", "60", *extra])


def _rows(out: Path) -> list[dict]:
    with open(out / "grades.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def _executed_on_workers(address: str) -> int:
    """How many tasks the cluster's workers ran, in all (``client.run`` calls are no tasks)."""
    from distributed import Client

    def executed(dask_worker) -> int:
        return dask_worker.state.executed_count

    with Client(address, timeout=START_SECONDS) as client:
        return sum(client.run(executed).values())


def _digest(folder: Path) -> str:
    sha = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            sha.update(str(path.relative_to(folder)).encode() + path.read_bytes())
    return sha.hexdigest()


@pytest.mark.slow
@needs_bwrap
def test_the_cluster_grades_the_class_as_one_machine_does(dask_cluster, graded_class):
    root, build, subs = graded_class
    before = _digest(subs)
    assert _grade(subs, root / "local", build) == 0
    assert _grade(subs, root / "dask", build, "--cluster", dask_cluster["address"]) == 0
    assert _executed_on_workers(dask_cluster["address"]) == 2 * STUDENTS  # there, not here
    assert (root / "dask" / "grades.csv").read_bytes() == (root / "local" / "grades.csv").read_bytes()
    assert (root / "dask" / "tests.csv").read_bytes() == (root / "local" / "tests.csv").read_bytes()
    rows = _rows(root / "dask")
    assert len(rows) == 2 * STUDENTS and all(r["status"] == "graded" for r in rows)
    assert {r["score"] for r in rows} >= {"4", "3", "0"}  # solved, blank, wrong all seen
    # a re-run reuses every stored result: the same bytes, the timings included
    first = (root / "dask" / "grades.csv").read_bytes()
    assert _grade(subs, root / "dask", build, "--cluster", dask_cluster["address"]) == 0
    assert (root / "dask" / "grades.csv").read_bytes() == first
    assert _digest(subs) == before  # the inputs are never modified


def _wait_until_w0_is_busy_after_a_result(address: str, out: Path, run) -> None:
    """Until a result is stored and worker ``w0`` is running a notebook (so killing it
    interrupts one), while the grading run goes on."""
    from distributed import Client

    with Client(address, timeout=START_SECONDS) as client:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert run.poll() is None, run.stdout.read().decode()
            names = {a: w["name"] for a, w in client.scheduler_info()["workers"].items()}
            busy = {names.get(a) for a, keys in client.processing().items() if keys}
            if "w0" in busy and list(out.glob(".results/*/*.json")):
                return
            time.sleep(0.1)
    raise AssertionError("worker w0 never ran a notebook after the first result")


@pytest.mark.slow
@needs_bwrap
def test_killing_a_worker_mid_run_loses_no_row_and_counts_none_twice(dask_cluster, tmp_path):
    build, subs = small_class.build(tmp_path, 5)
    out = tmp_path / "out"
    run = subprocess.Popen([sys.executable, "-m", "autograder", "grade", str(subs), "--out",
                            str(out), "--source", str(FIXTURE_COURSE), "--build", str(build),
                            "--timeout", "60", "--cluster", dask_cluster["address"]],
                           cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        _wait_until_w0_is_busy_after_a_result(dask_cluster["address"], out, run)
        assert len(list(out.glob(".results/*/*.json"))) < 10
        victim = dask_cluster["workers"][0]
        os.killpg(victim.pid, signal.SIGKILL)  # the worker and the sandbox it was running
        victim.wait(timeout=10)
        output, _ = run.communicate(timeout=170)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 0, output.decode()[-2000:]
    rows = _rows(out)
    keys = [(r["student_id"], r["assignment"]) for r in rows]
    assert len(keys) == len(set(keys)) == 10
    assert all(r["status"] == "graded" for r in rows), [r["reason"] for r in rows]
    solved = {r["score"] for r in rows if r["student_id"] in ("s00", "s03")}
    assert solved == {"4", "3"}, solved  # the rows that ran again were graded in full


def _poisoned_tasks(tmp_path):
    build, subs = small_class.build(tmp_path, 2)
    poisoned = subs / "s01" / "01_fixture_add.ipynb"
    poisoned.write_text(poisoned.read_text().replace("NotImplementedError()",
                                                     "NotImplementedError('POISON')", 1))
    return plan(subs, load_course(FIXTURE_COURSE), Limits(timeout=60)).tasks


@pytest.mark.slow
@needs_bwrap
def test_a_submission_that_kills_every_worker_ends_as_an_error_row(tmp_path):
    import dask

    tasks = _poisoned_tasks(tmp_path)
    assert len(tasks) == 4

    def remote(notebook, limits, hidden, use_bwrap):  # pickled by value: defined in a test
        if "POISON" in json.dumps(notebook):
            os._exit(1)  # as the OOM killer would end the worker process
        return run_on_worker(notebook, limits, hidden, use_bwrap)

    done = {}
    sandbox = Sandbox(Limits(timeout=60), hide=[tmp_path], use_bwrap=True, warm=False)
    # distributed is imported at the top: had its first import happened inside this block, the
    # block's exit would delete the whole "distributed" config it did not see before, and every
    # later Dask call in this process would fail with KeyError: 'distributed'.
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        execute_on_cluster(tasks, sandbox, tmp_path / "out", "local", 2,
                           lambda task, result, stored: done.setdefault(
                               (task.student_id, task.assignment.id), result), remote=remote)
    assert len(done) == 4
    killed = done[("s01", "01_fixture_add")]
    assert killed.status == "error" and "every Dask worker that ran this submission died" \
        in killed.reason
    others = [r for key, r in done.items() if key != ("s01", "01_fixture_add")]
    assert all(r.status == "graded" for r in others), [r.reason for r in others]
    assert (tmp_path / "out" / ".results" / "s01" / "01_fixture_add.json").exists()


def test_an_unreachable_scheduler_is_one_line_before_anything_runs(graded_class, tmp_path,
                                                                   capsys):
    root, build, subs = graded_class
    code = _grade(subs, tmp_path / "out", build, "--cluster", "tcp://127.0.0.1:9",
                  *([] if have_bwrap() else ["--no-sandbox"]))
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and "Traceback" not in err, err
    assert errors[0].startswith("error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert "dask scheduler" in errors[0]
    assert not list((tmp_path / "out").glob(".results/*/*.json"))


def test_an_empty_cluster_address_is_refused(capsys):
    assert main(["grade", "subs", "--cluster", ""]) == 2
    assert "--cluster needs a scheduler address" in capsys.readouterr().err


def test_a_worker_of_another_grader_version_or_without_sandbox_is_named():
    assert "another version" in worker_problem(True, RESULT_VERSION + "-other")
    assert worker_problem(False, RESULT_VERSION) is None


def test_two_worker_processes_on_one_host_never_share_a_slot():
    first, second = _WorkerSlots(), _WorkerSlots()
    a, b = first.queue(2), second.queue(2)
    slots_a = {a.get() for _ in range(2)}
    slots_b = {b.get() for _ in range(2)}
    assert len(slots_a) == len(slots_b) == 2 and not slots_a & slots_b
