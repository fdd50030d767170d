"""nbgrader's autograded notebooks: ``OUT/autograded/<student>/<assignment>/<assignment>.ipynb``.

What ``nbgrader autograde`` would leave for formgrader to show: the executed notebook (the
pristine source with the student's answers transplanted), every nbgrader cell carrying the
``checksum`` of its released version (nbgrader's ``ComputeChecksums`` on the blank release), so
that nbgrader's own rule (``utils.determine_grade``) tells an untouched written answer (0 points,
"No response.") from one a person has to read. These files hold the hidden tests, as nbgrader's
do: they are written private to the instructor.

``written_answers(assignment, notebook)`` says, per written answer (a graded markdown or code
solution cell), whether it was attempted; ``answers_digest`` tells a later run whether a
student's written answers differ from the ones a person graded before.
"""
from __future__ import annotations

import copy
import functools
import hashlib
import json
from pathlib import Path

import nbformat

from .course import Assignment, nbgrader_meta
from .files import PRIVATE, write_atomic


def autograded_path(out: Path, student: str, assignment: str) -> Path:
    return out / "autograded" / student / assignment / f"{assignment}.ipynb"


@functools.lru_cache(maxsize=64)
def _checksums(path: Path, mtime: float) -> dict[str, str]:
    """grade_id -> checksum of every nbgrader cell of the released (blank) notebook."""
    from nbgrader.preprocessors import ComputeChecksums

    from .nbtools import blank

    released = blank(nbformat.read(path, as_version=4))
    released, _ = ComputeChecksums().preprocess(released, {})
    return {m["grade_id"]: m["checksum"] for c in released.cells
            if (m := nbgrader_meta(c)).get("grade_id") and "checksum" in m}


def checksums(assignment: Assignment) -> dict[str, str]:
    return _checksums(assignment.path, assignment.path.stat().st_mtime)


def autograded_notebook(assignment: Assignment, executed: dict) -> nbformat.NotebookNode:
    """The executed notebook with nbgrader's checksums, as ``nbgrader autograde`` leaves it."""
    nb = nbformat.from_dict(copy.deepcopy(executed))
    sums = checksums(assignment)
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade_id") in sums:
            meta["checksum"] = sums[meta["grade_id"]]
    return nb


def written_answers(assignment: Assignment, nb) -> dict[str, float | None]:
    """grade_id -> nbgrader's automatic score of each written answer: 0 when it is untouched
    (not attempted), None when a person has to grade it."""
    from nbgrader.utils import determine_grade, is_grade, is_solution

    scores = {}
    for cell in nbformat.from_dict(nb).cells:
        if is_grade(cell) and is_solution(cell):
            scores[nbgrader_meta(cell)["grade_id"]] = determine_grade(cell)[0]
    return scores


def answers_digest(nb) -> str:
    """A digest of the written answers (graded solution cells) of a notebook."""
    answers = {nbgrader_meta(c)["grade_id"]: c["source"] for c in nb["cells"]
               if nbgrader_meta(c).get("solution") and nbgrader_meta(c).get("grade")}
    return hashlib.sha256(json.dumps(answers, sort_keys=True).encode()).hexdigest()[:16]


def write_autograded(assignment: Assignment, student: str, executed: dict, out: Path) -> dict:
    """Write the autograded notebook of one submission; returns it (a dict)."""
    nb = autograded_notebook(assignment, executed)
    write_atomic(autograded_path(out, student, assignment.id), nbformat.writes(nb), PRIVATE)
    return nb
