"""Find the submitted notebooks in a folder or a zip, without ever writing them anywhere.

Accepted layouts (in a folder, or in a zip — optionally wrapped in one top folder):

- ``STUDENT_ID/ASSIGNMENT.ipynb`` — the course's own layout;
- ``STUDENT_ID/ASSIGNMENT/ASSIGNMENT.ipynb`` — nbgrader's ``submitted/`` layout;
- ``NAME_USERID_SUBMISSIONID_FILENAME.ipynb`` at the top — an LMS (Canvas-style) download,
  e.g. ``lastname_12345_67890_01_gradient_descent_1d.ipynb``; an optional ``late_`` may follow
  the name and the LMS may append ``-1``, ``-2`` to re-submitted file names. The student id is
  the LMS user id (``12345``), its name part (``lastname``) the student's ``name``, ``late_``
  sets ``late_marker``, and the submission id and the ``-N`` suffix order re-submissions.

Submission time (``submitted_at``, ISO 8601 UTC): the zip member's stored modification time (an
LMS writes the submission's time there), or the file's mtime in a folder.

A student id must be letters, digits and ``. _ - @ +`` (it names files in the output); anything
else — ``../x``, an absolute path, spaces — is kept (URL-quoted) as an ``invalid`` row. Zip
members are read into memory: a member name is never used as a path on disk.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from urllib.parse import quote

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")
LMS_NAME = re.compile(r"^(?P<name>[A-Za-z0-9-]+?)_(?P<late>late_)?(?P<user>\d+)_(?P<sub>\d+)_(?P<file>.+)$",
                      re.IGNORECASE)
MAX_NOTEBOOK_BYTES = 50 * (1 << 20)


class SubmissionsError(Exception):
    """SUBMISSIONS cannot be read at all (the run cannot proceed)."""


@dataclass
class Submitted:
    student_id: str            # safe id, or the quoted raw id when ``problem`` is set
    file_name: str             # the notebook's file name as submitted (LMS prefix removed)
    origin: str                # where it came from, for the report
    data: bytes | None
    problem: str | None = None  # set when the entry cannot be graded at all (status invalid)
    name: str = ""              # the LMS name part of the file name
    late_marker: bool = False   # the LMS file name says late_
    submission: int = -1        # the LMS submission id (-1: none)
    resubmission: int = 0       # the LMS -N suffix of a re-submitted file
    submitted_at: str = ""      # ISO 8601 UTC, "" when unknown

    @property
    def recency(self) -> tuple:
        """Larger is later: the LMS submission id, then the -N suffix, then the time."""
        return self.submission, self.resubmission, self.submitted_at


@dataclass
class Ignored:
    origin: str
    reason: str


def _skip(parts: tuple[str, ...]) -> str | None:
    if any(p in ("__MACOSX", ".ipynb_checkpoints") for p in parts):
        return "editor or archive metadata"
    if parts[-1].startswith("."):
        return "hidden file"
    if not parts[-1].lower().endswith(".ipynb"):
        return "not a notebook (.ipynb)"
    return None


def _entry(parts: tuple[str, ...], origin: str, size: int, read,
           when: str = "") -> Submitted | Ignored:
    """Classify one file by its relative path ``parts`` (``read()`` returns its ``size`` bytes,
    ``when`` is its modification time)."""
    item = _classify(parts, origin, size, read)
    if isinstance(item, Submitted):
        item.submitted_at = when
        match = LMS_NAME.match(parts[0]) if len(parts) == 1 else None
        if match:
            suffix = re.search(r"-(\d+)\.ipynb$", match["file"], re.IGNORECASE)
            item.name, item.late_marker = match["name"], bool(match["late"])
            item.submission = int(match["sub"])
            item.resubmission = int(suffix[1]) if suffix else 0
    return item


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _classify(parts: tuple[str, ...], origin: str, size: int, read) -> Submitted | Ignored:
    reason = _skip(parts)
    if reason:
        return Ignored(origin, reason)
    if len(parts) == 1:
        match = LMS_NAME.match(parts[0])
        if not match:
            return Submitted("", parts[0], origin, None, "a notebook outside any student folder "
                             "and without an LMS-style name (NAME_USERID_SUBMISSIONID_FILE)")
        student, name = match["user"], re.sub(r"-\d+(\.ipynb)$", r"\1", match["file"])
    else:
        student, name = parts[0], parts[-1]
        if any(p in ("", ".", "..") for p in parts[:-1]):
            raw = "/".join(parts[:-1])
            return Submitted(quote(raw, safe=""), name, origin, None,
                             f"student id {raw!r} contains path characters")
    if not SAFE_ID.match(student):
        return Submitted(quote(student, safe=""), name, origin, None,
                         f"student id {student!r} has characters other than letters, digits "
                         "and . _ - @ +")
    if size > MAX_NOTEBOOK_BYTES:
        return Submitted(student, name, origin, None,
                         f"the file is {size >> 20} MiB; notebooks above "
                         f"{MAX_NOTEBOOK_BYTES >> 20} MiB are not graded")
    return Submitted(student, name, origin, read())


def _strip_wrapper(names: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Drop one common top folder when it wraps the real layout (``submissions/alice/01.ipynb``)."""
    if not names or any(len(n) < 2 for n in names):
        return names
    tops = {n[0] for n in names}
    if len(tops) != 1:
        return names
    inner = [n[1:] for n in names]
    if all(re.match(r"^\d\d_", n[0]) for n in inner):  # alice/01_x/01_x.ipynb: one student
        return names
    if all(len(n) >= 2 for n in inner) or any(len(n) == 1 and LMS_NAME.match(n[0]) for n in inner):
        return inner
    return names


