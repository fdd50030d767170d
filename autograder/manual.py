"""Written answers graded by hand, in nbgrader's formgrader; feedback pages that include them.

    python -m autograder formgrader OUT [--port 8888]   # JupyterLab with formgrader on OUT
    python -m autograder feedback OUT                   # feedback pages again, with those points

``grade`` leaves OUT as an nbgrader course folder: ``autograded/<student>/<assignment>/
<assignment>.ipynb`` (``autograded``) and ``gradebook.db`` (``gradebook``), in which only the
written answers a student attempted are ``needs_manual_grade``. ``formgrader`` writes
``OUT/nbgrader_config.py`` (course root, course id, the gradebook) and starts JupyterLab in
OUT with nbgrader's server extension; a person opens *Nbgrader → Manual Grading* (the URL
``/formgrader``) and gives each written answer its points and a comment. ``feedback`` then
rewrites every feedback page from ``grades.csv``, ``tests.csv``, the autograded notebooks and
the points given by hand (``written_grades``), read through nbgrader's ``Gradebook`` API.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from .autograded import answers_digest, autograded_path, write_autograded, written_answers
from .collect import SAFE_ID
from .course import COURSE_ID, Assignment
from .feedback import Written, exporter, write_feedback
from .files import write_atomic
from .gradebook import DIGESTS, digests as _digests, open_gradebook
from .languages import edition_courses
from .record import ERROR, GRADED, MISSING, TIMEOUT, GradeRow, TestResult

CONFIG = '''"""nbgrader's settings for formgrader on this grading folder (python -m autograder formgrader)."""
c = get_config()  # noqa: F821
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = {course!r}
c.CourseDirectory.db_url = {db!r}
c.CourseDirectory.autograded_directory = "autograded"
'''


def write_config(out: Path) -> Path:
    out = out.resolve()
    path = out / "nbgrader_config.py"
    write_atomic(path, CONFIG.format(root=str(out), course=COURSE_ID,
                                     db=f"sqlite:///{out / 'gradebook.db'}"))
    return path


def formgrader_command(out: Path, port: int, browser: bool) -> list[str]:
    jupyter = Path(sys.executable).parent / "jupyter-lab"
    return [str(jupyter) if jupyter.exists() else "jupyter-lab", f"--port={port}",
            f"--ServerApp.root_dir={out.resolve()}", "--ServerApp.default_url=/formgrader",
            *([] if browser else ["--no-browser"]),
            *(["--allow-root"] if os.geteuid() == 0 else [])]  # a container's root user


def run_formgrader(out: Path, port: int = 8888, browser: bool = True) -> int:
    """JupyterLab on OUT with nbgrader's formgrader, until it is stopped (Ctrl-C)."""
    if not (out / "gradebook.db").exists():
        raise FileNotFoundError(f"{out / 'gradebook.db'} does not exist: grade into {out} first")
    write_config(out)
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep
               + os.environ.get("PATH", ""))
    return subprocess.call(formgrader_command(out, port, browser), cwd=out, env=env)


def written_grades(out: Path) -> dict[tuple[str, str], dict[str, tuple]]:
    """(student, assignment) -> {answer: (score or None, comment, needs_manual_grade)} of every
    written answer in OUT's gradebook, through nbgrader's ``Gradebook`` API."""
    found: dict[tuple[str, str], dict[str, tuple]] = {}
    if not (out / "gradebook.db").exists():
        return found
    with open_gradebook(out / "gradebook.db") as gb:
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                for nb in sub.notebooks:
                    comments = {c.name: c.comment or "" for c in nb.comments}
                    found[(sub.student.id, assignment.name)] = {
                        g.name: (None if g.needs_manual_grade else g.score,
                                 comments.get(g.name, ""), g.needs_manual_grade)
                        for g in nb.grades if g.name in comments}  # graded solution cells
    return found


def written_list(assignment: Assignment, nb: dict | None,
                 given: dict[str, tuple]) -> list[Written]:
    """A ``Written`` per written answer: attempted or not (nbgrader's rule on ``nb``), the
    points and comment given by hand (``given``, from ``written_grades``)."""
    if nb is None:
        return []
    auto = written_answers(assignment, nb)
    cells = {c.metadata.nbgrader.grade_id: c for c in nbformat.from_dict(nb).cells
             if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") in auto}
    result = []
    for grade_id, score in auto.items():
        points = float(cells[grade_id].metadata.nbgrader.get("points", 0))
        if score == 0:  # untouched: not attempted
            result.append(Written(grade_id, points, 0.0, attempted=False))
            continue
        manual, comment, pending = given.get(grade_id, (None, "", True))
        result.append(Written(grade_id, points, None if pending else manual, comment))
    return result


def _rows(out: Path) -> list[GradeRow]:
    """The rows of ``grades.csv`` with their tests from ``tests.csv``."""
    tests: dict[tuple[str, str], list[TestResult]] = {}
    with open(out / "tests.csv", newline="") as handle:
        for t in csv.DictReader(handle):
            tests.setdefault((t["student_id"], t["assignment"]), []).append(
                TestResult(t["test"], float(t["points"]), t["passed"] == "1", t["message"]))
    rows = []
    with open(out / "grades.csv", newline="") as handle:
        for r in csv.DictReader(handle):
            score = float(r["score"]) if r["score"] else None
            maximum = float(r["max_score"]) if r["max_score"] else None
            rows.append(GradeRow(r["student_id"], r["assignment"], maximum, r["status"],
                                 r["reason"], score, [f for f in r["flags"].split(" | ") if f],
                                 r["file"], tests=tests.get((r["student_id"], r["assignment"]),
                                                            []),
                                 language=r.get("language") or "en"))
    return rows


class Pages:
    """Writes each row's autograded notebook and feedback page: ``grade`` calls it as each row
    arrives (then drops the row's notebook), ``feedback`` for every row of OUT."""

    def __init__(self, course: dict[str, Assignment], out: Path,
                 editions: dict[str, dict[str, Assignment]] | None = None):
        """``editions``: lang -> the course in that edition (``languages.edition_courses``): a
        row's page compares its answers with the release of the edition handed in."""
        self.course, self.out, self.exporter = course, out, exporter()
        self.editions = editions or {}
        self.given, self.digests = written_grades(out), _digests(out / DIGESTS)

    def __call__(self, row: GradeRow, autograded: bool = True) -> None:
        if row.assignment in self.course and SAFE_ID.match(row.student_id) \
                and row.status != MISSING:
            edition = self.editions.get(row.language, {}).get(row.assignment)
            self.write(edition or self.course[row.assignment], row, autograded)
        row.notebook = None

    def write(self, assignment: Assignment, row: GradeRow, autograded: bool) -> None:
        key, written = (row.student_id, row.assignment), []
        if row.notebook and autograded:
            row.notebook = write_autograded(assignment, row.student_id, row.notebook, self.out)
        if row.notebook and row.status == GRADED:
            given = self.given.get(key, {})
            if self.digests.get("/".join(key), answers_digest(row.notebook)) \
                    != answers_digest(row.notebook):
                given = {}  # graded by hand for answers the student has since changed
            written = written_list(assignment, row.notebook, given)
        write_feedback(assignment, row, self.out / "feedback" / row.student_id /
                       f"{row.assignment}.html", self.exporter, written, row.language)


def regenerate_feedback(out: Path, course: dict[str, Assignment],
                        editions: dict[str, dict[str, Assignment]] | None = None) -> int:
    """Rewrite every feedback page of OUT with the points given by hand; the number written."""
    pages, count = Pages(course, out, editions), 0
    for row in _rows(out):
        path = autograded_path(out, row.student_id, row.assignment)
        if row.status in (GRADED, ERROR, TIMEOUT) and path.exists():
            row.notebook = nbformat.read(path, as_version=4)
        count += row.assignment in course and row.status != MISSING
        pages(row, autograded=False)
    return count


def _cmd_formgrader(args) -> int:
    out = args.out
    try:
        write_config(out)
        print(f"formgrader on {out.resolve()}: open http://localhost:{args.port}/formgrader "
              "(Manual Grading), Ctrl-C to stop; then run: python -m autograder feedback "
              f"{out}", file=sys.stderr)
        return run_formgrader(out, args.port, browser=not args.no_browser)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _cmd_feedback(args) -> int:
    from .course import CourseError, load_course

    if not (args.out / "grades.csv").exists():
        print(f"error: {args.out / 'grades.csv'} does not exist: grade into {args.out} first",
              file=sys.stderr)
        return 2
    try:
        course = load_course(args.source)
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="descent-editions-") as work:
        count = regenerate_feedback(args.out, course,
                                    edition_courses(args.source, course, Path(work)))
    print(f"{count} feedback page(s) in {args.out / 'feedback'} (with the points given by hand)")
    return 0


def add_commands(sub) -> None:
    """``formgrader`` and ``feedback`` for ``python -m autograder`` (``cli.parser``)."""
    from .course import DEFAULT_SOURCE

    f = sub.add_parser("formgrader", help="grade written answers by hand in nbgrader's "
                       "formgrader (JupyterLab on OUT)")
    f.add_argument("out", type=Path, help="the folder grade wrote (--out)")
    f.add_argument("--port", type=int, default=8888)
    f.add_argument("--no-browser", action="store_true", help="do not open a browser")
    f.set_defaults(manual=_cmd_formgrader)
    b = sub.add_parser("feedback", help="write the feedback pages again, with the points "
                       "given by hand in formgrader")
    b.add_argument("out", type=Path, help="the folder grade wrote (--out)")
    b.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                   help="folder of source notebooks NN_name.ipynb (default: notebooks/)")
    b.set_defaults(manual=_cmd_feedback)
