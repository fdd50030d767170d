"""Written answers graded by hand in nbgrader's formgrader, an honest gradebook for nbgrader's
own tools, and feedback pages a student can use.

One grading run of the fixture course (three students, two assignments): alice answers 01 and
sends no 02 (missing), bob hands in 01 blank and answers 02, carol's 01 is a PDF (unreadable)
and her 02 calls sys.exit (error). A person then grades alice's written answer through
nbgrader's API as formgrader does; totals, feedback and ``nbgrader export`` must agree.
"""
from __future__ import annotations

import copy
import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.cli import main
from autograder.course import load_course, release
from autograder.gradebook import open_gradebook, write_gradebook
from autograder.manual import write_config
from autograder.record import GradeRow, TestResult
from conftest import FIXTURE_COURSE

ADD, SQUARE = "01_fixture_add", "02_fixture_square"
ANSWERS = {"add": "def add(a, b):\n    return a + b",
           "scale": "def scale(x, k):\n    return np.asarray(x, dtype=float) * k",
           "explain_add": "Counting a things then b things is counting b then a.",
           "square": "def square(x):\n    return np.asarray(x, dtype=np.float64) ** 2",
           "explain_square": "The square of -x is the square of x."}


def _answered(nb, answers: dict[str, str]):
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("manual")
    course = load_course(FIXTURE_COURSE)
    released = {p.stem: nbformat.read(p, as_version=4)
                for p in release(course, root / "build", root / "release")}
    subs = root / "subs"
    files = {("alice", ADD): _answered(released[ADD], ANSWERS),
             ("bob", ADD): released[ADD],
             ("bob", SQUARE): _answered(released[SQUARE], ANSWERS),
             ("carol", SQUARE): _answered(released[SQUARE], {
                 "square": "import sys\nsys.exit(0)"})}
    for (student, aid), nb in files.items():
        (subs / student).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, subs / student / f"{aid}.ipynb")
    (subs / "carol" / f"{ADD}.ipynb").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    out = root / "out"
    args = ["grade", str(subs), "--out", str(out), "--source", str(FIXTURE_COURSE),
            "--build", str(root / "build"), "--jobs", "2", "--timeout", "60"]
    assert main(args) == 0
    return {"out": out, "args": args, "course": course, "root": root}


