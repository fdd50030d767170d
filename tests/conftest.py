"""Shared test set-up: headless plotting, one thread per worker, isolated Jupyter folders."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Before anything imports matplotlib or torch: no display, and no thread oversubscription when
# pytest-xdist runs one worker per core.
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import autograder  # noqa: E402,F401 - before nbformat: it blocks a slow optional import

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"
NOTEBOOKS = REPO / "notebooks"
FIXTURE_COURSE = TESTS / "fixtures" / "notebooks"   # a two-notebook course for the grader

# tests/ mirrors the packages (tests/course_utils/, tests/autograder/); the folders have no
# __init__.py, so that they never shadow the packages, and test file names are unique. Helpers
# are imported by module name (``from conftest import REPO``, ``from answer_key_routes import
# cheats``) from any folder: their folders are on sys.path whichever test runs first.
for _helpers in (TESTS, TESTS / "course_utils"):
    if str(_helpers) not in sys.path:
        sys.path.insert(0, str(_helpers))


def load_corpus_builder():
    """``tests/submissions/build_corpus.py`` (the hostile corpus: attacks, leftovers, fork bomb)
    as a module; it is a script of that folder, not a package."""
    spec = importlib.util.spec_from_file_location(
        "build_corpus", TESTS / "submissions" / "build_corpus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def release_course(tmp_path: Path) -> Path:
    """``python -m autograder release`` of the real course into ``tmp_path/release`` (its own
    build folder: tests running side by side never share one). Returns the release folder."""
    release = tmp_path / "release"
    proc = subprocess.run([sys.executable, "-m", "autograder", "release", "--out", str(release),
                           "--build", str(tmp_path / "build")],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return release


def pytest_configure(config):
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is pinned in requirements.txt
        return
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture
def jupyter_env(tmp_path, monkeypatch):
    """Point every Jupyter/IPython/matplotlib config folder at a temp dir for this test."""
    for var, sub in (("JUPYTER_CONFIG_DIR", "jupyter_config"), ("JUPYTER_RUNTIME_DIR", "jupyter_runtime"),
                     ("IPYTHONDIR", "ipython"), ("MPLCONFIGDIR", "mpl")):
        d = tmp_path / sub
        d.mkdir()
        monkeypatch.setenv(var, str(d))
    return tmp_path
