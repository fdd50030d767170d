"""The course in each language edition (``editions``), as the grader sees it.

One English source; ``en``, ``pt_BR`` and ``es`` editions built from it and the catalogs in
``i18n/``. An edition has the same cells, code, grade ids, points and tests as the English
notebook (``editions.build`` uses a translation only when ``editions.code`` finds it the same
code, and falls back to English otherwise), so grading a submission against its own edition's
pristine notebook gives the score the English would, with the test cells' hints and the
checks' messages in the student's language (the edition's setup cell sets it).

A submission's language: its notebook metadata ``descent.language``, else the language its
setup line sets (``set_language("es")``), else English.
"""
from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from pathlib import Path

from course_utils.i18n import LANGUAGES, known_language

from .course import Assignment, load_course

DEFAULT_LANGUAGE = "en"
_SET_LANGUAGE = re.compile(r"set_language\(\s*['\"]([A-Za-z_-]+)['\"]\s*\)")


def submission_language(nb) -> str:
    """The edition a submitted notebook comes from (see the module docstring)."""
    meta = (nb.get("metadata", {}) or {}).get("descent", {}) or {}
    found = known_language(meta.get("language", "")) if isinstance(meta, dict) else None
    if found:
        return found
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            match = _SET_LANGUAGE.search(cell.get("source", ""))
            if match and known_language(match.group(1)):
                return known_language(match.group(1))
    return DEFAULT_LANGUAGE


def build_edition_source(lang: str, source: Path, out: Path, built: list | None = None) -> Path:
    """``lang``'s edition of the notebooks in ``source``, written to ``out`` (English: ``source``
    itself). ``built`` receives an ``editions.build.Built`` per notebook: which cells are still
    in English, and why (``python -m editions check`` says it too)."""
    if lang == DEFAULT_LANGUAGE:
        return source
    from editions.build import build_edition

    records = build_edition(lang, out, source)
    if built is not None:
        built.extend(records)
    return out


@contextlib.contextmanager
def edition_source(lang: str, source: Path, built: list | None = None):
    """A folder holding ``lang``'s edition of ``source`` for the length of the block."""
    with tempfile.TemporaryDirectory(prefix=f"descent-{lang}-") as scratch:
        yield build_edition_source(lang, source, Path(scratch) / lang, built)


def translation_summary(lang: str, built: list) -> str:
    """One line: how much of an edition is translated (the rest runs in English)."""
    translated = sum(b.translated for b in built)
    english = sum(len(b.fallbacks) for b in built)
    if lang == DEFAULT_LANGUAGE:
        return f"{lang}: the English source"
    return (f"{lang}: {translated} cells translated, {english} still in English"
            + (f" (python -m editions build {lang} --source FOLDER lists them)" if english
               else ""))


class Editions(dict):
    """lang -> the course in that edition, built the first time a submission in that language
    asks for it (``get``); English is the course itself. The notebooks go under ``work/<lang>/``:
    the feedback pages read the released checksums from them, so keep ``work`` for the run."""

    def __init__(self, source: Path, english: dict[str, Assignment], work: Path):
        super().__init__({DEFAULT_LANGUAGE: english})
        self.source, self.work = source, work

    def get(self, lang, default=None):
        if lang in LANGUAGES and lang not in self:
            folder = self.work / lang
            if folder.exists():
                shutil.rmtree(folder)
            self[lang] = load_course(build_edition_source(lang, self.source, folder))
        return super().get(lang, default)


def edition_courses(source: Path, english: dict[str, Assignment], work: Path) -> Editions:
    """Every edition of the course, each built when first needed (``Editions``)."""
    return Editions(source, english, work)


def release_languages(choice: str) -> tuple[str, ...]:
    """``--lang``'s value as the editions to write: one language, or all of them."""
    return LANGUAGES if choice == "all" else (choice,)
