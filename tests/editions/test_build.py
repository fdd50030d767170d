"""``editions.build``: an edition is the English notebook with translated text, the same code,
and the language set at run time; English stays byte-identical; bad entries fall back."""
from __future__ import annotations

import nbformat

from editions.build import SET_LANGUAGE, build_edition, setup_cell
from editions.code import code_skeleton
from edition_fixtures import DOMAIN, LANG, course_copy, edit_catalog


def _build(tmp_path, lang=LANG, translate=True):
    source, i18n = course_copy(tmp_path, translate)
    built = build_edition(lang, tmp_path / "out", source, i18n)
    english = nbformat.read(source / f"{DOMAIN}.ipynb", as_version=4)
    return source, i18n, built, english


def test_the_edition_is_the_same_notebook_with_translated_text(tmp_path):
    source, _, built, english = _build(tmp_path)
    edition = nbformat.read(built[0].path, as_version=4)
    assert [c.id for c in edition.cells] == [c.id for c in english.cells]
    assert [c.metadata for c in edition.cells] == [c.metadata for c in english.cells]
    assert edition.metadata["descent"] == {"language": LANG}
    translated = [c for c in edition.cells if c.cell_type == "markdown"]
    assert translated and all(c.source.startswith("[pt] ") for c in translated)
    assert built[0].translated > 30 and built[0].fallbacks == []
    assert (tmp_path / "out" / "nbgrader_config.py").read_bytes() == \
        (source / "nbgrader_config.py").read_bytes()


def test_every_code_cell_runs_the_same_code(tmp_path):
    _, _, built, english = _build(tmp_path)
    edition = nbformat.read(built[0].path, as_version=4)
    pairs = [(e, t) for e, t in zip(english.cells, edition.cells) if e.cell_type == "code"]
    assert any("# [pt]" in t.source for _, t in pairs), "comments were translated"
    for english_cell, cell in pairs:
        source = cell.source
        if cell is setup_cell(edition):
            first, source = source.split("\n", 1)
            assert first == SET_LANGUAGE.format(lang=LANG)
        assert code_skeleton(source) == code_skeleton(english_cell.source), cell.id


def test_the_language_is_set_in_the_setup_cell(tmp_path):
    _, _, built, english = _build(tmp_path, translate=False)
    edition = nbformat.read(built[0].path, as_version=4)
    setup = setup_cell(edition)
    assert setup.metadata["nbgrader"]["grade_id"] == "setup"
    assert setup.source == 'from course_utils.i18n import set_language; set_language("pt_BR")\n' \
        + setup_cell(english).source
    assert built[0].translated == 0 and len(built[0].fallbacks) == 40   # nothing translated yet


def test_the_english_edition_is_byte_identical(tmp_path):
    source, _, built, _ = _build(tmp_path, lang="en")
    assert built[0].path.read_bytes() == (source / f"{DOMAIN}.ipynb").read_bytes()


def test_fuzzy_bad_code_and_bad_formula_translations_fall_back_to_english(tmp_path):
    source, i18n = course_copy(tmp_path)
    english = nbformat.read(source / f"{DOMAIN}.ipynb", as_version=4)
    markdown = next(c for c in english.cells if c.cell_type == "markdown")
    answer = next(c for c in english.cells if "def gd_step_1d(" in c.source)

    def fuzzy(message):
        message.flags.add("fuzzy")
        return message.string
    edit_catalog(i18n, LANG, fuzzy, only=markdown.id)
    edit_catalog(i18n, LANG, lambda m: m.string.replace("w - lr", "w + lr"), only=answer.id)
    formula = next(c for c in english.cells if r"\boxed{\,w \leftarrow w - \eta" in c.source)
    edit_catalog(i18n, LANG, lambda m: m.string.replace(r"w - \eta", r"w + \eta"), only=formula.id)
    built = build_edition(LANG, tmp_path / "out", source, i18n)[0]
    edition = {c.id: c for c in nbformat.read(built.path, as_version=4).cells}
    assert edition[markdown.id].source == markdown.source
    assert edition[answer.id].source == answer.source
    whys = dict(built.fallbacks)
    assert whys[markdown.id].startswith("fuzzy") and whys[answer.id].startswith("not the same code")
    assert edition[formula.id].source == formula.source
    assert whys[formula.id].startswith("not the same formulas")
