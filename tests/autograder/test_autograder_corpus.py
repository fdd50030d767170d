"""Grade a corpus of honest and hostile submissions in one run and check every row.

Each submission's status, score and flag is fixed in ``tests/submissions/build_corpus.py``. The
run must also leave its inputs byte-identical, keep nbgrader's gradebook untouched, write a
gradebook that agrees with grades.csv, keep hidden tests out of feedback, and give identical
grades when re-run after an interruption.
"""
from __future__ import annotations

import csv
import hashlib
import sqlite3
import time
from pathlib import Path

import pytest

from autograder.cli import main
from autograder.course import load_course, release
from conftest import FIXTURE_COURSE, REPO, load_corpus_builder

TIMEOUT = "10"

pytestmark = pytest.mark.slow


builder = load_corpus_builder()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(out: Path) -> dict[tuple[str, str], dict]:
    with open(out / "grades.csv", newline="") as handle:
        return {(r["student_id"], r["assignment"]): r for r in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    build, source = root / "build", FIXTURE_COURSE
    release(load_course(source), build, root / "release")
    corpus, out = root / "subs", root / "out"
    # Places an attacker would look: the checkout, the build with nbgrader's gradebook, the
    # output folder, the submissions, and the whole of /tmp and /work.
    secret_roots = [str(REPO), str(build), str(out), str(corpus), "/tmp", str(REPO.parent)]
    expected = builder.build(root / "release", corpus, secret_roots)
    before = builder.inputs_digest(corpus)
    source_before = builder.inputs_digest(source)
    gradebook_before = _sha(build / "gradebook.db")
    started = time.monotonic()
    code = main(["grade", str(corpus / "folder"), "--out", str(out), "--source", str(source),
                 "--build", str(build), "--jobs", "2", "--timeout", TIMEOUT])
    seconds = time.monotonic() - started
    return {"root": root, "out": out, "corpus": corpus, "code": code, "expected": expected,
            "before": before, "source_before": source_before, "build": build,
            "gradebook_before": gradebook_before, "seconds": seconds, "source": source}


def test_run_completes_with_exit_zero(graded):
    assert graded["code"] == 0


def test_every_row_has_its_expected_status_score_and_flag(graded):
    rows = _rows(graded["out"])
    problems = []
    for (student, assignment), (status, score, *flag) in graded["expected"]["folder"].items():
        r = rows.get((student, assignment))
        if r is None:
            problems.append(f"{student}/{assignment}: no row")
            continue
        got_score = float(r["score"]) if r["score"] else None
        if r["status"] != status or got_score != score:
            problems.append(f"{student}/{assignment}: expected {status} {score}, got "
                            f"{r['status']} {r['score']} ({r['reason']})")
        if flag and flag[0] and flag[0] not in r["flags"]:
            problems.append(f"{student}/{assignment}: flag {flag[0]!r} missing in {r['flags']!r}")
        if status != "graded" and not r["reason"]:
            problems.append(f"{student}/{assignment}: {status} without a reason")
    assert not problems, "\n".join(problems)
    assert set(rows) == set(graded["expected"]["folder"]), "unexpected extra rows"


def test_timings_have_a_row_per_grade_and_grades_hold_nothing_measured(graded):
    with open(graded["out"] / "timings.csv", newline="") as handle:
        timings = {(t["student_id"], t["assignment"]): t for t in csv.DictReader(handle)}
    rows = _rows(graded["out"])
    assert set(timings) == set(rows)
    ran = [t for t in timings.values() if t["status"] in ("graded", "timeout")]
    assert ran and all(float(t["seconds"]) > 0 for t in ran)
    assert "seconds" not in next(iter(rows.values()))


def test_inputs_are_byte_identical_and_nbgraders_gradebook_untouched(graded):
    assert builder.inputs_digest(graded["corpus"]) == graded["before"]
    assert builder.inputs_digest(graded["source"]) == graded["source_before"]
    assert _sha(graded["build"] / "gradebook.db") == graded["gradebook_before"]


def test_gradebook_agrees_with_the_csv(graded):
    rows = _rows(graded["out"])
    con = sqlite3.connect(graded["out"] / "gradebook.db")
    totals = con.execute(
        "SELECT student.id, assignment.name, SUM(grade.auto_score), MAX(grade.auto_score) "
        "FROM grade JOIN submitted_notebook ON grade.notebook_id = submitted_notebook.id "
        "JOIN submitted_assignment ON submitted_notebook.assignment_id = submitted_assignment.id "
        "JOIN student ON submitted_assignment.student_id = student.id "
        "JOIN assignment ON submitted_assignment.assignment_id = assignment.id "
        "GROUP BY student.id, assignment.name").fetchall()
    con.close()
    assert totals, "empty gradebook"
    for student, assignment, total, highest in totals:
        r = rows[(student, assignment)]
        if r["status"] == "graded":
            assert total == float(r["score"]), (student, assignment)
            assert highest <= 2
        else:
            assert total is None


def test_hidden_tests_and_solutions_stay_out_of_feedback_and_outputs(graded):
    pages = list((graded["out"] / "feedback").rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        text = page.read_text()
        assert "add(-1.5, 0.25)" not in text and "square([-3])" not in text, page
        assert "BEGIN SOLUTION" not in text and "Squaring forgets the sign" not in text, page
    dave = (graded["out"] / "feedback" / "dave" / "01_fixture_add.html").read_text()
    assert "hidden tests found in: []" in dave


def test_report_lists_every_non_graded_row_and_the_flags(graded):
    report = (graded["out"] / "report.html").read_text()
    assert "data:image/png;base64," in report
    for (student, assignment), (status, *_rest) in graded["expected"]["folder"].items():
        if status != "graded":
            assert f"<td>{student}</td><td>{assignment}</td><td>{status}</td>" in report, \
                (student, assignment)
    assert "reassigns np.allclose" in report and "notes.txt" in report


def test_rerun_after_an_interruption_gives_identical_grades(graded, tmp_path):
    out = graded["out"]
    first = (out / "grades.csv").read_text()
    # An interrupted run: two results never got committed.
    for lost in ("alice/01_fixture_add.json", "carol/01_fixture_add.json"):
        (out / ".results" / lost).unlink()
    started = time.monotonic()
    assert main(["grade", str(graded["corpus"] / "folder"), "--out", str(out), "--source",
                 str(graded["source"]), "--build", str(graded["build"]), "--jobs", "2",
                 "--timeout", TIMEOUT]) == 0
    assert (out / "grades.csv").read_text() == first
    assert time.monotonic() - started < graded["seconds"]


def test_lms_zip_with_a_zip_slip_member(graded, tmp_path):
    out = tmp_path / "out"
    assert main(["grade", str(graded["corpus"] / "lms.zip"), "--out", str(out), "--source",
                 str(graded["source"]), "--build", str(tmp_path / "build"), "--jobs", "2",
                 "--timeout", TIMEOUT]) == 0
    rows = _rows(out)
    for key, (status, score, _flag) in graded["expected"]["zip"].items():
        assert rows[key]["status"] == status, rows[key]
        assert (float(rows[key]["score"]) if rows[key]["score"] else None) == score
    assert not (tmp_path / "x").exists() and not (out.parent / "x").exists()
    assert sorted(p.name for p in (out / "feedback").iterdir()) == ["12345", "222"]


def test_nothing_carries_from_one_submission_to_the_next_in_one_slot(graded, tmp_path):
    """Warm slots: a daemon, files in /tmp and /dev/shm, an open fd, patched numpy, a replaced
    ``course_utils.optim`` and a changed matplotlib rc, each followed in the same slot
    (``--jobs 1``) by a submission that looks for them and loses its marks if it finds any."""
    expected = builder.build_same_slot(graded["root"] / "release", tmp_path)
    out = tmp_path / "out"
    code = main(["grade", str(tmp_path / "sameslot"), "--out", str(out), "--source",
                 str(graded["source"]), "--build", str(graded["build"]), "--jobs", "1",
                 "--timeout", TIMEOUT])
    assert code == 0
    rows = _rows(out)
    got = {key: (r["status"], float(r["score"]) if r["score"] else None)
           for key, r in rows.items()}
    assert got == {key: (status, score) for key, (status, score, _) in expected.items()}, \
        {key: rows[key]["reason"] for key in rows if got[key][0] != "missing"}
