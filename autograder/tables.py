"""``grades.csv`` (a row per student and assignment), ``tests.csv`` (a row per test cell) and
``timings.csv`` (how long each notebook ran).

Rows are sorted (``record.in_order``) and numbers written with ``%g``, so that a re-run over
the same stored results writes the same bytes. Grades hold nothing measured: the same
submissions graded on another machine or a Dask cluster give a byte-identical ``grades.csv``;
the seconds a notebook took live in ``timings.csv``. An empty cell is "no value" (a row that was not
graded has no score), never a 0.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from .files import write_atomic
from .record import CSV_COLUMNS, GradeRow, in_order

TESTS_COLUMNS = ["student_id", "assignment", "test", "points", "passed", "message"]
TIMINGS_COLUMNS = ["student_id", "assignment", "status", "seconds"]


def number(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def csv_text(header: list[str], lines) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(lines)
    return buffer.getvalue()


def write_csv(rows: list[GradeRow], path: Path) -> None:
    write_atomic(path, csv_text(CSV_COLUMNS, (
        [r.student_id, r.name, r.assignment, r.language, number(r.score), number(r.max_score),
         r.status, r.reason, "yes" if r.late else "", "" if r.days_late is None else r.days_late,
         number(r.penalty), number(r.final_score), " | ".join(r.flags), r.file, r.submitted_at]
        for r in in_order(rows))))


def write_timings_csv(rows: list[GradeRow], path: Path) -> None:
    write_atomic(path, csv_text(TIMINGS_COLUMNS, (
        [r.student_id, r.assignment, r.status, number(r.seconds)] for r in in_order(rows))))


def write_tests_csv(rows: list[GradeRow], path: Path) -> None:
    write_atomic(path, csv_text(TESTS_COLUMNS, (
        [r.student_id, r.assignment, t.grade_id, number(t.points), int(t.passed), t.message]
        for r in in_order(rows) for t in r.tests)))
