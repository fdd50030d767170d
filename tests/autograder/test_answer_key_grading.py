"""The answer-key guard through the real grader: sandboxed kernels, nbgrader cells, grades.csv.

Notebook 06 graded for two students: one hands in the worked solutions, the other answers two
exercises through the reference (an alias of ``optim.momentum_step`` and the ``optim.SGD`` class
for ``nesterov_step``) and the other two in their own words. The second loses exactly those two
tests' points, and the row is flagged ``answer-key`` for each.
"""
from __future__ import annotations

import csv
import shutil

import nbformat
import pytest

from answer_key_routes import CLASS_ROUTES, IMPORTS
from autograder.cli import main
from conftest import NOTEBOOKS

pytestmark = pytest.mark.slow
MOMENTUM = NOTEBOOKS / "06_momentum_nesterov.ipynb"

CHEATS = {
    "momentum_step": "from course_utils import optim\n_ref = optim.momentum_step\n\n"
                     "def momentum_step(w, g, v, lr, beta):\n    return _ref(w, g, v, lr, beta)\n",
    "nesterov_step": IMPORTS + "def nesterov_step(w, g, v, lr, beta):\n"
                     + CLASS_ROUTES["nesterov_step"] + "\n",
}


def _hand_in(folder, student, replace):
    nb = nbformat.read(MOMENTUM, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in replace:
            cell.source = replace[grade_id]
    (folder / student).mkdir(parents=True)
    nbformat.write(nb, folder / student / MOMENTUM.name)


@pytest.fixture(scope="module")
def grades(tmp_path_factory):
    root = tmp_path_factory.mktemp("answer-key")
    source = root / "source"
    source.mkdir()
    shutil.copy(MOMENTUM, source)
    subs = root / "subs"
    _hand_in(subs, "honest", {})
    _hand_in(subs, "cheat", CHEATS)
    out = root / "out"
    code = main(["grade", str(subs), "--out", str(out), "--source", str(source),
                 "--build", str(root / "build"), "--jobs", "2", "--timeout", "120"])
    assert code == 0
    with open(out / "grades.csv", newline="") as handle:
        rows = {r["student_id"]: r for r in csv.DictReader(handle)}
    with open(out / "tests.csv", newline="") as handle:
        tests = list(csv.DictReader(handle))
    return rows, tests, out


def test_own_words_get_full_marks(grades):
    rows, _, _ = grades
    assert rows["honest"]["status"] == "graded"
    assert float(rows["honest"]["score"]) == float(rows["honest"]["max_score"]) == 10
    assert "answer-key" not in rows["honest"]["flags"]


def test_answers_from_the_reference_score_zero_and_are_flagged(grades):
    rows, tests, out = grades
    cheat = rows["cheat"]
    assert cheat["status"] == "graded"
    assert float(cheat["score"]) == 10 - 3 - 3          # momentum_step and nesterov_step: 3 each
    assert "answer-key: test_momentum_step" in cheat["flags"]
    assert "answer-key: test_nesterov_step" in cheat["flags"]
    assert "answer-key: test_ema" not in cheat["flags"]
    feedback = (out / "feedback" / "cheat" / "06_momentum_nesterov.html").read_text()
    assert "answer key used" in feedback and "optim.momentum_step" in feedback
