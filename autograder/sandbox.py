"""Run one notebook in a bubblewrap sandbox with resource limits and a whole-submission timeout.

Inside the sandbox ``/`` is read-only, ``/tmp`` is a small fresh tmpfs (the work folder), the
course checkout, its parent folder, the home folders and every folder the grader was given
(source, build, submissions, output) are replaced by empty tmpfs mounts, and only the Python
installation, the ``.venv`` and ``course_utils`` are bound back, read-only. There is no network
(the kernel keeps its own loopback), a private PID namespace (killing the sandbox kills every
process in it, fork bombs included) and no way back to the grader's files.

When the grader runs as root the worker drops to a uid of its own per job slot and grader
process (``slot_uid``: unique while the grader runs, so two grading runs on one machine never
count or kill each other's processes), so ``RLIMIT_NPROC`` counts only that sandbox's processes and threads (a grader that is not root
gets no process limit: it would count all of the user's processes; the PID namespace and the
timeout still end a fork bomb). Each slot is pinned to one core, so a runaway submission slows
only its own slot.

With bwrap a slot's sandbox is warm (``warm.py``, ``zygote.py``): it stays up, the heavy imports
done once, and each submission runs in a fresh process forked from it, with its own limits; the
zygote kills every process the submission left and empties /tmp before the next one; when it
cannot (a fork bomb outlasting the sweep) the whole sandbox is replaced. ``AUTOGRADER_WARM=0``
selects the cold path (a new sandbox per notebook), which is also what a slot falls back to
when its zygote does not start.

Without a working ``bwrap`` (``bwrap_problem`` says why) ``python -m autograder grade`` refuses to
run unless given ``--no-sandbox``; ``validate`` and the maintainers' tools, which run only the
course's own notebooks, may still use ``Sandbox(use_bwrap=False)``: the worker then runs with the
same limits and uid but no filesystem isolation, and ``description`` says so.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .procs import kill_sandbox, settle

WORKER = Path(__file__).with_name("worker.py")
SANDBOX_WORKER = "/tmp/.grader/worker.py"
BASE_UID = 1_000_000
SLOTS_PER_RUN = 64


def slot_uid(slot: int, pid: int | None = None) -> int:
    """A uid no other live grader uses: derived from this grader's pid (unique while it runs)."""
    pid = os.getpid() if pid is None else pid
    return BASE_UID + pid * SLOTS_PER_RUN + slot % SLOTS_PER_RUN
