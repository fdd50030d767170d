"""The grader's side of killing a sandbox: its processes, found through the host's /proc."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def processes_of(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def kill_sandbox(proc: subprocess.Popen, uid: int | None) -> None:
    """Kill the worker, its process group, its descendants and every process of the slot's uid.

    With bwrap, killing the outer bwrap process tears down the PID namespace, which is enough;
    the rest covers the no-bwrap fallback, where the kernel runs in a session of its own.
    """
    victims = [proc.pid, *descendants(proc.pid)]
    if uid is not None:
        victims += processes_of(uid)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def settle(uid: int, seconds: float = 10.0) -> None:
    """Kill every process of ``uid`` and wait until the last is reaped: a sandbox killed a moment
    ago (a fork bomb's hundreds of processes) still counts against the uid's RLIMIT_NPROC, and
    the slot's next sandbox, same uid, would fail to start a thread (EAGAIN)."""
    deadline = time.monotonic() + seconds
    while (pids := processes_of(uid)) and time.monotonic() < deadline:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.02)
