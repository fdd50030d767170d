"""Which cells of a notebook a translator sees: every markdown cell, and the code cells that
carry human text (comments, docstrings, strings shown to the student)."""
from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass

MAGIC = re.compile(r"^\s*[%!]")   # an IPython magic or shell line, not Python
_WORDS = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True)
class Unit:
    cell_id: str
    kind: str          # "markdown" or "code"
    source: str
    note: str          # for the translator: where it is, what to keep


def python_tokens(source: str) -> list[tokenize.TokenInfo]:
    """Tokens of a code cell, IPython magics (``%matplotlib inline``) blanked out."""
    lines = ["\n" if MAGIC.match(line) else line for line in source.splitlines(keepends=True)]
    try:
        return list(tokenize.generate_tokens(io.StringIO("".join(lines)).readline))
    except (tokenize.TokenError, SyntaxError):
        return []


def has_human_text(source: str) -> bool:
    """A comment, or a string literal with a word in it."""
    return any(tok.type == tokenize.COMMENT or
               (tok.type == tokenize.STRING and _WORDS.search(tok.string))
               for tok in python_tokens(source))


def _nbgrader_label(cell) -> str:
    meta = cell.get("metadata", {}).get("nbgrader", {}) or {}
    if not meta.get("grade_id"):
        return ""
    role = "answer" if meta.get("solution") else "tests" if meta.get("grade") else "locked"
    return f", nbgrader {role} cell {meta['grade_id']}"


CODE_NOTE = ("Translate only comments, docstrings and text a student reads (titles, labels, "
             "printed messages). Keep code, names, dict keys, option values and nbgrader markers "
             "(### BEGIN SOLUTION ...) exactly.")


def units(nb) -> list[Unit]:
    found = []
    for index, cell in enumerate(nb.cells):
        source = cell.source
        if not source.strip():
            continue
        where = f"cell {index} ({cell.cell_type}{_nbgrader_label(cell)})"
        if cell.cell_type == "markdown":
            found.append(Unit(cell.id, "markdown", source, where))
        elif cell.cell_type == "code" and has_human_text(source):
            found.append(Unit(cell.id, "code", source, f"{where}. {CODE_NOTE}"))
    return found
