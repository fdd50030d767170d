"""Secure by default: ``grade`` never runs students' code unsandboxed unless told to.

Without a working bubblewrap (``bwrap`` not on PATH, or a ``bwrap`` that cannot create
namespaces) ``python -m autograder grade`` exits 2 before grading anything, says why and how to
install it. ``--no-sandbox`` grades anyway and flags every row ``unsandboxed`` in grades.csv,
report.html (under a red banner) and the printed summary; a later sandboxed run does not reuse
those results. ``validate`` runs the course's own notebooks without a sandbox when there is none.
Uses the small fixture course in tests/fixtures/notebooks.
"""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.cli import main
from autograder.course import load_course, release
from conftest import FIXTURE_COURSE, REPO

ADD, SQUARE = "01_fixture_add", "02_fixture_square"
FAILING_BWRAP = """#!/bin/sh
echo "bwrap: No permissions to creating new namespace, likely because the kernel does not \
allow non-privileged user namespaces." >&2
exit 1
"""


def _cli(*args, path: str) -> subprocess.CompletedProcess:
    """``python -m autograder`` with PATH set to ``path`` only (the interpreter is absolute)."""
    env = {**os.environ, "PATH": path}
    return subprocess.run([sys.executable, "-m", "autograder", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> Path:
    """alice: both solutions; bob: the blank 01 (02 missing); carol: a broken file; dave: a
    notebook of another course."""
    root = tmp_path_factory.mktemp("subs")
    course = load_course(FIXTURE_COURSE)
    blank = {p.stem: p for p in release(course, root / "build", root / "release")}
    subs = root / "subs"
    for student in ("alice", "bob", "carol", "dave"):
        (subs / student).mkdir(parents=True)
    for aid in (ADD, SQUARE):
        nbformat.write(course[aid].notebook, subs / "alice" / f"{aid}.ipynb")
    (subs / "bob" / f"{ADD}.ipynb").write_bytes(blank[ADD].read_bytes())
    (subs / "carol" / f"{ADD}.ipynb").write_text('{"cells": [')
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]),
                   subs / "dave" / "holiday.ipynb")
    return subs


def _grade_args(subs: Path, out: Path, build: Path, *extra: str) -> list[str]:
    return ["grade", str(subs), "--out", str(out), "--source", str(FIXTURE_COURSE), "--build",
            str(build), "--jobs", "2", "--timeout", "60", *extra]


def _refused(proc: subprocess.CompletedProcess, out: Path) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    err = proc.stderr
    assert err.startswith("error: refusing to grade without a sandbox"), err
    assert "Traceback" not in err
    for words in ("hidden tests", "solutions", "other students' files",
                  "apt-get install bubblewrap", "dnf install bubblewrap", "--no-sandbox"):
        assert words in err, (words, err)
    assert "grading" not in err  # no progress bar: nothing was run
    assert not out.exists() or not any(out.iterdir()), sorted(out.rglob("*"))


def test_grade_refuses_without_bwrap_on_path(submissions, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    out = tmp_path / "out"
    proc = _cli(*_grade_args(submissions, out, tmp_path / "build"), path=str(empty))
    _refused(proc, out)
    assert "no `bwrap` on PATH" in proc.stderr


def test_grade_refuses_a_bwrap_that_cannot_create_a_sandbox(submissions, tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text(FAILING_BWRAP)
    (fake / "bwrap").chmod(0o755)
    out = tmp_path / "out"
    proc = _cli(*_grade_args(submissions, out, tmp_path / "build"), path=str(fake))
    _refused(proc, out)
    assert "cannot create a sandbox" in proc.stderr and "user namespaces" in proc.stderr
    assert "No permissions to creating new namespace" in proc.stderr


def _rows(out: Path) -> list[dict]:
    with open(out / "grades.csv", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_no_sandbox_grades_and_flags_every_row_then_a_sandboxed_run_regrades(
        submissions, tmp_path, capsys):
    out, build = tmp_path / "out", tmp_path / "build"
    assert main(_grade_args(submissions, out, build, "--no-sandbox")) == 0
    captured = capsys.readouterr()
    rows = _rows(out)
    statuses = {(r["student_id"], r["assignment"]): (r["status"], r["score"]) for r in rows}
    assert statuses[("alice", ADD)] == ("graded", "4")
    assert statuses[("bob", ADD)] == ("graded", "0")
    assert statuses[("bob", SQUARE)][0] == "missing"
    assert statuses[("carol", ADD)][0] == "error"
    assert statuses[("dave", "holiday")][0] == "invalid"
    assert all("unsandboxed" in r["flags"].split(" | ") for r in rows), rows

    report = (out / "report.html").read_text()
    banner = report.index("id='unsandboxed-banner'")
    assert banner < report.index("<h1>Grading report</h1>")  # at the very top
    assert "UNSANDBOXED RUN" in report and "NO SANDBOX (--no-sandbox was given)" in report
    assert report.count("unsandboxed") > len(rows)  # the flag on every row of the flagged table
    assert "UNSANDBOXED RUN (--no-sandbox)" in captured.out.split("report:")[-1]  # at the end
    assert "UNSANDBOXED RUN (--no-sandbox)" in captured.err  # and before grading starts
    assert "execution: NO SANDBOX" in captured.out

    # Sandboxed again into the same OUT: nothing run unsandboxed is reused or stays flagged.
    assert main(_grade_args(submissions, out, build)) == 0
    captured = capsys.readouterr()
    again = _rows(out)
    assert [(r["student_id"], r["assignment"], r["status"], r["score"]) for r in again] == \
        [(r["student_id"], r["assignment"], r["status"], r["score"]) for r in rows]
    assert not any("unsandboxed" in r["flags"] for r in again), again
    assert "unsandboxed-banner" not in (out / "report.html").read_text()
    assert "UNSANDBOXED" not in captured.out and "execution: bubblewrap sandbox" in captured.out


@pytest.mark.slow
def test_validate_runs_the_course_notebooks_without_a_sandbox(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    proc = _cli("validate", "--source", str(FIXTURE_COURSE), "--build", str(tmp_path / "build"),
                "--jobs", "2", "--timeout", "60", path=str(empty))
    assert proc.returncode == 0, (proc.stdout, proc.stderr)
    notes = [line for line in proc.stderr.splitlines() if "without a sandbox" in line]
    assert notes == ["note: running the course's own notebooks without a sandbox "
                     "(no `bwrap` on PATH: bubblewrap is not installed)"], proc.stderr
    assert "4/4" in proc.stdout and "0/4" in proc.stdout
