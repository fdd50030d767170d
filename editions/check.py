"""``python -m editions check``: are the editions in step with the English source?

A problem (one line each: language, catalog, cell id, what) fails the check:

- **stale**: the template is not what ``extract`` would write from today's English, an entry is
  fuzzy (its English changed since it was translated), or a catalog holds other English than
  the notebook (``extract`` was not run);
- **code**: a translated code cell is not the same code as the English (``code.py``'s rule);
- **formula**: a translation's formulas are not the English ones (``formulas.py``);
- **untranslated**: an entry with no translation, in a catalog declared complete.

Translators work catalog by catalog, so an untranslated entry elsewhere is only counted ("n to
do"). ``i18n/complete.txt`` lists the finished catalogs, one ``LANG CATALOG`` a line (``*`` for
every catalog of a language); the catalog of ``course_utils``' messages is called
``course_utils``. Declare a catalog complete once ``status`` shows 0 to do for it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import I18N, NOTEBOOKS, REPO, TRANSLATED, catalog_path, template_path
from .catalogs import load, notebook_domains
from .cells import units
from .code import code_problems, placeholders
from .formulas import formula_problems

COMPLETE = I18N / "complete.txt"
COURSE_UTILS_LOCALE = REPO / "course_utils" / "locale"
COURSE_UTILS = "course_utils"


@dataclass(frozen=True)
class Problem:
    lang: str
    catalog: str
    cell: str          # the cell id (msgctxt), or the message for course_utils
    what: str

    def __str__(self) -> str:
        where = f" {self.cell}" if self.cell else ""
        return f"{self.lang} {self.catalog}{where}: {self.what}"


@dataclass
class Report:
    problems: list[Problem] = field(default_factory=list)
    todo: dict[tuple[str, str], int] = field(default_factory=dict)   # (lang, catalog) -> count


def read_complete(path: Path) -> set[tuple[str, str]]:
    """The (lang, catalog) pairs declared complete; ``#`` starts a comment."""
    if not path.exists():
        return set()
    pairs = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) == 2:
            pairs.add((words[0], words[1]))
    return pairs


def is_complete(complete: set[tuple[str, str]], lang: str, catalog: str) -> bool:
    return (lang, catalog) in complete or (lang, "*") in complete


def _template_problems(domain: str, notebook, i18n: Path) -> list[Problem]:
    pot = template_path(domain, i18n)
    want = {(u.cell_id, u.source) for u in units(notebook)}
    have = {(m.context, m.id) for m in load(pot) if m.id} if pot.exists() else set()
    if want == have:
        return []
    return [Problem("templates", domain, "", "template out of date with the English notebook "
                    f"({len(want - have)} cell(s) new or changed, {len(have - want)} gone): "
                    "run python -m editions extract")]


def _translation_problems(kind: str, english: str, translation: str) -> list[str]:
    found = code_problems(english, translation) if kind == "code" else []
    return found + formula_problems(english, translation)


def check_catalog(lang: str, domain: str, notebook, i18n: Path,
                  complete: bool) -> tuple[list[Problem], int]:
    """The problems of one notebook catalog, and how many of its entries are still to do."""
    po = catalog_path(lang, domain, i18n)
    if not po.exists():
        return [Problem(lang, domain, "", "no catalog: run python -m editions extract")], 0
    entries = {m.context: m for m in load(po) if m.id}
    problems, todo = [], 0

    def problem(cell: str, what: str) -> None:
        problems.append(Problem(lang, domain, cell, what))

    found = units(notebook)
    for unit in found:
        entry = entries.get(unit.cell_id)
        if entry is None:
            problem(unit.cell_id, "stale: cell not in the catalog (run python -m editions extract)")
        elif entry.id != unit.source:
            problem(unit.cell_id, "stale: the catalog has other English than the notebook "
                    "(run python -m editions extract)")
        elif entry.fuzzy:
            problem(unit.cell_id, "stale: the English changed since it was translated (fuzzy); "
                    "translate it again (worksheet, apply)")
        elif not entry.string:
            todo += 1
            if complete:
                problem(unit.cell_id, "untranslated (the catalog is declared complete)")
        else:
            for what in _translation_problems(unit.kind, unit.source, entry.string):
                problem(unit.cell_id, what)
    for gone in sorted(set(entries) - {u.cell_id for u in found}):
        problem(gone, "stale: no such cell in the English notebook "
                "(run python -m editions extract)")
    return problems, todo


def _message_text(value) -> str:
    return value[0] if isinstance(value, (tuple, list)) else value or ""


def check_messages(lang: str, po: Path, complete: bool) -> tuple[list[Problem], int]:
    """The problems of ``course_utils``' message catalog (strings, not cells)."""
    problems, todo = [], 0
    for m in load(po):
        if not m.id:
            continue
        english, translation = _message_text(m.id), _message_text(m.string)
        label = english[:40].replace("\n", " ")
        if m.fuzzy:
            problems.append(Problem(lang, COURSE_UTILS, label, "stale: fuzzy"))
        elif not translation:
            todo += 1
            if complete:
                problems.append(Problem(lang, COURSE_UTILS, label, "untranslated (declared "
                                        "complete)"))
        elif placeholders(english) != placeholders(translation):
            problems.append(Problem(lang, COURSE_UTILS, label, "placeholders ({…}, %s) differ"))
        else:
            problems += [Problem(lang, COURSE_UTILS, label, what)
                         for what in formula_problems(english, translation)]
    return problems, todo


def check(source: Path = NOTEBOOKS, i18n: Path = I18N, complete_file: Path | None = None,
          locale: Path = COURSE_UTILS_LOCALE, languages=TRANSLATED) -> Report:
    """Every problem of every catalog, and what is still to do where that is allowed."""
    complete = read_complete(complete_file or i18n / COMPLETE.name)
    report = Report()
    for domain, path in notebook_domains(source).items():
        notebook = nbformat.read(path, as_version=4)
        report.problems += _template_problems(domain, notebook, i18n)
        for lang in languages:
            found, todo = check_catalog(lang, domain, notebook, i18n,
                                        is_complete(complete, lang, domain))
            report.problems += found
            report.todo[(lang, domain)] = todo
    for lang in languages:
        po = locale / lang / "LC_MESSAGES" / f"{COURSE_UTILS}.po"
        if po.exists():
            found, todo = check_messages(lang, po, is_complete(complete, lang, COURSE_UTILS))
            report.problems += found
            report.todo[(lang, COURSE_UTILS)] = todo
    known = set(report.todo)
    for lang, catalog in sorted(complete):
        if catalog != "*" and (lang, catalog) not in known:
            report.problems.append(Problem(lang, catalog, "", "declared complete in "
                                           "complete.txt, but there is no such catalog"))
    return report
