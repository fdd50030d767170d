"""``gradebook.db``: nbgrader's gradebook with every autograded score, for nbgrader's own tools
(formgrader, ``nbgrader export``). Built in a temporary file, then swapped in."""
from __future__ import annotations

import warnings
from pathlib import Path

from .course import COURSE_ID, Assignment, alembic_head, nbgrader_meta
from .files import replacing
from .record import GRADED, INVALID, MISSING, GradeRow, in_order


def _add_course(gb, course: dict[str, Assignment]) -> None:
    for a in course.values():
        gb.update_or_create_assignment(a.id)
        gb.update_or_create_notebook(a.id, a.id)
        for cell in a.notebook.cells:
            meta = nbgrader_meta(cell)
            if meta.get("grade"):
                gb.update_or_create_grade_cell(meta["grade_id"], a.id, a.id,
                                               max_score=float(meta.get("points", 0)),
                                               cell_type=cell.cell_type)
            if meta.get("solution"):
                gb.update_or_create_solution_cell(meta["grade_id"], a.id, a.id)


def _add_row(gb, row: GradeRow) -> None:
    gb.update_or_create_student(row.student_id)
    submission = gb.add_submission(row.assignment, row.student_id)
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            test = row.test(grade.name)
            if test is not None and row.status == GRADED:
                grade.auto_score = test.points if test.passed else 0.0
    gb.db.commit()


def write_gradebook(course: dict[str, Assignment], rows: list[GradeRow], path: Path) -> None:
    import nbgrader.api
    from nbgrader.api import Gradebook

    nbgrader.api.get_alembic_version = alembic_head
    with replacing(path) as tmp, warnings.catch_warnings(), \
            Gradebook(f"sqlite:///{tmp}", course_id=COURSE_ID) as gb:
        # nbgrader's add_submission trips SQLAlchemy's autoflush warnings; they are harmless
        warnings.simplefilter("ignore")
        _add_course(gb, course)
        for row in in_order(rows):
            if row.status not in (MISSING, INVALID) and row.assignment in course:
                _add_row(gb, row)
