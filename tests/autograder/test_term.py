"""A term: three LMS zips, one per assignment, graded into one OUT with a roster, due dates and
a late policy; every row of the class stays, with names, late flags, penalties and totals."""
from __future__ import annotations

import csv
import re
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.cli import main
from autograder.course import load_course, release
from conftest import FIXTURE_COURSE

pytestmark = pytest.mark.slow

ADD, SQUARE, CUBE = "01_fixture_add", "02_fixture_square", "03_fixture_cube"
ROSTER = "id,name,email\n101,Frank Foster,frank@uni.test\n102,Ada Lovelace,ada@uni.test\n" \
         "103,Never Submitted,never@uni.test\n"


def _solved(source: Path, released: Path) -> nbformat.NotebookNode:
    """The released notebook with the course's solutions as the answers."""
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source
                 for c in nbformat.read(source, as_version=4).cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    nb = nbformat.read(released, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in solutions:
            cell.source = re.sub(r"\s*### (BEGIN|END) SOLUTION", "", solutions[grade_id])
    return nb


def _zip(path: Path, members: list[tuple[str, nbformat.NotebookNode, tuple]]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, nb, when in members:
            archive.writestr(zipfile.ZipInfo(name, date_time=when), nbformat.writes(nb))
    return path


def _csv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    root = tmp_path_factory.mktemp("term")
    source = root / "notebooks"
    source.mkdir()
    for name in (ADD, SQUARE):
        shutil.copy(FIXTURE_COURSE / f"{name}.ipynb", source)
    shutil.copy(FIXTURE_COURSE / f"{SQUARE}.ipynb", source / f"{CUBE}.ipynb")
    release(load_course(source), root / "build", root / "release")
    solved = {a: _solved(source / f"{a}.ipynb", root / "release" / f"{a}.ipynb")
              for a in (ADD, SQUARE, CUBE)}
    blank = nbformat.read(root / "release" / f"{SQUARE}.ipynb", as_version=4)
    on_time, late = (2026, 12, 10, 12, 0, 0), (2026, 12, 12, 1, 0, 0)
    zips = [
        _zip(root / "01.zip", [(f"fosterfrank_101_5001_{ADD}.ipynb", solved[ADD], on_time),
                               (f"lovelaceada_late_102_5002_{ADD}.ipynb", solved[ADD], late),
                               (f"strangersam_999_5003_{ADD}.ipynb", solved[ADD], on_time)]),
        _zip(root / "02.zip", [(f"fosterfrank_101_6001_{SQUARE}.ipynb", blank, on_time),
                               (f"fosterfrank_101_6001_{SQUARE}-1.ipynb", solved[SQUARE], on_time),
                               (f"lovelaceada_102_6002_{SQUARE}.ipynb", solved[SQUARE], on_time)]),
        _zip(root / "03.zip", [(f"fosterfrank_101_7001_{CUBE}.ipynb", solved[CUBE], on_time)]),
    ]
    (root / "roster.csv").write_text(ROSTER)
    out = root / "out"
    common = ["--out", str(out), "--source", str(source), "--build", str(root / "build"),
              "--jobs", "2", "--timeout", "20"]
    first = ["--roster", str(root / "roster.csv"), "--due", "01=2026-12-10T23:59",
             "--late-policy", "per-day:10"]
    codes = [main(["grade", str(zips[0]), *common, *first])]
    codes += [main(["grade", str(z), *common]) for z in zips[1:]]
    before = (out / "grades.csv").read_bytes()
    stale = out / "feedback" / "555" / f"{ADD}.html"  # a page of a row that no longer exists
    stale.parent.mkdir()
    stale.write_text("old")
    codes.append(main(["grade", str(zips[0]), *common]))  # again: nothing changes
    return {"root": root, "out": out, "codes": codes, "before": before, "source": source}


def test_every_row_of_the_term_is_there(term):
    assert term["codes"] == [0, 0, 0, 0]
    rows = {(r["student_id"], r["assignment"]): r for r in _csv(term["out"] / "grades.csv")}
    expected = {
        ("101", ADD): "graded", ("101", SQUARE): "graded", ("101", CUBE): "graded",
        ("102", ADD): "graded", ("102", SQUARE): "graded", ("102", CUBE): "missing",
        ("103", ADD): "missing", ("103", SQUARE): "missing", ("103", CUBE): "missing",
        ("999", ADD): "graded", ("999", SQUARE): "missing", ("999", CUBE): "missing"}
    assert {k: r["status"] for k, r in rows.items()} == expected
    assert rows[("101", ADD)]["name"] == "Frank Foster"
    assert rows[("103", CUBE)]["name"] == "Never Submitted"
    assert rows[("999", ADD)]["name"] == "strangersam"
    assert "not on the roster" in rows[("999", ADD)]["flags"]
    assert "not on the roster" not in rows[("101", ADD)]["flags"]
    assert (term["out"] / "grades.csv").read_bytes() == term["before"]


def test_late_work_is_flagged_and_penalised(term):
    rows = {(r["student_id"], r["assignment"]): r for r in _csv(term["out"] / "grades.csv")}
    ada = rows[("102", ADD)]
    assert (ada["late"], ada["days_late"], ada["score"], ada["penalty"], ada["final_score"]) == \
        ("yes", "2", "4", "0.8", "3.2")
    frank = rows[("101", ADD)]
    assert (frank["late"], frank["days_late"], frank["penalty"], frank["final_score"]) == \
        ("", "0", "0", "4")
    assert rows[("102", SQUARE)]["late"] == "" and rows[("102", SQUARE)]["penalty"] == "0"


def test_the_latest_duplicate_is_graded_and_flagged(term):
    rows = {(r["student_id"], r["assignment"]): r for r in _csv(term["out"] / "grades.csv")}
    frank = rows[("101", SQUARE)]
    assert frank["score"] == "3"
    assert f"duplicate: graded 02.zip:fosterfrank_101_6001_{SQUARE}-1.ipynb" in frank["flags"]


def test_totals(term):
    totals = {r["student_id"]: r for r in _csv(term["out"] / "totals.csv")}
    assert list(_csv(term["out"] / "totals.csv")[0])[:5] == \
        ["student_id", "name", "email", "total", "max_total"]
    assert {s: r["total"] for s, r in totals.items()} == \
        {"101": "10", "102": "6.2", "103": "0", "999": "4"}
    assert totals["102"][f"{ADD} late"] == "yes" and totals["102"][ADD] == "3.2"
    assert totals["102"][CUBE] == "" and totals["103"]["max_total"] == "13"
    assert totals["101"]["email"] == "frank@uni.test"


def test_report_has_the_class_table_and_every_feedback_page(term):
    assert not (term["out"] / "feedback" / "555").exists()
    report = (term["out"] / "report.html").read_text()
    assert "id='tt-filter'" in report and "Frank Foster" in report
    pages = sorted(p.relative_to(term["out"] / "feedback").as_posix()
                   for p in (term["out"] / "feedback").glob("*/*.html"))
    assert pages == [f"101/{ADD}.html", f"101/{SQUARE}.html", f"101/{CUBE}.html",
                     f"102/{ADD}.html", f"102/{SQUARE}.html", f"999/{ADD}.html"]


@pytest.mark.parametrize("fmt", ["canvas", "moodle", "csv"])
def test_exports_follow_the_lms_layout(term, fmt):
    target = term["root"] / f"{fmt}.csv"
    assert main(["export", str(term["out"]), "--format", fmt, "--to", str(target),
                 "--source", str(term["source"])]) == 0
    with open(target, newline="") as handle:
        lines = list(csv.reader(handle))
    header, body = lines[0], lines[1:]
    if fmt == "canvas":
        assert header == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ADD, SQUARE,
                          CUBE]
        assert body[0][0] == "Points Possible" and body[0][5:] == ["5", "4", "4"]
        body = body[1:]
        assert [r[1] for r in body] == ["101", "102", "103", "999"]
        assert body[1][5:] == ["3.2", "3", ""]
    elif fmt == "moodle":
        assert header == ["ID number", "Email address", "Full name", ADD, SQUARE, CUBE]
        assert body[0][:3] == ["101", "frank@uni.test", "Frank Foster"]
    else:
        assert header == ["student_id", "name", "email", ADD, SQUARE, CUBE, "total"]
        assert body[2] == ["103", "Never Submitted", "never@uni.test", "", "", "", "0"]
