"""Section 1: headless execution time and peak kernel memory of each solution notebook.

One run = a fresh kernel (``python3``, the student's environment, no thread limits) executing
every cell of the source notebook with nbclient, timed from kernel start to the last reply, as
``make test`` and a student pressing "Restart and run all" do. The course total of a repeat is
the sum of its ten runs (one after another, as a self-learner would run the whole course).

Peak memory is the kernel process tree's resident set: the larger of a 20 ms poll of the tree's
summed RSS and the kernel's own high-water mark (``VmHWM``), which also catches spikes between
two polls.
"""
from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

from bench.stats import row, summarise

MIB = 2**20
TARGET_SECONDS = 15.0
TARGET_TOTAL_SECONDS = 35.0   # issue 12: the whole course headless in ≤ 35 s on 2 cores
TARGET_PEAK_MIB = 1024.0


class PeakRSS(threading.Thread):
    """Poll a process tree's resident memory every ``interval`` seconds; keep the maximum."""

    def __init__(self, pid: int, interval: float = 0.02):
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.peak = 0
        self._done = threading.Event()  # not ``_stop``: threading.Thread uses that name

    def run(self) -> None:
        while not self._done.is_set():
            self._poll()
            self._done.wait(self.interval)

    def _poll(self) -> None:
        try:
            procs = [self.proc, *self.proc.children(recursive=True)]
            self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
        except psutil.Error:
            pass

    def stop(self) -> int:
        """Stop polling; the peak in bytes, at least the root process's high-water mark."""
        self._poll()
        self._done.set()
        self.join()
        return max(self.peak, high_water_mark(self.proc.pid))


def high_water_mark(pid: int) -> int:
    """The peak resident set of one process (``VmHWM`` in /proc), in bytes; 0 if unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def run_once(path: Path, timeout: int = 300) -> dict:
    """Execute ``path`` in a fresh kernel: seconds, peak MiB and the first error (or None)."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="bench-nb-") as cwd:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": cwd}})
        started = time.perf_counter()
        with client.setup_kernel():
            watcher = PeakRSS(client.km.provisioner.process.pid)
            watcher.start()
            try:
                for index, cell in enumerate(nb.cells):
                    client.execute_cell(cell, index)
            finally:
                peak = watcher.stop()
                cpu = cpu_seconds(watcher.proc)
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "cpu_s": cpu, "peak_mib": peak / MIB, "error": first_error(nb)}


def cpu_seconds(proc: psutil.Process) -> float:
    """User + system CPU of a process and its finished children (what the kernel computed; on a
    busy machine the wall time grows, this does not)."""
    try:
        t = proc.cpu_times()
    except psutil.Error:
        return float("nan")
    return t.user + t.system + t.children_user + t.children_system


def first_error(nb) -> str | None:
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.output_type == "error":
                return f"cell {index}: {out.ename}: {str(out.evalue)[:200]}"
    return None


def notebook_paths(source: Path) -> list[Path]:
    return sorted(source.glob("[0-9][0-9]_*.ipynb"))


def run(source: Path, repeat: int = 3, log=print) -> dict:
    """Every notebook ``repeat`` times (the course in order, ``repeat`` times over)."""
    paths = notebook_paths(source)
    if not paths:
        raise FileNotFoundError(f"no notebooks NN_name.ipynb in {source}")
    runs: dict[str, list[dict]] = {p.stem: [] for p in paths}
    totals = []
    for i in range(repeat):
        total = 0.0
        for path in paths:
            result = run_once(path)
            runs[path.stem].append(result)
            total += result["seconds"]
            log(f"  notebooks {i + 1}/{repeat} {path.stem}: {result['seconds']:.1f} s "
                f"(CPU {result['cpu_s']:.1f} s), "
                f"{result['peak_mib']:.0f} MiB{'  ERROR ' + result['error'] if result['error'] else ''}")
        totals.append(total)
    rows, errors = [], {}
    for stem, results in runs.items():
        error = next((r["error"] for r in results if r["error"]), None)
        if error:
            errors[stem] = error
        cpu = summarise([r["cpu_s"] for r in results], "s")
        note = f"kernel CPU {cpu.median:.1f} s" + (f"; raised: {error}" if error else "")
        rows.append(row(f"{stem}: time", summarise([r["seconds"] for r in results], "s"),
                        TARGET_SECONDS, note=note))
        rows.append(row(f"{stem}: peak RSS", summarise([r["peak_mib"] for r in results], "MiB"),
                        TARGET_PEAK_MIB))
    rows.append(row(f"whole course ({len(paths)} notebooks, one after another)", summarise(totals, "s"),
                    TARGET_TOTAL_SECONDS))
    return {"config": {"repeat": repeat, "notebooks": len(paths)}, "rows": rows,
            "errors": errors, "runs": runs}
