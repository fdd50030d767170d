"""The grading record: a stored result comes back equal, and only for the task it was made for."""
from __future__ import annotations

import json
from types import SimpleNamespace

from autograder.execute import load_stored, result_path
from autograder.files import write_atomic
from autograder.plan import Task
from autograder.record import GradeRow, NotebookResult, TestResult, in_order


def _result(key: str = "k1") -> NotebookResult:
    return NotebookResult("graded", "", 1.0,
                          [TestResult("test_a", 1.0, True), TestResult("test_b", 2.0, False,
                                                                       "CheckFailure: no")],
                          ["answer-key: test_b"], 3.25, {"cells": [], "metadata": {}}, key)


def test_a_result_round_trips_through_json():
    result = _result()
    text = result.to_json()
    assert NotebookResult.from_json(text) == result
    assert json.loads(text)["tests"][1] == {"grade_id": "test_b", "points": 2.0,
                                            "passed": False, "message": "CheckFailure: no"}


def test_a_stored_result_is_reused_only_for_its_own_key(tmp_path):
    assignment = SimpleNamespace(id="01_x", max_score=3.0)
    task = Task("alice", assignment, "01_x.ipynb", "alice/01_x.ipynb", {}, ["renamed"], "k1")
    write_atomic(result_path(tmp_path, task), _result("k1").to_json())
    assert load_stored(tmp_path, task) == _result("k1")
    task.key = "k2"
    assert load_stored(tmp_path, task) is None
    result_path(tmp_path, task).write_text('{"status": "graded"}')   # an older format
    assert load_stored(tmp_path, task) is None


def test_a_row_is_the_result_with_the_plans_flags_first():
    assignment = SimpleNamespace(id="01_x", max_score=3.0)
    task = Task("alice", assignment, "x.ipynb", "alice/x.ipynb", {}, ["renamed"], "k1")
    row = task.row(_result())
    assert row.flags == ["renamed", "answer-key: test_b"]
    assert (row.student_id, row.assignment, row.max_score, row.score, row.seconds) == \
        ("alice", "01_x", 3.0, 1.0, 3.25)
    assert row.test("test_b").message == "CheckFailure: no" and row.test("nope") is None
    later = GradeRow("alice", "00_a", None, "invalid", "unknown notebook")
    assert in_order([row, later]) == [later, row]
