"""A small class for the cluster and PostgreSQL tests: the fixture course released, and each
student handing in every assignment solved, blank (as released) or with one wrong answer."""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

from autograder.course import load_course, release
from conftest import FIXTURE_COURSE

KINDS = ("solved", "blank", "wrong")


def _answered(source: Path, released: Path, kind: str) -> nbformat.NotebookNode:
    """The released notebook with the course's solutions as answers (``solved``), none
    (``blank``), or the solutions with the first answer's result negated (``wrong``)."""
    nb = nbformat.read(released, as_version=4)
    if kind == "blank":
        return nb
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source
                 for c in nbformat.read(source, as_version=4).cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    wrong_done = kind != "wrong"
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in solutions:
            cell.source = re.sub(r"\s*### (BEGIN|END) SOLUTION", "", solutions[grade_id])
            if not wrong_done and cell.cell_type == "code" and "return " in cell.source:
                cell.source = cell.source.replace("return ", "return -", 1)
                wrong_done = True
    return nb


def build(root: Path, students: int, assignments: list[str] | None = None,
          prefix: str = "s") -> tuple[Path, Path]:
    """``root/build`` (nbgrader's course folder) and ``root/subs/<student>/<id>.ipynb``; the
    kinds go round (solved, blank, wrong) over the students. Returns (build, submissions)."""
    course = load_course(FIXTURE_COURSE)
    build_dir, released = root / "build", root / "release"
    if not released.exists():
        release(course, build_dir, released)
    subs = root / f"subs-{prefix}"
    for number in range(students):
        for aid in assignments or list(course):
            kind = KINDS[number % len(KINDS)]
            nb = _answered(FIXTURE_COURSE / f"{aid}.ipynb", released / f"{aid}.ipynb", kind)
            target = subs / f"{prefix}{number:02d}" / f"{aid}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, target)
    return build_dir, subs
