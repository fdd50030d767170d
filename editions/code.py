"""Is a translated code cell the same code as the English one?

A translator may change only human text. The rule, token by token (Python's tokenizer, IPython
magics taken out first):

- **comments** may change freely, except nbgrader's markers (``### BEGIN SOLUTION``,
  ``### END SOLUTION``, ``### BEGIN HIDDEN TESTS``, ``### END HIDDEN TESTS``): the same markers,
  in the same order;
- **magic lines** (``%matplotlib inline``, ``!pip …``) must be identical, in the same order;
- **docstrings** (a string that is a statement on its own) may change freely;
- **display text** may change, but keeps its prefix (``f``, ``r``…), its quotes and its
  placeholders: the same ``%`` conversions and the same ``{…}`` fields, in any order (a sentence
  may put them elsewhere); inside a field, the same rule applies again, and the strings a
  conditional picks between are display text too (``{'right' if ok else 'WRONG'}`` may change;
  in ``{'constant α' if name == 'constant' else …}`` the compared ``'constant'`` may not).
  Display text is, in the English: a string with a word and a space (a title, a printed
  message, a check's hint), or any string given to a display keyword (``title=``, ``xlabel=``,
  ``ylabel=``, ``label=``, ``description=`` …) or as the first argument of a display call
  (``print(``, ``set_title(``, ``set_xlabel(`` …);
- **every other token**, other strings included (dict keys and option values such as
  ``"parabola"``, ``"momentum"``), must be identical. Blank lines and line breaks inside
  brackets do not count; indentation and statements do.
"""
from __future__ import annotations

import re
import tokenize
from collections import Counter

from .cells import MAGIC, python_tokens

MARKER = re.compile(r"###\s*(BEGIN|END)\s+(SOLUTION|HIDDEN TESTS)")
_PROSE_WORD = re.compile(r"[^\W\d_]{2,}")
_PREFIX = re.compile(r"^([A-Za-z]*)('''|\"\"\"|'|\")")
_FIELD = re.compile(r"(?<!\{)\{(?!\{)([^{}]*)\}")
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0+]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
_LAYOUT = (tokenize.NL, tokenize.COMMENT, tokenize.ENCODING, tokenize.ENDMARKER)
_STATEMENT_START = (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT)
DISPLAY_KEYWORDS = {"title", "xlabel", "ylabel", "zlabel", "label", "suptitle", "description",
                    "text", "message", "hint", "legend_title"}
DISPLAY_CALLS = {"print", "set_title", "set_xlabel", "set_ylabel", "set_zlabel", "suptitle",
                 "text", "annotate", "Markdown", "HTML", "Label"}


def magic_lines(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines() if MAGIC.match(line)]


def markers(source: str) -> list[str]:
    return [" ".join(m.groups()) for m in MARKER.finditer(source)]


def _significant(source: str, in_field: bool = False) -> list[tuple[str, str]]:
    """(kind, text) of each token that matters. Kinds: ``docstring`` (text dropped),
    ``display`` (display text, see the module docstring), ``string``, or the token type.
    ``in_field``: ``source`` is the expression of an f-string's ``{…}`` field."""
    tokens = [t for t in python_tokens(source) if t.type not in _LAYOUT]
    kept = []
    for index, tok in enumerate(tokens):
        if tok.type == tokenize.STRING and _is_docstring(tokens, index) and not in_field:
            kept.append(("docstring", ""))
        elif tok.type == tokenize.STRING:
            display = is_prose(tok.string) or _in_display_place(tokens, index) or \
                (in_field and _is_conditional_branch(tokens, index))
            kept.append(("display" if display else "string", tok.string))
        else:
            kept.append((tokenize.tok_name[tok.type], tok.string))
    return kept


def _is_docstring(tokens, index: int) -> bool:
    before = tokens[index - 1].type if index else tokenize.NEWLINE
    after = tokens[index + 1].type if index + 1 < len(tokens) else tokenize.NEWLINE
    return before in _STATEMENT_START and after in (tokenize.NEWLINE, tokenize.ENDMARKER)


def _in_display_place(tokens, index: int) -> bool:
    """``title="…"`` or ``print("…"``: a string only a person reads."""
    if index < 2:
        return False
    name, punct = tokens[index - 2].string, tokens[index - 1].string
    return (punct == "=" and name in DISPLAY_KEYWORDS) or (punct == "(" and name in DISPLAY_CALLS)


def _is_conditional_branch(tokens, index: int) -> bool:
    """``'right'`` or ``'WRONG'`` in ``'right' if ok else 'WRONG'``: a value shown as it is."""
    before = tokens[index - 1].string if index else ""
    after = tokens[index + 1].string if index + 1 < len(tokens) else ""
    return before in ("", "else") and after in ("", "if", ":", "!")


def is_prose(literal: str) -> bool:
    """A string literal with a word and a space in its text."""
    body = _PREFIX.sub("", literal)
    return bool(_PROSE_WORD.search(body)) and any(c.isspace() for c in body.strip("'\""))


def placeholders(text: str) -> Counter:
    """The ``{…}`` fields (as code: their own display text ignored) and ``%`` conversions of a
    text, in any order."""
    fields = Counter(repr(code_skeleton(field, in_field=True)) for field in _FIELD.findall(text))
    return fields + Counter(_PERCENT.findall(text))


def _shape(literal: str) -> tuple:
    """What a translated display string must keep: prefix, quotes and placeholders."""
    match = _PREFIX.match(literal)
    prefix, quote = (match.group(1).lower(), match.group(2)) if match else ("", "")
    return prefix, quote, placeholders(literal) if "f" in prefix or "{" in literal else \
        Counter(_PERCENT.findall(literal))


def _token_problem(kind: str, text: str, other_kind: str, other_text: str) -> str | None:
    """Why a translated token is not allowed in place of the English one (None: it is)."""
    if kind == "docstring" and other_kind == "docstring":
        return None
    if kind == "display" and other_kind in ("display", "string"):
        if _shape(text) != _shape(other_text):
            return (f"string {text[:40]} lost or changed its placeholders or prefix "
                    f"(now {other_text[:40]})")
        return None
    if text != other_text or kind != other_kind:
        what = "string" if kind == "string" else "code"
        return f"{what} differs: {text[:40]!r} became {other_text[:40]!r}"
    return None


def code_problems(english: str, translation: str) -> list[str]:
    """Why ``translation`` is not the same code as ``english`` (empty when it is)."""
    if magic_lines(english) != magic_lines(translation):
        return ["magic lines (%…, !…) differ from the English"]
    if markers(english) != markers(translation):
        return ["nbgrader markers (### BEGIN/END SOLUTION/HIDDEN TESTS) differ from the English"]
    want, got = _significant(english), _significant(translation)
    if want and not got:
        return ["the translation is not valid Python"]
    for (kind, text), (other_kind, other_text) in zip(want, got):
        problem = _token_problem(kind, text, other_kind, other_text)
        if problem:
            return [problem]
    if len(want) != len(got):
        return [f"code differs: {len(got)} tokens where the English has {len(want)}"]
    return []


def code_skeleton(source: str, in_field: bool = False) -> list[tuple[str, str]]:
    """The code of a cell without comments, docstrings and display text: what runs the same in
    every edition (the display text of a translation is judged by its English original)."""
    return [(kind, "") if kind in ("display", "docstring") else (kind, text)
            for kind, text in _significant(source, in_field)]
