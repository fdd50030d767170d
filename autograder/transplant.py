"""Build the notebook that is actually graded: the source notebook with the student's answers.

Only the student's *answer* cells travel, matched by nbgrader ``grade_id`` against the source's
solution cells; every other cell — imports, test cells with their hidden tests, text — comes
from the instructor's source. So deleting, editing, duplicating or relabelling a test cell
changes nothing (it is noted as a flag), and cells a student added are not run.
"""
from __future__ import annotations

import copy
import json
import warnings
from dataclasses import dataclass, field

import nbformat

from editions.code import code_skeleton

from .course import Assignment, nbgrader_meta


class Unreadable(Exception):
    """The submitted file is not a notebook we can read (status ``error``)."""


@dataclass
class Transplant:
    notebook: nbformat.NotebookNode
    answers: dict[str, str]            # grade_id -> the student's source
    flags: list[str] = field(default_factory=list)


def read_notebook(data: bytes) -> nbformat.NotebookNode:
    """Parse submitted bytes; anything that is not a UTF-8 JSON notebook raises ``Unreadable``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not UTF-8 text (byte {exc.start}): not a notebook file") from None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise Unreadable(f"not valid JSON ({exc.msg}, line {exc.lineno}): the file is "
                         "corrupted or truncated") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise Unreadable("JSON without a list of cells: not a Jupyter notebook")
    try:
        with warnings.catch_warnings():  # nbformat renumbers duplicated cell ids, and says so
            warnings.simplefilter("ignore")
            return nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for bad structure
        raise Unreadable(f"not a valid notebook: {str(exc)[:200]}") from None


def cell_ids(nb) -> list[str]:
    return [nbgrader_meta(c).get("grade_id") for c in nb.cells if nbgrader_meta(c).get("grade_id")]


def stub_answers(assignment: Assignment) -> dict[str, str]:
    """What the release has in each answer cell (``nbtools.blank``), for missing answers."""
    from .nbtools import blank

    nb = blank(assignment.notebook)
    return {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells
            if nbgrader_meta(c).get("solution")}


def _source_cells(assignment: Assignment) -> dict[str, nbformat.NotebookNode]:
    return {nbgrader_meta(c)["grade_id"]: c for c in assignment.notebook.cells
            if nbgrader_meta(c).get("grade_id")}


def transplant(assignment: Assignment, submitted, stubs: dict[str, str]) -> Transplant:
    """The source notebook with ``submitted``'s answer cells in place, outputs cleared."""
    source_cells = _source_cells(assignment)
    found: dict[str, list] = {}
    for cell in submitted.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id:
            found.setdefault(grade_id, []).append(cell)

    flags: list[str] = []
    answers: dict[str, str] = {}
    for grade_id in assignment.answer_ids:
        copies = [c for c in found.get(grade_id, []) if c.cell_type == source_cells[grade_id].cell_type]
        if not copies:
            flags.append(f"answer cell {grade_id} missing (the blank release cell was graded)")
            answers[grade_id] = stubs[grade_id]
            continue
        if len(copies) > 1:
            flags.append(f"answer cell {grade_id} appears {len(copies)} times (the first was graded)")
        answers[grade_id] = copies[0].source

    for test in assignment.tests:
        copies = found.get(test.grade_id, [])
        if not copies:
            flags.append(f"test cell {test.grade_id} deleted (the course's test was run)")
        elif len(copies) > 1:
            flags.append(f"test cell {test.grade_id} duplicated (the course's test was run once)")
        elif copies[0].cell_type != "code" or not nbgrader_meta(copies[0]).get("grade") \
                or nbgrader_meta(copies[0]).get("solution"):
            flags.append(f"test cell {test.grade_id} relabelled (the course's test was run)")
        elif not same_code(_visible(copies[0].source), _visible(source_cells[test.grade_id].source)):
            flags.append(f"test cell {test.grade_id} edited (the course's test was run)")
    unknown = sorted(set(found) - set(source_cells))
    if unknown:
        flags.append(f"cells with unknown grade ids ignored: {', '.join(unknown)[:200]}")
    # The course's own demo cells (no grade id) come back unchanged in every submission; only
    # cells the student wrote or changed are worth telling the instructor about.
    course_code = {_code_key(c.source) for c in assignment.notebook.cells if c.cell_type == "code"}
    added = sum(1 for c in submitted.cells if c.cell_type == "code"
                and not nbgrader_meta(c).get("grade_id") and c.source.strip()
                and _code_key(c.source) not in course_code)
    if added:
        flags.append(f"{added} code cell(s) added or changed by the student were not run "
                     "(grading runs the course's cells)")

    graded = copy.deepcopy(assignment.notebook)
    for cell in graded.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    graded.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
    return Transplant(graded, answers, flags)


def _code_key(source: str):
    """What a cell runs: its code without comments, docstrings and display text (the text of a
    translated edition changes when its catalog is improved mid-term; the code never does).
    A cell Python cannot read is keyed by its text."""
    skeleton = code_skeleton(source)
    return tuple(skeleton) if skeleton else source.strip()


def same_code(a: str, b: str) -> bool:
    return a == b or _code_key(a) == _code_key(b)


def _visible(source: str) -> str:
    """A test cell as the student saw it: hidden tests removed, whitespace normalised."""
    from .nbtools import HIDDEN_RE

    return "\n".join(line.rstrip() for line in HIDDEN_RE.sub("", source).strip().splitlines())


def answer_overlap(assignment: Assignment, nb) -> int:
    """How many of the assignment's answer and test cells ``nb`` carries (to spot renamed files)."""
    ids = set(cell_ids(nb))
    return len(ids & (set(assignment.answer_ids) | set(assignment.test_ids)))
