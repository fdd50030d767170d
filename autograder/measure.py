"""Measure grading speed: this grader vs plain sequential ``nbgrader autograde`` vs bare nbclient.

    python -m autograder.measure [--students 3] [--jobs 2] [--source notebooks/] [--work DIR]

Every student hands in the solutions (answers transplanted into the nbgrader release), so all
three runs execute the same code. Prints one line per method with seconds per notebook.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.modules.setdefault("rfc3987_syntax", None)  # see cli.py

import nbformat  # noqa: E402

from .cli import main as cli_main  # noqa: E402
from .course import load_course, release  # noqa: E402


def _student_notebooks(course, released: Path, students: int, dest: Path) -> None:
    for a in course.values():
        nb = nbformat.read(released / f"{a.id}.ipynb", as_version=4)
        answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in a.notebook.cells
                   if c.metadata.get("nbgrader", {}).get("solution")}
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
        for s in range(students):
            target = dest / f"student{s}" / f"{a.id}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, target)


def _nbgrader_sequential(course, build: Path, submissions: Path) -> float:
    for student in submissions.iterdir():
        for nb in student.glob("*.ipynb"):
            target = build / "submitted" / student.name / nb.stem / nb.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(nb, target)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    started = time.perf_counter()
    for a in course.values():
        subprocess.run(["nbgrader", "autograde", a.id, "--force", "--Execute.kernel_name=python3",
                        f"--CourseDirectory.root={build}"], cwd=build, env=env, check=True,
                       capture_output=True)
    return time.perf_counter() - started


def _bare_nbclient(submissions: Path) -> float:
    from nbclient import NotebookClient

    started = time.perf_counter()
    for path in sorted(submissions.rglob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=600,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - started


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m autograder.measure", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--students", type=int, default=3)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--source", type=Path, default=Path("notebooks"))
    p.add_argument("--work", type=Path, default=Path("build/measure"))
    args = p.parse_args(argv)
    work = args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    course = load_course(args.source)
    release(course, work / "nbgrader", work / "release")
    _student_notebooks(course, work / "release", args.students, work / "submissions")
    n = args.students * len(course)

    started = time.perf_counter()
    cli_main(["grade", str(work / "submissions"), "--out", str(work / "out"), "--source",
              str(args.source), "--build", str(work / "unused"), "--jobs", str(args.jobs)])
    ours = time.perf_counter() - started
    nbgrader = _nbgrader_sequential(course, work / "nbgrader", work / "submissions")
    bare = _bare_nbclient(work / "submissions")
    print(f"\n{n} notebooks ({args.students} students x {len(course)} assignments), "
          f"{os.cpu_count()} cores")
    for name, seconds in ((f"python -m autograder grade --jobs {args.jobs}", ours),
                          ("nbgrader autograde, sequential", nbgrader),
                          ("bare nbclient, sequential, no sandbox", bare)):
        print(f"  {name:42} {seconds:7.1f} s  {seconds / n:5.2f} s/notebook")
    print(f"  speed-up vs nbgrader: {nbgrader / ours:.2f}x;  sandboxed per-notebook cost vs bare "
          f"nbclient: {(ours * args.jobs - bare) / n:+.2f} s (CPU-time equivalent)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
