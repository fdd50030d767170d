"""Section 2: grading throughput — this grader vs plain nbgrader vs bare nbclient, same class.

A synthetic class hands in every assignment: ``students`` × the course's notebooks, built from
nbgrader's student release. Each submission gets one kind, dealt from a fixed mix by a seeded
shuffle (so every size keeps the same proportions, and every run the same class):

- ``correct``  every answer cell holds the worked solution (4 in 8);
- ``partial``  a seeded half of the answer cells solved, the rest left as released (2 in 8);
- ``wrong``    every code answer has one deliberate slip: the first ``-`` of the solution turned
               into ``+`` (else ``+`` into ``-``, else ``*`` into ``/``) (1 in 8);
- ``blank``    the release as handed out: ``raise NotImplementedError()`` everywhere (1 in 8).

The same submissions are then graded four ways, one after the other, each timed as a whole,
in ``rounds`` rounds (default 3: the rows are medians):

1. ``python -m autograder grade SUBMISSIONS --jobs J`` (sandboxed, parallel), as a subprocess;
2. plain ``nbgrader autograde ASSIGNMENT`` per assignment, one after another (its own course
   folder, ``submitted/<student>/<assignment>/``), as an instructor without this grader would;
3. plain nbgrader in J processes on the same J cores (``grade_nbgrader_parallel``: students
   dealt round-robin, each process with its own copy of the course folder);
4. bare nbclient: the very notebooks our grader executes (source + the student's answers),
   J at a time, no sandbox, no scoring — what executing them costs at the least.

The speed-ups are (2)/(1) and, the honest one, (3)/(1) (same cores on both sides). The per-notebook overhead pairs each submission's time in (1), from
``timings.csv`` (sandbox start to verified result, kernel included), with its time in (4): the
cost of the sandbox, the worker's start-up and the result's journey — at the same parallelism.
"""
from __future__ import annotations

import concurrent.futures as cf
import csv
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import nbformat

from autograder.course import nbgrader_meta
from bench.stats import row, summarise

REPO = Path(__file__).resolve().parent.parent
TARGET_SPEEDUP = 4.0   # on 2 cores, over sequential nbgrader
TARGET_PER_CORE = 2.0  # over nbgrader in as many processes as our --jobs, on the same cores
TARGET_OVERHEAD_S = 1.5
MIX = ("correct",) * 4 + ("partial",) * 2 + ("wrong", "blank")
SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION.*\n?", re.M)
SOLUTION_BODY = re.compile(r"### BEGIN SOLUTION[^\n]*\n(.*?)^[ \t]*### END SOLUTION", re.S | re.M)
SLIPS = ((" - ", " + "), (" + ", " - "), (" * ", " / "))


# ---------------------------------------------------------------- the synthetic class

def solution_text(cell) -> str:
    """What a student who got it right types: the solution without nbgrader's markers."""
    return SOLUTION_MARKER.sub("", cell.source)


def slipped_text(cell) -> str:
    """The solution with one deliberate slip in its body (see ``SLIPS``); the released stub
    when the body has none of those operators (the student gave up)."""
    match = SOLUTION_BODY.search(cell.source) if cell.cell_type == "code" else None
    if match is None:
        return solution_text(cell)
    body = match.group(1)
    for old, new in SLIPS:
        if old in body:
            broken = cell.source[:match.start(1)] + body.replace(old, new, 1) + \
                cell.source[match.end(1):]
            return SOLUTION_MARKER.sub("", broken)
    return None


def deal_kinds(students: int, assignments: list[str], seed: int) -> dict[tuple[str, str], str]:
    """(student id, assignment) → kind: ``MIX`` repeated to the class size, shuffled by ``seed``."""
    keys = [(f"student{s:02d}", a) for s in range(students) for a in assignments]
    kinds = [MIX[i % len(MIX)] for i in range(len(keys))]
    random.Random(seed).shuffle(kinds)
    return dict(zip(keys, kinds))


