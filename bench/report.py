"""bench/results.json (everything measured, machine-readable) and bench/results.md (the tables).

A run of some sections (``--only``) replaces those sections and keeps the others from the
previous results.json; every section carries its own date, commit, load and configuration.
"""
from __future__ import annotations

import json
from pathlib import Path

from autograder.files import write_atomic

SECTIONS = {
    "notebooks": "1. Notebooks: headless execution time and peak memory",
    "grading": "2. Grading throughput",
    "widgets": "3. Widget responsiveness (slider change → figure redrawn)",
    "reference": "4. Reference speed: numpy vs torch on CPU",
    "browser": "5. Explorers in Chromium (key press → explorer canvas painted)",
    "cluster": "6. Grading on a Dask cluster (per-task overhead, throughput, projection)",
}

HOW_TO_READ = """\
Every number is the **median** of n runs; min–max is the spread of those runs. The machine is
shared, so a large spread or a high load average (shown per section) means other work ran at
the same time: trust the median and the minimum more than the maximum.

- **Notebooks** — what a student waits for after *Restart kernel and run all*: a fresh kernel
  executing every cell of the worked solution, kernel start included. Peak RSS is the memory
  the kernel needs at its worst (the course promises ≤ 1 GiB, so a laptop or a free Binder /
  Colab instance with 2 GiB runs any notebook). The whole-course row is a self-learner running
  all notebooks one after another; `make test` and `python -m autograder validate` pay it too.
- **Grading** — what an instructor waits for. The speed-up is how much sooner
  `python -m autograder grade` finishes the same class than plain `nbgrader autograde` run once
  per assignment (≥ 1.8× on 2 cores); divide the per-notebook seconds by your class size to
  plan a grading run. The overhead row is what the sandbox (bubblewrap, a fresh worker, limits,
  signed results) adds to each notebook over executing it bare: the price of safety against
  hostile submissions.
- **Widgets** — the delay between moving a slider and the kernel having sent the new picture.
  Under ~50 ms feels immediate while dragging; a few hundred ms feels like a stutter. The
  browser's own drawing (a few ms) comes on top.
- **Reference speed** — whether the hand-written numpy code that students study is fast enough
  to train on for real: a ratio numpy / torch ≤ 2 means the course's own MLP is not a toy. Both
  run on one thread in float64 with the same weights and batches (one verification epoch proves
  they compute the same thing).
"""


def load(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"sections": {}}
    return data if isinstance(data.get("sections"), dict) else {"sections": {}}


def save(results: dict, json_path: Path, md_path: Path) -> None:
    write_atomic(json_path, json.dumps(results, indent=1, sort_keys=False) + "\n")
    write_atomic(md_path, markdown(results))


def number(x: float) -> str:
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:.0f}"
    return f"{x:.3g}"


def _target(r: dict) -> str:
    if r.get("target") is None:
        return ""
    return f"{'≥' if r['target_kind'] == '>=' else '≤'} {number(r['target'])} {r['unit']}"


def _met(r: dict) -> str:
    return {True: "yes", False: "**NO**", None: ""}[r.get("met")]


def table(rows: list[dict]) -> str:
    lines = ["| measurement | median | min–max | n | target | met? | note |",
             "|---|---:|---:|---:|---|---|---|"]
    for r in rows:
        spread = f"{number(r['min'])}–{number(r['max'])}" if r["n"] > 1 else ""
        lines.append(f"| {r['what']} | {number(r['median'])} {r['unit']} | {spread} | {r['n']} | "
                     f"{_target(r)} | {_met(r)} | {r.get('note', '')} |")
    return "\n".join(lines)


def _measured(m: dict, config: dict) -> str:
    load_before = " / ".join(f"{x:.2f}" for x in m["load_before"])
    load_after = " / ".join(f"{x:.2f}" for x in m["load_after"])
    settings = ", ".join(f"{k} = {v}" for k, v in config.items())
    return (f"*Measured {m['at']} at commit `{m['commit']}` on {m['cores']} cores in "
            f"{m['wall_seconds']:.0f} s; load average (1 / 5 / 15 min) {load_before} before, "
            f"{load_after} after. Settings: {settings}.*")


def markdown(results: dict) -> str:
    run = results.get("last_run", {})
    out = ["# Benchmarks (`make bench`)", ""]
    if run:
        out += [f"Last run: `{run['command']}` — {run['at']}, {run['wall_seconds'] / 60:.1f} "
                f"min wall time for the sections {', '.join(run['sections'])}. "
                "Regenerate with `make bench`; one section with `python -m bench --only NAME`. "
                "How each number is measured: `bench/README.md`.", ""]
    out += ["## How to read this", "", HOW_TO_READ]
    missed = []
    for key, title in SECTIONS.items():
        section = results["sections"].get(key)
        out += [f"## {title}", ""]
        if section is None:
            out += ["*Not measured yet: `python -m bench --only " + key + "`.*", ""]
            continue
        out += [_measured(section["measured"], section["config"]), ""]
        if section.get("error"):
            out += [f"**This section failed:** `{section['error']}`", ""]
            continue
        out += [table(section["rows"]), ""]
        out += [f"- {note}" for note in section.get("notes", [])]
        if section.get("notes"):
            out.append("")
        missed += [f"{title.split(':')[0]} — {r['what']}: {number(r['median'])} {r['unit']} "
                   f"(target {_target(r)})" for r in section["rows"] if r.get("met") is False]
    out += ["## Targets missed", ""]
    out += [f"- {m}" for m in missed] or ["None in these runs."]
    out += ["", "Causes found so far, and what it would take: `bench/README.md`.", ""]
    return "\n".join(out)
