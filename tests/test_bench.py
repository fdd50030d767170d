"""Smoke tests of `make bench`: every code path with tiny sizes, and the pieces that decide a verdict.

The numbers themselves are not asserted (the machine is shared); what is asserted is that the
bench measures the right thing: the synthetic class has the promised mix and mistakes, a target
is met or missed on the right side, numpy and torch compute the same epoch, and the result files
say what ran.
"""
import json
import os
import random
import sys

import nbformat
import pytest

from conftest import NOTEBOOKS, REPO

sys.path.insert(0, str(REPO))  # `bench` is run from the checkout (python -m bench), not installed

from bench import grading, notebooks, report  # noqa: E402
from bench.stats import row, summarise  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "notebooks"


# ---------------------------------------------------------------- stats and verdicts

def test_summary_is_median_with_min_and_max():
    s = summarise([3.0, 1.0, 10.0, 2.0], "s")
    assert (s.median, s.min, s.max, s.n, s.unit) == (2.5, 1.0, 10.0, 4, "s")
    with pytest.raises(ValueError, match="at least one"):
        summarise([], "s")


def test_a_target_is_judged_on_the_median_and_on_the_right_side():
    fast, slow = summarise([1.0, 2.0, 99.0], "s"), summarise([20.0, 16.0, 1.0], "s")
    assert row("upper bound", fast, 15.0)["met"] is True      # one slow outlier does not fail it
    assert row("upper bound", slow, 15.0)["met"] is False
    assert row("at least", summarise([1.9], "×"), 1.8, at_least=True)["met"] is True
    assert row("at least", summarise([1.7], "×"), 1.8, at_least=True)["met"] is False
    assert row("no target", fast)["met"] is None


def test_markdown_marks_misses_and_sections_not_measured():
    measured = {"at": "2024-01-01T00:00:00", "commit": "abc", "cores": 2, "wall_seconds": 3.0,
                "load_before": [1.0, 1.0, 1.0], "load_after": [2.0, 2.0, 2.0]}
    results = {"sections": {"widgets": {
        "measured": measured, "config": {"runs": 3},
        "rows": [row("optimizer_race()", summarise([60.0, 55.0, 70.0], "ms"), 50.0),
                 row("softmax_explorer()", summarise([10.0], "ms"))],
        "notes": ["a note"]}}}
    text = report.markdown(results)
    assert "| optimizer_race() | 60 ms | 55–70 | 3 | ≤ 50 ms | **NO** |" in text
    assert "| softmax_explorer() | 10 ms |  | 1 |  |  |" in text
    assert "optimizer_race(): 60 ms (target ≤ 50 ms)" in text       # listed under "missed"
    assert "Not measured yet: `python -m bench --only grading`" in text
    assert "## How to read this" in text and "- a note" in text


# ---------------------------------------------------------------- the synthetic class

def test_kinds_keep_the_mix_and_the_seed_decides_who_gets_which():
    ids = [f"a{i}" for i in range(9)]
    kinds = grading.deal_kinds(8, ids, seed=0)
    assert len(kinds) == 72
    counts = {k: list(kinds.values()).count(k) for k in set(grading.MIX)}
    assert counts == {"correct": 36, "partial": 18, "wrong": 9, "blank": 9}
    assert kinds == grading.deal_kinds(8, ids, seed=0)
    assert kinds != grading.deal_kinds(8, ids, seed=1)


def test_a_slip_changes_one_operator_inside_the_solution_only():
    cell = nbformat.v4.new_code_cell(
        "def f(a, b):\n    c = a - b  # outside? no: inside\n    ### BEGIN SOLUTION\n"
        "    return a - b - 1\n    ### END SOLUTION\n")
    assert grading.slipped_text(cell) == ("def f(a, b):\n    c = a - b  # outside? no: inside\n"
                                          "    return a + b - 1\n")
    assert grading.solution_text(cell) == ("def f(a, b):\n    c = a - b  # outside? no: inside\n"
                                           "    return a - b - 1\n")
    plain = nbformat.v4.new_code_cell("def g(x):\n    ### BEGIN SOLUTION\n    return x\n"
                                      "    ### END SOLUTION\n")
    assert grading.slipped_text(plain) is None  # nothing to slip on: the stub stays


@pytest.fixture(scope="module")
def real_course(tmp_path_factory):
    from autograder.course import load_course, release

    work = tmp_path_factory.mktemp("course")
    course = load_course(NOTEBOOKS)
    release(course, work / "nbgrader", work / "release")
    return course, work / "release"


