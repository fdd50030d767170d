"""The grading record: what grading one notebook gave, and the rows of ``grades.csv``.

``TestResult``      one autograded test cell: ``grade_id``, ``points`` it is worth, ``passed``
                    and, when it failed, ``message`` (``scoring.cell_failure``'s reason).
``NotebookResult``  what executing one submission gave: ``status``, ``reason`` (why it is not
                    graded; "" when graded), ``score`` (autograded points; None unless graded),
                    ``tests`` (a ``TestResult`` per test cell, in notebook order), ``flags`` raised
                    while running it (answer key used, output truncated), ``seconds`` it took,
                    the executed ``notebook`` (a dict, or None when there is none) and the
                    ``key`` of the task it belongs to (``plan.result_key``). Stored as
                    ``OUT/.results/<student>/<assignment>.json`` (``to_json``/``from_json``);
                    ``RESULT_VERSION`` goes into every key, so stored results of another version
                    are never reused.
``GradeRow``        one row of ``grades.csv`` (its columns: ``CSV_COLUMNS``) and of the report:
                    ``student_id``, ``assignment``, ``max_score`` (None for a notebook that is not
                    the course's), ``status``, ``reason``, ``score``, ``flags`` (the plan's, then
                    the run's), the submitted ``file`` and its ``origin`` (path or zip member),
                    ``seconds`` (None when nothing ran) and ``tests``; ``notebook`` is carried
                    only until the row's feedback page is written. The term's fields:
                    ``name`` (roster, else the LMS file name), ``submitted_at`` (ISO time, ""
                    when unknown), ``late_marker`` (the LMS said ``late``); set when the tables
                    are rebuilt (``term``): ``late``, ``days_late``, ``penalty`` (points off
                    the autograded score) and ``final_score``. ``language``: the edition the
                    student handed in (en, pt_BR, es), graded against that edition's notebook.

Statuses: ``graded`` (ran to the end), ``timeout``, ``error`` (unreadable file, kernel died,
``sys.exit``, grader failure), ``missing`` (no notebook for an assignment others in the batch
handed in), ``invalid`` (not gradable: unknown notebook, unsafe student id, no nbgrader cells).
Only graded rows have a score; the others say why in ``reason``, never a silent 0.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

RESULT_VERSION = "2"  # bump when a change of the grader must invalidate stored results

GRADED, TIMEOUT, ERROR, MISSING, INVALID = "graded", "timeout", "error", "missing", "invalid"
STATUSES = (GRADED, TIMEOUT, ERROR, MISSING, INVALID)
CSV_COLUMNS = ["student_id", "name", "assignment", "language", "score", "max_score", "status",
               "reason", "late", "days_late", "penalty", "final_score", "flags", "file",
               "submitted_at"]


@dataclass
class TestResult:
    """One autograded test cell of one submission."""

    __test__ = False  # not a pytest test class

    grade_id: str
    points: float
    passed: bool
    message: str = ""


@dataclass
class NotebookResult:
    """What executing one submission gave (see the module docstring)."""

    status: str
    reason: str = ""
    score: float | None = None
    tests: list[TestResult] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    seconds: float | None = None
    notebook: dict | None = None
    key: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> NotebookResult:
        data = json.loads(text)
        data["tests"] = [TestResult(**t) for t in data["tests"]]
        return cls(**data)


@dataclass
class GradeRow:
    """One row of ``grades.csv`` (see the module docstring)."""

    student_id: str
    assignment: str
    max_score: float | None
    status: str
    reason: str
    score: float | None = None
    flags: list[str] = field(default_factory=list)
    file: str = ""
    origin: str = ""
    seconds: float | None = None
    tests: list[TestResult] = field(default_factory=list)
    notebook: dict | None = field(default=None, repr=False, compare=False)
    name: str = ""
    submitted_at: str = ""
    late_marker: bool = False
    late: bool = False
    days_late: int | None = None
    penalty: float | None = None
    final_score: float | None = None
    language: str = "en"    # the edition submitted (``languages.submission_language``)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.pop("notebook")
        return data

    @classmethod
    def from_dict(cls, data: dict) -> GradeRow:
        data = dict(data, tests=[TestResult(**t) for t in data["tests"]])
        return cls(**data)

    @property
    def order(self) -> tuple[str, str, str]:
        """Rows are listed by student, then assignment, then file."""
        return self.student_id, self.assignment, self.file

    def test(self, grade_id: str) -> TestResult | None:
        return next((t for t in self.tests if t.grade_id == grade_id), None)


def in_order(rows: list[GradeRow]) -> list[GradeRow]:
    return sorted(rows, key=lambda r: r.order)
