"""The same answers handed in from the English, Portuguese and Spanish editions of notebook 01
get the same score and the same test results; each row says its language, and the named
mistake comes back in the student's language (the edition's test-cell hints and checks).

Uses the repository's catalogs read-only: an entry a translator left unusable falls back to
English in the edition, which changes no score.
"""
from __future__ import annotations

import csv
import html
import re
import shutil

import nbformat
import pytest

from autograder.cli import main
from autograder.languages import submission_language
from editions.build import translate_notebook
from conftest import NOTEBOOKS

pytestmark = pytest.mark.slow
DOMAIN = "01_gradient_descent_1d"
STUDENTS = {"ana": "en", "bia": "pt_BR", "caro": "es"}
UPHILL = "return w + lr * dL_dw"          # the classic slip of Exercise 2: it names it


def _hand_in(subs, student: str, lang: str) -> None:
    english = NOTEBOOKS / f"{DOMAIN}.ipynb"
    nb = nbformat.read(english, as_version=4) if lang == "en" else \
        translate_notebook(english, lang)[0]
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "gd_step_1d":
            cell.source = cell.source.replace("return w - lr * dL_dw", UPHILL)
            assert UPHILL in cell.source
    (subs / student).mkdir(parents=True)
    nbformat.write(nb, subs / student / f"{DOMAIN}.ipynb")


def _hand_in_blank(subs, student: str, lang: str) -> None:
    """The edition's release, handed in as it came (nothing attempted)."""
    from autograder.nbtools import blank

    english = NOTEBOOKS / f"{DOMAIN}.ipynb"
    nb = blank(nbformat.read(english, as_version=4) if lang == "en" else
               translate_notebook(english, lang)[0])
    (subs / student).mkdir(parents=True)
    nbformat.write(nb, subs / student / f"{DOMAIN}.ipynb")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("editions-grading")
    source, subs, out = root / "source", root / "subs", root / "out"
    source.mkdir()
    shutil.copy(NOTEBOOKS / f"{DOMAIN}.ipynb", source)
    for student, lang in STUDENTS.items():
        _hand_in(subs, student, lang)
    _hand_in_blank(subs, "duda", "pt_BR")
    _hand_in_blank(subs, "eli", "en")
    assert main(["grade", str(subs), "--out", str(out), "--source", str(source), "--build",
                 str(root / "build"), "--jobs", "2", "--timeout", "180"]) == 0
    with open(out / "grades.csv", newline="") as handle:
        rows = {r["student_id"]: r for r in csv.DictReader(handle)}
    with open(out / "tests.csv", newline="") as handle:
        tests = {(t["student_id"], t["test"]): t for t in csv.DictReader(handle)}
    return rows, tests, subs, out


def test_each_submission_is_recognised_in_its_language(graded):
    rows, _, subs, _ = graded
    for student, lang in STUDENTS.items():
        nb = nbformat.read(subs / student / f"{DOMAIN}.ipynb", as_version=4)
        assert submission_language(nb) == lang
        assert rows[student]["language"] == lang


def test_the_same_answers_get_the_same_score_in_every_edition(graded):
    rows, tests, _, _ = graded
    assert {rows[s]["status"] for s in rows} == {"graded"}
    scores = {rows[s]["score"] for s in STUDENTS}
    assert len(scores) == 1
    score, maximum = float(scores.pop()), float(rows["ana"]["max_score"])
    assert 0 < score < maximum                          # the uphill step loses its points
    for name in {t for _, t in tests}:
        assert len({tests[(s, name)]["passed"] for s in STUDENTS}) == 1, name
    assert tests[("ana", "test_gd_step_1d")]["passed"] == "0"
    assert {rows[s]["flags"] for s in STUDENTS} == {""}    # no edition looks tampered with


def test_the_named_mistake_comes_back_in_the_students_language(graded):
    _, tests, _, _ = graded
    english = tests[("ana", "test_gd_step_1d")]["message"]
    assert "uphill" in english
    for student in ("bia", "caro"):
        translated = tests[(student, "test_gd_step_1d")]["message"]
        assert translated and "uphill" not in translated, (student, translated)


def test_the_feedback_page_is_in_the_students_language(graded):
    _, tests, _, out = graded
    for student, lang in STUDENTS.items():
        page = (out / "feedback" / student / f"{DOMAIN}.html").read_text(encoding="utf-8")
        hint = tests[(student, "test_gd_step_1d")]["message"].split(": ", 1)[1][:40]
        assert html.escape(hint) in page, student
        assert re.search(rf"<html lang=[\"']{lang[:2]}", page), student
        assert "<math" in page, "formulas are written as MathML"


def test_an_untouched_edition_reads_not_attempted_in_its_language(graded):
    """The page compares answers with the release of the edition handed in (its checksums),
    not with the English one, whose docstrings differ: the same blank notebook, handed in from
    the English or the Portuguese edition, says "not attempted" in the same places."""
    from course_utils.i18n import _, using
    from autograder.feedback import NOT_ATTEMPTED

    rows, _tests, _subs, out = graded
    assert rows["duda"]["score"] == rows["eli"]["score"] == "0"
    with using("pt_BR"):
        portuguese = _(NOT_ATTEMPTED)
    assert portuguese != NOT_ATTEMPTED

    def count(student: str, words: str) -> int:
        page = (out / "feedback" / student / f"{DOMAIN}.html").read_text(encoding="utf-8")
        return page.count(html.escape(words))
    assert count("duda", portuguese) == count("eli", NOT_ATTEMPTED) > 8