@pytest.mark.parametrize("kind", ["correct", "partial", "wrong", "blank"])
def test_each_kind_of_submission_fills_the_answer_cells_as_promised(real_course, kind):
    course, released = real_course
    for aid, assignment in course.items():
        blank = nbformat.read(released / f"{aid}.ipynb", as_version=4)
        nb = grading.make_submission(assignment.notebook, blank, kind, random.Random(0))
        answers = [c for c in nb.cells if c.cell_type == "code"
                   and grading.nbgrader_meta(c).get("solution")]
        stubs = [c for c in answers if "raise NotImplementedError()" in c.source]
        assert not any("BEGIN SOLUTION" in c.source for c in nb.cells), aid
        if kind == "correct":
            assert not stubs, aid
        elif kind == "blank":
            assert len(stubs) == len(answers), aid
        elif kind == "partial":
            assert 0 < len(stubs) < len(answers) or len(answers) == 1, aid
        else:
            solutions = [grading.solution_text(c) for c in assignment.notebook.cells
                         if c.cell_type == "code" and grading.nbgrader_meta(c).get("solution")]
            assert all(c.source not in solutions for c in answers), f"{aid}: a correct answer"


# ---------------------------------------------------------------- measurements

def test_high_water_mark_and_poller_see_this_process():
    rss = notebooks.high_water_mark(os.getpid())
    assert rss > 10 * 2**20
    watcher = notebooks.PeakRSS(os.getpid(), interval=0.005)
    watcher.start()
    assert watcher.stop() >= rss


def test_reference_sides_compute_the_same_epoch():
    import numpy as np

    from bench import reference

    rng = np.random.default_rng(0)
    X, y = rng.random((200, 64)), rng.integers(0, 10, 200)
    assert reference.verify_same_computation(X, y) < 1e-12


def test_interleaved_timing_reports_both_sides_and_their_ratio():
    from bench import reference

    a, b, ratio = reference.interleaved(lambda: sum(range(20000)), lambda: None, repeat=3)
    assert a.n == b.n == ratio.n == 3 and ratio.unit == "×" and ratio.median > 1


def test_reference_section_writes_both_files(tmp_path):
    from bench.__main__ import main

    assert main(["--only", "reference", "--reference-repeat", "1", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "results.json").read_text())
    section = data["sections"]["reference"]
    assert section["measured"]["cores"] and section["rows"][2]["target"] == 2.0
    assert set(data["sections"]) == {"reference"}
    text = (tmp_path / "results.md").read_text()
    assert "epoch time ratio numpy / torch" in text and "Not measured yet" in text


def test_bad_options_are_refused(capsys):
    from bench.__main__ import main

    assert main(["--only", "nope"]) == 2
    assert main(["--students", "0", "--only", "grading"]) == 2
    assert "--students must be at least 1" in capsys.readouterr().err


@pytest.mark.slow
def test_one_notebook_run_times_and_weighs_a_kernel(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = bytearray(200 * 2**20)")])
    path = tmp_path / "01_tiny.ipynb"
    nbformat.write(nb, path)
    result = notebooks.run_once(path)
    assert result["error"] is None and result["seconds"] > 0
    assert result["peak_mib"] > 200


@pytest.mark.slow
def test_widgets_are_measured_in_a_kernel_on_the_ipympl_canvas():
    from bench import widgets

    result = widgets.run(updates=2, runs=1, log=lambda *_: None)
    names = [r["what"] for r in result["rows"]]
    assert "optimizer_race()" in names and len(names) >= 7
    assert all(r["mode"] == "ipympl" for x in result["raw"].values() for r in x["runs"])


@pytest.mark.slow
def test_grading_section_runs_all_three_ways_on_the_fixture_course(tmp_path):
    result = grading.run(FIXTURES, tmp_path / "work", students=2, jobs=2, log=lambda *_: None,
                         rounds=1)
    assert result["config"]["submissions"] == 4
    # A concurrent grader run on this machine may kill workers (same slot uids): those rows are
    # counted and void the comparison, but any other error is a failure.
    killed = result["killed_workers"]
    assert result["statuses"].get("graded", 0) + killed == 4, result["statuses"]
    # grader, nbgrader sequential, nbgrader in parallel, bare; two speed-ups; two overheads
    assert [r["unit"] for r in result["rows"]] == ["s", "s", "s", "s", "×", "×", "s", "s"]
    assert set(result["load"]) == {"grader", "nbgrader", "nbgrader_parallel", "bare"}
    assert result["rows"][6]["n"] == 4 - killed
    if killed:
        assert all(r["met"] is None and "VOID" in r["note"] for r in result["rows"][4:7])
    else:
        assert result["mean_score_fraction_by_kind"].get("correct") == 1.0
