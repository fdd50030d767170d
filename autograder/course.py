"""The course as the grader sees it: source notebooks, their graded cells, and nbgrader's release.

Source notebooks are flat files ``SOURCE/NN_name.ipynb``; the assignment id is the file stem.
nbgrader wants its own layout (``source/<id>/<id>.ipynb`` + ``gradebook.db``), so ``build_course``
generates it in a build folder (never committed) and runs ``generate_assignment`` through
nbgrader's Python API (about four times faster than the CLI).
"""
from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ASSIGNMENT_RE = re.compile(r"^\d\d_[a-z0-9_]+$")
DEFAULT_SOURCE = Path("notebooks")
DEFAULT_BUILD = Path("build/nbgrader")


class CourseError(Exception):
    """The course itself is unusable (no notebooks, bad metadata): the run cannot proceed."""


COURSE_ID = "descent"   # nbgrader's course id, in the release and in every gradebook


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


@dataclass(frozen=True)
class TestCell:
    grade_id: str
    points: float
    hidden: bool


@dataclass
class Assignment:
    """One source notebook: what is graded, how much it is worth, which cells a student writes."""

    id: str
    path: Path
    notebook: nbformat.NotebookNode
    answer_ids: list[str] = field(default_factory=list)       # code + markdown solution cells
    tests: list[TestCell] = field(default_factory=list)        # autograded code cells
    manual_points: float = 0.0                                 # written answers, graded by hand

    @property
    def max_score(self) -> float:
        return sum(t.points for t in self.tests)

    @property
    def test_ids(self) -> list[str]:
        return [t.grade_id for t in self.tests]


def load_assignment(path: Path) -> Assignment:
    nb = nbformat.read(path, as_version=4)
    a = Assignment(id=path.stem, path=path, notebook=nb)
    seen: set[str] = set()
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        if not (meta.get("grade") or meta.get("solution") or meta.get("locked")):
            continue
        if not grade_id:
            raise CourseError(f"{path}: an nbgrader cell has no grade_id")
        if grade_id in seen:
            raise CourseError(f"{path}: grade_id {grade_id!r} is used twice")
        seen.add(grade_id)
        if meta.get("solution"):
            a.answer_ids.append(grade_id)
        if meta.get("grade"):
            points = float(meta.get("points", 0))
            if cell.cell_type == "code" and not meta.get("solution"):
                a.tests.append(TestCell(grade_id, points, "BEGIN HIDDEN TESTS" in cell.source))
            else:
                a.manual_points += points
    return a


def load_course(source: Path) -> dict[str, Assignment]:
    """Every ``NN_name.ipynb`` in ``source``, keyed by assignment id, in course order."""
    if not source.is_dir():
        raise CourseError(f"source folder {source} does not exist")
    paths = sorted(p for p in source.glob("*.ipynb") if ASSIGNMENT_RE.match(p.stem))
    if not paths:
        raise CourseError(f"no source notebooks (NN_name.ipynb) in {source}")
    return {p.stem: load_assignment(p) for p in paths}


_REVISION_RE = re.compile(r"^(down_)?revision\s*=\s*\W?(\w+)", re.M)


@functools.lru_cache(maxsize=1)
def alembic_head() -> str:
    """The gradebook schema's head revision, read from nbgrader's migration files.

    nbgrader asks by running the ``alembic heads`` command every time it opens a gradebook
    (about 4 s each here); the answer is a constant of the installed nbgrader.
    """
    import nbgrader

    revisions, parents = set(), set()
    for path in (Path(nbgrader.__file__).parent / "alembic" / "versions").glob("*.py"):
        for down, rev in _REVISION_RE.findall(path.read_text()):
            (parents if down else revisions).add(rev)
    heads = revisions - parents
    if len(heads) != 1:
        raise CourseError(f"cannot tell nbgrader's gradebook schema version (heads: {heads})")
    return heads.pop()


def _nbgrader_api(root: Path):
    # nbgrader's gradebook runs the `alembic` command by name: it lives beside this interpreter,
    # which is not on PATH when the venv's python is called directly.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    import nbgrader.api
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    nbgrader.api.get_alembic_version = alembic_head
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.course_id = COURSE_ID
    config.Execute.kernel_name = "python3"
    config.ClearHiddenTests.enforce_metadata = True
    # nbgrader logs every converted file at INFO; a release of nine notebooks should be quiet.
    config.Application.log_level = logging.WARNING
    return NbGraderAPI(CourseDirectory(config=config), config=config)


@contextlib.contextmanager
def build_lock(build: Path):
    """Hold the build folder for one command: two releases or validations sharing the default
    ``build/nbgrader`` would delete each other's gradebook.db mid-write ("readonly database")."""
    build = build.resolve()
    build.parent.mkdir(parents=True, exist_ok=True)
    with open(build.parent / f".{build.name}.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting: another command is using {build}", file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield build


def build_course(course: dict[str, Assignment], build: Path) -> Path:
    """nbgrader's course folder under ``build``: source/<id>/<id>.ipynb, release/, gradebook.db.

    Returns the folder of the release (``build/release``), one sub-folder per assignment.
    """
    build = build.resolve()
    if build.exists():
        shutil.rmtree(build)
    for a in course.values():
        target = build / "source" / a.id
        target.mkdir(parents=True)
        shutil.copyfile(a.path, target / f"{a.id}.ipynb")
    api = _nbgrader_api(build)
    for a in course.values():
        result = api.generate_assignment(a.id, force=True, create=True)
        if not result["success"]:
            raise CourseError(f"nbgrader generate_assignment failed for {a.id}:\n{result['log']}"
                              f"{result.get('error', '')}")
    return build / "release"


# Files of the source folder that travel with the release: nbgrader's settings for the students'
# Validate button (nbgrader reads nbgrader_config.py from the folder it runs in).
SHIPPED = ("nbgrader_config.py",)


def release(course: dict[str, Assignment], build: Path, out: Path) -> list[Path]:
    """Write the student version of every notebook flat as ``out/<id>.ipynb``, and beside them
    the ``SHIPPED`` files of the source folder. Returns the notebooks written."""
    released = build_course(course, build)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for a in course.values():
        target = out / f"{a.id}.ipynb"
        shutil.copyfile(released / a.id / f"{a.id}.ipynb", target)
        written.append(target)
    for source in {a.path.parent for a in course.values()}:
        for name in SHIPPED:
            if (source / name).is_file():
                shutil.copyfile(source / name, out / name)
    return written
