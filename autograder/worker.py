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


def _drop_privileges(uid: int | None) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if os.getuid() == 0 and uid:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # from root to non-root: every capability is cleared
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _make_client(nb, request: dict, workdir: str):
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
        shutdown_kernel="immediate",
        resources={"metadata": {"path": workdir}}, on_cell_start=on_start,
        on_cell_executed=on_executed)
    return client, replies, state, budget


def _stream(name: str, text: str):
    import nbformat

    return nbformat.v4.new_output("stream", name=name, text=text)


def run(request: dict) -> dict:
    import nbformat
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    workdir = tempfile.mkdtemp(prefix="work-")
    os.chdir(workdir)
    os.environ["HOME"] = workdir  # the kernel's jupyter, IPython and matplotlib state lives here
    nb = nbformat.from_dict(request["notebook"])
    client, replies, state, budget = _make_client(nb, request, workdir)
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
        _drop_privileges(request.get("uid"))
        result = run(request)
    except BaseException as exc:  # noqa: BLE001 - the grader must hear about any failure here
        result = {"notebook": None, "replies": {}, "truncated": False, "failure": {
            "kind": "worker", "cell": None, "message": f"{type(exc).__name__}: {str(exc)[:500]}"}}
    reply = json.dumps(result).encode()
    digest = hmac.new(secret, reply, hashlib.sha256).hexdigest().encode()
    private.write(digest + b"\n" + reply)
    private.flush()
    os._exit(0)  # no interpreter teardown: the kernel is already gone, nothing else to wait for


if __name__ == "__main__":
    main()
