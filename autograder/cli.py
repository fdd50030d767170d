"""``python -m autograder release | grade | validate`` — the instructor's three commands.

    python -m autograder release [--out release/] [--source notebooks/]
    python -m autograder grade SUBMISSIONS [--out grading-out/] [--jobs N] [--timeout S]
                               [--no-sandbox]
    python -m autograder validate [--source notebooks/]

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
import tempfile
import time
from pathlib import Path

# jsonschema's optional IRI checker compiles a grammar for ~3 s at import; nothing here uses it.
sys.modules.setdefault("rfc3987_syntax", None)

from .collect import SAFE_ID, SubmissionsError  # noqa: E402
from .course import DEFAULT_BUILD, DEFAULT_SOURCE, CourseError, nbgrader_meta, release  # noqa: E402
from .grade import GradeError, Task, check_out, execute, finish, load, plan  # noqa: E402
from .sandbox import INSTALL_BWRAP, Limits, Sandbox, bwrap_problem  # noqa: E402
from .scoring import GRADED, MISSING  # noqa: E402
from .similarity import write_similarity  # noqa: E402


UNSANDBOXED = "unsandboxed"  # the flag of every row graded with --no-sandbox


def no_sandbox_message(problem: str) -> str:
    """Why ``grade`` refuses to run without a sandbox, and what to do about it."""
    return (f"refusing to grade without a sandbox: {problem}.\n"
            "Without one, a submission runs with the grader's access and can read the hidden "
            "tests, the solutions and the other students' files (and change files the grader "
            "can write).\n"
            f"To fix it, {INSTALL_BWRAP}, then run the same command again.\n"
            "To grade anyway, accepting that risk, add --no-sandbox: every row is then flagged "
            f"`{UNSANDBOXED}`.")


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


def _progress(total: int, what: str):
    from tqdm import tqdm

    return tqdm(total=total, file=sys.stderr, unit="nb", desc=what, dynamic_ncols=True,
                disable=None)


def release_problems(nb) -> list[str]:
    """Why a released notebook is not fit for students (empty list when it is)."""
    problems = []
    for index, cell in enumerate(nb.cells):
        text = cell.source
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            if marker in text:
                problems.append(f"cell {index} contains {marker!r}")
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            problems.append(f"cell {index} has outputs")
        meta = nbgrader_meta(cell)
        if cell.cell_type == "code" and meta.get("solution") and \
                "raise NotImplementedError()" not in text:
            problems.append(f"answer cell {meta.get('grade_id')} has no `raise NotImplementedError()`")
    return problems


def errors_outside_tests(assignment, nb) -> list[str]:
    """Errors raised by cells that are not test cells (a solution notebook must have none)."""
    from .scoring import _error_text

    out = []
    for index, cell in enumerate((nb or {}).get("cells", [])):
        if cell["cell_type"] == "code" and nbgrader_meta(cell).get("grade_id") not in assignment.test_ids:
            text = _error_text(cell)
            if text:
                out.append(f"solution: cell {index} raised {text[:200]}")
    return out


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


def cmd_grade(args) -> int:
    from .report import (_exporter, status_counts, write_csv, write_feedback, write_gradebook,
                         write_report, write_tests_csv)

    started = time.monotonic()
    course = load(args.source)
    if not args.submissions.exists():
        raise GradeError(f"SUBMISSIONS {args.submissions} does not exist")
    problem = None if args.no_sandbox else bwrap_problem()
    if problem:  # before anything is written or run
        raise GradeError(no_sandbox_message(problem))
    check_out(args.out)
    limits = _limits(args)
    hide = [args.source, args.submissions, args.out, args.build]
    if args.no_sandbox:
        print(unsandboxed_banner(), file=sys.stderr)
        sandbox = Sandbox(limits, hide=hide, use_bwrap=False,
                          why_unsandboxed="--no-sandbox was given")
    else:
        sandbox = Sandbox(limits, hide=hide, use_bwrap=True)
    work = plan(args.submissions, course, limits)
    if args.no_sandbox:
        for r in work.rows:
            r["flags"].insert(0, UNSANDBOXED)
        for task in work.tasks:
            task.flags.insert(0, UNSANDBOXED)
            task.key += "-" + UNSANDBOXED  # a later sandboxed run never reuses these results
    rows = list(work.rows)
    exporter = _exporter()
    bar = _progress(len(work.tasks), "grading")

    def feedback(r: dict) -> None:
        if r["assignment"] in course and SAFE_ID.match(r["student_id"]) and r["status"] != MISSING:
            write_feedback(course[r["assignment"]], r,
                           args.out / "feedback" / r["student_id"] / f"{r['assignment']}.html",
                           exporter)
        r.pop("notebook", None)

    def on_done(task: Task, result: dict, cached: bool) -> None:
        r = finish(task, result)
        feedback(r)
        rows.append(r)
        bar.set_postfix_str(f"{task.student_id}/{task.assignment.id}: {r['status']}", refresh=False)
        bar.update(1)

    try:
        execute(work.tasks, sandbox, args.out, args.jobs, on_done)
    finally:
        bar.close()
    for r in work.rows:
        feedback(r)
    write_csv(rows, args.out / "grades.csv")
    write_tests_csv(rows, args.out / "tests.csv")
    write_gradebook(course, rows, args.out / "gradebook.db")
    similar, pairs = write_similarity(work.tasks, args.out / "similarity.csv")  # from answers
    write_report(course, rows, work.ignored, args.out / "report.html", sandbox.description,
                 unsandboxed=args.no_sandbox, sections=(similar,))
    counts = status_counts(rows)
    print(f"{len(rows)} rows in {time.monotonic() - started:.1f} s with {args.jobs} jobs: "
          + ", ".join(f"{counts[s]} {s}" for s in ("graded", "timeout", "error", "missing",
                                                     "invalid")))
    if work.ignored:
        print(f"{len(work.ignored)} file(s) skipped (listed in the report)")
    print(f"execution: {sandbox.description}")
    print(f"grades:    {args.out / 'grades.csv'} (per test: tests.csv, nbgrader: gradebook.db)")
    print(f"feedback:  {args.out / 'feedback'}/<student>/<assignment>.html")
    print(f"report:    {args.out / 'report.html'}")
    print(f"similar:   {args.out / 'similarity.csv'} ({pairs} pair(s) of similar answers)")
    if args.no_sandbox:
        print(unsandboxed_banner())
    return 0


def cmd_validate(args) -> int:
    import nbformat

    from .transplant import stub_answers, transplant

    course = load(args.source)
    released = release(course, args.build, args.build / "release-flat")
    limits = _limits(args)
    sandbox = Sandbox(limits, hide=[args.source, args.build])
    if not sandbox.use_bwrap:  # the course's own notebooks: fine without a sandbox
        print(f"note: running the course's own notebooks without a sandbox "
              f"({sandbox.why_unsandboxed})", file=sys.stderr)
    tasks = []
    for a, path in zip(course.values(), released):
        blank = nbformat.read(path, as_version=4)
        for who, nb in (("solution", a.notebook), ("blank", blank)):
            graft = transplant(a, nb, stub_answers(a))
            tasks.append(Task(who, a, path.name, who, graft.notebook, graft.flags, ""))
    results: dict[tuple[str, str], dict] = {}
    bar = _progress(len(tasks), "validating")

    def on_done(task, result, cached):
        results[(task.student_id, task.assignment.id)] = finish(task, result)
        bar.update(1)

    with tempfile.TemporaryDirectory() as scratch:
        try:
            execute(tasks, sandbox, Path(scratch), args.jobs, on_done)
        finally:
            bar.close()
    ok_all = True
    print(f"{'assignment':34} {'solution':>12} {'blank':>12}  verdict")
    for a, path in zip(course.values(), released):
        sol, blank = results[("solution", a.id)], results[("blank", a.id)]
        problems = release_problems(nbformat.read(path, as_version=4))
        if sol["status"] != GRADED or sol["score"] != a.max_score:
            failing = [f"{t}: {v['message'][:120]}" for t, v in sol["tests"].items() if not v["passed"]]
            problems.append(f"solution: {sol['status']} {sol['reason']} {'; '.join(failing)}".strip())
        problems += errors_outside_tests(a, sol.get("notebook"))
        if blank["status"] != GRADED or blank["score"] != 0:
            passing = [t for t, v in blank["tests"].items() if v["passed"]]
            problems.append(f"blank release: {blank['status']} {blank['reason']} "
                            f"passes {', '.join(passing)}".strip())
        ok_all &= not problems

        def cell(r):
            return f"{r['score']:g}/{a.max_score:g}" if r["score"] is not None else r["status"]
        print(f"{a.id:34} {cell(sol):>12} {cell(blank):>12}  {'ok' if not problems else 'FAIL'}")
        for p in problems:
            print(f"    {p}")
    print(f"execution: {sandbox.description}")
    return 0 if ok_all else 1


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
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "jobs", 1) < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return 2
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
