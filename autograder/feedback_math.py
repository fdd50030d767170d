"""LaTeX in feedback pages as MathML, written into the page: formulas render with no script.

The feedback page is a static file a student opens anywhere, maybe offline: MathJax from a CDN
would need both JavaScript and the network. ``latex2mathml`` turns ``$…$`` and ``$$…$$`` into
MathML when the page is written, and every modern browser draws MathML (MathML Core).

Only prose is maths: a markdown cell's text and a check's message. Code is never touched —
fenced blocks, indented blocks and `code spans` of the markdown, code cells, tracebacks — and a
dollar is a delimiter only as pandoc reads it: an opening ``$`` has a non-space after it, a
closing one a non-space before it and no digit after it. "It costs $5, or $10 with a tip"
therefore stays prose, and ``\\$`` is a dollar sign. A formula latex2mathml cannot read (or
reads with a command it does not know, ``\\foo`` left as text) stays as code, ``<code>$…$</code>``,
readable rather than broken.
"""
from __future__ import annotations

import html
import re

__all__ = ["markdown_math", "text_math", "to_mathml"]

# $$…$$ (across lines), then $…$ by pandoc's rule, inside prose only.
_DISPLAY = re.compile(r"(?<!\\)\$\$(?P<tex>.+?)(?<!\\)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?P<tex>[^\s$](?:[^$\n]|\\\$)*?(?<![\s\\]))\$(?![$\d])")
# What markdown must not read inside the MathML (emphasis, tables, escapes, code, more maths).
# (Not & or #: latex2mathml's own entities, &#x003B7;, are made of them.)
_MARKDOWN_SPECIAL = {c: f"&#{ord(c)};" for c in "\\`*_[]|$~"}
_DOLLAR = "&#36;"
# LaTeX's operator names latex2mathml 3.81 does not know (the course writes \arg\max).
_OPERATORS = re.compile(r"\\(arg)(?![A-Za-z])")
_UNKNOWN_COMMAND = re.compile(r">\\[A-Za-z]+<")


def to_mathml(tex: str, display: bool = False) -> str:
    """``tex`` as a ``<math>`` element; ``<code>`` with the LaTeX if it cannot be converted."""
    from latex2mathml.converter import convert

    try:
        mathml = convert(_OPERATORS.sub(r"\\operatorname{\1}", tex.strip()),
                         display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - any formula latex2mathml cannot read stays readable
        mathml = ""
    if not mathml or _UNKNOWN_COMMAND.search(mathml):
        fence = "$$" if display else "$"
        return f"<code>{html.escape(fence + tex + fence)}</code>"
    return "".join(_MARKDOWN_SPECIAL.get(c, c) for c in mathml.replace("\n", ""))


def _prose(text: str, escape: bool) -> str:
    """Prose around formulas; its dollars as entities, so that no markdown renderer's maths
    (nbconvert's, made for MathJax) pairs a price with a dollar further on."""
    text = html.escape(text) if escape else text
    return text.replace("\\$", _DOLLAR).replace("$", _DOLLAR)


def _convert(text: str, escape: bool) -> str:
    """Prose with its formulas as MathML; the prose itself HTML-escaped if ``escape``."""
    out, last = [], 0
    spans = sorted([(m.start(), m.end(), m["tex"], True) for m in _DISPLAY.finditer(text)])
    covered = [(a, b) for a, b, _, _ in spans]
    for m in _INLINE.finditer(text):
        if not any(a <= m.start() < b for a, b in covered):
            spans.append((m.start(), m.end(), m["tex"], False))
    for start, end, tex, display in sorted(spans):
        if start < last:
            continue
        out += [_prose(text[last:start], escape), to_mathml(tex, display)]
        last = end
    out.append(_prose(text[last:], escape))
    return "".join(out)


# Markdown that is code: fenced blocks, indented blocks (after a blank line), `code spans`.
_FENCE = re.compile(r"^(?P<fence>```|~~~).*?^(?P=fence)[^\n]*$", re.S | re.M)
_INDENTED = re.compile(r"(?:^|(?<=\n\n))(?:(?: {4}|\t)[^\n]*(?:\n|$))+")
_CODE_SPAN = re.compile(r"(?P<ticks>`+).+?(?P=ticks)", re.S)


def _code_parts(text: str) -> list[tuple[int, int]]:
    parts = [m.span() for m in _FENCE.finditer(text)]
    parts += [m.span() for m in _INDENTED.finditer(text)
              if not any(a <= m.start() < b for a, b in parts)]
    parts += [m.span() for m in _CODE_SPAN.finditer(text)
              if not any(a <= m.start() < b for a, b in parts)]
    return sorted(parts)


def markdown_math(text: str, escape: bool = False) -> str:
    """A markdown cell with the maths of its prose as MathML; its code left exactly as it is.

    ``escape``: HTML-escape the prose too (a student's written answer: no raw HTML of theirs
    reaches the page, while their formulas still render).
    """
    out, last = [], 0
    for start, end in _code_parts(text):
        if start < last:
            continue
        out += [_convert(text[last:start], escape), text[start:end]]
        last = end
    out.append(_convert(text[last:], escape))
    return "".join(out)


def text_math(message: str) -> str:
    """A message (a check's words) for a markdown table cell: escaped, formulas as MathML."""
    return markdown_math(message, escape=True)
