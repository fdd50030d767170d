"""course_utils.widgets, the notebooks' door to the explorers: it re-exports every explorer
and the regime maths, and — statically — every notebook's widget cell calls one of its
explorers with arguments it accepts. The explorers themselves are tested module by module in
tests/course_utils/explorers/ (driven through their controls, against independent numbers)."""
from __future__ import annotations

import ast
import inspect

import pytest

from course_utils import explorers, regimes, widgets
from course_utils.explorers import race
from conftest import REPO


def test_widgets_re_exports_the_explorers_and_the_regimes():
    for name in widgets.__all__:
        source = explorers if hasattr(explorers, name) else regimes
        assert getattr(widgets, name) is getattr(source, name), name
    assert set(explorers.__all__) <= set(widgets.__all__)


# ---------------------------------------------------------------- the notebooks' widget cells

NOTEBOOK_PATHS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def widget_cell(path):
    """The notebook's cell tagged "widget", the markdown above it and every name it defines."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if "widget" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged widget, expected 1"
    defined = set()
    for cell in nb.cells[: tagged[0]]:
        if cell.cell_type == "code":
            source = "\n".join(line for line in cell.source.splitlines()
                               if not line.lstrip().startswith(("%", "!")))
            defined |= {node.name for node in ast.walk(ast.parse(source))
                        if isinstance(node, ast.FunctionDef)}
    return nb.cells[tagged[0]], nb.cells[tagged[0] - 1], defined


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.stem)
def test_each_widget_cell_shows_an_explorer_of_this_module(path):
    """Static: the cell's last expression calls a widgets explorer with arguments it accepts."""
    cell, markdown, defined = widget_cell(path)
    assert "is added here" not in cell.source, f"{path.name}: the placeholder is still there"
    tree = ast.parse(cell.source)
    assert any(isinstance(node, ast.ImportFrom) and node.module == "course_utils"
               and any(alias.name == "widgets" for alias in node.names) for node in tree.body), \
        f"{path.name}: the widget cell must import widgets itself (the setup cell does not)"
    last = tree.body[-1]
    assert isinstance(last, ast.Expr) and isinstance(last.value, ast.Call), \
        f"{path.name}: the explorer call must be the cell's last expression, so that it shows"
    call = last.value
    assert isinstance(call.func, ast.Attribute) and getattr(call.func.value, "id", None) == "widgets"
    name = call.func.attr
    assert name in widgets.__all__ and name.endswith(("_explorer", "_1d", "_2d", "_race")), name
    explorer = getattr(widgets, name)
    signature = inspect.signature(explorer)
    signature.bind(*call.args, **{k.arg: None for k in call.keywords})  # raises on a bad name
    for keyword in call.keywords:
        if keyword.arg == "your_rules":  # the student's own functions, defined above the cell
            rules = keyword.value
            assert isinstance(rules, ast.Dict)
            for key, value in zip(rules.keys, rules.values):
                assert key.value in race.KINDS
                assert isinstance(value, ast.Name) and value.id in defined, \
                    f"{path.name}: your_rules[{key.value!r}] = {ast.unparse(value)} is not " \
                    "a function defined in the notebook above the widget cell"
    assert "Explore it yourself" in markdown.source
    assert f"widgets.{name}" in markdown.source, \
        f"{path.name}: the markdown above the cell should name widgets.{name}"
