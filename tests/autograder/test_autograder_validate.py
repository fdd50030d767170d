"""``python -m autograder validate``: every solution earns full marks, the blank release earns 0.

Runs on the fixture course and on the real ``notebooks/`` (skipped while that folder is empty).
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from autograder.cli import main
from conftest import FIXTURE_COURSE, REPO

REAL = REPO / "notebooks"

pytestmark = pytest.mark.slow


def _validate(source: Path, build: Path, capsys) -> tuple[int, str]:
    code = main(["validate", "--source", str(source), "--build", str(build), "--jobs", "2",
                 "--timeout", "120"])
    return code, capsys.readouterr().out


def test_validate_fixture_course(tmp_path, capsys):
    code, out = _validate(FIXTURE_COURSE, tmp_path / "build", capsys)
    assert code == 0, out
    assert "01_fixture_add" in out and "4/4" in out and "0/4" in out


def test_validate_fails_on_a_wrong_solution_and_on_a_test_the_blank_passes(tmp_path, capsys):
    broken = tmp_path / "notebooks"
    broken.mkdir()
    for path in FIXTURE_COURSE.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            cell.source = cell.source.replace("return a + b", "return a - b")
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_square_visible":
                cell.source = "assert True"
        nbformat.write(nb, broken / path.name)
    code, out = _validate(broken, tmp_path / "build", capsys)
    assert code == 1
    assert "add(1, 2): expected 3" in out            # the wrong solution is named
    assert "passes test_square_visible" in out       # so is the test that cannot fail


@pytest.mark.skipif(not any(REAL.glob("[0-9][0-9]_*.ipynb")),
                    reason="notebooks/ has no source notebooks yet")
def test_validate_real_notebooks(tmp_path, capsys):
    code, out = _validate(REAL, tmp_path / "build", capsys)
    assert code == 0, out
    released = sorted((tmp_path / "build" / "release-flat").glob("*.ipynb"))
    assert released and all("BEGIN HIDDEN TESTS" not in json.dumps(nbformat.read(p, 4).cells)
                            for p in released)
