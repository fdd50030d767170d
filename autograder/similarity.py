"""Students whose answer cells are suspiciously alike: ``similarity.csv`` and a report section.

The comparison is copydetect's (the fingerprinting that MOSS uses): each code answer cell is
tokenized by pygments, variable and function names become ``V`` / ``F``, strings ``S``, comments
and whitespace are dropped, and every run of ``K`` characters of what is left is a fingerprint.
Two answers share code where they share fingerprints. It flags; it never changes a score.

What is left out, so that only what the students wrote is compared:

- The release's own text (signature, docstring, ``# YOUR CODE HERE``, given code): docstrings,
  and every line shaped like a line of the released cell, are blanked with spaces before
  fingerprinting, which keeps the character positions for the side-by-side view. Blanking whole
  lines also drops the fingerprints that straddle the signature and an answer's first line,
  which copydetect's hash-based ``boilerplate`` would keep (it drops only those wholly inside
  the stub).
- The formulas the release's docstring spells out (``m_new = beta1 * m + (1 - beta1) * g``),
  fingerprinted as code: an honest answer types them in as given. These fingerprints are
  removed by ``drop`` rather than copydetect's ``boilerplate`` argument, which in 0.5.0 uses
  ``np.intersect1d(assume_unique=True)`` on a hash list that repeats when a line repeats, and
  so deletes the wrong positions.
- Code that most of the class shares (MOSS's ``-m``): a fingerprint found in the answers of more
  than ``COMMON_SHARE`` of the submissions of an assignment, and of at least ``COMMON_MIN``, is
  the natural way to write that formula, not evidence of copying.

Thresholds (a pair is listed when both hold), measured on the course's notebooks:

- ``THRESHOLD = 0.7`` on the pair's score: the share of both students' fingerprinted answer code
  (after the exclusions above) that the other one has too. A copy of the course's solutions
  with renamed variables and rewritten comments scores 1.0 against them in every notebook; an
  independent correct version of 04's and 07's answers scores at most 0.45 against the
  solutions, the references against the solutions at most 0.29, and two answers to 07 that
  both type Adam's and RMSprop's formulas the natural way 0.44.
- ``MIN_MATCH = 100`` filtered characters in common (about five lines of code), so that answers
  that are merely both correct and short never pair: ``K = 25`` (copydetect's default noise
  threshold) already makes a two-line formula (``V=V*V+VreturnV-V*V,V``, 20 characters)
  invisible, and one or two more short shared answers are not enough either. The price: the
  answers of 06 and 08 are so short (77 and 76 characters all together, beyond what the
  release gives) that even a renamed copy of all of them is not listed.

The result depends only on the answers (not on execution results or their order), and every
k-gram is kept (window 1) rather than winnowed, since winnowing picks the minimum of Python's
per-process salted ``hash`` and would make the scores vary from one run to the next.
"""
from __future__ import annotations

import ast
import functools
import html
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .course import nbgrader_meta
from .files import write_atomic
from .tables import csv_text

K = 25
WINDOW = 1
THRESHOLD = 0.7
MIN_MATCH = 100
COMMON_SHARE, COMMON_MIN = 0.5, 4
CSV_COLUMNS = ["assignment", "student_a", "student_b", "score", "matched", "cells"]


@dataclass
class CellMatch:
    """One answer cell that two students share code in."""

    grade_id: str
    source_a: str
    source_b: str
    slices_a: list[tuple[int, int]]
    slices_b: list[tuple[int, int]]
    score: float


@dataclass
class Pair:
    assignment: str
    student_a: str
    student_b: str
    score: float                     # share of both students' answer code found in the other's
    matched: int                     # filtered characters in common (the smaller side)
    cells: list[CellMatch] = field(default_factory=list)


