"""The ``copied-from-reference`` flag on the course's real exercises (no kernel is started).

A renamed copy of a reference's source is flagged; the course's own solutions, honest answers
written from the notebook's formulas, and verbatim copies of references too short to tell
(a two-line formula) are not. The end-to-end run through ``grade`` is in test_similarity.py.
"""
from __future__ import annotations

import inspect
import json
import re
import textwrap

import pytest

from autograder.reference_copy import (MIN_TOKENS, THRESHOLD, body_tokens, copied_from_reference,
                                       reference_bodies)
from conftest import NOTEBOOKS
from course_utils import losses, optim


def reference_copy(function, renames: dict[str, str], comment: str = "# my own derivation") -> str:
    """What a student pastes: the reference's source without its decorator, with the variables
    renamed and a comment of their own."""
    source = textwrap.dedent(inspect.getsource(inspect.unwrap(function)))
    source = "\n".join(line for line in source.splitlines() if not line.startswith("@"))
    for old, new in renames.items():
        source = re.sub(rf"\b{old}\b", new, source)
    closing = source.index('"""', source.index('"""') + 3)    # the docstring's end
    after = source.index("\n", closing) + 1
    return f"{source[:after]}    {comment}\n{source[after:]}"


ADAM_RENAMES = {"m_hat": "first", "v_hat": "second", "bias_correction": "debias", "g": "grad"}


def solutions() -> list[tuple[str, str, str]]:
    """(notebook, grade id, source) of every code answer cell of the course's solutions."""
    found = []
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            meta = cell["metadata"].get("nbgrader", {})
            if meta.get("solution") and cell["cell_type"] == "code":
                found.append((path.stem, meta["grade_id"], "".join(cell["source"])))
    return found


def test_a_renamed_copy_of_adam_step_is_flagged_with_the_reference_and_its_similarity():
    answer = reference_copy(optim.adam_step, ADAM_RENAMES)
    assert "first" in answer and "m_hat" not in answer and "# my own derivation" in answer
    assert copied_from_reference({"adam_step": answer}) == [
        "copied-from-reference: adam_step (optim.adam_step, similarity 1.00)"]


def test_a_copy_with_a_branch_deleted_is_still_near_verbatim():
    answer = reference_copy(optim.adam_step, ADAM_RENAMES)
    answer = answer.replace("    else:\n        first, second = m, v\n", "")
    assert "else:" not in answer
    (flag,) = copied_from_reference({"adam_step": answer})
    score = float(flag.rsplit(" ", 1)[1].rstrip(")"))
    assert THRESHOLD <= score < 1.0, flag


def test_the_copy_is_found_under_another_function_name_in_the_exercise_cell():
    answer = reference_copy(optim.adam_step, {**ADAM_RENAMES, "adam_step": "my_adam"})
    answer += "\n\nadam_step = my_adam\n"
    assert copied_from_reference({"adam_step": answer}) == [
        "copied-from-reference: adam_step (optim.adam_step, similarity 1.00)"]


def test_a_renamed_copy_of_softmax_with_its_checks_is_flagged():
    answer = reference_copy(losses.softmax, {"z": "logits", "e": "exps"})
    (flag,) = copied_from_reference({"softmax": answer})
    assert flag.startswith("copied-from-reference: softmax (losses.softmax, similarity 1.00")


def test_the_course_own_adam_solution_is_not_flagged():
    (source,) = [s for nb, g, s in solutions() if g == "adam_step" and nb == "07_rmsprop_adam"]
    assert "### BEGIN SOLUTION" in source
    assert copied_from_reference({"adam_step": source}) == []


def test_no_solution_of_the_course_is_flagged():
    flagged = {(nb, g): copied_from_reference({g: s}) for nb, g, s in solutions()}
    assert len(flagged) >= 30  # every notebook's answer cells were read
    assert {k: v for k, v in flagged.items() if v} == {}


@pytest.mark.parametrize("body", [
    # Adam as the notebook's formulas say, in two styles: 0.87 and 0.88 against the reference
    """g = g + weight_decay * w
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v""",
    """g = g + weight_decay * w
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v""",
])
def test_honest_adam_from_the_formulas_is_not_flagged(body):
    answer = ("def adam_step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, "
              f"weight_decay=0.0):\n    {body}\n")
    assert copied_from_reference({"adam_step": answer}) == []


def test_short_references_are_never_compared():
    """A two-line formula is what an honest answer looks like too: never flagged."""
    verbatim = ("def momentum_step(w, g, v, lr, beta):\n"
                "    v = beta * v + g\n    return w - lr * v, v\n")
    assert copied_from_reference({"momentum_step": verbatim}) == []
    # under MIN_TOKENS: only the optimizer classes' longer methods are compared
    assert {d for d, _ in reference_bodies("momentum_step")} == {"optim.SGD"}
    assert {d for d, _ in reference_bodies("rmsprop_step")} == {"optim.RMSprop"}


def test_tokens_ignore_names_comments_and_docstrings_but_keep_the_formula():
    import ast

    def tokens(source):
        return body_tokens(ast.parse(source).body[0])

    one = tokens('def f(a, b):\n    """Doc."""\n    total = a + 2 * b  # sum\n    return total\n')
    two = tokens("def g(x, y):\n    s = x + 2 * y\n    return s\n")
    other = tokens("def g(x, y):\n    s = x + 3 * y\n    return s\n")
    assert one == two and one != other
    assert MIN_TOKENS > len(one)


@pytest.mark.parametrize("source", ["def broken(:\n", "%timeit 1 + 1", "Plain *markdown* text.",
                                    ""])
def test_unparsable_or_empty_answers_give_no_flag(source):
    assert copied_from_reference({"adam_step": source}) == []
