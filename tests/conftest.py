"""Shared test set-up: headless plotting, one thread per worker, isolated Jupyter folders."""
import os
import sys
from pathlib import Path

import pytest

# Before anything imports matplotlib or torch: no display, and no thread oversubscription when
# pytest-xdist runs one worker per core.
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_NUM_THREADS", "1")
# jsonschema's optional IRI checker builds a grammar on import (~2 s, every nbformat import);
# nbformat never needs it to read or validate notebooks.
sys.modules.setdefault("rfc3987_syntax", None)

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = REPO / "notebooks"


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
