"""The term's settings: the roster (``--roster``), due dates (``--due``) and the late policy
(``--late-policy``), and how a row's lateness and penalty follow from them.

Roster: a CSV with a header. Accepted column names (case-insensitive), first match wins:

- id:    ``id``, ``student_id``, ``ID`` (Canvas), ``SIS User ID``, ``ID number``/``idnumber``
         (Moodle), ``username``, ``user id``;
- name:  ``name``, ``Student`` (Canvas, "Last, First"), ``Full name``, or ``First name`` +
         ``Last name``/``Surname`` (Moodle);
- email: ``email``, ``Email address`` (Moodle), ``SIS Login ID``.

Rows without an id, and Canvas's ``Points Possible`` row, are skipped. The id must be the one
the submissions carry (an LMS download's user id: Canvas's ``ID`` column).

Lateness: a row is late when the LMS marked it ``late_`` or its submission time (``collect``:
the zip member's time, or the file's mtime) is after the assignment's due date. ``days_late``
counts started days after the due date (at least 1 for a late row; unknown without a due date).
Policies: ``none``; ``per-day:P`` (P % of the autograded score off per started day, at most
100 %); ``zero-after:H`` (no penalty within H hours of the due date, the whole score after).
Without a due date a late row is flagged but never penalised.
"""
from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ID_COLUMNS = ("id", "student_id", "sis user id", "id number", "idnumber", "username", "user id")
NAME_COLUMNS = ("name", "student", "full name")
EMAIL_COLUMNS = ("email", "email address", "sis login id")


class SettingsError(ValueError):
    """A roster, due date or policy that cannot be read."""


@dataclass
class Student:
    id: str
    name: str = ""
    email: str = ""


def _pick(row: dict[str, str], names: tuple[str, ...]) -> str:
    lower = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
    return next((lower[n] for n in names if lower.get(n)), "")


def read_roster(path: Path) -> list[Student]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise SettingsError(f"cannot read the roster {path}: {exc.strerror or exc}") from None
    students = []
    for row in rows:
        sid, name = _pick(row, ID_COLUMNS), _pick(row, NAME_COLUMNS)
        if not name:
            name = " ".join(filter(None, (_pick(row, ("first name",)),
                                          _pick(row, ("last name", "surname")))))
        if not sid or "points possible" in name.lower():
            continue
        students.append(Student(sid, name, _pick(row, EMAIL_COLUMNS)))
    if not students:
        raise SettingsError(f"the roster {path} has no student with an id (columns: "
                            "id, name, email; or a Canvas/Moodle export)")
    return students


def parse_time(text: str) -> datetime:
    """ISO 8601; a time without a zone is UTC."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SettingsError(f"{text!r} is not a date and time like 2026-12-10T23:59") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def parse_due(items: list[str], known: list[str]) -> dict[str, str]:
    """``--due 07=2026-12-10T23:59``: the assignment (its id or its NN prefix) -> ISO time."""
    due = {}
    for item in items:
        key, sep, when = item.partition("=")
        match = [a for a in known if a == key or a.startswith(key + "_")] if sep else []
        if len(match) != 1:
            raise SettingsError(f"--due {item!r}: write ASSIGNMENT=YYYY-MM-DDTHH:MM with an "
                                f"assignment id or its number (known: {', '.join(known)})")
        due[match[0]] = parse_time(when).isoformat()
    return due


def parse_policy(text: str) -> str:
    if text == "none" or re.fullmatch(r"(per-day|zero-after):\d+(\.\d+)?", text):
        return text
    raise SettingsError(f"--late-policy {text!r}: use none, per-day:PERCENT or "
                        "zero-after:GRACE_HOURS")


@dataclass
class Settings:
    """What the instructor set for the term; stored in ``OUT/.results/term.json``."""

    roster: list[Student] = field(default_factory=list)
    due: dict[str, str] = field(default_factory=dict)
    policy: str = "none"

    @classmethod
    def load(cls, path: Path) -> Settings:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return cls()
        return cls([Student(**s) for s in data["roster"]], data["due"], data["policy"])

    def dumps(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)

    def student(self, sid: str) -> Student | None:
        return next((s for s in self.roster if s.id == sid), None)


def lateness(marker: bool, submitted_at: str, due: str | None) -> tuple[bool, int | None, float]:
    """(late, started days late or None, hours late) of one submission."""
    if due is None:
        return marker, None, 0.0
    hours = 0.0
    if submitted_at:
        hours = (parse_time(submitted_at) - parse_time(due)).total_seconds() / 3600
    late = marker or hours > 0
    return late, (max(1, math.ceil(hours / 24)) if late else 0), max(hours, 0.0)


def penalty_fraction(policy: str, late: bool, days: int | None, hours: float) -> float:
    """The fraction of the score taken off (0 when on time or without a due date)."""
    if not late or days is None or policy == "none":
        return 0.0
    kind, _, value = policy.partition(":")
    if kind == "per-day":
        return min(1.0, float(value) / 100 * days)
    return 1.0 if hours > float(value) or (hours == 0 and float(value) == 0) else 0.0
