"""A temp copy of one course notebook with its own catalogs, and a stand-in translator.

Tests never touch the repository's catalogs: they extract a copy of notebook 01 into a temp
``i18n`` folder and translate it with ``fake_translation`` (every comment and sentence marked,
code untouched), which is a valid translation by ``editions.code``'s rule.
"""
from __future__ import annotations

import shutil
import tokenize
from pathlib import Path

from editions import catalog_path
from editions.catalogs import extract_notebooks, load, save
from editions.cells import python_tokens
from editions.code import MARKER

from conftest import NOTEBOOKS

DOMAIN = "01_gradient_descent_1d"
LANG = "pt_BR"


def fake_translation(kind: str, english: str) -> str:
    """What a translator would write, recognisably: markdown and comments get a ``[pt]`` mark,
    code, formulas and nbgrader markers stay as they are."""
    if kind == "markdown":
        return "[pt] " + english
    lines = english.splitlines(keepends=True)
    for tok in reversed(python_tokens(english)):   # from the end: columns stay valid
        if tok.type == tokenize.COMMENT and not MARKER.search(tok.string):
            row, col = tok.start[0] - 1, tok.start[1]
            lines[row] = lines[row][:col] + "# [pt]" + lines[row][col + 1:]
    return "".join(lines)


def course_copy(tmp: Path, translate: bool = True) -> tuple[Path, Path]:
    """(notebooks, i18n) folders under ``tmp``: notebook 01 extracted, and translated."""
    source, i18n = tmp / "notebooks", tmp / "i18n"
    source.mkdir()
    shutil.copyfile(NOTEBOOKS / f"{DOMAIN}.ipynb", source / f"{DOMAIN}.ipynb")
    shutil.copyfile(NOTEBOOKS / "nbgrader_config.py", source / "nbgrader_config.py")
    extract_notebooks(source, i18n)
    if translate:
        for lang in ("pt_BR", "es"):
            edit_catalog(i18n, lang, lambda m: fake_translation(_kind(m), m.id))
    return source, i18n


def _kind(message) -> str:
    return "code" if "Translate only comments" in " ".join(message.auto_comments) else "markdown"


def edit_catalog(i18n: Path, lang: str, change, only: str | None = None) -> None:
    """Set each entry's translation to ``change(message)`` (only cell ``only``, if given)."""
    po = catalog_path(lang, DOMAIN, i18n)
    catalog = load(po)
    for message in catalog:
        if message.id and (only is None or message.context == only):
            message.string = change(message)
    save(catalog, po)


def declare_complete(i18n: Path, *pairs: str) -> Path:
    path = i18n / "complete.txt"
    path.write_text("# finished catalogs\n" + "".join(f"{p}\n" for p in pairs), encoding="utf-8")
    return path
