"""Fast tests of the autograder's parts: no kernel is started here (see test_autograder_corpus)."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
import zipfile

import nbformat
import pytest

from autograder.cli import main, release_problems
from autograder.collect import collect, match_assignment
from autograder.course import load_course, release
from autograder.flags import scan
from autograder.transplant import Unreadable, read_notebook, stub_answers, transplant
from conftest import FIXTURE_COURSE, REPO

ADD = "01_fixture_add"


@pytest.fixture(scope="module")
def course():
    return load_course(FIXTURE_COURSE)


@pytest.fixture(scope="module")
def released(course, tmp_path_factory):
    root = tmp_path_factory.mktemp("release")
    paths = release(course, root / "build", root / "out")
    return {p.stem: nbformat.read(p, as_version=4) for p in paths}


def test_course_reads_points_answers_and_hidden_tests(course):
    add = course[ADD]
    assert add.answer_ids == ["add", "scale", "explain_add"]
    assert [(t.grade_id, t.points, t.hidden) for t in add.tests] == [
        ("test_add_visible", 1.0, False), ("test_add_hidden", 2.0, True), ("test_scale", 1.0, False)]
    assert add.max_score == 4 and add.manual_points == 1


def test_release_has_no_solutions_hidden_tests_or_outputs(released, course):
    assert set(released) == set(course)
    for nb in released.values():
        assert release_problems(nb) == []
        text = json.dumps(nb)
        assert "return a + b" not in text and "add(-1.5, 0.25)" not in text
        assert "Squaring forgets the sign" not in text
    answer = next(c for c in released[ADD].cells if c.metadata.get("nbgrader", {}).get("grade_id") == "add")
    assert "raise NotImplementedError()" in answer.source


def test_release_problems_catches_a_leak(course):
    assert any("BEGIN SOLUTION" in p for p in release_problems(course[ADD].notebook))


def test_transplant_takes_only_answer_cells(course, released):
    submitted = copy.deepcopy(released[ADD])  # the fixture is shared by the module's tests
    for cell in submitted.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "add":
            cell.source = "def add(a, b):\n    return 42"
        if meta.get("grade_id") == "test_add_visible":
            cell.source = "pass"
    submitted.cells.append(nbformat.v4.new_code_cell("print('extra')"))
    graft = transplant(course[ADD], submitted, stub_answers(course[ADD]))
    sources = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in graft.notebook.cells}
    assert sources["add"] == "def add(a, b):\n    return 42"
    assert "BEGIN HIDDEN TESTS" in sources["test_add_hidden"]           # the course's test runs
    assert sources["test_add_visible"].startswith("expect_close")         # not the edited one
    assert "print('extra')" not in json.dumps(graft.notebook)            # added cells are dropped
    assert any("test_add_visible edited" in f for f in graft.flags)
    assert any("1 code cell(s) added or changed by the student" in f for f in graft.flags)


def test_the_course_own_demo_cells_are_not_reported_as_added(course, released):
    demo = "x = 1  # a demo cell of the course, without nbgrader metadata"
    assignment = copy.deepcopy(course[ADD])
    assignment.notebook.cells.append(nbformat.v4.new_code_cell(demo))
    submitted = copy.deepcopy(released[ADD])
    submitted.cells.append(nbformat.v4.new_code_cell(demo))
    graft = transplant(assignment, submitted, stub_answers(assignment))
    assert not any("added or changed" in f for f in graft.flags), graft.flags


@pytest.mark.parametrize("visible_test, flagged", [
    ('expect_close(add(1.0, 2.0), 3.0, "soma(1, 2)")\npassed("soma(1, 2) == 3")', False),
    ('expect_close(add(1.0, 2.0), 3.0, "add(1, 2)")  # comentário\npassed("add(1, 2) == 3")', False),
    ('expect_close(add(1.0, 2.0), 4.0, "add(1, 2)")\npassed("add(1, 2) == 3")', True),
    ('expect_close(add(1.0, 2.0), 3.0, "add(1, 2)")', True),
])
def test_a_test_cell_counts_as_edited_only_when_its_code_changed(course, released, visible_test,
                                                                 flagged):
    """A translated edition's messages and comments change when its catalog is improved during
    the term; a student's copy from the earlier release must not be flagged for that."""
    submitted = copy.deepcopy(released[ADD])
    for cell in submitted.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_add_visible":
            cell.source = visible_test
    submitted.cells.append(nbformat.v4.new_code_cell("print('extra')"))
    graft = transplant(course[ADD], submitted, stub_answers(course[ADD]))
    assert any("test_add_visible edited" in f for f in graft.flags) == flagged, graft.flags


