"""Descent in three languages from one English source, through gettext catalogs (Babel).

English (``notebooks/``) is the source. Each notebook is one gettext *domain*; its translatable
units are whole cells, keyed by the cell id (``msgctxt``):

- every markdown cell;
- every code cell with human text in it (a comment, a docstring, a string a student reads).
  The translation of such a cell is the same code with only that text translated.

Catalogs live in ``i18n/``: ``templates/<domain>.pot`` (extracted from English) and
``<lang>/LC_MESSAGES/<domain>.po``. When an English cell changes, ``python -m editions extract``
updates every catalog and gettext marks the old translation fuzzy (stale) or obsolete.

Translators work in worksheets, plain text with no escaping (LaTeX keeps its backslashes):
``python -m editions worksheet pt_BR 04_losses_softmax_ce`` then ``python -m editions apply``.
"""
from pathlib import Path

from course_utils.i18n import LANGUAGES  # the one list of editions

REPO = Path(__file__).resolve().parents[1]
I18N = REPO / "i18n"
NOTEBOOKS = REPO / "notebooks"
SOURCE_LANGUAGE = "en"
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE)
LANGUAGE_NAMES = {"en": "English", "pt_BR": "Português (Brasil)", "es": "Español"}


def template_path(domain: str, i18n: Path = I18N) -> Path:
    return i18n / "templates" / f"{domain}.pot"


def catalog_path(lang: str, domain: str, i18n: Path = I18N) -> Path:
    return i18n / lang / "LC_MESSAGES" / f"{domain}.po"