def make_submission(source_nb, released_nb, kind: str, rng: random.Random):
    """The released notebook with answer cells filled in as a student of ``kind`` would."""
    solutions = {nbgrader_meta(c)["grade_id"]: c for c in source_nb.cells
                 if nbgrader_meta(c).get("solution")}
    solved = set()
    if kind in ("correct", "wrong"):
        solved = set(solutions)
    elif kind == "partial":
        ids = sorted(solutions)
        solved = set(rng.sample(ids, max(1, len(ids) // 2)))
    nb = nbformat.from_dict(released_nb)
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)  # a deep copy
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id not in solved:
            continue
        text = slipped_text(solutions[grade_id]) if kind == "wrong" else \
            solution_text(solutions[grade_id])
        if text is not None:
            cell.source = text
    return nb


def build_class(source: Path, work: Path, students: int, seed: int):
    """nbgrader's course folder, the release and ``work/submissions/<student>/<id>.ipynb``."""
    from autograder.course import load_course, release

    course = load_course(source)
    release(course, work / "nbgrader", work / "release")
    kinds = deal_kinds(students, list(course), seed)
    rng = random.Random(seed)
    for (student, aid), kind in kinds.items():
        released = nbformat.read(work / "release" / f"{aid}.ipynb", as_version=4)
        nb = make_submission(course[aid].notebook, released, kind, rng)
        target = work / "submissions" / student / f"{aid}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
    return course, kinds


# ---------------------------------------------------------------- the three ways to grade

def _venv_env() -> dict[str, str]:
    """The bench's own environment, with this interpreter's scripts (nbgrader, alembic) first."""
    bindir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}


def grade_ours(source: Path, work: Path, jobs: int) -> tuple[float, list[dict]]:
    out = work / "grading-out"
    shutil.rmtree(out, ignore_errors=True)  # results are cached in OUT: never reuse them
    cmd = [sys.executable, "-m", "autograder", "grade", str(work / "submissions"), "--out",
           str(out), "--source", str(source), "--build", str(work / "grader-build"),
           "--jobs", str(jobs)]
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=REPO, env=_venv_env(), capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"autograder grade failed ({done.returncode}): {done.stderr[-2000:]}")
    with open(out / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(out / "timings.csv", newline="") as handle:
        took = {(t["student_id"], t["assignment"]): t["seconds"] for t in csv.DictReader(handle)}
    for r in rows:
        r["seconds"] = took[r["student_id"], r["assignment"]]
    return seconds, rows


def grade_nbgrader(course, work: Path) -> float:
    """``nbgrader autograde`` once per assignment, in the nbgrader course folder of the release."""
    root = work / "nbgrader"
    for notebook in (work / "submissions").glob("*/*.ipynb"):
        target = root / "submitted" / notebook.parent.name / notebook.stem / notebook.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, target)
    started = time.perf_counter()
    for aid in course:
        done = subprocess.run(["nbgrader", "autograde", aid, "--force",
                               "--Execute.kernel_name=python3", f"--CourseDirectory.root={root}"],
                              cwd=root, env=_venv_env(), capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"nbgrader autograde {aid} failed: {done.stderr[-2000:]}")
    seconds = time.perf_counter() - started
    graded = list((root / "autograded").glob("*/*/*.ipynb"))
    expected = len(list((work / "submissions").glob("*/*.ipynb")))
    if len(graded) != expected:
        raise RuntimeError(f"nbgrader autograded {len(graded)} notebooks, expected {expected}")
    return seconds


def _nbgrader_share(root: Path, share: Path, students: list[str], aids, core: int) -> None:
    """One of the parallel nbgrader processes: its own copy of the course folder (nbgrader's
    gradebook is one sqlite file: two autogrades on one would lock each other out) holding only
    ``students``, every assignment one after another, pinned to ``core``."""
    shutil.rmtree(share, ignore_errors=True)
    shutil.copytree(root, share, ignore=shutil.ignore_patterns("submitted", "autograded",
                                                              "feedback"))
    for student in students:
        shutil.copytree(root / "submitted" / student, share / "submitted" / student)
    for aid in aids:
        done = subprocess.run(["nbgrader", "autograde", aid, "--force",
                               "--Execute.kernel_name=python3", f"--CourseDirectory.root={share}"],
                              cwd=share, env=_venv_env(), capture_output=True, text=True,
                              preexec_fn=lambda: os.sched_setaffinity(0, {core}))
        if done.returncode != 0:
            raise RuntimeError(f"nbgrader autograde {aid} failed: {done.stderr[-2000:]}")


