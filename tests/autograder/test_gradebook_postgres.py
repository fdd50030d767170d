"""``grade --db postgresql://…``: nbgrader's gradebook in a real PostgreSQL server, started here
(``pgserver``: PostgreSQL's own binaries in a wheel). ``nbgrader export`` reads the grades
back, a regrade keeps what a person graded by hand and adds no second submission, two runs of
different assignments into one database at once lose nothing, and a wrong URL or a server
that is not running is one line before anything is graded."""
from __future__ import annotations

import csv
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pytest

import small_class
from autograder.cli import main
from autograder.database import DatabaseError, database_url, shown
from autograder.course import load_course
from autograder.gradebook import open_gradebook, write_shared_gradebook
from autograder.roster import Settings
from autograder.sandbox import have_bwrap
from autograder.term import settings_path, term_rows
from conftest import FIXTURE_COURSE, REPO

NBGRADER = str(Path(sys.executable).with_name("nbgrader"))
ADD, SQUARE = "01_fixture_add", "02_fixture_square"

needs_bwrap = pytest.mark.skipif(not have_bwrap(), reason="bubblewrap cannot sandbox here")


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server of this test module's own; ``new(name)`` makes a database in it
    and gives its URL. Stopped and removed afterwards, whatever happened.

    Its folder is not under pytest's temporary folder: as root, pgserver runs PostgreSQL as a
    user of its own and opens the folders above the data for it, and any pytest starting
    meanwhile closes /tmp/pytest-of-root again (mode 0700), which stops the server."""
    import pgserver

    folder = Path(tempfile.mkdtemp(prefix="descent-pg-"))
    server = None
    try:
        server = pgserver.get_server(folder, cleanup_mode="stop")

        def new(name: str) -> str:
            server.psql(f"CREATE DATABASE {name};")
            return server.get_uri(name)
        yield new
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    build, subs = small_class.build(root, 3)
    return root, build, subs


def _grade_command(subs: Path, out: Path, build: Path, db: str) -> list[str]:
    return [sys.executable, "-m", "autograder", "grade", str(subs), "--out", str(out),
            "--source", str(FIXTURE_COURSE), "--build", str(build), "--jobs", "1",
            "--timeout", "60", "--db", db]


def _scores(out: Path) -> dict[tuple[str, str], float]:
    with open(out / "grades.csv", newline="") as handle:
        return {(r["student_id"], r["assignment"]): float(r["score"])
                for r in csv.DictReader(handle)}


def _exported(url: str, folder: Path) -> dict[tuple[str, str], float]:
    """What ``nbgrader export`` reads from the database: raw score per (student, assignment)
    that has a submission (a student who submitted nothing has an empty timestamp)."""
    target = folder / "export.csv"
    done = subprocess.run([NBGRADER, "export", f"--db={url}", f"--to={target}",
                           "--CourseDirectory.course_id=descent"], cwd=folder,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(target, newline="") as handle:
        return {(r["student_id"], r["assignment"]): float(r["raw_score"])
                for r in csv.DictReader(handle) if r["timestamp"]}


@pytest.mark.slow
@needs_bwrap
def test_nbgrader_export_reads_the_grades_and_a_regrade_keeps_manual_grades(postgres, small,
                                                                           tmp_path):
    root, build, subs = small
    url = postgres("term")
    out = tmp_path / "out"
    done = subprocess.run(_grade_command(subs, out, build, url), cwd=REPO, capture_output=True,
                          text=True, timeout=170)
    assert done.returncode == 0, done.stderr[-2000:]
    graded = _scores(out)
    assert len(graded) == 6 and len(set(graded.values())) >= 3
    assert _exported(database_url(url), tmp_path) == graded
    with warnings.catch_warnings(), open_gradebook(database_url(url)) as gb:  # a person grades
        warnings.simplefilter("ignore")
        grade = gb.find_grade("explain_add", ADD, ADD, "s00")
        grade.manual_score = 1.0
        gb.db.commit()
    assert main(_grade_command(subs, out, build, url)[3:]) == 0  # every result stored: fast
    with warnings.catch_warnings(), open_gradebook(database_url(url)) as gb:
        warnings.simplefilter("ignore")
        assert gb.find_grade("explain_add", ADD, ADD, "s00").manual_score == 1.0
        assert len(gb.find_assignment(ADD).submissions) == 3  # replaced, not added twice
    exported = _exported(database_url(url), tmp_path)
    assert exported[("s00", ADD)] == graded[("s00", ADD)] + 1
    assert {k: v for k, v in exported.items() if k != ("s00", ADD)} == \
        {k: v for k, v in graded.items() if k != ("s00", ADD)}


@pytest.fixture(scope="module")
def two_runs(postgres, small, tmp_path_factory):
    """Two grading runs of different assignments, started together, into one new database."""
    root, build, _ = small
    work = tmp_path_factory.mktemp("two-runs")
    url = postgres("shared")  # empty: both runs also race to create nbgrader's tables
    _, subs_add = small_class.build(root, 3, [ADD], prefix="a")
    _, subs_square = small_class.build(root, 3, [SQUARE], prefix="q")
    runs = [subprocess.Popen(_grade_command(subs, work / name, build, url), cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for name, subs in (("add", subs_add), ("square", subs_square))]
    try:
        outputs = [run.communicate(timeout=170)[0].decode() for run in runs]
    finally:
        for run in runs:
            run.kill()
            run.wait()
    return {"url": url, "outs": [work / "add", work / "square"], "work": work,
            "codes": [run.returncode for run in runs], "outputs": outputs}


@pytest.mark.slow
@needs_bwrap
def test_two_runs_into_one_database_at_once_lose_nothing(two_runs):
    assert two_runs["codes"] == [0, 0], two_runs["outputs"]
    both = {**_scores(two_runs["outs"][0]), **_scores(two_runs["outs"][1])}
    assert len(both) == 6
    assert _exported(database_url(two_runs["url"]), two_runs["work"]) == both


def _write_when_released(barrier, out: Path, url: str) -> None:
    course = load_course(FIXTURE_COURSE)
    rows = term_rows(course, out, Settings.load(settings_path(out)))
    barrier.wait()
    write_shared_gradebook(course, rows, out, url)


@pytest.mark.slow
@needs_bwrap
def test_two_gradebook_writes_at_the_same_instant_take_turns(two_runs, postgres):
    """The runs above may have written one after the other by chance; here the two writes
    start at the same instant, three times, each into an empty database (without the turns,
    nbgrader's table creation alone fails three times in four)."""
    context = multiprocessing.get_context("fork")
    for attempt in range(3):
        url = database_url(postgres(f"instant{attempt}"))
        barrier = context.Barrier(2)
        writers = [context.Process(target=_write_when_released, args=(barrier, out, url))
                   for out in two_runs["outs"]]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(timeout=120)
        assert [w.exitcode for w in writers] == [0, 0], f"attempt {attempt}"
        both = {**_scores(two_runs["outs"][0]), **_scores(two_runs["outs"][1])}
        assert _exported(url, two_runs["work"]) == both


def test_a_database_that_is_not_running_is_one_line_before_grading(small, tmp_path, capsys):
    root, build, subs = small
    url = "postgresql://grader:secret@127.0.0.1:1/gradebook"  # nothing listens on port 1
    code = main(_grade_command(subs, tmp_path / "out", build, url)[3:])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("error: cannot connect to the gradebook database "
                             "postgresql+psycopg://grader:***@127.0.0.1:1/gradebook")
    assert "Is PostgreSQL running" in err[0] and "secret" not in err[0]
    assert not list((tmp_path / "out").glob(".results/*/*.json"))


@pytest.mark.parametrize("text, says", [
    ("mysql://user@host/db", "is a mysql URL"),
    ("not a url", "is not a database URL"),
    ("postgresql://user:pw@host", "names no database"),
])
def test_a_wrong_db_url_is_one_line(text, says, capsys):
    assert main(["grade", "submissions", "--db", text]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and says in err[0] and "postgresql://USER:PASSWORD@HOST" in err[0], err


def test_the_url_gets_the_installed_driver_and_hides_its_password():
    assert database_url("postgresql://u:pw@h:5432/db") == "postgresql+psycopg://u:pw@h:5432/db"
    assert database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert shown("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    with pytest.raises(DatabaseError):
        database_url("sqlite:///gradebook.db")
