"""Section 6: grading on a Dask cluster — what the Dask path costs per notebook, how throughput
grows with workers, and the wall time it projects for a class of 2,000 × 10 notebooks.

One synthetic student hands in every course notebook (``grading.build_class``: the worked
solutions, the same seed as the grading section). The same submissions are graded, each run
into a fresh OUT and timed as a whole (the grader's command, start-up included):

1. ``python -m autograder grade --jobs 1`` and ``--jobs 2`` on this machine, on the cold
   sandbox path (``AUTOGRADER_WARM=0``) that the Dask workers use, so that the two sides
   differ only by Dask;
2. ``--cluster tcp://127.0.0.1:PORT`` on a real scheduler with 1, then 2 one-thread workers,
   each a process of its own (``dask_processes``), started before the timed run (a cluster
   already exists where this is used).

Per-task overhead of the Dask path = (Dask wall − local wall) / notebooks, at the same
parallelism (1 worker vs ``--jobs 1``; 2 vs 2). Throughput = notebooks / wall. The parent's CPU
per notebook (scoring, storing, feedback pages) is the slope of its CPU time between a run of
every notebook and a run of one, both on the 2-worker cluster: it bounds what one parent can
feed, however many workers there are.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

from bench.grading import REPO, build_class
from bench.stats import row, summarise

DASK = str(Path(sys.executable).with_name("dask"))
START_SECONDS = 60
CLASS = 2000 * 10                  # the course: 2,000 students × 10 notebooks
CORES = (10, 50, 200)              # worker cores the README projects for
RUNS = 10                          # grading runs side by side: one per assignment
PLOT = "cluster-throughput.png"


def _stop(proc: subprocess.Popen) -> None:
    """End ``proc``'s session (a worker's sandboxes with it): SIGTERM, then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)


def _start(cmd: list[str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as handle:
        return subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, cwd=log.parent,
                                start_new_session=True)


@contextlib.contextmanager
def dask_processes(folder: Path, workers: int) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """A ``dask scheduler`` and ``workers`` one-thread ``dask worker`` processes (no nanny: a
    killed worker stays dead) on 127.0.0.1, logs in ``folder``; (address, worker processes).
    Every process is ended on the way out, whatever happened."""
    from distributed import Client

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scheduler.json").unlink(missing_ok=True)
    procs = [_start([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", "scheduler.json"], folder / "scheduler.log")]
    try:
        address = _address(folder / "scheduler.json", procs[0])
        for n in range(workers):
            procs.append(_start([DASK, "worker", address, "--host", "127.0.0.1", "--nthreads",
                                 "1", "--no-nanny", "--no-dashboard", "--name", f"w{n}"],
                                folder / f"worker{n}.log"))
        with Client(address, timeout=START_SECONDS) as client:
            client.wait_for_workers(workers, timeout=START_SECONDS)
        yield address, procs[1:]
    finally:
        for proc in reversed(procs):
            _stop(proc)


def _address(path: Path, proc: subprocess.Popen) -> str:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError, ValueError, KeyError):
            return json.loads(path.read_text())["address"]
        time.sleep(0.2)
    raise RuntimeError(f"the Dask scheduler did not start (see {path.parent / 'scheduler.log'})")


def grade(source: Path, work: Path, subs: Path, name: str, *extra: str) -> tuple[float, float]:
    """One timed ``python -m autograder grade`` into ``work/name``: wall and CPU seconds of the
    grader process itself (its sandboxes are not its children on a cluster; locally they are
    counted too, so CPU is compared only between cluster runs)."""
    out = work / name
    shutil.rmtree(out, ignore_errors=True)  # results are stored in OUT: never reuse them
    cmd = [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out),
           "--source", str(source), "--build", str(work / "grader-build"), *extra]
    started = time.perf_counter()
    with open(work / f"{name}.log", "wb") as log:  # the cold path here, as on the workers
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, "AUTOGRADER_WARM": "0"})
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"grade {name} failed ({proc.returncode}): see {work / name}.log")
    graded = (out / "grades.csv").read_text().count(",graded,")
    expected = len(list(subs.glob("*/*.ipynb")))
    if graded != expected:
        raise RuntimeError(f"grade {name}: {graded} of {expected} notebooks graded")
    return wall, usage.ru_utime + usage.ru_stime


def round_trips(address: str, subs: Path, count: int = 30) -> list[float]:
    """Milliseconds for one Dask task that sends a submitted notebook to a worker and back
    (``copy.copy`` there: no grading), one after another: Dask's own cost per task."""
    import copy

    from distributed import Client

    payload = json.loads(sorted(subs.glob("*/*.ipynb"))[0].read_text())
    times = []
    with Client(address, timeout=START_SECONDS) as client:
        for _ in range(count + 3):  # the first few warm the connection up
            started = time.perf_counter()
            client.submit(copy.copy, payload, pure=False).result()
            times.append((time.perf_counter() - started) * 1000)
    return times[3:]


def projection(per_notebook_core: float, efficiency: float, parent: float,
               runs: int = 1) -> dict[int, float]:
    """Hours for ``CLASS`` notebooks on W worker cores: T(W) = N × max(s / (W × e), p / R),
    with s the seconds per notebook on one worker core, e the parallel efficiency, p the
    parent's CPU seconds per notebook (one parent feeds at most 1/p notebooks a second) and R
    the grading runs side by side, each with a core of its own (e.g. one per assignment, each
    into its own OUT, all sharing the cluster and the ``--db`` gradebook)."""
    return {w: CLASS * max(per_notebook_core / (w * efficiency), parent / runs) / 3600
            for w in CORES}