def grade_nbgrader_parallel(course, work: Path, jobs: int) -> float:
    """Plain nbgrader in ``jobs`` processes on ``jobs`` cores: the students dealt round-robin,
    each share graded sequentially by ``_nbgrader_share``. (After ``grade_nbgrader``, which
    fills ``nbgrader/submitted``.)"""
    root = work / "nbgrader"
    students = sorted(p.name for p in (root / "submitted").iterdir())
    cores = sorted(os.sched_getaffinity(0))
    shares = [(root, work / f"nbgrader-{k}", students[k::jobs], list(course),
               cores[k % len(cores)]) for k in range(jobs)]
    started = time.perf_counter()
    with cf.ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(lambda args: _nbgrader_share(*args), shares))
    seconds = time.perf_counter() - started
    graded = [p for k in range(jobs) for p in (work / f"nbgrader-{k}" / "autograded")
              .glob("*/*/*.ipynb")]
    expected = len(list((work / "submissions").glob("*/*.ipynb")))
    if len(graded) != expected:
        raise RuntimeError(f"parallel nbgrader autograded {len(graded)}, expected {expected}")
    return seconds


def _kernel_environment() -> dict[str, str]:
    """The variables our sandbox sets for its kernels (threads, backend, hash seed), so the bare
    run differs from ours only by the sandbox, not by what the kernels compute with."""
    from autograder.sandbox import Limits, Sandbox

    env = Sandbox(Limits(), hide=[], use_bwrap=False).environment()
    return {k: v for k, v in env.items() if k not in ("PATH", "HOME")}


def _execute_bare(job: tuple[str, str, dict]) -> tuple[str, str, float]:
    from nbclient import NotebookClient

    student, aid, notebook = job
    nb = nbformat.from_dict(notebook)
    with tempfile.TemporaryDirectory(prefix="bench-bare-") as cwd:
        started = time.perf_counter()
        NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": cwd}}).execute()
        return student, aid, time.perf_counter() - started


def _pool_init(env: dict[str, str]) -> None:
    os.environ.update(env)
    import autograder  # noqa: F401 - blocks a slow optional import of nbformat's


def grade_bare(course, work: Path, jobs: int) -> tuple[float, dict[tuple[str, str], float]]:
    """Execute the notebooks our grader runs (source + answers), ``jobs`` at a time."""
    from autograder.transplant import stub_answers, transplant

    stubs = {aid: stub_answers(a) for aid, a in course.items()}
    todo = []
    for path in sorted((work / "submissions").glob("*/*.ipynb")):
        student, aid = path.parent.name, path.stem
        graft = transplant(course[aid], nbformat.read(path, as_version=4), stubs[aid])
        todo.append((student, aid, graft.notebook))
    times = {}
    started = time.perf_counter()
    with cf.ProcessPoolExecutor(max_workers=jobs, initializer=_pool_init,
                                initargs=(_kernel_environment(),)) as pool:
        for student, aid, seconds in pool.map(_execute_bare, todo):
            times[(student, aid)] = seconds
    return time.perf_counter() - started, times


# ---------------------------------------------------------------- the section

def with_load(fn, *args):
    """``fn(*args)`` and the 1-min load average before and after: the three ways run one after
    the other, so a change of load between them shows here. (Their CPU time cannot be compared:
    the kernels in the sandbox's PID namespace are not accounted to our RUSAGE_CHILDREN.)"""
    load = os.getloadavg()[0]
    result = fn(*args)
    return result, (load, os.getloadavg()[0])


def one_round(course, source: Path, work: Path, jobs: int, log) -> dict:
    """The four ways, one after the other, on the same class: their wall times and loads."""
    (ours, grades), ours_load = with_load(grade_ours, source, work, jobs)
    log(f"  grading: python -m autograder grade --jobs {jobs}: {ours:.1f} s, {ours_load}")
    theirs, theirs_load = with_load(grade_nbgrader, course, work)
    log(f"  grading: nbgrader autograde, sequential: {theirs:.1f} s, {theirs_load}")
    parallel, parallel_load = with_load(grade_nbgrader_parallel, course, work, jobs)
    log(f"  grading: nbgrader autograde, {jobs} processes: {parallel:.1f} s, {parallel_load}")
    (bare, bare_times), bare_load = with_load(grade_bare, course, work, jobs)
    log(f"  grading: bare nbclient, {jobs} at a time: {bare:.1f} s, {bare_load}")
    return {"ours": ours, "grades": grades, "theirs": theirs, "parallel": parallel,
            "bare": bare, "bare_times": bare_times,
            "load": {"grader": ours_load, "nbgrader": theirs_load, "bare": bare_load,
                     "nbgrader_parallel": parallel_load}}


