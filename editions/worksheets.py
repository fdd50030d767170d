"""Translator worksheets: a catalog's open entries as plain text, no PO escaping.

    ≪≪≪ 21e25811 | markdown | cell 0 (markdown) ≫≫≫
    ≪ english ≫
    # 04 · Loss functions ...
    ≪ translation ≫
    # 04 · Funções de perda ...
    ≪≪≪ end ≫≫≫

The English block is for reading; ``apply`` keys entries by context (the cell id) and takes the
English from the catalog, so an edited English block changes nothing.
"""
from __future__ import annotations

import re
from pathlib import Path

from .catalogs import load, save
from .cells import CODE_NOTE
from .code import code_problems
from .formulas import formula_problems

OPEN, ENGLISH, TRANSLATION, END = "≪≪≪ ", "≪ english ≫", "≪ translation ≫", "≪≪≪ end ≫≫≫"
_ENTRY = re.compile(rf"^{OPEN}(?P<ctx>[^|\n]+?) \|[^\n]*\n{ENGLISH}\n(?P<en>.*?)\n{TRANSLATION}\n"
                    rf"(?P<tr>.*?)\n{END}$", re.S | re.M)


def open_entries(catalog, everything: bool = False):
    """Entries still to do: untranslated or fuzzy (all of them with ``everything``)."""
    return [m for m in catalog if m.id and (everything or not m.string or m.fuzzy)]


def write_worksheet(po: Path, out: Path, everything: bool = False) -> int:
    catalog = load(po)
    blocks = []
    for m in open_entries(catalog, everything):
        note = " ".join(m.auto_comments)
        draft = m.string or ""
        blocks.append(f"{OPEN}{m.context} | {note} ≫≫≫\n{ENGLISH}\n{m.id}\n{TRANSLATION}\n"
                      f"{draft}\n{END}\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(blocks), encoding="utf-8")
    return len(blocks)


def translation_problems(message) -> list[str]:
    """What ``python -m editions check`` will say about this translation (code, formulas)."""
    is_code = CODE_NOTE in " ".join(message.auto_comments)
    return (code_problems(message.id, message.string) if is_code else []) + \
        formula_problems(message.id, message.string)


def apply_worksheet(po: Path, sheet: Path) -> tuple[int, list[str]]:
    """Copy the worksheet's translations into the catalog; returns (applied, problems)."""
    catalog = load(po)
    by_context = {m.context: m for m in catalog if m.id}
    applied, problems = 0, []
    for entry in _ENTRY.finditer(sheet.read_text(encoding="utf-8")):
        ctx, text = entry["ctx"].strip(), entry["tr"]
        message = by_context.get(ctx)
        if message is None:
            problems.append(f"{ctx}: no such entry in {po.name} (run extract?)")
        elif text.strip():  # an empty block is work not done yet: the entry stays open
            message.string = text
            message.flags.discard("fuzzy")
            message.previous_id = ()
            applied += 1
            problems += [f"{ctx}: {what} (make i18n-check fails until it is fixed)"
                         for what in translation_problems(message)]
    save(catalog, po)
    return applied, problems
