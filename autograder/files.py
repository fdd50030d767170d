"""Atomic writes: a reader (or a resumed run) sees the old file or the new one, never half.

Every file the grader, the report and the benchmarks write goes through here: the content is
written to a temporary file beside the target, which then replaces it in one ``os.replace``.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

SHARED = 0o644    # grades, reports, feedback: meant to be read by others
PRIVATE = 0o600   # stored results: they hold the executed notebooks, hidden tests included


@contextlib.contextmanager
def replacing(path: Path, mode: int = SHARED):
    """A fresh temporary path beside ``path`` (not yet created); when the block ends without
    an error, the file written there gets ``mode`` and replaces ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    os.unlink(name)  # some writers (sqlite) want to create the file themselves
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: Path, data: str | bytes, mode: int = SHARED) -> None:
    """Write ``data`` (text is UTF-8) to ``path`` atomically, with permissions ``mode``."""
    with replacing(path, mode) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