def _api(out: Path):
    """nbgrader's API on OUT, configured as formgrader is by OUT/nbgrader_config.py."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    write_config(out)
    config = Config()
    exec(compile((out / "nbgrader_config.py").read_text(), "nbgrader_config.py", "exec"),
         {"get_config": lambda: config})
    return NbGraderAPI(CourseDirectory(config=config), config=config)


def _formgrade(api, assignment: str, student: str, scores: dict[str, float]) -> None:
    """What formgrader's grading page does: find the submission's cells that need a manual
    grade, then PUT manual_score on each (apihandlers.GradeHandler.put)."""
    submission = next(s for s in api.get_notebook_submissions(assignment, assignment)
                      if s["student"] == student)
    gb = api.gradebook
    notebook = gb.find_submission_notebook_by_id(submission["id"])
    for grade in [g for g in notebook.grades if g.needs_manual_grade]:
        grade = gb.find_grade_by_id(grade.id)
        grade.manual_score, grade.extra_credit = scores[grade.name], None
        grade.needs_manual_grade = grade.manual_score is None and grade.auto_score is None
    gb.db.commit()


def _needs_manual(out: Path) -> dict[tuple[str, str], list[str]]:
    with open_gradebook(out / "gradebook.db") as gb:
        return {(s.student.id, a.name): sorted(g.name for nb in s.notebooks for g in nb.grades
                                               if g.needs_manual_grade)
                for a in gb.assignments for s in a.submissions}


def test_only_attempted_written_answers_need_a_manual_grade(graded):
    out = graded["out"]
    assert (out / "autograded" / "alice" / ADD / f"{ADD}.ipynb").exists()
    needs = _needs_manual(out)
    assert needs[("alice", ADD)] == ["explain_add"]
    assert needs[("bob", ADD)] == []                # blank: nbgrader's "No response.", 0 points
    assert needs[("bob", SQUARE)] == ["explain_square"]
    assert ("alice", SQUARE) not in needs           # missing: no submission at all
    assert needs[("carol", ADD)] == ["explain_add", "test_add_hidden", "test_add_visible",
                                     "test_scale"]  # not graded: every cell for a person
    with open_gradebook(out / "gradebook.db") as gb:
        carol = gb.find_submission_notebook(SQUARE, SQUARE, "carol")
        assert carol.flagged and all(g.auto_score is None for g in carol.grades)
        assert "Not graded (error)" in carol.comments[0].comment
        alice = gb.find_submission_notebook(ADD, ADD, "alice")
        assert {g.name: g.auto_score for g in alice.grades} == {
            "test_add_visible": 1, "test_add_hidden": 2, "test_scale": 1, "explain_add": None}


def test_grading_by_hand_reaches_totals_feedback_and_survives_a_regrade(graded):
    out = graded["out"]
    api = _api(out)
    _formgrade(api, ADD, "alice", {"explain_add": 1.0})
    submission = api.get_submission(ADD, "alice")
    assert submission["score"] == 5 and not submission["needs_manual_grade"]
    assert main(["feedback", str(out), "--source", str(FIXTURE_COURSE)]) == 0
    page = (out / "feedback" / "alice" / f"{ADD}.html").read_text()
    assert "1 / 1</strong> for written answers" in page and "total 5 / 5" in page
    assert "graded by hand: 1 / 1" in page
    bob = (out / "feedback" / "bob" / f"{SQUARE}.html").read_text()
    assert "to be graded by hand" in bob and "not graded yet" in bob
    assert main(graded["args"]) == 0          # a later run keeps what people entered
    with open_gradebook(out / "gradebook.db") as gb:
        grade = gb.find_grade("explain_add", ADD, ADD, "alice")
        assert grade.manual_score == 1 and not grade.needs_manual_grade


def test_feedback_pages_read_naturally(graded):
    out = graded["out"]
    bob = (out / "feedback" / "bob" / f"{ADD}.html").read_text()
    assert "NotImplementedError:" not in bob and "not attempted" in bob
    assert "passed" not in bob.split("<table")[1].split("</table>")[0]
    alice = (out / "feedback" / "alice" / f"{ADD}.html").read_text()
    assert ">passed<" in alice
    carol = (out / "feedback" / "carol" / f"{ADD}.html").read_text()
    assert "Save and Checkpoint" in carol and ".ipynb" in carol and "PDF" in carol


def _nbgrader_export(out: Path) -> list[dict]:
    write_config(out)
    bindir = str(Path(sys.executable).parent)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    subprocess.run([str(Path(bindir) / "nbgrader"), "export", "--to", "export.csv"], cwd=out,
                   env=env, check=True, capture_output=True)
    with open(out / "export.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_nbgrader_export_keeps_missing_and_error_apart_from_a_zero(graded):
    rows = {(r["student_id"], r["assignment"]): r for r in _nbgrader_export(graded["out"])}
    assert rows[("alice", SQUARE)]["timestamp"] == ""            # missing: no submission
    assert rows[("bob", ADD)]["timestamp"] != "" and float(rows[("bob", ADD)]["score"]) == 0
    assert rows[("carol", ADD)]["timestamp"] != ""               # unreadable, but handed in
    with open_gradebook(graded["out"] / "gradebook.db") as gb:  # error: flagged for a person
        for aid in (ADD, SQUARE):
            assert gb.find_submission_notebook(aid, aid, "carol").flagged


def test_nbgrader_export_lists_only_assigned_work(graded, tmp_path):
    course = graded["course"]
    rows = [GradeRow("dan", ADD, 4.0, "graded", "", 4.0, tests=[
        TestResult(t.grade_id, t.points, True) for t in course[ADD].tests])]
    write_gradebook(course, rows, tmp_path / "gradebook.db")
    listed = {(r["student_id"], r["assignment"]) for r in _nbgrader_export(tmp_path)}
    assert listed == {("dan", ADD)}              # 02 was given to nobody: not listed


def test_explorer_output_says_where_to_use_it(graded):
    from autograder.feedback import EXPLORER, feedback_notebook

    course = graded["course"]
    nb = copy.deepcopy(course[ADD].notebook)
    nb.cells[1].outputs = [nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "x"},
        "text/plain": "VBox(children=(FloatSlider(value=0.1),))"})]
    row = GradeRow("eve", ADD, 4.0, "graded", "", 0.0, notebook=nb)
    text = nbformat.writes(feedback_notebook(course[ADD], row))
    assert EXPLORER in text and "VBox(" not in text
