"""The course notebooks: well-formed nbgrader sources that run clean, release blank and leak nothing.

- every source notebook executes top to bottom headless: no error outside test cells, every
  autograded test cell passes, and the ★ facts of the course design are printed by code;
- every release notebook (made by `python -m autograder release`) executes with its answer cells
  raising NotImplementedError and every autograded test failing, so a blank submission scores 0;
- no release notebook contains solution code, hidden-test code or outputs;
- notebooks are committed without outputs; no helper function is defined in two notebooks.
"""
from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict

import nbformat
import pytest

from autograder import nbtools
from conftest import NOTEBOOKS, REPO

SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
IDS = [p.stem for p in SOURCES]

EXPECTED = [
    "01_gradient_descent_1d", "02_gradient_descent_nd", "03_minibatch_sgd", "04_losses_softmax_ce",
    "05_backpropagation", "06_momentum_nesterov", "07_rmsprop_adam", "08_lr_schedules",
    "09_putting_it_together", "10_training_goes_wrong",
]

# ★ facts of COURSE_DESIGN.md §2: each must be printed by a cell of its notebook.
STAR_FACTS = {
    "02_gradient_descent_nd": ["192.08", "184.47", "133.52", "3.61", "-7.98", "-3.8", "1.0798", "0.038", "2.87"],
    "05_backpropagation": ["-0.56", "-0.4", "13002"],
}


def _load(path):
    return nbformat.read(path, as_version=4)


@pytest.fixture(scope="session")
def run_notebook():
    """Runs a notebook as ``grade`` and ``validate`` do: in a warm sandbox slot (the imports done
    once, a fresh forked process per notebook), one slot per xdist worker so that each is pinned
    to a core of its own; plain nbclient where bubblewrap cannot sandbox."""
    from autograder.sandbox import Limits, Sandbox, have_bwrap

    if not have_bwrap():
        yield nbtools.execute
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:]
    slot = int(worker) if worker.isdigit() else 0
    box = Sandbox(Limits(timeout=300, output_bytes=100_000_000), hide=[])

    def run(nb, _work):
        outcome = box.run(nb, slot)
        assert outcome.reply, outcome.problem
        assert not outcome.reply["failure"], outcome.reply["failure"]
        return nbformat.from_dict(outcome.reply["notebook"])
    yield run
    box.close()


