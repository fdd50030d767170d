"""``python -m bench`` (``make bench``): measure, then write bench/results.json and results.md.

    python -m bench                                  all six sections, default sizes (~17 min)
    python -m bench --only grading --students 30     the full class of the issue (~45 min+)
    python -m bench --only widgets,reference         quick sections only
    python -m bench --only widgets,browser           the explorers: in the kernel, in Chromium

Sections: notebooks, grading, widgets, reference, browser, cluster (see bench/README.md).
Sections not run keep their previous results in the files.
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

import autograder  # noqa: F401 - first: it blocks a slow optional import of nbformat's

from bench import report

REPO = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(report.SECTIONS),
                   help="comma-separated sections to run (default: all: "
                        f"{','.join(report.SECTIONS)})")
    p.add_argument("--source", type=Path, default=REPO / "notebooks",
                   help="source notebooks (default: notebooks/)")
    p.add_argument("--out", type=Path, default=HERE,
                   help="folder for results.json and results.md (default: bench/)")
    p.add_argument("--work", type=Path, default=REPO / "build" / "bench",
                   help="scratch folder, wiped per run (default: build/bench/)")
    p.add_argument("--repeat", type=int, default=3,
                   help="runs of each notebook (default: 3)")
    p.add_argument("--students", type=int, default=2,
                   help="synthetic class size for grading (default: 2; the issue's class is 30)")
    p.add_argument("--jobs", type=int, default=2, help="grader --jobs (default: 2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic class (default: 0)")
    p.add_argument("--widget-updates", type=int, default=30,
                   help="slider moves per widget run (default: 30)")
    p.add_argument("--widget-runs", type=int, default=3, help="runs per explorer (default: 3)")
    p.add_argument("--browser-samples", type=int, default=20,
                   help="key presses timed per explorer in Chromium (default: 20)")
    p.add_argument("--reference-repeat", type=int, default=7,
                   help="timed epochs per side (default: 7; Adam steps: 3× as many)")
    return p


def _commit() -> str:
    def git(*args):
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout
    sha = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    return sha + ("+uncommitted changes" if git("status", "--porcelain").strip() else "")


def _now() -> str:
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def _section(name: str, args, log) -> dict:
    if name == "notebooks":
        from bench import notebooks
        return notebooks.run(args.source, repeat=args.repeat, log=log)
    if name == "grading":
        from bench import grading
        return grading.run(args.source, args.work / "grading", students=args.students,
                           jobs=args.jobs, seed=args.seed, log=log)
    if name == "widgets":
        from bench import widgets
        return widgets.run(updates=args.widget_updates, runs=args.widget_runs, log=log)
    if name == "browser":
        from bench import browser
        return browser.run(samples=args.browser_samples, log=log)
    if name == "cluster":
        from bench import cluster
        return cluster.run(args.source, args.work / "cluster", args.out / cluster.PLOT, log=log)
    from bench import reference
    return reference.run(repeat=args.reference_repeat, log=log)


def _notes(name: str, result: dict) -> list[str]:
    if name == "notebooks" and result["errors"]:
        return [f"{stem} raised an error: {e}" for stem, e in result["errors"].items()]
    if name == "grading":
        c = result["config"]
        mix = ", ".join(f"{v} {k}" for k, v in sorted(c["mix"].items()))
        scores = ", ".join(f"{k} {v:.0%}" for k, v in result["mean_score_fraction_by_kind"].items())
        statuses = ", ".join(f"{v} {k}" for k, v in sorted(result["statuses"].items()))
        notes = [f"Class: {c['students']} students × {c['notebooks']} notebooks = "
                 f"{c['submissions']} submissions ({mix}; seed {c['seed']}). "
                 f"The issue's class is 30 students: `python -m bench --only grading "
                 f"--students 30` (about 45 min of nbgrader alone).",
                 f"Grader statuses: {statuses}. Mean score by kind: {scores} "
                 "(correct must be 100 %, blank 0 %).",
                 f"Each way of grading ran {c.get('rounds', 1)} time(s) on the whole class, "
                 "interleaved (the rows' n); the overhead row has one paired difference per "
                 "submission and round."]
        if result["killed_workers"]:
            notes.append(f"{result['killed_workers']} grader workers were killed from outside "
                         "(exit code 137: out of memory, or another process killing them); the "
                         "comparison is void. Re-run when the machine is quiet.")
        return notes
    if name == "reference":
        return [f"Verification epoch: numpy and torch end at the same weights (largest relative "
                f"difference {result['verification_max_relative_gap']:.1e})."]
    if name == "browser":
        return ["Each sample: one → (or ←) key press on the explorer's main slider, timed in "
                "the page from the keydown to the first paint of its canvas (drawImage wrapped); "
                "the kernel's work, the frame's trip through the server, decoding and painting. "
                "met? needs the median and the slowest within target."]
    if name == "cluster":
        return _cluster_notes(result)
    if name == "widgets":
        return ["Every explorer's moves, pooled over the runs: median (the target column), p90 "
                "and the slowest in the note; met? needs all three (≤ 30 ms, ≤ 50 ms, ≤ 150 ms)."]
    return []


def _cluster_notes(result: dict) -> list[str]:
    s, e, p = (result["seconds_per_notebook_core"], result["efficiency"],
               result["parent_seconds_per_notebook"])
    return [f"Projection: T(W) = N × max(s / (W × e), p / R) with N = "
            f"{result['config']['class']:,}, s = {s:.2f} s per notebook on one worker core "
            f"(1-worker wall / notebooks), e = {e:.2f} (measured at 2 workers; 'ideal' takes "
            f"e = 1), p = {p:.3f} s of the grading machine's CPU per notebook (mostly its "
            "feedback page) and R grading runs side by side (1, or one per assignment).",
            f"Throughput against workers: `bench/{result['plot']}`."]


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in sections if s not in report.SECTIONS]
    if unknown or not sections:
        print(f"error: --only takes {', '.join(report.SECTIONS)}; got {args.only!r}",
              file=sys.stderr)
        return 2
    for name in ("repeat", "students", "jobs", "widget_updates", "widget_runs",
                 "browser_samples", "reference_repeat"):
        if getattr(args, name) < 1:
            print(f"error: --{name.replace('_', '-')} must be at least 1", file=sys.stderr)
            return 2
    json_path, md_path = args.out / "results.json", args.out / "results.md"
    results = report.load(json_path)
    commit = _commit()

    def log(message: str) -> None:
        print(message, flush=True)

    started, failed = time.perf_counter(), []
    for name in sections:
        log(f"[{name}] load average {os.getloadavg()[0]:.2f}")
        load_before, t0, at = os.getloadavg(), time.perf_counter(), _now()
        try:
            result = _section(name, args, log)
        except Exception as exc:  # noqa: BLE001 - one broken section must not lose the others
            log(f"[{name}] FAILED: {type(exc).__name__}: {exc}")
            failed.append(name)
            result = {"config": {}, "rows": [], "error": f"{type(exc).__name__}: {str(exc)[:1000]}"}
        wall = time.perf_counter() - t0
        result["measured"] = {"at": at, "commit": commit, "cores": os.cpu_count(),
                              "wall_seconds": round(wall, 1), "load_before": load_before,
                              "load_after": os.getloadavg(), "python": platform.python_version(),
                              "machine": platform.platform()}
        result["notes"] = [] if "error" in result else _notes(name, result)
        results["sections"][name] = result
        log(f"[{name}] {wall:.0f} s")
        # Written after every section: an interrupted run keeps what it measured.
        results["last_run"] = {"command": "python -m bench " + shlex.join(argv or sys.argv[1:]),
                               "at": _now(), "wall_seconds": round(time.perf_counter() - started, 1),
                               "sections": sections}
        report.save(results, json_path, md_path)
    print(f"wrote {json_path} and {md_path} in {(time.perf_counter() - started) / 60:.1f} min")
    if failed:
        print(f"error: section(s) {', '.join(failed)} failed (see {md_path})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
