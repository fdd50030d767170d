"""Answers that are a near-verbatim copy of the answer key's source: flag ``copied-from-reference``.

``course_utils`` is in every student's hands (it is the course's library), so a student can
paste the reference of an exercise, rename its variables and reword its comments. Calling the
reference is caught at run time (``checks.quiet``); a pasted copy runs the student's own code,
so only a comparison of sources can see it. The flag is for a human to read; it never changes
a score.

How two functions are compared: the *body* of each (docstring dropped: the signature and the
docstring come from the released stub, so everybody has them) becomes a token stream of its
syntax tree, with every variable, argument and function name renamed canonically by first
appearance (``v0``, ``v1``, …), strings reduced to one token and comments gone (``ast`` has
none); numbers, attribute names (``np.sqrt``) and keyword names (``axis=``) stay, as they are
what the formula says. ``difflib.SequenceMatcher`` gives the similarity of the two streams.

Thresholds, measured on the course (``tests/autograder/test_similarity.py`` keeps them honest):

- ``MIN_TOKENS = 60``: a reference whose body is shorter is never compared. Below that size the
  reference *is* the formula (``v = beta * v + g; return w - lr * v, v`` is 27 tokens, RMSprop's
  two lines 52), and an honest answer written from the formula in the notebook matches it token
  for token. The shortest references still compared (``losses.sigmoid`` 61, ``losses.softmax``
  71, ``schedules.step_lr`` 73) carry argument checks or branches that no answer needs.
- ``THRESHOLD = 0.95``: a renamed copy with changed comments scores 1.0, and the copy of
  ``optim.adam_step`` with its ``else`` branch deleted still 0.96; an honest Adam written from
  the notebook's formulas scores 0.87-0.89 against it (the closest honest case), the course's
  own solutions at most 0.80, most below 0.4.
"""
from __future__ import annotations

import ast
import difflib
import functools
import textwrap

MIN_TOKENS = 60
THRESHOLD = 0.95
FLAG = "copied-from-reference"


def _body(node) -> list[ast.stmt]:
    """A function's statements without its docstring."""
    body = list(node.body)
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str):
        body = body[1:]
    return body


class _Tokens(ast.NodeVisitor):
    """Pre-order token stream of a tree; identifiers renamed by first appearance."""

    def __init__(self):
        self.out: list[str] = []
        self.names: dict[str, str] = {}

    def name(self, text: str) -> str:
        return self.names.setdefault(text, f"v{len(self.names)}")

    def generic_visit(self, node):
        if isinstance(node, ast.expr_context):  # Load/Store say nothing the parent does not
            return
        self.out.append(type(node).__name__)
        if isinstance(node, ast.Name):
            self.out.append(self.name(node.id))
        elif isinstance(node, ast.arg):
            self.out.append(self.name(node.arg))
        elif isinstance(node, ast.Attribute):
            self.out.append("." + node.attr)
        elif isinstance(node, ast.keyword):
            self.out.append(f"{node.arg}=")
        elif isinstance(node, ast.Constant):
            # reworded messages still match; numbers are part of the formula
            self.out.append("STR" if isinstance(node.value, (str, bytes)) else repr(node.value))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.out.append(self.name(node.name))
            node = _without_docstring(node)
        super().generic_visit(node)


def _without_docstring(node):
    fields = {f: getattr(node, f, None) for f in node._fields}
    fields["body"] = _body(node)
    fields["decorator_list"] = []  # the reference's argument-checking decorator is not its math
    return type(node)(**fields)


def body_tokens(function) -> list[str]:
    """The normalized token stream of a function's body (docstring dropped)."""
    visitor = _Tokens()
    for statement in _body(function):
        visitor.visit(statement)
    return visitor.out


def similarity(a: list[str], b: list[str]) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _functions(source: str) -> list:
    """Every function (and method, nested function) defined in ``source``; [] if unparsable."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


@functools.lru_cache(maxsize=None)
def reference_bodies(exercise: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(dotted reference, body tokens) of every reference function of ``exercise`` long enough
    for a match to mean copying; a class reference contributes each of its methods."""
    from course_utils.answer_key import reference_sources

    bodies = []
    for dotted, source in reference_sources(exercise).items():
        for function in _functions(textwrap.dedent(source)):
            tokens = body_tokens(function)
            if len(tokens) >= MIN_TOKENS:
                bodies.append((dotted, tuple(tokens)))
    return tuple(bodies)


def best_match(function, exercises: list[str]) -> tuple[str, float] | None:
    """The reference of ``exercises`` that ``function`` resembles most, and how much."""
    tokens = body_tokens(function)
    best = None
    for exercise in dict.fromkeys(exercises):
        for dotted, reference in reference_bodies(exercise):
            score = similarity(tokens, list(reference))
            if best is None or score > best[1]:
                best = (dotted, score)
    return best


def copied_from_reference(answers: dict[str, str]) -> list[str]:
    """Row flags for the answer cells that are near-verbatim copies of a reference's source.

    ``answers`` maps an answer cell's grade id to its source. Each function the cell defines is
    compared with the references of the cell's exercise (its grade id, as in the README's
    recipe) and of the function's own name.
    """
    from .flags import to_python

    flags = []
    for grade_id, source in answers.items():
        try:
            functions = _functions(to_python(source))
        except Exception:  # noqa: BLE001 - IPython's transformer on odd text: nothing to compare
            continue
        found = [best_match(f, [grade_id, f.name]) for f in functions]
        found = [m for m in found if m and m[1] >= THRESHOLD]
        if found:
            dotted, score = max(found, key=lambda m: m[1])
            flags.append(f"{FLAG}: {grade_id} ({dotted}, similarity {score:.2f})")
    return flags
