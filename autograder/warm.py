"""Warm sandbox slots: one long-lived bubblewrap sandbox per slot, running ``zygote.py``.

The zygote imports the heavy modules once; each submission runs in a fresh process forked from
it (never in a reused kernel), with its own limits, and the zygote kills whatever the submission
left and empties ``/tmp`` before it answers (see ``zygote.py``). Here, in the trusted grader, a
slot's zygote is started on first use and killed — the whole sandbox, PID namespace and all —
when a reply is late, too large or missing; the slot's next submission then gets a new one.
The reply is the cold worker's, signed with a secret of this submission only, so scoring is the
same as on the cold path.
"""
from __future__ import annotations

import json
import os
import secrets
import select
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from .procs import kill_sandbox, settle

ZYGOTE = Path(__file__).with_name("zygote.py")
SANDBOX_ZYGOTE = "/tmp/.grader/zygote.py"
START_TIMEOUT = 180.0  # the zygote's imports, on a loaded machine


class Late(Exception):
    """No complete frame before the deadline (or the frame is larger than allowed)."""


def read_frame(fd: int, deadline: float, cap: int) -> bytes | None:
    """A length-prefixed frame from ``fd``; None at end of file."""
    buffer = bytearray()
    size = None
    while size is None or len(buffer) < size:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise Late("late")
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return None
        buffer += chunk
        if size is None and b"\n" in buffer:
            head, _, rest = bytes(buffer).partition(b"\n")
            size, buffer = int(head), bytearray(rest)
            if size > cap:
                raise Late("too large")
    return bytes(buffer[:size])


class WarmSlots:
    """The zygotes of a ``Sandbox``'s slots (bwrap only)."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.zygotes: dict[int, subprocess.Popen] = {}
        self.broken: set[int] = set()  # slots whose zygote could not start
        self.busy: set[subprocess.Popen] = set()  # zygotes serving a submission right now
        self.lock = threading.Lock()

    def command(self, uid: int | None) -> list[str]:
        cmd = self.sandbox.command(uid)
        python = len(cmd) - 3  # [..., python, -I, worker]
        return [*cmd[:python], "--ro-bind", str(ZYGOTE), SANDBOX_ZYGOTE,
                *cmd[python:python + 2], SANDBOX_ZYGOTE]

    def _start(self, slot: int, uid: int | None) -> subprocess.Popen:
        if uid is not None:
            settle(uid)  # what is left of the slot's last sandbox would eat into its NPROC
        log = tempfile.TemporaryFile()
        proc = subprocess.Popen(self.command(uid), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=log, env=self.sandbox.environment(),
                                start_new_session=True,
                                preexec_fn=self.sandbox.preexec(slot, uid))
        proc.log = log
        try:
            ready = read_frame(proc.stdout.fileno(), time.monotonic() + START_TIMEOUT, 1024)
        except Late:
            ready = None
        if ready != b"ready":
            proc.kill()  # then read what it said before _stop closes the log
            proc.wait()
            log.seek(0)
            tail = log.read()[-300:].decode("utf-8", "replace").strip()
            self._stop(proc, uid)
            raise RuntimeError(f"the warm worker did not start ({ready!r}; {tail})")
        return proc

    def _stop(self, proc: subprocess.Popen, uid: int | None) -> None:
        kill_sandbox(proc, uid)
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        proc.log.close()

    def zygote(self, slot: int, uid: int | None) -> subprocess.Popen:
        with self.lock:
            proc = self.zygotes.pop(slot, None)
        if proc is not None and proc.poll() is not None:
            self._stop(proc, uid)
            proc = None
        return proc or self._start(slot, uid)

    def run(self, notebook: dict, slot: int, uid: int | None):
        limits = self.sandbox.limits
        secret = secrets.token_bytes(32)
        request = json.dumps({
            "notebook": notebook, "secret": secret.hex(), "uid": uid,
            "cell_timeout": int(limits.timeout), "max_output_bytes": limits.output_bytes,
            "limits": {"memory": limits.memory_mb << 20, "cpu": limits.cpu_seconds,
                       "file": limits.file_mb << 20, "nproc": limits.nproc}}).encode()
        try:
            proc = self.zygote(slot, uid)
        except RuntimeError:
            self.broken.add(slot)  # the caller grades this and the slot's next ones cold
            raise
        with self.lock:
            self.busy.add(proc)
        try:
            return self._serve(proc, request, secret, slot, uid)
        finally:
            with self.lock:
                self.busy.discard(proc)

    def _serve(self, proc, request: bytes, secret: bytes, slot: int, uid: int | None):
        from .sandbox import Outcome, verify_reply

        limits = self.sandbox.limits
        start = time.monotonic()
        cap = 4 * limits.output_bytes + 4 * len(request) + (1 << 20)
        raw, problem, timed_out, clean = None, None, False, False
        try:
            proc.stdin.write(b"%d\n" % len(request) + request)
            proc.stdin.flush()
            raw = read_frame(proc.stdout.fileno(), start + limits.timeout + 15, cap)
        except Late as exc:
            timed_out = str(exc) == "late"
            problem = None if timed_out else \
                "the notebook produced more output than the grader accepts"
        except (BrokenPipeError, OSError):
            raw = None
        if raw is not None:  # the zygote says whether it could clean up after the submission
            verdict, _, raw = raw.partition(b"\n")
            clean = verdict == b"clean"
        seconds = time.monotonic() - start
        if not clean or raw is None or problem or timed_out:
            self._stop(proc, uid)  # the whole sandbox: the next submission gets a new zygote
        else:
            with self.lock:
                self.zygotes[slot] = proc
        if timed_out:
            return Outcome(None, True, f"no result after {limits.timeout + 15:g} s", seconds)
        if problem:
            return Outcome(None, False, problem, seconds)
        reply, problem = verify_reply(raw or b"", secret)
        if reply is None:
            problem += f" (warm worker exit code {proc.poll()})"
        return Outcome(reply, False, problem, seconds)

    def close(self) -> None:
        """Stop the idle zygotes, and kill the busy ones (Ctrl-C): their submissions end
        without a result, and their threads stop them."""
        with self.lock:
            procs, self.zygotes = list(self.zygotes.values()), {}
            busy = list(self.busy)
        for proc in procs:
            self._stop(proc, None)
        for proc in busy:
            kill_sandbox(proc, None)
