"""Execute one notebook and report what happened. Runs *inside* the sandbox, as its own script.

Protocol: one JSON request on stdin ``{"notebook", "secret", "cell_timeout", "max_output_bytes",
"uid"}``; one reply on the private stdout: a line with the HMAC-SHA256 (key = secret) of the JSON
payload, then the payload ``{"notebook", "replies", "failure", "truncated"}`` where ``replies``
maps a cell index to the kernel's execute_reply status ("ok"/"error"/"aborted").

Student code runs in the kernel, a child of this process. Before starting it we
- point fds 0, 1 and 2 at /dev/null, so the kernel inherits no pipe to the grader, and keep the
  real stdout on a private non-inheritable fd;
- drop to an unprivileged uid (when started as root) and mark this process non-dumpable, so the
  kernel can neither ptrace it nor open ``/proc/<pid>/fd`` to reach that private fd;
and sign the reply with a secret only this process holds, so a forged reply is rejected.

Only the standard library, nbformat and nbclient are imported: the course's own packages are not
visible inside the sandbox (except course_utils, which the notebooks import).
"""
from __future__ import annotations

import ctypes
import hashlib
import hmac
import json
import os
import sys
import tempfile

PR_SET_DUMPABLE = 4
PR_SET_NO_NEW_PRIVS = 38


def _isolate_stdio():
    """Return a private binary stream on the real stdout; fds 0, 1, 2 become /dev/null."""
    private = os.fdopen(os.dup(1), "wb")  # os.dup: not inherited by children
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    sys.stdout = sys.stderr = open(os.devnull, "w")
    return private


def drop_privileges(uid: int | None) -> None:
    """Become ``uid`` (when root), with no new privileges and not dumpable."""
    if os.getuid() == 0 and uid:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # from root to non-root: every capability is cleared
    no_ptrace()


def no_ptrace() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


