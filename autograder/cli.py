"""``python -m autograder release | grade | validate`` — the instructor's three commands.

    python -m autograder release [--out release/] [--source notebooks/]
    python -m autograder grade SUBMISSIONS [--out grading-out/] [--jobs N] [--timeout S]
                               [--no-sandbox]
    python -m autograder validate [--source notebooks/]
    python -m autograder formgrader OUT [--port 8888]   # grade written answers by hand
    python -m autograder feedback OUT [--source notebooks/]  # pages again, with those points

``grade`` exits 0 when the run completed, whatever the submissions did; it exits 2 with a
one-line message when it cannot run at all (SUBMISSIONS missing, OUT not writable, no course),
and with a short explanation when there is no working sandbox (bubblewrap): it never grades
students' code unsandboxed unless told to with ``--no-sandbox``, and then flags every row
``unsandboxed`` and says so in the report and the summary. ``validate`` runs only the course's
own notebooks: it uses the sandbox when there is one, and otherwise runs without it.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .collect import SubmissionsError
from .course import DEFAULT_BUILD, DEFAULT_SOURCE, CourseError, release
from .grade import GradeError, Summary, check_out, grade, load
from .manual import add_commands as add_manual_commands
from .record import STATUSES
from .sandbox import Limits, Sandbox
from .validate import Verdict, release_problems, validate


def unsandboxed_banner() -> str:
    lines = ["UNSANDBOXED RUN (--no-sandbox): these grades cannot be trusted.",
             "Every submission ran WITHOUT a sandbox: it could read the hidden tests, the",
             "solutions and the other students' files. Every row is flagged `unsandboxed`.",
             "Install bubblewrap (`make sysdeps`, or apt-get/dnf install bubblewrap) and grade",
             "again without --no-sandbox."]
    width = max(map(len, lines)) + 6
    return "\n".join(["!" * width, *(f"!! {line:<{width - 6}} !!" for line in lines), "!" * width])


def _limits(args) -> Limits:
    return Limits(timeout=args.timeout, memory_mb=args.memory_mb)


class Bar:
    """A progress bar on stderr while ``grade`` or ``validate`` executes notebooks; first, what
    ``notice(sandbox)`` has to say (e.g. that the run is not sandboxed)."""

    def __init__(self, what: str, notice, named: bool):
        self.what, self.notice, self.named, self.bar = what, notice, named, None

    def start(self, total: int, sandbox: Sandbox) -> None:
        from tqdm import tqdm

        text = self.notice(sandbox)
        if text:
            print(text, file=sys.stderr)
        self.bar = tqdm(total=total, file=sys.stderr, unit="nb", desc=self.what,
                        dynamic_ncols=True, disable=None)

    def done(self, row) -> None:
        if self.named:  # the row that just finished
            self.bar.set_postfix_str(f"{row.student_id}/{row.assignment}: {row.status}",
                                     refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _grading_notice(sandbox: Sandbox) -> str | None:
    return None if sandbox.use_bwrap else unsandboxed_banner()


def _validating_notice(sandbox: Sandbox) -> str | None:
    return None if sandbox.use_bwrap else \
        f"note: running the course's own notebooks without a sandbox ({sandbox.why_unsandboxed})"


def cmd_release(args) -> int:
    import nbformat

    course = load(args.source)
    check_out(args.out)
    ok = True
    for path in release(course, args.build, args.out):
        problems = release_problems(nbformat.read(path, as_version=4))
        ok &= not problems
        print(f"{path}  {'ok' if not problems else 'PROBLEMS: ' + '; '.join(problems)}")
    return 0 if ok else 1


def print_summary(summary: Summary, jobs: int, unsandboxed: bool) -> None:
    counts, out = summary.counts(), summary.out
    print(f"{len(summary.rows)} rows in {summary.seconds:.1f} s with {jobs} jobs: "
          + ", ".join(f"{counts[s]} {s}" for s in STATUSES))
    if summary.ignored:
        print(f"{len(summary.ignored)} file(s) skipped (listed in the report)")
    print(f"execution: {summary.sandbox}")
    print(f"grades:    {out / 'grades.csv'} (per test: tests.csv, nbgrader: gradebook.db)")
    print(f"feedback:  {out / 'feedback'}/<student>/<assignment>.html")
    print(f"report:    {out / 'report.html'}")
    print(f"similar:   {out / 'similarity.csv'} ({summary.pairs} pair(s) of similar answers)")
    if unsandboxed:
        print(unsandboxed_banner())


def cmd_grade(args) -> int:
    summary = grade(args.submissions, args.out, source=args.source, build=args.build,
                    limits=_limits(args), jobs=args.jobs, sandboxed=not args.no_sandbox,
                    progress=Bar("grading", _grading_notice, named=True))
    print_summary(summary, args.jobs, args.no_sandbox)
    return 0


def print_verdict(v: Verdict) -> None:
    def cell(r):
        return f"{r.score:g}/{v.assignment.max_score:g}" if r.score is not None else r.status
    print(f"{v.assignment.id:34} {cell(v.solution):>12} {cell(v.blank):>12}  "
          f"{'ok' if not v.problems else 'FAIL'}")
    for p in v.problems:
        print(f"    {p}")


def cmd_validate(args) -> int:
    verdicts, sandbox = validate(args.source, args.build, _limits(args), args.jobs,
                                 Bar("validating", _validating_notice, named=False))
    print(f"{'assignment':34} {'solution':>12} {'blank':>12}  verdict")
    for v in verdicts:
        print_verdict(v)
    print(f"execution: {sandbox.description}")
    return 0 if all(not v.problems for v in verdicts) else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp, out_default=None):
        sp.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                        help="folder of source notebooks NN_name.ipynb (default: notebooks/)")
        sp.add_argument("--build", type=Path, default=DEFAULT_BUILD,
                        help="nbgrader's generated course folder (default: build/nbgrader/)")
        if out_default is not None:
            sp.add_argument("--out", type=Path, default=Path(out_default),
                            help=f"output folder (default: {out_default}/)")

    def running(sp):
        sp.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="notebooks run side by side (default: number of cores)")
        sp.add_argument("--timeout", type=float, default=300.0,
                        help="seconds one notebook may run, all cells together; +15 s for the "
                             "kernel to start (default: 300)")
        sp.add_argument("--memory-mb", type=int, default=4096,
                        help="address-space limit of each process in MiB (default: 4096)")

    common(sub.add_parser("release", help="write the student notebooks"), "release")
    g = sub.add_parser("grade", help="grade a folder or zip of submissions")
    g.add_argument("submissions", type=Path, help="folder STUDENT/ASSIGNMENT.ipynb or a zip")
    common(g, "grading-out")
    running(g)
    g.add_argument("--no-sandbox", action="store_true",
                   help="grade even without a working bubblewrap sandbox. RISKY: submissions "
                        "can then read the hidden tests, the solutions and other students' "
                        "files; every row is flagged 'unsandboxed'")
    v = sub.add_parser("validate", help="solutions get full marks, the blank release gets 0")
    common(v)
    running(v)
    add_manual_commands(sub)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "jobs", 1) < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return 2
    if hasattr(args, "manual"):  # formgrader, feedback: written answers graded by hand
        return args.manual(args)
    command = {"release": cmd_release, "grade": cmd_grade, "validate": cmd_validate}[args.command]
    try:
        return command(args)
    except (GradeError, CourseError, SubmissionsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: finished submissions are saved; run the same command again to "
              "resume", file=sys.stderr)
        return 130


__all__ = ["main", "parser", "release_problems"]
