"""``python -m autograder release | grade | validate`` — the instructor's three commands.

    python -m autograder release [--out release/] [--source notebooks/] [--lang L|all]
    python -m autograder grade SUBMISSIONS [--out grading-out/] [--jobs N] [--timeout S]
                               [--roster CSV] [--due ID=TIME]... [--late-policy P]
                               [--config JSON] [--no-sandbox]
                               [--cluster tcp://HOST:8786|local] [--db postgresql://...]
    python -m autograder export OUT --format canvas|moodle|csv [--to FILE]
    python -m autograder validate [--source notebooks/] [--lang en|pt_BR|es|all]
    python -m autograder formgrader OUT [--port 8888]   # grade written answers by hand
    python -m autograder feedback OUT [--source notebooks/]  # pages again, with those points

``grade`` exits 0 when the run completed, whatever the submissions did; it exits 2 with a
one-line message when it cannot run at all (SUBMISSIONS missing, OUT not writable, no course),
and with a short explanation when there is no working sandbox (bubblewrap): it never grades
students' code unsandboxed unless told to with ``--no-sandbox``, and then flags every row
``unsandboxed`` and says so in the report and the summary. ``validate`` runs only the course's
own notebooks: it uses the sandbox when there is one, and otherwise runs without it.

Languages (``languages``): ``release --lang pt_BR`` writes that edition to ``OUT/pt_BR/``
(``--lang all``: ``OUT/en/``, ``OUT/pt_BR/``, ``OUT/es/``); without ``--lang`` the English
release is written flat into OUT, as always. ``grade`` needs no option: each submission is
graded against its own edition. ``validate --lang`` checks an edition's solutions and release.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

from .cluster import ClusterError
from .collect import SubmissionsError
from .course import DEFAULT_BUILD, DEFAULT_SOURCE, CourseError, build_lock, release
from .database import DatabaseError, database_url, shown
from .grade import GradeError, Summary, check_out, grade, load
from .languages import LANGUAGES, edition_source, release_languages, translation_summary
from .manual import add_commands as add_manual_commands
from .record import STATUSES
from .roster import SettingsError
from .term import merge_settings
from .totals import FORMATS
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
    """A progress bar on stderr while ``grade`` or ``validate`` executes notebooks (tqdm:
    done/total and an ETA on a terminal; one plain line per notebook otherwise, for a log);
    first, what ``notice(sandbox)`` has to say (e.g. that the run is not sandboxed)."""

    def __init__(self, what: str, notice, named: bool):
        self.what, self.notice, self.named, self.bar = what, notice, named, None
        self.total, self.count, self.started = 0, 0, 0.0

    def start(self, total: int, sandbox: Sandbox) -> None:
        from tqdm import tqdm

        text = self.notice(sandbox)
        if text:
            print(text, file=sys.stderr)
        self.total, self.count, self.started = total, 0, time.monotonic()
        if sys.stderr.isatty():
            self.bar = tqdm(total=total, file=sys.stderr, unit="nb", desc=self.what,
                            dynamic_ncols=True)
        else:
            print(f"{self.what}: {total} notebook(s) to run", file=sys.stderr, flush=True)

    def done(self, row) -> None:
        self.count += 1
        if self.bar is None:
            print(plain_line(self.what, self.count, self.total, time.monotonic() - self.started,
                             f"{row.student_id}/{row.assignment}: {row.status}"
                             if self.named else ""), file=sys.stderr, flush=True)
            return
        if self.named:  # the row that just finished
            self.bar.set_postfix_str(f"{row.student_id}/{row.assignment}: {row.status}",
                                     refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def plain_line(what: str, done: int, total: int, seconds: float, detail: str) -> str:
    """One progress line for a log: done/total, elapsed, ETA, what finished."""
    eta = seconds / done * (total - done) if done else 0.0
    return (f"{what}: {done}/{total} done, {seconds:.0f} s elapsed, ETA {eta:.0f} s"
            + (f" ({detail})" if detail else ""))


def _grading_notice(sandbox: Sandbox) -> str | None:
    return None if sandbox.use_bwrap else unsandboxed_banner()


def _validating_notice(sandbox: Sandbox) -> str | None:
    return None if sandbox.use_bwrap else \
        f"note: running the course's own notebooks without a sandbox ({sandbox.why_unsandboxed})"


def cmd_release(args) -> int:
    course = load(args.source)
    check_out(args.out)
    if args.lang is None:   # the English release, flat in OUT
        return 0 if print_released(release(course, args.build, args.out)) else 1
    ok = True
    for lang in release_languages(args.lang):
        built: list = []
        with edition_source(lang, args.source, built) as folder:
            ok &= print_released(release(load(folder), args.build, args.out / lang))
        print(translation_summary(lang, built))
    return 0 if ok else 1


def print_released(paths: list[Path]) -> bool:
    """One line per released notebook; whether all of them are fit for students."""
    import nbformat

    ok = True
    for path in paths:
        problems = release_problems(nbformat.read(path, as_version=4))
        ok &= not problems
        print(f"{path}  {'ok' if not problems else 'PROBLEMS: ' + '; '.join(problems)}")
    return ok


def print_summary(summary: Summary, jobs: int | str, unsandboxed: bool) -> None:
    """``jobs``: how many ran side by side, or where (``on the Dask cluster …``)."""
    counts, out = summary.counts(), summary.out
    where = f"with {jobs} jobs" if isinstance(jobs, int) else jobs
    print(f"{len(summary.rows)} rows in {summary.seconds:.1f} s {where}: "
          + ", ".join(f"{counts[s]} {s}" for s in STATUSES))
    if summary.ignored:
        print(f"{len(summary.ignored)} file(s) skipped (listed in the report)")
    print(f"execution: {summary.sandbox}")
    print(f"grades:    {out / 'grades.csv'} (per test: tests.csv, nbgrader: gradebook.db), "
          f"{len(summary.term)} rows for the whole class (all runs into {out})")
    print(f"totals:    {out / 'totals.csv'} (LMS file: python -m autograder export {out} "
          "--format canvas|moodle|csv)")
    print(f"feedback:  {out / 'feedback'}/<student>/<assignment>.html")
    print(f"report:    {out / 'report.html'}")
    print(f"similar:   {out / 'similarity.csv'} ({summary.pairs} pair(s) of similar answers)")
    if unsandboxed:
        print(unsandboxed_banner())


def cmd_grade(args) -> int:
    course = load(args.source)
    settings = merge_settings(args.out, list(course), args.roster, args.due, args.late_policy,
                              args.config)
    db = database_url(args.db) if args.db else None
    summary = grade(args.submissions, args.out, source=args.source, build=args.build,
                    limits=_limits(args), jobs=args.jobs, sandboxed=not args.no_sandbox,
                    progress=Bar("grading", _grading_notice, named=True), settings=settings,
                    cluster=args.cluster, db=db)
    if not summary.rows and not summary.ignored:
        print(f"warning: no notebooks found in {args.submissions}", file=sys.stderr)
    print_summary(summary, f"on the Dask cluster {args.cluster}" if args.cluster else args.jobs,
                  args.no_sandbox)
    if db:
        print(f"shared:    nbgrader's gradebook also in {shown(db)}")
    return 0


def cmd_export(args) -> int:
    from .roster import Settings
    from .term import settings_path, term_rows
    from .totals import Term, manual_points, write_export

    if not (args.out / ".results").is_dir():
        raise GradeError(f"{args.out} holds no grading run (no .results folder): grade into it "
                         "first")
    course = load(args.source)
    settings = Settings.load(settings_path(args.out))
    term = Term(course, term_rows(course, args.out, settings), settings,
                manual_points(args.out, course))
    target = args.to or args.out / f"export-{args.format}.csv"
    write_export(term, args.format, target)
    print(f"{args.format}: {target} ({len(term.students)} students, "
          f"{len(term.assignments)} assignments)")
    return 0


def print_verdict(v: Verdict) -> None:
    def cell(r):
        return f"{r.score:g}/{v.assignment.max_score:g}" if r.score is not None else r.status
    print(f"{v.assignment.id:34} {cell(v.solution):>12} {cell(v.blank):>12}  "
          f"{'ok' if not v.problems else 'FAIL'}")
    for p in v.problems:
        print(f"    {p}")


def cmd_validate(args) -> int:
    ok = True
    for lang in release_languages(args.lang):
        with edition_source(lang, args.source) as folder:
            verdicts, sandbox = validate(folder, args.build, _limits(args), args.jobs,
                                         Bar(f"validating {lang}", _validating_notice,
                                             named=False))
        print(f"{'assignment (' + lang + ')':34} {'solution':>12} {'blank':>12}  verdict")
        for v in verdicts:
            print_verdict(v)
        print(f"execution: {sandbox.description}")
        ok &= all(not v.problems for v in verdicts)
    return 0 if ok else 1


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

    r = sub.add_parser("release", help="write the student notebooks")
    common(r, "release")
    r.add_argument("--lang", choices=(*LANGUAGES, "all"), help="write this edition (or all) "
                   "to OUT/LANG/ (default: the English release, flat in OUT)")
    g = sub.add_parser("grade", help="grade a folder or zip of submissions")
    g.add_argument("submissions", type=Path, help="folder STUDENT/ASSIGNMENT.ipynb or a zip")
    common(g, "grading-out")
    running(g)
    g.add_argument("--no-sandbox", action="store_true",
                   help="grade even without a working bubblewrap sandbox. RISKY: submissions "
                        "can then read the hidden tests, the solutions and other students' "
                        "files; every row is flagged 'unsandboxed'")
    term_options(g)
    g.add_argument("--cluster", metavar="ADDRESS", help="run the notebooks on the workers of "
                   "a Dask cluster: its scheduler, tcp://HOST:8786, or 'local' (a LocalCluster "
                   "of --jobs workers here); see the README's 'At scale'")
    g.add_argument("--db", metavar="URL", help="also write nbgrader's gradebook into this "
                   "PostgreSQL database (postgresql://USER:PASSWORD@HOST/DATABASE), shared by "
                   "runs and by nbgrader's formgrader and export")
    e = sub.add_parser("export", help="the gradebook import file of an LMS, from OUT")
    e.add_argument("out", type=Path, help="the folder grade wrote (--out)")
    e.add_argument("--format", choices=FORMATS, required=True,
                   help="canvas (gradebook CSV import), moodle (grade import CSV) or csv")
    e.add_argument("--to", type=Path, help="file to write (default: OUT/export-FORMAT.csv)")
    common(e)
    v = sub.add_parser("validate", help="solutions get full marks, the blank release gets 0")
    common(v)
    v.add_argument("--lang", choices=(*LANGUAGES, "all"), default="en",
                   help="the edition to check (default: en)")
    running(v)
    add_manual_commands(sub)
    return p


def term_options(g) -> None:
    g.add_argument("--roster", type=Path, help="CSV of the class (id, name, email; Canvas and "
                   "Moodle exports accepted): every student gets a row; kept for later runs")
    g.add_argument("--due", action="append", default=[], metavar="ID=TIME",
                   help="due date of an assignment, e.g. 07=2026-12-10T23:59 (UTC unless a "
                        "zone is given); repeatable; kept for later runs")
    g.add_argument("--late-policy", help="none, per-day:PERCENT (off per started day) or "
                   "zero-after:GRACE_HOURS (default: none; kept for later runs)")
    g.add_argument("--config", type=Path, help="course config JSON with keys due (an object "
                   "ID -> TIME), late_policy and roster (a path beside the file)")


def _bad_arguments(args) -> str | None:
    if getattr(args, "jobs", 1) < 1:
        return "--jobs must be at least 1"
    if getattr(args, "timeout", 1) <= 0:
        return "--timeout must be more than 0 seconds"
    if getattr(args, "cluster", None) == "":
        return "--cluster needs a scheduler address (tcp://HOST:8786) or 'local'"
    try:
        if getattr(args, "db", None) is not None:
            database_url(args.db)
    except DatabaseError as exc:
        return str(exc)
    return None


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    problem = _bad_arguments(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if hasattr(args, "manual"):  # formgrader, feedback: written answers graded by hand
        return args.manual(args)
    command = {"release": cmd_release, "grade": cmd_grade, "validate": cmd_validate,
               "export": cmd_export}[args.command]
    try:
        with build_lock(args.build) if hasattr(args, "build") else contextlib.nullcontext():
            return command(args)
    except (GradeError, CourseError, SubmissionsError, SettingsError, ClusterError,
            DatabaseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: finished submissions are saved; run the same command again to "
              "resume", file=sys.stderr)
        return 130


__all__ = ["main", "parser", "release_problems"]