def plot(throughput: dict[str, dict[int, float]], path: Path) -> None:
    """Notebooks per hour against workers (1, 2): the Dask path, local --jobs, and ideal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    styles = {"Dask workers (--cluster)": ("#0072B2", "o", "-"),
              "this machine (--jobs)": ("#E69F00", "s", "--")}
    for label, points in throughput.items():
        colour, marker, line = styles[label]
        xs = sorted(points)
        ax.plot(xs, [points[x] for x in xs], color=colour, marker=marker, linestyle=line,
                label=label)
    dask = throughput["Dask workers (--cluster)"]
    ax.plot([1, 2], [dask[1], 2 * dask[1]], color="#009E73", linestyle=":", marker="^",
            label="ideal: linear in workers")
    ax.set(title="Grading throughput against workers", xlabel="workers (one core each)",
           ylabel="notebooks per hour", xticks=[1, 2])
    ax.set_ylim(bottom=0)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _timed_runs(source: Path, work: Path, subs: Path, one: Path, log) -> dict:
    walls, cpu = {}, {}
    for jobs in (1, 2):
        walls[f"local{jobs}"], _ = grade(source, work, subs, f"local{jobs}", "--jobs", str(jobs))
        log(f"  cluster: local --jobs {jobs}: {walls[f'local{jobs}']:.1f} s")
    for workers in (1, 2):
        with dask_processes(work / f"dask{workers}-processes", workers) as (address, _):
            walls[f"dask{workers}"], cpu[f"dask{workers}"] = grade(
                source, work, subs, f"dask{workers}", "--cluster", address)
            if workers == 2:
                walls["one"], cpu["one"] = grade(source, work, one, "one", "--cluster", address)
                trips = round_trips(address, subs)
        log(f"  cluster: {workers} Dask worker(s): {walls[f'dask{workers}']:.1f} s")
    return {"walls": walls, "cpu": cpu, "round_trips": trips}


def run(source: Path, work: Path, plot_path: Path, log=print) -> dict:
    work = work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    course, _ = build_class(source, work, students=1, seed=0)
    subs, one = work / "submissions", work / "one-submission"
    first = sorted(subs.glob("*/*.ipynb"))[0]
    (one / first.parent.name).mkdir(parents=True)
    shutil.copy(first, one / first.parent.name / first.name)
    n = len(list(subs.glob("*/*.ipynb")))
    log(f"  cluster: {n} notebooks, graded 4 ways")
    timed = _timed_runs(source, work, subs, one, log)
    walls, cpu = timed["walls"], timed["cpu"]
    throughput = {"Dask workers (--cluster)": {w: 3600 * n / walls[f"dask{w}"] for w in (1, 2)},
                  "this machine (--jobs)": {j: 3600 * n / walls[f"local{j}"] for j in (1, 2)}}
    per_core = walls["dask1"] / n
    efficiency = min(1.0, walls["dask1"] / (2 * walls["dask2"]))
    parent = max(0.0, (cpu["dask2"] - cpu["one"]) / max(1, n - 1))
    hours = projection(per_core, efficiency, parent)
    ideal = projection(per_core, 1.0, parent)
    split = projection(per_core, efficiency, parent, runs=RUNS)
    plot(throughput, plot_path)
    dask_tput = throughput["Dask workers (--cluster)"]
    rows = [
        row("Dask's own cost per task: a notebook to a worker and back, no grading",
            summarise(timed["round_trips"], "ms"), note="client → scheduler → worker → client"),
        row(f"Dask path overhead per notebook, 1 worker vs --jobs 1 ({n} notebooks)",
            summarise([(walls["dask1"] - walls["local1"]) / n], "s"),
            note="(Dask wall − local wall) / notebooks; start-up and checks included"),
        row("Dask path overhead per notebook, 2 workers vs --jobs 2",
            summarise([(walls["dask2"] - walls["local2"]) / n], "s")),
        row("throughput, 1 Dask worker", summarise([dask_tput[1]], "nb/h")),
        row("throughput, 2 Dask workers", summarise([dask_tput[2]], "nb/h"),
            note=f"parallel efficiency {efficiency:.0%} (2 workers share this machine's 2 "
                 "cores with the grader and the scheduler)"),
        row("parent CPU per notebook (scoring, storing, feedback)", summarise([parent], "s"),
            note=f"one parent feeds at most {3600 / parent:,.0f} nb/h" if parent else ""),
        *[row(f"projected: {CLASS:,} notebooks on {w} worker cores, one grading run",
              summarise([h], "h"), note=f"ideal efficiency: {ideal[w]:.2f} h; {RUNS} runs side "
              f"by side (one per assignment): {split[w]:.2f} h") for w, h in hours.items()],
    ]
    return {"config": {"notebooks": n, "workers": [1, 2], "class": CLASS, "cores": list(CORES)},
            "rows": rows, "walls": {k: round(v, 2) for k, v in walls.items()},
            "round_trips_ms": [round(t, 2) for t in timed["round_trips"]],
            "parent_cpu": {k: round(v, 2) for k, v in cpu.items()},
            "seconds_per_notebook_core": round(per_core, 3), "efficiency": round(efficiency, 3),
            "parent_seconds_per_notebook": round(parent, 4),
            "projected_hours": {str(w): round(h, 2) for w, h in hours.items()},
            "projected_hours_ideal": {str(w): round(h, 2) for w, h in ideal.items()},
            f"projected_hours_{RUNS}_runs": {str(w): round(h, 2) for w, h in split.items()},
            "plot": plot_path.name}