def _docstrings(source: str) -> list[tuple[ast.Constant, tuple[int, int, int, int]]]:
    """Every docstring and its (first line, column, last line, end column); [] if unparsable."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                and isinstance(first.value.value, str):
            found.append((first.value, (first.lineno, first.col_offset, first.end_lineno,
                                        first.end_col_offset)))
    return found


@functools.lru_cache(maxsize=65536)
def _shape(line: str) -> str:
    """A line as copydetect sees it (names ``V``, strings ``S``, no spaces or comments)."""
    from copydetect.utils import filter_code

    return filter_code(line.strip(), "line.py", "python")[0] if line.strip() else ""


def masked(source: str, released: str) -> str:
    """``source`` with its docstrings and every line shaped like a line of the released cell
    blanked by spaces (positions kept, so that matches still point into ``source``).

    Docstrings go whole: blanking only the lines of one that match the release would leave the
    lexer half a string, and the rest of the cell would be read as code. Lines are compared by
    shape, so that given code with its variables renamed is still the release's.
    """
    lines = io.StringIO(source, newline="").readlines()  # line breaks as ``ast`` counts them
    for _, (first, col, last, end) in _docstrings(source):  # columns: UTF-8 byte offsets
        for n in range(first - 1, last):
            raw = lines[n].encode()
            start = col if n == first - 1 else 0
            stop = end if n == last - 1 else len(raw.rstrip(b"\r\n"))
            lines[n] = (raw[:start].decode(errors="ignore") + " " * len(raw[start:stop].decode(
                errors="ignore")) + raw[stop:].decode(errors="ignore"))
    given = {_shape(line) for line in released.splitlines()} - {""}
    return "".join(" " * len(line.rstrip("\r\n")) + line[len(line.rstrip("\r\n")):]
                   if _shape(line) in given else line for line in lines)


def fingerprint(source: str):
    from copydetect import CodeFingerprint

    return CodeFingerprint("answer.py", K, WINDOW, fp=io.StringIO(source), language="python")


def drop(fp, hashes: set) -> None:
    """Forget the fingerprints in ``hashes`` (code the class shares), recounting the coverage."""
    from copydetect.utils import get_token_coverage

    if not hashes & fp.hashes:
        return
    fp.hash_idx = {h: i for h, i in fp.hash_idx.items() if h not in hashes}
    fp.hashes = set(fp.hash_idx)
    fp.token_coverage = get_token_coverage(fp.hash_idx, fp.k, len(fp.filtered_code))


def released_cells(assignment) -> dict[str, str]:
    """The release's version of each code answer cell (what every student starts from)."""
    from .transplant import stub_answers

    code = {nbgrader_meta(c).get("grade_id") for c in assignment.notebook.cells
            if c.cell_type == "code"}
    return {g: s for g, s in stub_answers(assignment).items() if g in code}


def boilerplate(released: str) -> set:
    """Fingerprints an answer gets from the release: its code, and the formulas its docstring
    spells out (``m_new = beta1 * m + (1 - beta1) * g`` is code once names become ``V``, and
    an honest answer types it in as given)."""
    return fingerprint(released).hashes | fingerprint(
        "\n".join(doc.value for doc, _ in _docstrings(released))).hashes


def documents(tasks) -> dict[str, dict[str, dict[str, tuple[str, object]]]]:
    """assignment -> student -> grade id -> (answer source, fingerprint), fingerprinted cells
    only, without the release's boilerplate and the class's common code."""
    released: dict[str, dict[str, tuple[str, set]]] = {}
    docs: dict[str, dict[str, dict]] = defaultdict(dict)
    for task in tasks:
        aid = task.assignment.id
        if aid not in released:
            released[aid] = {g: (stub, boilerplate(stub))
                             for g, stub in released_cells(task.assignment).items()}
        cells = {}
        for grade_id, (stub, given) in released[aid].items():
            source = task.answers.get(grade_id, stub)
            fp = fingerprint(masked(source, stub))
            drop(fp, given)
            if fp.hashes:
                cells[grade_id] = (source, fp)
        docs[aid][task.student_id] = cells
    for by_student in docs.values():
        common = _common(by_student)
        for cells in by_student.values():
            for _, fp in cells.values():
                drop(fp, common)
    return docs


def _common(by_student: dict[str, dict]) -> set:
    counts = Counter(h for cells in by_student.values()
                     for h in set().union(*(fp.hashes for _, fp in cells.values())))
    limit = max(COMMON_SHARE * len(by_student), COMMON_MIN - 1)
    return {h for h, n in counts.items() if n > limit}


def _slices(array) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in zip(*array)] if len(array) and len(array[0]) else []


def compare(assignment: str, a: str, b: str, cells_a: dict, cells_b: dict) -> Pair:
    """The pair score of two students' answers to one assignment, and the cells they share."""
    from copydetect import compare_files

    covered_a = sum(fp.token_coverage for _, fp in cells_a.values())
    covered_b = sum(fp.token_coverage for _, fp in cells_b.values())
    shared_a = shared_b = 0.0
    matches = []
    for grade_id in sorted(set(cells_a) & set(cells_b)):
        (source_a, fp_a), (source_b, fp_b) = cells_a[grade_id], cells_b[grade_id]
        if not (fp_a.token_coverage and fp_b.token_coverage):
            continue
        _, (sim_a, sim_b), (slices_a, slices_b) = compare_files(fp_a, fp_b)
        if not sim_a:
            continue
        shared_a += sim_a * fp_a.token_coverage
        shared_b += sim_b * fp_b.token_coverage
        matches.append(CellMatch(grade_id, source_a, source_b, _slices(slices_a),
                                 _slices(slices_b), round(float(min(sim_a, sim_b)), 2)))
    total = covered_a + covered_b
    score = (shared_a + shared_b) / total if total else 0.0
    return Pair(assignment, a, b, round(float(score), 2), int(min(shared_a, shared_b)), matches)


