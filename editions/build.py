"""Build an edition: the English notebooks with each cell's text taken from a language's catalog.

The edition has the same cells, ids, metadata, nbgrader metadata, code, grade ids and points as
the English notebook; only the source of translated cells changes. A cell falls back to its
English text (and is reported) when its catalog entry is missing, empty, fuzzy, translated
from other English than the notebook's (the catalog is stale), or when its translation is not
the same code (``code.code_problems``) or loses a formula (``formulas.formula_problems``): a
release or a grading run never uses a translation that ``check`` would reject.

A translated edition also knows its language at run time: the notebook's metadata gets
``"descent": {"language": LANG}`` and its setup cell (grade id ``setup``, else the first code
cell) starts with ``SET_LANGUAGE``, so ``course_utils``' checks and explorers speak the same
language. The English edition is the English notebook, byte for byte.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import I18N, SOURCE_LANGUAGE, catalog_path
from .catalogs import load, notebook_domains
from .cells import units
from .code import code_problems
from .formulas import formula_problems

SET_LANGUAGE = 'from course_utils.i18n import set_language; set_language("{lang}")'
SETUP_GRADE_ID = "setup"


@dataclass
class Built:
    """One edition notebook: where it went and which cells stayed English, and why."""

    domain: str
    path: Path
    translated: int = 0
    fallbacks: list[tuple[str, str]] = field(default_factory=list)   # (cell id, why)


def _translations(po: Path) -> dict[str, object]:
    """cell id -> catalog entry; empty when the catalog does not exist yet."""
    if not po.exists():
        return {}
    return {m.context: m for m in load(po) if m.id and m.context}


def _why_english(cell, entry) -> str | None:
    """Why ``cell`` keeps its English text (None: its translation is used)."""
    if entry is None or not entry.string:
        return "not translated"
    if entry.fuzzy:
        return "fuzzy (the English changed since it was translated)"
    if entry.id != cell.source:
        return "stale (the catalog was extracted from other English: run extract)"
    if cell.cell_type == "code":
        problems = code_problems(cell.source, entry.string)
        if problems:
            return f"not the same code: {problems[0]}"
    problems = formula_problems(cell.source, entry.string)
    return f"not the same formulas: {problems[0]}" if problems else None


def setup_cell(nb):
    """The cell that runs first and sets the language: grade id ``setup``, else the first
    code cell."""
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code_cells:
        if (cell.metadata.get("nbgrader") or {}).get("grade_id") == SETUP_GRADE_ID:
            return cell
    return code_cells[0] if code_cells else None


def mark_language(nb, lang: str) -> None:
    """Metadata and setup line that make ``nb`` run in ``lang``."""
    nb.metadata["descent"] = {"language": lang}
    cell = setup_cell(nb)
    if cell is not None:
        cell.source = SET_LANGUAGE.format(lang=lang) + "\n" + cell.source


def translate_notebook(english: Path, lang: str, i18n: Path = I18N):
    """(the edition notebook, its ``Built`` record without a path)."""
    nb = nbformat.read(english, as_version=4)
    entries = _translations(catalog_path(lang, english.stem, i18n))
    built = Built(english.stem, Path())
    wanted = {unit.cell_id for unit in units(nb)}   # cells with text to translate
    for cell in nb.cells:
        if cell.id not in wanted:
            continue
        entry = entries.get(cell.id)
        why = _why_english(cell, entry)
        if why is None:
            cell.source = entry.string
            built.translated += 1
        else:
            built.fallbacks.append((cell.id, why))
    mark_language(nb, lang)
    return nb, built


def build_edition(lang: str, out: Path, source: Path, i18n: Path = I18N) -> list[Built]:
    """Write ``lang``'s edition of every notebook of ``source`` into ``out`` (and the other
    files of ``source``, e.g. nbgrader_config.py). English is copied unchanged."""
    out.mkdir(parents=True, exist_ok=True)
    for extra in source.iterdir():
        if extra.is_file() and extra.suffix != ".ipynb":
            shutil.copyfile(extra, out / extra.name)
    results = []
    for domain, english in notebook_domains(source).items():
        target = out / english.name
        if lang == SOURCE_LANGUAGE:
            shutil.copyfile(english, target)
            results.append(Built(domain, target))
            continue
        nb, built = translate_notebook(english, lang, i18n)
        nbformat.write(nb, target)
        built.path = target
        results.append(built)
    return results