class _Forked:
    """The part of ``subprocess.Popen`` jupyter_client's provisioner uses, for a forked pid."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid, self.returncode = pid, None

    def poll(self):
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = self.pid, 0
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout=None):
        import subprocess
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("kernel", timeout)
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, signum):
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self):
        self.send_signal(9)

    def terminate(self):
        self.send_signal(15)


def fork_kernel():
    """Fork ipykernel's kernel from this (warm, thread-free) process; return its manager.

    The kernel runs in a session of its own with fds 0-2 on /dev/null and every other fd closed,
    on the connection file written here; the returned ``AsyncKernelManager`` adopts it instead of
    spawning ``python -m ipykernel_launcher``, so nbclient drives it exactly as a cold kernel.
    """
    from jupyter_client.connect import write_connection_file
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning.local_provisioner import LocalProvisioner
    from jupyter_client.session import new_id_bytes

    # where a cold kernel's connection file goes (tempfile.mkstemp), so the kernel sees the same
    conn, _ = write_connection_file(ip="127.0.0.1", key=new_id_bytes(), kernel_name="python3")
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            os.closerange(3, 1 << 16)
            sys.stdin = open(0, closefd=False)  # the streams on the (closed) fds above
            sys.stdout, sys.stderr = open(1, "w", closefd=False), open(2, "w", closefd=False)
            import ipykernel_launcher
            from ipykernel.kernelapp import launch_new_instance

            # as after `python -m ipykernel_launcher -f CONN`: its argv, not the grader's path
            sys.argv = [ipykernel_launcher.__file__, "-f", conn]
            sys.path[:] = [p for p in sys.path if not p.startswith("/tmp/.grader")]
            launch_new_instance(argv=["-f", conn])
        finally:
            os._exit(0)

    async def adopt(self, cmd, **kwargs):
        self.process = _Forked(pid)
        self.pid = self.pgid = pid
        self.cwd = kwargs.get("cwd", os.getcwd())
        return self.connection_info

    LocalProvisioner.launch_kernel = adopt
    km = AsyncKernelManager(kernel_name="python3", cache_ports=False, connection_file=conn)
    km.load_connection_file()
    km._connection_file_written = True
    return km


def _make_client(nb, request: dict, workdir: str, km=None):
    from nbclient import NotebookClient

    budget = {"left": int(request["max_output_bytes"]), "truncated": False}

    class GradingClient(NotebookClient):
        """Keeps at most ``max_output_bytes`` of outputs in total; errors are always kept."""

        def output(self, outs, msg, display_id, cell_index):
            if msg["msg_type"] == "error":
                return super().output(outs, msg, display_id, cell_index)
            size = len(json.dumps(msg.get("content", {})))
            if size > budget["left"]:
                if not budget["truncated"]:
                    budget["truncated"] = True
                    outs.append(_stream("stdout", "\n[output truncated by the grader]\n"))
                budget["left"] = 0
                return None
            budget["left"] -= size
            return super().output(outs, msg, display_id, cell_index)

    replies: dict[int, str] = {}
    state = {"cell": None}

    def on_start(cell, cell_index):
        state["cell"] = cell_index

    def on_executed(cell, cell_index, execute_reply):
        replies[cell_index] = execute_reply["content"]["status"] if execute_reply else "none"

    client = GradingClient(
        nb, timeout=request["cell_timeout"], kernel_name="python3", allow_errors=True,
        interrupt_on_timeout=False, startup_timeout=120, record_timing=False,
        shutdown_kernel="immediate", km=km,
        resources={"metadata": {"path": workdir}}, on_cell_start=on_start,
        on_cell_executed=on_executed)
    return client, replies, state, budget


def _stream(name: str, text: str):
    import nbformat

    return nbformat.v4.new_output("stream", name=name, text=text)


def run(request: dict, warm: bool = False) -> dict:
    import nbformat
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    workdir = tempfile.mkdtemp(prefix="work-")
    os.chdir(workdir)
    os.environ["HOME"] = workdir  # the kernel's jupyter, IPython and matplotlib state lives here
    nb = nbformat.from_dict(request["notebook"])
    km = fork_kernel() if warm else None
    client, replies, state, budget = _make_client(nb, request, workdir, km)
    failure = None
    try:
        client.execute()
    except CellTimeoutError:
        failure = {"kind": "timeout", "cell": state["cell"]}
    except DeadKernelError:
        failure = {"kind": "kernel_died", "cell": state["cell"]}
    except Exception as exc:  # noqa: BLE001 - reported to the grader, which decides the status
        failure = {"kind": "worker", "cell": state["cell"],
                   "message": f"{type(exc).__name__}: {str(exc)[:500]}"}
    return {"notebook": nb, "replies": {str(k): v for k, v in replies.items()},
            "failure": failure, "truncated": budget["truncated"]}


def failed(exc: BaseException) -> dict:
    return {"notebook": None, "replies": {}, "truncated": False, "failure": {
        "kind": "worker", "cell": None, "message": f"{type(exc).__name__}: {str(exc)[:500]}"}}


def sign(result: dict, secret: bytes) -> bytes:
    """The reply: a line with the HMAC-SHA256 of the JSON payload, then the payload."""
    reply = json.dumps(result).encode()
    return hmac.new(secret, reply, hashlib.sha256).hexdigest().encode() + b"\n" + reply


def main() -> None:
    # jsonschema's optional IRI checker (rfc3987_syntax) compiles a grammar for ~3 s on import;
    # nbformat never validates that format. Blocking it makes the import fail fast, as designed.
    # (autograder/__init__.py does the same for everything else; this script runs on its own
    # inside the sandbox, where the autograder package is not importable.)
    sys.modules.setdefault("rfc3987_syntax", None)
    request = json.loads(sys.stdin.buffer.read())
    secret = bytes.fromhex(request.pop("secret"))
    private = _isolate_stdio()
    try:
        drop_privileges(request.get("uid"))
        result = run(request)
    except BaseException as exc:  # noqa: BLE001 - the grader must hear about any failure here
        result = failed(exc)
    private.write(sign(result, secret))
    private.flush()
    os._exit(0)  # no interpreter teardown: the kernel is already gone, nothing else to wait for


if __name__ == "__main__":
    main()
