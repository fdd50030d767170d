"""A warm grading worker: one per sandbox slot, it forks a fresh process for every submission.

Runs *inside* the slot's bubblewrap sandbox, as its own script next to ``worker.py``. It imports
the heavy modules once (numpy, matplotlib and its inline backend, torch, course_utils, IPython
and ipykernel's machinery) but starts no kernel, no zmq context and no thread, and never runs
submission code. For each request (framed on stdin: a line with the length, then the JSON of
``worker.py``'s request) it forks a child that

- starts a session of its own, takes the submission's limits (``setrlimit`` after the fork: its
  CPU time starts from zero), drops to the slot's uid and becomes non-dumpable;
- forks the kernel from itself (``worker.fork_kernel``: ipykernel's own kernel app on a fresh
  zmq context, in a session of its own, every inherited fd closed) and drives it with nbclient,
  exactly as the cold worker does, then writes its signed reply into a pipe.

When the child is gone the zygote kills every other process of the sandbox's PID namespace (the
submission's daemons, whatever their session) until none is left and empties ``/tmp`` and
``/dev/shm`` (but for the bind mounts there: these scripts and, with a checkout under /tmp, its
venv), and only then passes the reply on (a line with its length, then ``clean`` or ``dirty``
on a line, then the reply). ``dirty`` (a process outlived the sweep, a bind mount moved) and
the zygote exits: the grader replaces the whole sandbox. Module state cannot carry over: each
child is a copy of the pristine zygote. The grader also kills the whole sandbox when a reply is
late or too large, and starts a new zygote for the slot's next submission.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import worker  # noqa: E402 - next to this script, inside the sandbox too

WIPED = ("/tmp/", "/dev/shm/")
SKELETON: dict = {"mounts": set(), "modes": {}}  # see remember_skeleton
CLEAN_SECONDS = 5.0  # to kill what a submission left; then the grader replaces the sandbox


def warm_imports() -> None:
    """What every graded notebook imports, loaded once: no thread or kernel is started."""
    sys.modules.setdefault("rfc3987_syntax", None)  # as worker.main, for the same reason
    import IPython.core.interactiveshell  # noqa: F401
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import matplotlib
    import matplotlib.pyplot  # noqa: F401
    import matplotlib_inline.backend_inline  # noqa: F401
    import nbclient  # noqa: F401
    import nbformat  # noqa: F401
    import numpy  # noqa: F401
    for name in ("torch", "course_utils"):
        try:
            __import__(name)
        except ImportError:
            pass
    matplotlib.rcdefaults()


def read_frame(fd: int) -> bytes | None:
    head = bytearray()
    while not head.endswith(b"\n"):
        chunk = os.read(fd, 1)
        if not chunk:
            return None
        head += chunk
    size, body = int(head), bytearray()
    while len(body) < size:
        chunk = os.read(fd, min(1 << 20, size - len(body)))
        if not chunk:
            return None
        body += chunk
    return bytes(body)


def write_frame(fd: int, data: bytes) -> None:
    view = memoryview(b"%d\n" % len(data) + data)
    while view:
        view = view[os.write(fd, view):]


def limit(request: dict) -> None:
    import resource

    limits = request["limits"]
    for kind, value in ((resource.RLIMIT_AS, limits["memory"]),
                        (resource.RLIMIT_CPU, limits["cpu"]),
                        (resource.RLIMIT_FSIZE, limits["file"]), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(kind, (value, value))
    if request.get("uid"):  # counts the slot's own uid once the child drops to it
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["nproc"], limits["nproc"]))


def child(request: dict, secret: bytes, out: int) -> None:
    """One submission, in the forked child; never returns."""
    try:
        os.setsid()
        limit(request)
        worker.drop_privileges(request.get("uid"))
        result = worker.run(request, warm=True)
    except BaseException as exc:  # noqa: BLE001 - the grader must hear about any failure here
        result = worker.failed(exc)
    try:
        data = memoryview(worker.sign(result, secret))
        while data:
            data = data[os.write(out, data):]
    finally:
        os._exit(0)


def in_own_pid_namespace() -> bool:
    """Whether this runs in bwrap's PID namespace (pid 1 is bwrap): only there may the zygote
    sweep every process it sees."""
    try:
        with open("/proc/1/cmdline", "rb") as handle:
            init = handle.read().split(b"\0")[0]
    except OSError:
        return False
    return os.path.basename(init) == b"bwrap" and os.getppid() == 1


def others(uid: int | None = None) -> list[int]:
    """Every process of the namespace (of ``uid`` only, if given) but this one, its parent and
    bwrap's init; zombies included: until reaped they count against the uid's RLIMIT_NPROC."""
    spared = {os.getpid(), os.getppid(), 1}
    found = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in spared]
    return found if uid is None else [pid for pid in found if real_uid(pid) in (uid, None)]


def real_uid(pid: int) -> int | None:
    """From /proc/PID/status: its directory belongs to root when the process is not dumpable."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            return int(next(line for line in handle if line.startswith("Uid:")).split()[1])
    except (OSError, StopIteration, ValueError):
        return None  # gone, or on its way


