"""``python -m autograder release --lang``: one folder per edition, each fit for students and
running in its language; without ``--lang`` the English release stays flat, as before."""
from __future__ import annotations

import subprocess

import nbformat
import pytest

from autograder.cli import main
from autograder.languages import known_language, submission_language
from conftest import FIXTURE_COURSE, REPO

NOTEBOOK = "01_fixture_add.ipynb"


def _release(tmp_path, *extra) -> int:
    return main(["release", "--source", str(FIXTURE_COURSE), "--out", str(tmp_path / "rel"),
                 "--build", str(tmp_path / "build"), *extra])


def test_all_writes_one_folder_per_language(tmp_path, capsys):
    assert _release(tmp_path, "--lang", "all") == 0
    for lang in ("en", "pt_BR", "es"):
        nb = nbformat.read(tmp_path / "rel" / lang / NOTEBOOK, as_version=4)
        assert submission_language(nb) == lang
        assert "raise NotImplementedError()" in "".join(c.source for c in nb.cells)
    english = nbformat.read(tmp_path / "rel" / "en" / NOTEBOOK, as_version=4)
    assert "descent" not in english.metadata
    spanish = nbformat.read(tmp_path / "rel" / "es" / NOTEBOOK, as_version=4)
    assert spanish.cells[1].source.startswith('from course_utils.i18n import set_language; '
                                              'set_language("es")\n')
    out = capsys.readouterr().out
    assert out.count("  ok") == 6
    assert "\nes: 0 cells translated, 13 still in English" in out   # no catalogs for the fixture


def test_no_flag_keeps_the_flat_english_release(tmp_path):
    assert _release(tmp_path) == 0
    assert (tmp_path / "rel" / NOTEBOOK).is_file() and not (tmp_path / "rel" / "en").exists()


def test_an_unknown_language_is_one_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        _release(tmp_path, "--lang", "fr")
    assert stop.value.code == 2 and "invalid choice: 'fr'" in capsys.readouterr().err


@pytest.mark.parametrize("value, lang", [("pt_BR", "pt_BR"), ("pt-br", "pt_BR"), ("ES", "es"),
                                         ("fr", None), ("", None)])
def test_language_names_are_normalised(value, lang):
    assert known_language(value) == lang


def test_a_notebook_without_metadata_says_its_language_in_its_setup_line():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        'from course_utils.i18n import set_language; set_language("pt_BR")\nimport numpy')])
    assert submission_language(nb) == "pt_BR"
    assert submission_language(nbformat.v4.new_notebook()) == "en"


@pytest.mark.slow
def test_validate_checks_an_edition(tmp_path, capsys):
    code = main(["validate", "--lang", "es", "--source", str(FIXTURE_COURSE), "--build",
                 str(tmp_path / "build"), "--jobs", "2", "--timeout", "120"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "assignment (es)" in out
    assert [line.split()[1:] for line in out.splitlines() if line.startswith("0")] == [
        ["4/4", "0/4", "ok"], ["3/3", "0/3", "ok"]]


@pytest.mark.parametrize("lang, edition", [("pt_BR", "pt_BR"), ("pt_BR.UTF-8", "pt_BR"),
                                           ("es_MX.UTF-8", "es"), ("es", "es"), ("en", "en"),
                                           ("C.UTF-8", "en"), ("fr_FR.UTF-8", "en"), ("", "en")])
def test_make_lab_opens_the_edition_of_LANG(lang, edition):
    """LANG is also the locale variable: its language picks the edition, anything else is en."""
    proc = subprocess.run(["make", "-n", "lab", f"LANG={lang}"], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f"-m autograder release --lang {edition} --out release\n" in proc.stdout
    assert f"--notebook-dir=release/{edition} " in proc.stdout


def test_an_edition_is_built_only_when_a_submission_needs_it(tmp_path):
    from autograder.course import load_course
    from autograder.languages import edition_courses

    english = load_course(FIXTURE_COURSE)
    editions = edition_courses(FIXTURE_COURSE, english, tmp_path / "editions")
    assert editions.get("en") is english and not (tmp_path / "editions").exists()
    spanish = editions.get("es")
    assert list(spanish) == list(english) and (tmp_path / "editions" / "es").is_dir()
    assert submission_language(spanish["01_fixture_add"].notebook) == "es"
    assert editions.get("fr") is None and not (tmp_path / "editions" / "pt_BR").exists()