def class_pairs(tasks) -> list[Pair]:
    """Every pair of students, per assignment, whose answers are suspiciously alike."""
    pairs = []
    for aid, by_student in sorted(documents(tasks).items()):
        students = sorted(by_student)
        for i, a in enumerate(students):
            for b in students[i + 1:]:
                if not (by_student[a] and by_student[b]):
                    continue
                pair = compare(aid, a, b, by_student[a], by_student[b])
                if pair.score >= THRESHOLD and pair.matched >= MIN_MATCH:
                    pairs.append(pair)
    return sorted(pairs, key=lambda p: (p.assignment, -p.score, p.student_a, p.student_b))


def write_similarity_csv(pairs: list[Pair], path: Path) -> None:
    write_atomic(path, csv_text(CSV_COLUMNS, (
        [p.assignment, p.student_a, p.student_b, f"{p.score:.2f}", p.matched,
         " ".join(c.grade_id for c in p.cells)] for p in pairs)))


def write_similarity(tasks, path: Path) -> tuple[str, int]:
    """Write ``similarity.csv``; the report's section and the number of pairs.

    From the tasks' answers, not from execution results: a resumed or re-run grading (results
    reused from ``OUT/.results``) writes the same file.
    """
    pairs = class_pairs(tasks)
    write_similarity_csv(pairs, path)
    return similarity_section(pairs), len(pairs)


def highlight(source: str, slices: list[tuple[int, int]]) -> str:
    """``source`` as escaped HTML with the shared parts in ``<mark>``."""
    out, at = [], 0
    for start, end in sorted(slices):
        start = max(start, at)
        out.append(html.escape(source[at:start]))
        if end > start:
            out.append("<mark>" + html.escape(source[start:end]) + "</mark>")
        at = max(at, end)
    out.append(html.escape(source[at:]))
    return "".join(out)


def _side_by_side(pair: Pair) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><th colspan='2'>{e(c.grade_id)} (cell score {c.score:.2f})</th></tr>"
        f"<tr><td><pre>{highlight(c.source_a, c.slices_a)}</pre></td>"
        f"<td><pre>{highlight(c.source_b, c.slices_b)}</pre></td></tr>" for c in pair.cells)
    return (f"<details class='pair'><summary>{e(pair.student_a)} and {e(pair.student_b)}: "
            f"score {pair.score:.2f}, {pair.matched} characters in common</summary>"
            f"<table class='side'><thead><tr><th>{e(pair.student_a)}</th>"
            f"<th>{e(pair.student_b)}</th></tr></thead><tbody>{rows}</tbody></table></details>")


def similarity_section(pairs: list[Pair]) -> str:
    """The report's section: per assignment, the pairs with their score and their answers."""
    e = html.escape
    parts = [f"<h2>Similar answers ({len(pairs)} pair{'s' if len(pairs) != 1 else ''})</h2>",
             "<p>Pairs of students whose answer cells share code (copydetect's fingerprints, "
             "MOSS's method; names, comments and the release's own lines ignored). "
             f"Listed from a score of {THRESHOLD:g} with at least {MIN_MATCH} characters in "
             "common; shared parts are highlighted. Also in <code>similarity.csv</code>. A pair "
             "is a hint for a human to look at; scores are not changed.</p>",
             "<style>table.side td{width:50%}table.side pre{white-space:pre-wrap;margin:0;"
             "font-size:12px}mark{background:#ffe08a}</style>"]
    by_assignment = defaultdict(list)
    for p in pairs:
        by_assignment[p.assignment].append(p)
    for aid, group in by_assignment.items():
        parts.append(f"<h3>{e(aid)}</h3><table><thead><tr><th>student</th><th>student</th>"
                     "<th>score</th><th>characters in common</th><th>cells</th></tr></thead>"
                     "<tbody>" + "".join(
                         f"<tr><td>{e(p.student_a)}</td><td>{e(p.student_b)}</td>"
                         f"<td>{p.score:.2f}</td><td>{p.matched}</td>"
                         f"<td>{e(' '.join(c.grade_id for c in p.cells))}</td></tr>"
                         for p in group) + "</tbody></table>")
        parts.extend(_side_by_side(p) for p in group)
    return "\n".join(parts)