def _code(nb):
    """Code cells' source with IPython magics and shell escapes dropped, for static analysis."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            yield cell, "\n".join(l for l in cell.source.splitlines() if not l.lstrip().startswith(("%", "!")))


def _output_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                parts.append(out.text)
            elif out.output_type in ("execute_result", "display_data"):
                parts.append(out.get("data", {}).get("text/plain", ""))
    # Students see "−7.98" or "-7.98"; "13,002" or "13002": compare on one spelling.
    return "\n".join(parts).replace("−", "-").replace(",", "")


def test_the_ten_notebooks_exist_in_order():
    assert IDS == EXPECTED, f"notebooks/ should hold exactly the ten course notebooks, found {IDS}"


@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_source_is_a_well_formed_nbgrader_notebook(path):
    nb = _load(path)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    grade_ids = [nbtools.nbgrader_meta(c).get("grade_id") for c in nb.cells if nbtools.nbgrader_meta(c)]
    dupes = {g for g in grade_ids if grade_ids.count(g) > 1}
    assert not dupes, f"duplicate grade_ids: {dupes}"
    tests = [c for c in nb.cells if nbtools.is_test_cell(c)]
    assert all(nbtools.nbgrader_meta(c).get("locked") for c in tests), "test cells must be locked"
    auto_points = sum(nbtools.nbgrader_meta(c).get("points", 0) for c in tests)
    assert 6 <= auto_points <= 15, f"about 10 autograded points per notebook, found {auto_points}"
    written = [c for c in nb.cells if c.cell_type == "markdown" and nbtools.nbgrader_meta(c).get("grade")]
    assert 1 <= len(written) <= 3, f"1-3 manually graded written answers, found {len(written)}"
    assert any("BEGIN HIDDEN TESTS" in c.source for c in tests), "no hidden tests"
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert nbtools.nbgrader_meta(first_code).get("grade_id") == "setup", "first code cell must be the locked setup cell"


@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_committed_without_outputs(path):
    nb = _load(path)
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"cells {dirty} have outputs: run `make strip` before committing"


def test_no_helper_function_is_defined_in_two_notebooks():
    where = defaultdict(set)
    for path in SOURCES:
        for _, src in _code(_load(path)):
            try:
                tree = ast.parse(src)
            except SyntaxError:
                continue
            for node in tree.body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    where[node.name].add(path.stem)
    shared = {name: sorted(nbs) for name, nbs in where.items() if len(nbs) > 1}
    assert not shared, f"define these once in course_utils instead: {shared}"


@pytest.mark.slow
@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_source_notebook_runs_clean_with_full_marks(path, tmp_path, jupyter_env, run_notebook):
    work = tmp_path / "run"
    work.mkdir()
    nb = run_notebook(_load(path), work)
    errors = nbtools.other_errors(nb)
    assert not errors, f"cells outside the tests raised: {errors}"
    failed = [(r.grade_id, r.message) for r in nbtools.test_results(nb) if not r.passed]
    assert not failed, f"test cells failed with the solutions in place: {failed}"
    text = _output_text(nb)
    missing = [fact for fact in STAR_FACTS.get(path.stem, []) if fact not in text]
    assert not missing, f"★ facts not printed by the notebook: {missing}"


@pytest.fixture(scope="session")
def release_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    build = tmp_path_factory.mktemp("build")  # not the checkout's build/: `make lab` may run too
    proc = subprocess.run([sys.executable, "-m", "autograder", "release", "--out", str(out),
                           "--build", str(build)],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"release failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def _solution_lines(nb) -> set[str]:
    """Distinctive lines of solution regions and hidden tests in a source notebook."""
    lines = set()
    for cell, _ in _code(nb):
        for pattern in (nbtools.SOLUTION_RE, nbtools.HIDDEN_RE):
            for m in pattern.finditer(cell.source):
                for line in m.group(0).splitlines()[1:-1]:
                    s = line.strip()
                    if len(s) >= 12 and not s.startswith("#"):
                        lines.add(s)
    return lines


@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_release_leaks_no_solution_or_hidden_test(path, release_dir):
    released = release_dir / path.name
    assert released.exists(), f"release did not produce {released.name}"
    nb = _load(released)
    text = "\n".join(c.source for c in nb.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text, f"{marker} left in the release"
    # Lines a solution shares with visible code (e.g. a signature) are not leaks.
    visible = {l.strip() for c in _load(path).cells for l in
               nbtools.HIDDEN_RE.sub("", nbtools.SOLUTION_RE.sub("", c.source)).splitlines()}
    released_lines = {l.strip() for l in text.splitlines()}
    leaked = sorted(_solution_lines(_load(path)) - visible & released_lines)
    assert not leaked, f"solution/hidden-test lines in the release: {leaked[:5]}"
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert "raise NotImplementedError" in text


@pytest.mark.slow
@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_release_notebook_scores_zero(path, release_dir, tmp_path, jupyter_env, run_notebook):
    work = tmp_path / "run"
    work.mkdir()
    nb = run_notebook(_load(release_dir / path.name), work)
    results = nbtools.test_results(nb)
    assert results, "no autograded test cells in the release"
    passing = [r.grade_id for r in results if r.passed]
    assert not passing, f"these tests pass on a blank notebook, so a blank submission scores > 0: {passing}"
    # A blank test fails because the exercise is missing, not because a test itself is broken.
    odd = [(r.grade_id, r.message) for r in results
           if not any(e in r.message for e in ("NotImplementedError", "NameError"))]
    assert not odd, f"blank-notebook tests fail for another reason than the missing answer: {odd[:3]}"
