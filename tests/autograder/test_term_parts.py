"""Fast tests of the term's parts (no kernel): rosters, lateness and penalties, duplicates,
stored rows, the CLI's argument checks and progress lines."""
from __future__ import annotations

import zipfile

import pytest

from autograder.cli import main, plain_line
from autograder.collect import collect
from autograder.record import GRADED, GradeRow, TestResult
from autograder.roster import (Settings, SettingsError, lateness, parse_due, parse_policy,
                               penalty_fraction, read_roster)
from autograder.term import store_rows, stored_rows, term_rows
from conftest import FIXTURE_COURSE

CANVAS = ('Student,ID,SIS User ID,SIS Login ID,Section,Quiz (1)\n'
          '"    Points Possible",,,,,10\n"Foster, Frank",101,S101,frank@uni.test,A,\n')
MOODLE = ("First name,Last name,ID number,Institution,Department,Email address\n"
          "Ada,Lovelace,102,,,ada@uni.test\n")


@pytest.mark.parametrize("text, expected", [
    ("id,name,email\n7,Sam,s@x\n", ("7", "Sam", "s@x")),
    (CANVAS, ("101", "Foster, Frank", "frank@uni.test")),
    (MOODLE, ("102", "Ada Lovelace", "ada@uni.test"))])
def test_rosters_of_each_lms(tmp_path, text, expected):
    (tmp_path / "r.csv").write_text(text)
    [student] = read_roster(tmp_path / "r.csv")
    assert (student.id, student.name, student.email) == expected


def test_a_roster_without_ids_is_refused(tmp_path):
    (tmp_path / "r.csv").write_text("who\nSam\n")
    with pytest.raises(SettingsError, match="no student with an id"):
        read_roster(tmp_path / "r.csv")


def test_due_dates_and_policies():
    known = ["01_a", "07_b"]
    assert parse_due(["07=2026-12-10T23:59"], known) == {"07_b": "2026-12-10T23:59:00+00:00"}
    for bad in (["07"], ["09=2026-12-10"], ["07=tomorrow"]):
        with pytest.raises(SettingsError):
            parse_due(bad, known)
    assert parse_policy("per-day:10") == "per-day:10"
    with pytest.raises(SettingsError):
        parse_policy("half")


def test_lateness_and_penalties():
    due = "2026-12-10T23:59:00+00:00"
    assert lateness(False, "2026-12-10T12:00:00Z", due) == (False, 0, 0.0)
    late, days, hours = lateness(False, "2026-12-12T01:00:00Z", due)
    assert (late, days) == (True, 2) and hours == pytest.approx(25.0167, abs=1e-3)
    assert lateness(True, "", due)[:2] == (True, 1)        # the LMS marker, no time: one day
    assert lateness(True, "", None) == (True, None, 0.0)   # no due date: flagged, no penalty
    assert penalty_fraction("per-day:10", True, 2, 25) == pytest.approx(0.2)
    assert penalty_fraction("per-day:60", True, 2, 25) == 1.0
    assert penalty_fraction("zero-after:24", True, 1, 5) == 0.0
    assert penalty_fraction("zero-after:24", True, 2, 25) == 1.0
    assert penalty_fraction("per-day:10", True, None, 0) == 0.0
    assert penalty_fraction("none", True, 3, 50) == 0.0


def test_the_latest_lms_submission_is_the_one_kept(tmp_path):
    from autograder.course import load_course
    from autograder.plan import plan
    from autograder.sandbox import Limits

    source = (FIXTURE_COURSE / "01_fixture_add.ipynb").read_bytes()
    with zipfile.ZipFile(tmp_path / "s.zip", "w") as archive:
        archive.writestr("a_late_1_9_01_fixture_add-2.ipynb", source)
        archive.writestr("a_1_9_01_fixture_add.ipynb", source)
        archive.writestr("a_1_9_01_fixture_add-1.ipynb", source)
    found, _ = collect(tmp_path / "s.zip")
    assert {(s.name, s.late_marker, s.resubmission) for s in found} == \
        {("a", True, 2), ("a", False, 0), ("a", False, 1)}
    work = plan(tmp_path / "s.zip", load_course(FIXTURE_COURSE), Limits(timeout=5))
    [task] = work.tasks
    assert task.origin.endswith("add-2.ipynb") and task.flags[0].startswith("duplicate: graded")
    assert len(work.ignored) == 2


def test_runs_add_up_in_the_store(tmp_path):
    from autograder.course import load_course

    course = load_course(FIXTURE_COURSE)
    row = GradeRow("1", "01_fixture_add", 4, GRADED, "", 4.0, tests=[TestResult("t", 1, True)])
    store_rows(tmp_path, [row])
    store_rows(tmp_path, [GradeRow("2", "02_fixture_square", 3, GRADED, "", 3.0)])
    store_rows(tmp_path, [GradeRow("1", "01_fixture_add", 4, GRADED, "", 2.0)])  # replaces
    assert [(r.student_id, r.score) for r in stored_rows(tmp_path)] in \
        ([("1", 2.0), ("2", 3.0)], [("2", 3.0), ("1", 2.0)])
    rows = term_rows(course, tmp_path, Settings())
    assert [(r.student_id, r.assignment, r.status) for r in rows] == [
        ("1", "01_fixture_add", "graded"), ("1", "02_fixture_square", "missing"),
        ("2", "01_fixture_add", "missing"), ("2", "02_fixture_square", "graded")]


def test_cli_refuses_bad_arguments_with_exit_2(tmp_path, capsys, monkeypatch):
    (tmp_path / "subs").mkdir()
    (tmp_path / "file").write_text("x")
    src = ["--source", str(FIXTURE_COURSE)]
    assert main(["grade", str(tmp_path / "subs"), "--timeout", "0", *src]) == 2
    assert "--timeout must be more than 0" in capsys.readouterr().err
    assert main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "file"), *src]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    monkeypatch.chdir(tmp_path)
    assert main(["grade", str(tmp_path / "subs")]) == 2
    assert "pass --source" in capsys.readouterr().err


def test_empty_submissions_warn(tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    assert main(["grade", str(tmp_path / "subs"), "--source", str(FIXTURE_COURSE), "--out",
                 str(tmp_path / "out"), "--no-sandbox"]) == 0
    assert "warning: no notebooks found" in capsys.readouterr().err


def test_progress_lines_for_a_log():
    assert plain_line("grading", 2, 4, 10, "a/01: graded") == \
        "grading: 2/4 done, 10 s elapsed, ETA 10 s (a/01: graded)"
