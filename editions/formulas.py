"""The formulas of a text, for checking that a translation kept every one of them.

A formula is ``$…$`` or ``$$…$$`` outside code spans (`` `…` ``) and escaped dollars (``\\$``).
Two formulas are the same when their LaTeX tokens are: commands (``\\frac``), single symbols
and letters, with whitespace ignored and the words inside ``\\text{…}`` (and ``\\textrm``,
``\\textit``, ``\\textbf``, ``\\mbox``) left out, since those are prose and may be translated.

A translation may move formulas around (a sentence reordered), so a cell's formulas are
compared as a multiset: every English formula must appear in the translation as often as in
the English, and nothing else.
"""
from __future__ import annotations

import re
from collections import Counter

_CODE_SPAN = re.compile(r"(`+)(?:.|\n)*?\1")
# $$…$$ first, then $…$ that neither starts nor ends with a space (so "costs $5 and $6" is text)
_MATH = re.compile(r"(?<!\\)\$\$(?P<display>.+?)(?<!\\)\$\$"
                   r"|(?<![\\$])\$(?P<inline>[^\s$](?:[^$]*?[^\s\\$])?)\$(?!\$)", re.S)
_PROSE = re.compile(r"\\(?:text|textrm|textit|textbf|mbox)\s*\{(?:[^{}]|\{[^{}]*\})*\}")
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\S")


def formulas(text: str) -> list[str]:
    """The formulas of ``text`` in order, as written (without the dollars)."""
    text = _CODE_SPAN.sub(" ", text)
    return [m["display"] if m["display"] is not None else m["inline"] for m in _MATH.finditer(text)]


def latex_tokens(formula: str) -> tuple[str, ...]:
    """The tokens that make a formula what it is; words inside ``\\text{…}`` dropped."""
    kept = _PROSE.sub(lambda m: m.group(0).split("{", 1)[0] + "{}", formula)
    return tuple(_TOKEN.findall(kept))


def formula_problems(english: str, translation: str) -> list[str]:
    """Why the formulas of ``translation`` are not those of ``english`` (empty when they are)."""
    want = Counter(latex_tokens(f) for f in formulas(english))
    got = Counter(latex_tokens(f) for f in formulas(translation))
    if want == got:
        return []
    missing = [f"${''.join(tokens)}$" for tokens in (want - got).elements()]
    extra = [f"${''.join(tokens)}$" for tokens in (got - want).elements()]
    parts = []
    if missing:
        parts.append("formula changed or missing: " + ", ".join(missing))
    if extra:
        parts.append("formula not in the English: " + ", ".join(extra))
    return ["; ".join(parts)[:300]]