def test_a_demo_cell_with_translated_comments_is_not_reported_as_added(course, released):
    assignment = copy.deepcopy(course[ADD])
    assignment.notebook.cells.append(nbformat.v4.new_code_cell("x = 1  # the course's demo"))
    submitted = copy.deepcopy(released[ADD])
    submitted.cells.append(nbformat.v4.new_code_cell("x = 1  # a demonstração do curso"))
    graft = transplant(assignment, submitted, stub_answers(assignment))
    assert not any("added or changed" in f for f in graft.flags), graft.flags
    submitted.cells[-1].source = "x = 2  # a demonstração do curso"
    graft = transplant(assignment, submitted, stub_answers(assignment))
    assert any("1 code cell(s) added or changed" in f for f in graft.flags), graft.flags


def test_missing_answer_gets_the_blank_stub_never_the_solution(course):
    empty = nbformat.v4.new_notebook()
    graft = transplant(course[ADD], empty, stub_answers(course[ADD]))
    text = json.dumps(graft.notebook)
    assert "return a + b" not in text and "NotImplementedError" in text


@pytest.mark.parametrize("data, words", [(b"\xff\xfe\x00", "UTF-8"), (b'{"cells": [', "JSON"),
                                         (b'{"a": 1}', "cells")])
def test_unreadable_notebooks_say_why(data, words):
    with pytest.raises(Unreadable, match=words):
        read_notebook(data)


def test_collect_folder_zip_lms_and_unsafe_ids(tmp_path):
    folder = tmp_path / "subs"
    (folder / "alice").mkdir(parents=True)
    (folder / "alice" / f"{ADD}.ipynb").write_text("{}")
    (folder / "bob" / ADD).mkdir(parents=True)
    (folder / "bob" / ADD / f"{ADD}.ipynb").write_text("{}")        # nbgrader's layout
    (folder / "bob" / ".ipynb_checkpoints").mkdir()
    (folder / "bob" / ".ipynb_checkpoints" / "x.ipynb").write_text("{}")
    (folder / "carol d").mkdir()
    (folder / "carol d" / f"{ADD}.ipynb").write_text("{}")
    found, ignored = collect(folder)
    by_student = {s.student_id: s for s in found}
    assert by_student["alice"].problem is None and by_student["bob"].file_name == f"{ADD}.ipynb"
    assert by_student["carol%20d"].problem and len(ignored) == 1

    archive = tmp_path / "lms.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(f"wrap/smith_late_12345_999_{ADD}-2.ipynb", "{}")
        z.writestr(f"wrap/../../evil/{ADD}.ipynb", "{}")
        z.writestr(f"wrap/loose.ipynb", "{}")
    found, _ = collect(archive)
    by_student = {s.student_id: s for s in found}
    assert by_student["12345"].file_name == f"{ADD}.ipynb" and by_student["12345"].problem is None
    assert any("path characters" in (s.problem or "") for s in found)
    assert any("LMS-style" in (s.problem or "") for s in found)


def test_match_assignment_tolerates_renames():
    known = [ADD, "02_fixture_square"]
    assert match_assignment(f"{ADD}.ipynb", known) == (ADD, False)
    assert match_assignment(f"Copy of {ADD} (2).ipynb", known) == (ADD, True)
    assert match_assignment("02-Fixture-Square-final.ipynb", known) == ("02_fixture_square", True)
    assert match_assignment("scratch.ipynb", known) == (None, False)


