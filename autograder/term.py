"""The class's gradebook for the term: runs add up.

Every run stores the rows it decided, one file per (student, assignment) in
``OUT/.results/rows/`` (the key's hash names the file, so no student-chosen text becomes a
path), replacing only those pairs; the per-submission results next to them stay the source of
each executed row. The tables, the report and the feedback folder are then rebuilt from every
stored row (``term_rows``), with what the term's settings (``roster``) add: a ``missing`` row for
each roster (or known) student and each assignment of the term without one, names, the
``not on the roster`` flag, lateness and penalties. Feedback pages of rows that no longer exist
are removed (``prune_feedback``).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .collect import SAFE_ID
from .course import Assignment
from .files import PRIVATE, write_atomic
from .record import GRADED, INVALID, MISSING, GradeRow, in_order
from .roster import (Settings, SettingsError, lateness, parse_due, parse_policy, penalty_fraction,
                     read_roster)

UNKNOWN = "not on the roster"


def rows_folder(out: Path) -> Path:
    return out / ".results" / "rows"


def settings_path(out: Path) -> Path:
    return out / ".results" / "term.json"


def _key_file(out: Path, student: str, assignment: str) -> Path:
    digest = hashlib.sha256(f"{student}\0{assignment}".encode()).hexdigest()[:32]
    return rows_folder(out) / f"{digest}.json"


def store_rows(out: Path, rows: list[GradeRow]) -> None:
    """Add or replace the stored rows of every (student, assignment) pair in ``rows``."""
    groups: dict[tuple[str, str], list[GradeRow]] = {}
    for row in in_order(rows):
        groups.setdefault((row.student_id, row.assignment), []).append(row)
    for (student, assignment), group in groups.items():
        text = json.dumps([r.to_dict() for r in group], sort_keys=True)
        path = _key_file(out, student, assignment)
        if not path.exists() or path.read_text() != text:
            write_atomic(path, text, PRIVATE)


def stored_rows(out: Path) -> list[GradeRow]:
    rows = []
    for path in sorted(rows_folder(out).glob("*.json")):
        try:
            rows += [GradeRow.from_dict(d) for d in json.loads(path.read_text())]
        except (OSError, ValueError, TypeError, KeyError):
            continue  # a damaged file: its rows are re-made by the next run that grades them
    return rows


def store_settings(out: Path, settings: Settings) -> None:
    write_atomic(settings_path(out), settings.dumps(), PRIVATE)


def _missing(course: dict[str, Assignment], rows: list[GradeRow],
             settings: Settings) -> list[GradeRow]:
    counted = [r for r in rows if r.status != INVALID and r.assignment in course]
    students = {r.student_id for r in counted} | {s.id for s in settings.roster}
    assignments = {r.assignment for r in counted} | (set(settings.due) & set(course))
    have = {(r.student_id, r.assignment) for r in rows}
    return [GradeRow(s, a, course[a].max_score, MISSING, "no notebook for this assignment")
            for s in sorted(students) for a in sorted(assignments) if (s, a) not in have]


def _late(row: GradeRow, settings: Settings) -> None:
    if row.status == MISSING:
        return
    late, days, hours = lateness(row.late_marker, row.submitted_at,
                                 settings.due.get(row.assignment))
    row.late, row.days_late = late, days
    if row.status == GRADED and row.score is not None:
        fraction = penalty_fraction(settings.policy, late, days, hours)
        row.penalty = round(row.score * fraction, 4)
        row.final_score = round(row.score - row.penalty, 4)


def term_rows(course: dict[str, Assignment], out: Path, settings: Settings) -> list[GradeRow]:
    """Every row of the term: the stored ones, the missing ones, names, flags and penalties."""
    rows = stored_rows(out)
    rows += _missing(course, rows, settings)
    lms_names = {r.student_id: r.name for r in in_order(rows) if r.name}
    for row in rows:
        student = settings.student(row.student_id)
        row.name = (student.name if student and student.name else "") or \
            lms_names.get(row.student_id, "")
        if settings.roster and student is None and row.status != INVALID \
                and UNKNOWN not in row.flags:
            row.flags.append(UNKNOWN)
        _late(row, settings)
    return in_order(rows)


def prune_feedback(out: Path, rows: list[GradeRow]) -> list[Path]:
    """Remove the feedback pages of rows that no longer exist; the removed paths."""
    keep = {out / "feedback" / r.student_id / f"{r.assignment}.html" for r in rows
            if r.status != MISSING and SAFE_ID.match(r.student_id)}
    removed = []
    for page in sorted((out / "feedback").glob("*/*.html")):
        if page not in keep:
            page.unlink()
            removed.append(page)
    for folder in (out / "feedback").glob("*"):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return removed


def merge_settings(out: Path, known: list[str], roster: Path | None = None,
                   due: list[str] = (), policy: str | None = None,
                   config: Path | None = None) -> Settings:
    """The term's settings: those stored by earlier runs, then the course config file
    (``config``: JSON ``{"due": {"07": "2026-12-10T23:59"}, "late_policy": "per-day:10",
    "roster": "roster.csv"}``), then the command line's; each given one replaces the stored."""
    settings = Settings.load(settings_path(out))
    if config is not None:
        try:
            data = json.loads(Path(config).read_text())
        except (OSError, ValueError) as exc:
            raise SettingsError(f"cannot read the course config {config}: {exc}") from None
        settings.due.update(parse_due([f"{k}={v}" for k, v in data.get("due", {}).items()], known))
        settings.policy = parse_policy(data.get("late_policy", settings.policy))
        if data.get("roster"):
            settings.roster = read_roster(Path(config).parent / data["roster"])
    settings.due.update(parse_due(list(due), known))
    if policy is not None:
        settings.policy = parse_policy(policy)
    if roster is not None:
        settings.roster = read_roster(roster)
    return settings