def _paired(rounds: list[dict], kinds) -> tuple[list[float], Counter, dict, int]:
    """Per-submission overheads (grader − bare, same round), statuses, scores by kind, and the
    grader workers killed from outside, over every round."""
    overheads, statuses, by_kind, killed = [], Counter(), defaultdict(list), 0
    for r in rounds:
        for g in r["grades"]:
            key = (g["student_id"], g["assignment"])
            statuses[g["status"]] += 1
            killed += "exit code 137" in g["reason"]
            if g["status"] == "graded" and key in r["bare_times"] and g["seconds"]:
                overheads.append(float(g["seconds"]) - r["bare_times"][key])
            if key in kinds and g["score"]:
                by_kind[kinds[key]].append(float(g["score"]) / float(g["max_score"]))
    return overheads, statuses, by_kind, killed


def run(source: Path, work: Path, students: int = 2, jobs: int = 2, seed: int = 0,
        log=print, rounds: int = 3) -> dict:
    """``rounds`` rounds of the four ways (interleaved, so a change of load hits them all);
    each row is the median over the rounds, each speed-up the median of per-round ratios."""
    work = work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    course, kinds = build_class(source, work, students, seed)
    n = len(kinds)
    log(f"  grading: class of {students} students × {len(course)} notebooks = {n} submissions "
        f"({dict(Counter(kinds.values()))})")
    done = [one_round(course, source, work, jobs, log) for _ in range(rounds)]
    overheads, statuses, by_kind, killed = _paired(done, kinds)
    if not overheads:
        raise RuntimeError(f"no submission was graded (statuses: {dict(statuses)})")
    rows = _rows(done, n, jobs, overheads, killed)
    mean_scores = {k: round(sum(v) / len(v), 3) for k, v in sorted(by_kind.items())}
    last = done[-1]
    return {"config": {"students": students, "notebooks": len(course), "submissions": n,
                       "jobs": jobs, "seed": seed, "rounds": rounds,
                       "mix": dict(Counter(kinds.values()))},
            "rows": rows, "statuses": dict(statuses), "killed_workers": killed,
            "load": last["load"], "loads": [r["load"] for r in done],
            "mean_score_fraction_by_kind": mean_scores,
            "bare_seconds": {f"{s}/{a}": t for (s, a), t in sorted(last["bare_times"].items())},
            "grader_seconds": {f"{g['student_id']}/{g['assignment']}": g["seconds"]
                               for g in last["grades"]}}


def _rows(done: list[dict], n: int, jobs: int, overheads: list[float], killed: int) -> list:
    def col(name):
        return [r[name] for r in done]

    def used(name, load):
        loads = [r["load"][load] for r in done]
        return (f"{statistics.median(col(name)) / n:.2f} s per notebook; load "
                + ", ".join(f"{a:.1f} → {b:.1f}" for a, b in loads))

    # A worker killed from outside (SIGKILL, exit code 137: the OOM killer, or before 81e2747
    # another grader run sharing the slot uids) ends early: the grader's time is then too short
    # and the comparison void.
    void = f"VOID: {killed} grader workers were killed from outside" if killed else ""
    per = f"{n} notebooks"
    ratio = [r["theirs"] / r["ours"] for r in done]
    per_core = [r["parallel"] / r["ours"] for r in done]
    return [
        row(f"python -m autograder grade --jobs {jobs}: {per}", summarise(col("ours"), "s"),
            note=used("ours", "grader") + "; sandboxed, warm slots; feedback and report included"),
        row(f"nbgrader autograde, one assignment after another: {per}",
            summarise(col("theirs"), "s"), note=used("theirs", "nbgrader") + "; no feedback pages"),
        row(f"nbgrader autograde in {jobs} processes on {jobs} cores: {per}",
            summarise(col("parallel"), "s"),
            note=used("parallel", "nbgrader_parallel") + "; students dealt round-robin"),
        row(f"bare nbclient, {jobs} at a time, no sandbox: {per}", summarise(col("bare"), "s"),
            note=used("bare", "bare")),
        row("speed-up over sequential nbgrader", summarise(ratio, "×"),
            None if killed else TARGET_SPEEDUP, at_least=True, note=void),
        row(f"speed-up over nbgrader in {jobs} processes (per core, same cores)",
            summarise(per_core, "×"), None if killed else TARGET_PER_CORE,
            at_least=True, note=void or "the honest figure: both use the same cores"),
        row("per-notebook overhead over bare nbclient (paired)", summarise(overheads, "s"),
            None if killed else TARGET_OVERHEAD_S,
            note=void or f"one pair per submission and round, both {jobs} at a time"),
        row("grader wall time over bare nbclient, per notebook",
            summarise([(r["ours"] - r["bare"]) / n for r in done], "s"),
            note="(grader − bare) / notebooks: adds the run's fixed costs (start-up, "
                 "gradebook, report) to the paired overhead"),
    ]