@pytest.mark.parametrize("source, flag", [
    ("import numpy as np\nnp.allclose = lambda *a, **k: True", "reassigns np.allclose"),
    ("import numpy.testing as t\nt.assert_allclose = print", "reassigns t.assert_allclose"),
    ("import builtins\nbuiltins.len = lambda x: 0", "reassigns builtins.len"),
    ("import sys\nsys.modules['numpy'] = None", "sys.modules"),
    ("get_ipython().events.register('pre_run_cell', print)", "IPython hooks"),
    ("ip = get_ipython()\nip.set_custom_exc((Exception,), print)", "IPython hooks"),
    ("import os\nos._exit(1)", "exits the kernel"),
    ("from sys import exit\nexit(0)", "exits the kernel"),
    ("open('/work/main/notebooks/01.ipynb').read()", "outside the work folder"),
    ("import glob\nglob.glob('../**/*.ipynb')", "outside the work folder"),
    ("!cat /etc/passwd", "shell commands"),
])
def test_flags_name_the_tampering(source, flag):
    assert any(flag in f for f in scan(source)), scan(source)


@pytest.mark.parametrize("source", [
    "def add(a, b):\n    return a + b",
    "import numpy as np\nx = np.allclose(1, 1)\nprint(x)",
    "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])",
    "def broken(:",
])
def test_flags_leave_honest_code_alone(source):
    assert scan(source) == []


def _cli(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_grade_without_submissions_fails_with_one_clear_line(tmp_path):
    proc = _cli("grade", str(tmp_path / "nope"), "--source", str(FIXTURE_COURSE),
                "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error:") and "does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_grade_rejects_a_file_that_is_not_a_zip(tmp_path, capsys):
    bogus = tmp_path / "subs.tar"
    bogus.write_text("hello")
    assert main(["grade", str(bogus), "--source", str(FIXTURE_COURSE), "--out", str(tmp_path / "o")]) == 2
    assert "neither a folder nor a zip" in capsys.readouterr().err


def test_grade_rejects_an_unwritable_out(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    (tmp_path / "subs").mkdir()
    assert main(["grade", str(tmp_path / "subs"), "--source", str(FIXTURE_COURSE),
                 "--out", str(blocker / "out")]) == 2
    assert "cannot write to the output folder" in capsys.readouterr().err


def test_missing_source_folder_is_a_clear_error(tmp_path, capsys):
    assert main(["validate", "--source", str(tmp_path / "none")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_flags_know_modules_imported_in_other_cells():
    from autograder.flags import scan_answers

    flags = scan_answers({"add": "np.allclose = lambda *a, **k: True"}, ["import numpy as np"])
    assert flags == ["add: reassigns np.allclose"]


def test_feedback_hides_hidden_tests_tracebacks_and_student_html(course, tmp_path):
    from autograder.feedback import write_feedback
    from autograder.record import GradeRow, TestResult

    nb = nbformat.from_dict(json.loads(json.dumps(course[ADD].notebook)))
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "add":
            cell.source = "def add(a, b):\n    return 0"
            cell.outputs = [nbformat.v4.new_output("display_data", data={
                "text/html": "<script>alert('xss')</script>", "text/plain": "plain"})]
        if grade_id == "explain_add":
            cell.source = "<img src=x onerror=alert(1)> **bold**"
        if grade_id == "test_add_hidden":
            cell.outputs = [nbformat.v4.new_output(
                "error", ename="CheckFailure", evalue="add(2, 2): expected 4, got 0",
                traceback=["Cell In[4], line 4", "expect_close(add(-1.5, 0.25), -1.25)"])]
    row = GradeRow("alice", ADD, 4.0, "graded", "", 1.0, notebook=nb, tests=[
        TestResult("test_add_hidden", 2.0, False, "CheckFailure: add(2, 2): expected 4")])
    page = tmp_path / "f.html"
    write_feedback(course[ADD], row, page)
    text = page.read_text()
    assert "add(-1.5, 0.25)" not in text and "return a + b" not in text
    assert "alert('xss')" not in text and "<img src=x" not in text and "&lt;img src=x" in text
    assert "add(2, 2): expected 4, got 0" in text and "<strong>bold</strong>" in text
    assert "Score: 1 / 4" in text


@pytest.mark.slow
def test_without_bwrap_the_worker_still_grades_with_limits(course):
    from autograder.sandbox import Limits, Sandbox
    from autograder.scoring import score

    sandbox = Sandbox(Limits(timeout=60), hide=[], use_bwrap=False)
    assert "NO SANDBOX" in sandbox.description
    graft = transplant(course[ADD], course[ADD].notebook, stub_answers(course[ADD]))
    result = score(course[ADD], sandbox.run(graft.notebook, slot=0), 60)
    assert (result.status, result.score) == ("graded", 4.0), result.reason