def kill_the_rest(deadline: float) -> bool:
    """SIGKILL every other process of the namespace until none is left; False if some are still
    there at ``deadline`` (say, a slot uid's fork bomb, which only that uid may kill)."""
    while victims := others():
        if time.monotonic() > deadline:
            return False
        for pid in victims:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        reap(0.02)
    return True


def kill_as(uid: int, deadline: float) -> None:
    """In a forked process that has become ``uid``: ``kill(-1)`` until no process of the uid is
    left. One sweep is not enough: a fork bomb forks between two, and a killed process is seen
    until bwrap's init reaps it. (kill(-1) itself says nothing: it succeeds while the zygote,
    which it may not signal, exists.)"""
    while others(uid) and time.monotonic() < deadline:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            return
        time.sleep(0.005)


def clean_up(uid: int | None) -> bool:
    """Kill what the submission left and empty /tmp and /dev/shm; False when that failed (a
    process survived, a bind mount moved) and the grader must replace the whole sandbox. With a
    slot uid the killing and a first wipe run as that uid (the zygote has no CAP_KILL nor
    CAP_DAC_OVERRIDE): ``kill(-1)`` reaches every process of the uid, which owns every file the
    submission wrote."""
    deadline = time.monotonic() + CLEAN_SECONDS
    if uid:
        pid = os.fork()
        if pid == 0:
            try:
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                kill_as(uid, deadline)
                wipe("/tmp")
                wipe("/dev/shm")
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
    clean = kill_the_rest(deadline)
    wipe("/tmp")
    wipe("/dev/shm")
    return clean and mount_points() == SKELETON["mounts"]


def reap(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.005)


def mount_points() -> set[str]:
    """Mount points under /tmp and /dev/shm: the read-only binds of these scripts and, with a
    checkout under /tmp, of its venv and course_utils."""
    found = set()
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), line.split()[4])
            if point.startswith(WIPED):
                found.add(point)
    return found


def remember_skeleton() -> None:
    """The bind mounts in the wiped folders, and the folders leading to them with their modes:
    the wipe keeps them (and restores their modes: chmod 0700 on a checkout's folder under
    /tmp would lock the slot uid out of the venv), and empties everything else in them."""
    mounts = mount_points()
    modes = {folder: os.stat(folder).st_mode & 0o7777 for folder in ("/tmp", "/dev/shm")}
    for point in mounts:
        parent = os.path.dirname(point)
        while parent not in ("/tmp", "/dev/shm", "/"):
            modes[parent] = os.stat(parent).st_mode & 0o7777
            parent = os.path.dirname(parent)
    SKELETON.update(mounts=mounts, modes=modes)


def unlock(top: str) -> None:
    """chmod u+rwx every folder under ``top`` (a submission may lock one to outlive the wipe)."""
    try:
        os.chmod(top, 0o700)
    except OSError:
        return
    for root, dirs, _ in os.walk(top):
        for name in dirs:
            path = os.path.join(root, name)
            try:
                if not os.path.islink(path):
                    os.chmod(path, 0o700)
            except OSError:
                pass


def wipe(folder: str) -> None:
    """Empty ``folder`` but for the skeleton (see ``remember_skeleton``)."""
    modes = SKELETON["modes"]
    try:
        if folder in modes:
            os.chmod(folder, modes[folder])
        names = os.listdir(folder)
    except OSError:
        names = []
    for name in names:
        path = os.path.join(folder, name)
        if path in SKELETON["mounts"]:
            continue
        if path in modes and not os.path.islink(path):
            wipe(path)
        elif os.path.isdir(path) and not os.path.islink(path):
            unlock(path)
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except OSError:
                pass


def serve_one(raw: bytes, out_fd: int, in_fd: int) -> None:
    request = json.loads(raw)
    secret = bytes.fromhex(request.pop("secret"))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        os.close(in_fd)
        os.close(out_fd)
        child(request, secret, write_end)
    os.close(write_end)
    reply = bytearray()
    while chunk := os.read(read_end, 1 << 16):
        reply += chunk
    os.close(read_end)
    try:
        status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    except ChildProcessError:
        status = None
    clean = clean_up(request.get("uid"))
    if not reply:  # say how the child died: the grader then shows it instead of "no result"
        reply = worker.sign(worker.failed(RuntimeError(
            f"the submission's process ended without a result (exit status {status})")), secret)
    write_frame(out_fd, (b"clean\n" if clean else b"dirty\n") + reply)
    if not clean:
        os._exit(3)  # with it goes bwrap's init, and the whole PID namespace


def main() -> None:
    in_fd, out_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    sys.stdout = open(1, "w", closefd=False)  # fd 1 and 2: /dev/null, kept by every fork
    sys.stderr = open(2, "w", closefd=False)
    if not in_own_pid_namespace():  # it kills every process it sees: never outside bwrap
        write_frame(out_fd, b"not in a sandbox of its own")
        os._exit(2)
    worker.no_ptrace()
    warm_imports()
    remember_skeleton()
    wipe("/tmp")  # matplotlib's cache and config, made under HOME=/tmp: no submission sees them
    os.chdir("/tmp")
    write_frame(out_fd, b"ready")
    while (raw := read_frame(in_fd)) is not None:
        serve_one(raw, out_fd, in_fd)
    os._exit(0)


if __name__ == "__main__":
    main()
