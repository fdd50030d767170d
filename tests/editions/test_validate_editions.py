"""Each translated edition of the real course: every solution earns full marks, every blank
release 0, and the release is fit for students (``validate --lang``). Cells still untranslated
run in English, so this holds at any stage of the translation."""
from __future__ import annotations

import pytest

from autograder.cli import main
from conftest import NOTEBOOKS

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("lang", ["pt_BR", "es"])
def test_validate_real_edition(lang, tmp_path, capsys):
    code = main(["validate", "--lang", lang, "--source", str(NOTEBOOKS), "--build",
                 str(tmp_path / "build"), "--jobs", "2", "--timeout", "180"])
    out = capsys.readouterr().out
    assert code == 0, out
    verdicts = [line for line in out.splitlines() if line[:2].isdigit()]
    assert len(verdicts) == len(list(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")))
    assert all(line.endswith("  ok") for line in verdicts), out
