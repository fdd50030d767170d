"""Translators' worksheets: ``apply`` copies translations in, and warns at once about what
``check`` will reject (a changed line of code), without losing the work."""
from __future__ import annotations

from editions import catalog_path
from editions.catalogs import load
from editions.worksheets import apply_worksheet, write_worksheet
from edition_fixtures import DOMAIN, LANG, course_copy


def test_apply_takes_the_translations_and_warns_about_changed_code(tmp_path):
    _, i18n = course_copy(tmp_path, translate=False)
    po, sheet = catalog_path(LANG, DOMAIN, i18n), tmp_path / "sheet.txt"
    assert write_worksheet(po, sheet) == 40
    text = sheet.read_text(encoding="utf-8")
    english_step = "def gd_step_1d(w, dL_dw, lr):"
    block = text[text.index(english_step):]
    block = block[:block.index("≪ translation ≫")]
    broken = block.replace("return w - lr * dL_dw", "return w + lr * dL_dw")
    marker = block + "≪ translation ≫\n"
    text = text.replace(marker, marker + broken.rstrip("\n"))
    sheet.write_text(text, encoding="utf-8")
    applied, problems = apply_worksheet(po, sheet)
    assert applied == 1
    assert len(problems) == 1 and "code differs" in problems[0] and "i18n-check" in problems[0]
    assert any("return w + lr * dL_dw" in m.string for m in load(po) if m.id)