MB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Resource limits of one submission (each process gets its own memory and CPU limits)."""

    timeout: float = 300.0        # wall clock for the whole notebook, kernel start included
    memory_mb: int = 4096         # address space per process (torch alone maps ~1 GiB)
    nproc: int = 256              # processes + threads of the sandbox's uid
    file_mb: int = 64             # largest file a notebook may write
    tmp_mb: int = 512             # size of the sandbox's /tmp (the work folder)
    output_bytes: int = 2_000_000  # outputs kept from the notebook; the rest is dropped

    @property
    def cpu_seconds(self) -> int:
        return int(self.timeout) + 5


@dataclass
class Outcome:
    reply: dict | None      # the worker's verified reply, or None
    timed_out: bool         # killed by the whole-submission timeout
    problem: str | None     # why there is no reply (worker crashed, output too large, forged…)
    seconds: float


INSTALL_BWRAP = ("install bubblewrap: Debian/Ubuntu `sudo apt-get install bubblewrap`, Fedora "
                 "`sudo dnf install bubblewrap` (in this repository: `make sysdeps`)")


@functools.lru_cache(maxsize=None)
def bwrap_problem() -> str | None:
    """Why bubblewrap cannot sandbox a notebook on this machine, or None when it can.

    Being on ``PATH`` is not enough: where unprivileged user namespaces are disabled (a sysctl,
    AppArmor, some container runtimes) ``bwrap`` is installed but cannot build a sandbox, so it
    is tried once, with the namespaces a real run uses.
    """
    path = shutil.which("bwrap")
    if path is None:
        return "no `bwrap` on PATH: bubblewrap is not installed"
    probe = [path, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
             "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
             "--die-with-parent", "--new-session"]
    if os.geteuid() == 0:
        probe += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    try:
        done = subprocess.run([*probe, "true"], stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`{path}` is installed but could not be started ({exc})"
    if done.returncode != 0:
        detail = " ".join(done.stderr.split())[:300] or f"exit code {done.returncode}"
        return (f"`{path}` is installed but cannot create a sandbox here ({detail}); unprivileged "
                "user namespaces are probably disabled: check `sysctl kernel.unprivileged_userns_clone"
                "` and `user.max_user_namespaces` (on Ubuntu 23.10+ also AppArmor's "
                "`kernel.apparmor_restrict_unprivileged_userns`), or, in a container, allow user "
                "namespaces")
    return None


def have_bwrap() -> bool:
    """Whether ``bwrap`` is installed and works (see ``bwrap_problem``)."""
    return bwrap_problem() is None


def _existing(paths) -> list[str]:
    out = []
    for p in paths:
        p = Path(p).resolve()
        if p.exists() and str(p) != "/" and str(p) not in out:
            out.append(str(p))
    return out


def _python_roots() -> list[str]:
    """What the kernel needs to start: the venv, the base installation, the course package."""
    import course_utils

    roots = [sys.prefix, sys.base_prefix, Path(sys.executable).resolve().parent.parent,
             Path(course_utils.__file__).resolve().parent]
    return _existing(roots)


def _others_can_run(path: str) -> bool:
    """Whether a user other than the owner can reach ``path`` (every parent folder has o+x)."""
    p = Path(path).resolve()
    return all(os.stat(folder).st_mode & 0o001 for folder in [p, *p.parents] if folder.is_dir())


def _is_under(path: str, folders: list[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip("/") + "/") for f in folders)


class Sandbox:
    """Runs notebooks through ``worker.py``; ``hide`` lists folders the notebooks must not see."""

    def __init__(self, limits: Limits, hide: list[Path], use_bwrap: bool | None = None,
                 why_unsandboxed: str | None = None, warm: bool = True):
        self.limits = limits
        if use_bwrap is None:  # bwrap when it works; the caller decides whether that is enough
            problem = bwrap_problem()
            use_bwrap, why_unsandboxed = problem is None, why_unsandboxed or problem
        self.use_bwrap = use_bwrap
        self.why_unsandboxed = why_unsandboxed or "bwrap not used"
        repo = Path(__file__).resolve().parent.parent
        hidden = [repo, repo.parent, Path.home(), "/root", "/home", "/mnt", "/media", "/srv",
                  "/var/tmp", *hide]
        self.hidden = sorted((p for p in _existing(hidden) if not _is_under(p, ["/tmp"])),
                             key=len)
        self.exposed = _python_roots()
        self._running: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self._cancelled = False
        from .warm import WarmSlots  # a zygote per slot; only inside bwrap's PID namespace

        warm = warm and os.environ.get("AUTOGRADER_WARM", "1") != "0"  # 0: the cold path
        self._warm = WarmSlots(self) if use_bwrap and warm else None

    def close(self) -> None:
        """Stop the slots' warm workers (a new ``run`` starts them again)."""
        if self._warm is not None:
            self._warm.close()

    def cancel(self) -> None:
        """Kill every running sandbox (Ctrl-C); later ``run`` calls return at once."""
        with self._lock:
            self._cancelled = True
            running = list(self._running)
        for proc in running:
            kill_sandbox(proc, None)
        self.close()

    @property
    def description(self) -> str:
        if self.use_bwrap:
            return "bubblewrap sandbox (read-only /, course hidden, no network, own PID namespace)"
        who = "its own uid" if self._uid(0) is not None else "the grader's uid"
        return (f"NO SANDBOX ({self.why_unsandboxed}) — resource limits only, running as {who}; "
                "notebooks can read the course files (hidden tests, solutions) and the other "
                "submissions")

    def command(self, uid: int | None) -> list[str]:
        python = [sys.executable, "-I"]
        if not self.use_bwrap:
            return [*python, str(WORKER)]
        cmd = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
               "--perms", "1777", "--size", str(self.limits.tmp_mb * MB), "--tmpfs", "/tmp"]
        for folder in self.hidden:
            cmd += ["--tmpfs", folder]
        made: set[str] = set()
        fresh = [*self.hidden, "/tmp"]  # folders replaced by an empty tmpfs
        for folder in self.exposed:
            # bwrap would create the missing parents inside a fresh tmpfs with mode 0700, which
            # the unprivileged worker could not enter (e.g. a checkout in a mktemp -d folder)
            for parent in reversed(Path(folder).parents):
                p = str(parent)
                if p not in made and p not in fresh and _is_under(p, fresh):
                    cmd += ["--perms", "0755", "--dir", p]
                    made.add(p)
            cmd += ["--ro-bind", folder, folder]
        cmd += ["--ro-bind", str(WORKER), SANDBOX_WORKER, "--chdir", "/tmp",
                "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                "--die-with-parent", "--new-session"]
        if uid is not None:  # privileged bwrap: the worker needs these two to drop to ``uid``
            cmd += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        return cmd + [*python, SANDBOX_WORKER]

    def environment(self) -> dict[str, str]:
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/tmp",
               "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0",
               "PYDEVD_DISABLE_FILE_VALIDATION": "1", "JUPYTER_PLATFORM_DIRS": "1",
               # one thread per kernel: jobs run side by side on the cores
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if key in os.environ:
                env[key] = os.environ[key]
        return env

    def preexec(self, slot: int, uid: int | None):
        """What the worker's process runs before it starts: this sandbox's limits, the slot's core."""
        limits = self.limits
        cores = sorted(os.sched_getaffinity(0))

        def apply():
            def cap(kind, value):
                resource.setrlimit(kind, (value, value))
            cap(resource.RLIMIT_AS, limits.memory_mb * MB)
            cap(resource.RLIMIT_CPU, limits.cpu_seconds)
            cap(resource.RLIMIT_FSIZE, limits.file_mb * MB)
            cap(resource.RLIMIT_CORE, 0)
            if uid is not None:  # counts the slot's own uid once the worker drops to it
                cap(resource.RLIMIT_NPROC, limits.nproc)
            os.sched_setaffinity(0, {cores[slot % len(cores)]})
        return apply

    def _uid(self, slot: int) -> int | None:
        """The slot's own uid when running as root — unless, without bwrap, that uid could not
        even reach the Python installation (say, under /root); then the worker stays root."""
        if os.geteuid() != 0:
            return None
        if not self.use_bwrap and not all(_others_can_run(p) for p in self.exposed):
            return None
        return slot_uid(slot)

    def run(self, notebook: dict, slot: int = 0) -> Outcome:
        uid = self._uid(slot)
        if self._warm is not None and slot not in self._warm.broken:
            if self._cancelled:
                return Outcome(None, False, "the run was interrupted", 0.0)
            try:
                return self._warm.run(notebook, slot, uid)
            except RuntimeError as exc:  # no zygote (an import failed…): this slot runs cold
                print(f"note: {exc}; slot {slot} grades in a cold sandbox per notebook",
                      file=sys.stderr)
        secret = secrets.token_bytes(32)
        request = json.dumps({"notebook": notebook, "secret": secret.hex(), "uid": uid,
                              "cell_timeout": int(self.limits.timeout),
                              "max_output_bytes": self.limits.output_bytes}).encode()
        start = time.monotonic()
        with self._lock:
            if self._cancelled:
                return Outcome(None, False, "the run was interrupted", 0.0)
            proc = subprocess.Popen(self.command(uid), stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    env=self.environment(), start_new_session=True,
                                    preexec_fn=self.preexec(slot, uid))
            self._running.add(proc)
        try:
            return self._communicate(proc, request, secret, uid, start)
        finally:
            with self._lock:
                self._running.discard(proc)

    def _communicate(self, proc, request: bytes, secret: bytes, uid, start: float) -> Outcome:
        # The reply is the notebook plus its (capped) outputs; anything much larger is hostile.
        cap = 4 * self.limits.output_bytes + 4 * len(request) + MB
        out, err, overflow = bytearray(), bytearray(), threading.Event()

        def feed():
            try:
                proc.stdin.write(request)
                proc.stdin.close()
            except (BrokenPipeError, OSError):
                pass

        def drain(stream, sink, limit, flag=None):
            while chunk := stream.read(1 << 16):
                if len(sink) + len(chunk) > limit:
                    if flag is not None:
                        flag.set()
                        kill_sandbox(proc, uid)
                        return
                    continue  # stderr: keep the beginning, drop the rest
                sink.extend(chunk)

        threads = [threading.Thread(target=feed, daemon=True),
                   threading.Thread(target=drain, args=(proc.stdout, out, cap, overflow), daemon=True),
                   threading.Thread(target=drain, args=(proc.stderr, err, 8192), daemon=True)]
        for t in threads:
            t.start()
        timed_out = False
        try:
            proc.wait(timeout=self.limits.timeout + 15)  # + kernel start-up and shutdown
        except subprocess.TimeoutExpired:
            timed_out = True
        kill_sandbox(proc, uid)
        if uid is not None:
            settle(uid)
        for t in threads:
            t.join(timeout=5)
        seconds = time.monotonic() - start
        if timed_out:
            return Outcome(None, True, f"no result after {self.limits.timeout + 15:g} s", seconds)
        if overflow.is_set():
            return Outcome(None, False, "the notebook produced more output than the grader "
                           "accepts", seconds)
        reply, problem = verify_reply(bytes(out), secret)
        if reply is None:
            tail = err.decode("utf-8", "replace").strip().splitlines()[-3:]
            problem += f" (exit code {proc.returncode}{'; ' + ' | '.join(tail) if tail else ''})"
        return Outcome(reply, False, problem, seconds)


def verify_reply(raw: bytes, secret: bytes) -> tuple[dict | None, str | None]:
    """The worker's reply if its HMAC with ``secret`` holds, else None and why."""
    digest, _, payload = raw.partition(b"\n")
    if not raw:
        return None, "the grading worker ended without a result"
    expected = hmac.new(secret, payload, hashlib.sha256).hexdigest().encode()
    if not hmac.compare_digest(digest, expected):
        return None, "the grading worker's result failed its signature check"
    try:
        return json.loads(payload), None
    except ValueError:
        return None, "the grading worker's result is not valid JSON"