def _from_zip(path: Path) -> tuple[list[Submitted], list[Ignored]]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionsError(f"{path} is not a readable zip file: {exc}") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        parts = _strip_wrapper([tuple(m.filename.replace("\\", "/").split("/")) for m in members])
        found, ignored = [], []
        for member, member_parts in zip(members, parts):
            when = datetime(*member.date_time, tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            item = _entry(member_parts, f"{path.name}:{member.filename}", member.file_size,
                          lambda m=member: archive.read(m), when)
            (ignored if isinstance(item, Ignored) else found).append(item)
    return found, ignored


def _from_folder(root: Path) -> tuple[list[Submitted], list[Ignored]]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    rel = [p.relative_to(root).parts for p in files]
    stripped = _strip_wrapper(rel)
    found, ignored = [], []
    for path, parts in zip(files, stripped):
        if path.is_symlink():
            ignored.append(Ignored(str(path), "symbolic link"))
            continue
        stat = path.stat()
        item = _entry(parts, str(path.relative_to(root)), stat.st_size, path.read_bytes,
                      iso(stat.st_mtime))
        (ignored if isinstance(item, Ignored) else found).append(item)
    return found, ignored


def collect(submissions: Path) -> tuple[list[Submitted], list[Ignored]]:
    """Every notebook in ``submissions`` (a folder or a .zip), plus the files that were skipped."""
    if not submissions.exists():
        raise SubmissionsError(f"{submissions} does not exist")
    if submissions.is_dir():
        return _from_folder(submissions)
    if zipfile.is_zipfile(submissions):
        return _from_zip(submissions)
    raise SubmissionsError(f"{submissions} is neither a folder nor a zip file")


def match_assignment(file_name: str, known: list[str]) -> tuple[str | None, bool]:
    """The assignment a file name refers to, and whether the name was not exact.

    Exact ``<id>.ipynb`` first; then an id contained in the lower-cased name (``Copy of
    01_gradient_descent_1d (2).ipynb``); then a unique ``NN_`` prefix.
    """
    stem = PurePosixPath(file_name).stem
    if stem in known:
        return stem, False
    normal = re.sub(r"[^a-z0-9]+", "_", stem.lower())
    contained = [a for a in known if a in normal]
    if len(contained) == 1:
        return contained[0], True
    number = re.match(r"^(\d\d)(?:_|$)", normal)
    if number:
        same = [a for a in known if a.startswith(number[1] + "_")]
        if len(same) == 1:
            return same[0], True
    return None, False
