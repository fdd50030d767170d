"""Small notebook utilities shared by the tests, the Makefile and maintainers.

    python -m autograder.nbtools strip notebooks/            # remove outputs in place
    python -m autograder.nbtools check notebooks/04_*.ipynb  # solution passes, blank scores 0

`check` executes each source notebook twice with nbclient: as written (every test cell must
pass) and with its solutions blanked the way nbgrader releases them (every autograded test cell
must fail), and prints per-cell results and timings.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .course import nbgrader_meta
from .record import TestResult
from .scoring import cell_failure, error_text

SOLUTION_RE = re.compile(r"^([ \t]*)### BEGIN SOLUTION.*?^[ \t]*### END SOLUTION[^\n]*", re.S | re.M)
HIDDEN_RE = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?", re.S | re.M)


def is_test_cell(cell) -> bool:
    m = nbgrader_meta(cell)
    return bool(m.get("grade")) and not m.get("solution") and cell["cell_type"] == "code"


def strip_outputs(nb) -> bool:
    """Remove outputs and execution counts in place; return whether anything changed."""
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code":
            if cell.get("outputs") or cell.get("execution_count"):
                changed = True
            cell.outputs = []
            cell.execution_count = None
        for key in ("execution", "collapsed", "scrolled"):
            if key in cell.get("metadata", {}):
                del cell.metadata[key]
                changed = True
    return changed


def blank(nb, keep_hidden: bool = False):
    """A copy of ``nb`` as a student receives it, made by nbgrader's own preprocessors (the
    ones ``generate_assignment`` runs): solutions cleared, hidden tests removed.

    ``keep_hidden=True`` keeps the hidden tests, as the grader runs them against a blank
    submission (a test cell made only of hidden tests would otherwise be empty and "pass").
    """
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    nb = nbformat.reads(nbformat.writes(nbformat.from_dict(nb)), as_version=4)
    nb, _ = ClearSolutions().preprocess(nb, {"language": "python"})
    if not keep_hidden:
        nb, _ = ClearHiddenTests().preprocess(nb, {})
    return nb


def execute(nb, cwd: Path, timeout: int = 120, kernel_name: str = "python3"):
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name, allow_errors=True,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return nb


def test_results(nb) -> list[TestResult]:
    """Pass/fail of every autograded test cell of an executed notebook, by the grader's one rule
    (``scoring.cell_failure``: no error output and nothing on stderr, as nbgrader)."""
    results = []
    for cell in nb.cells:
        if is_test_cell(cell):
            meta = nbgrader_meta(cell)
            message = cell_failure(cell)
            results.append(TestResult(meta["grade_id"], float(meta.get("points", 0)),
                                      not message, message))
    return results


def errors_outside_tests(nb) -> list[tuple[int, str]]:
    """(index, error) of every code cell that raised and is not a test cell (a solution
    notebook must have none). ``nb`` is a notebook or its dict."""
    return [(index, text) for index, cell in enumerate(nb["cells"])
            if cell["cell_type"] == "code" and not is_test_cell(cell)
            and (text := error_text(cell))]


def other_errors(nb) -> list[str]:
    """``errors_outside_tests`` as lines to print."""
    return [f"cell {index}: {text}" for index, text in errors_outside_tests(nb)]


def _cmd_strip(paths: list[Path]) -> int:
    for path in paths:
        files = sorted(path.glob("*.ipynb")) if path.is_dir() else [path]
        for f in files:
            nb = nbformat.read(f, as_version=4)
            if strip_outputs(nb):
                nbformat.write(nb, f)
                print(f"stripped {f}")
    return 0


def _cmd_check(paths: list[Path]) -> int:
    ok = True
    for f in paths:
        source = nbformat.read(f, as_version=4)
        for label, nb in (("solution", source), ("blank", blank(source, keep_hidden=True))):
            t0 = time.perf_counter()
            execute(nb, f.parent.resolve())
            dt = time.perf_counter() - t0
            results = test_results(nb)
            got = sum(r.points for r in results if r.passed)
            total = sum(r.points for r in results)
            print(f"{f.name} [{label}] {got:g}/{total:g} points in {dt:.1f} s")
            for r in results:
                print(f"   {'PASS' if r.passed else 'FAIL'} {r.grade_id} ({r.points:g}) {r.message[:160]}")
            if label == "solution":
                errs = other_errors(nb)
                for e in errs:
                    print(f"   ERROR outside tests: {e[:200]}")
                ok &= got == total and not errs
            else:
                ok &= got == 0
    return 0 if ok else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.nbtools", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name in ("strip", "check"):
        p = sub.add_parser(name)
        p.add_argument("paths", nargs="+", type=Path)
    args = parser.parse_args(argv)
    return _cmd_strip(args.paths) if args.cmd == "strip" else _cmd_check(args.paths)


if __name__ == "__main__":
    sys.exit(main())
