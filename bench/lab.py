"""JupyterLab + Chromium for the browser test and the browser benchmark.

One JupyterLab 4 server on a folder of notebooks (isolated config, data and runtime folders, a
random token, a free port, the news pop-up disabled), driven by the Debian Chromium at
/usr/bin/chromium through the Python playwright package (no ``playwright install``, no
downloads). ``make sysdeps`` installs Chromium.

    with JupyterLab(folder) as lab, chromium() as browser:
        page = lab.open(browser, "explorers.ipynb")   # kernel idle, ready for input
        run_all(page)
        kernel_execute(page, "print(1 + 1)")          # -> "2\\n"
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("DESCENT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# The plugin behind JupyterLab's news pop-up; `make lab` disables it too (see the Makefile).
ANNOUNCEMENTS = "@jupyterlab/apputils-extension:announcements"
NEWS_POPUP = "Would you like to get notified about official Jupyter news?"
VIEWPORT = {"width": 1400, "height": 1000}  # a laptop window; the file browser stays open


def browser_problems() -> list[str]:
    """What is missing to drive Chromium (empty when all is there)."""
    problems = []
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        problems.append(f"no Chromium at {CHROMIUM} (or set DESCENT_CHROMIUM=/path/to/chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the Python package playwright is not installed in this environment "
                        "(it is pinned in requirements.txt: rebuild .venv with `make venv`)")
    return problems


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """A JupyterLab server on ``folder``, for the length of a ``with`` block."""

    def __init__(self, folder: Path, home: Path | None = None):
        self.folder = Path(folder)
        self._home = home
        self._scratch = None
        self.server = None

    def __enter__(self) -> "JupyterLab":
        if self._home is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="descent-lab-")
            self._home = Path(self._scratch.name)
        env = dict(os.environ)
        for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR",
                    "MPLCONFIGDIR"):
            folder = self._home / var.lower()
            folder.mkdir(parents=True, exist_ok=True)
            env[var] = str(folder)  # labextensions and the kernel are still found in sys.prefix
        labconfig = Path(env["JUPYTER_CONFIG_DIR"]) / "labconfig"
        labconfig.mkdir(exist_ok=True)
        (labconfig / "page_config.json").write_text(
            json.dumps({"disabledExtensions": {ANNOUNCEMENTS: True}}))
        env.pop("MPLBACKEND", None)  # the notebook's own backend (inline), the explorer's canvas
        env["PYTHONPATH"] = str(REPO)  # course_utils, even if the editable install is missing
        self.token, port = secrets.token_hex(16), _free_port()
        command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.port={port}",
                   "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
                   f"--ServerApp.token={self.token}", f"--ServerApp.root_dir={self.folder}",
                   "--LabApp.expose_app_in_browser=True",
                   "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if os.geteuid() == 0:
            command.append("--allow-root")
        self.log = self._home / "jupyter.log"
        with open(self.log, "w") as log_file:
            self.server = subprocess.Popen(command, env=env, cwd=self.folder, stdout=log_file,
                                           stderr=subprocess.STDOUT, start_new_session=True)
        self.base = f"http://127.0.0.1:{port}"
        try:
            self._wait(f"{self.base}/api/status?token={self.token}")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait(self, url: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.server.returncode}:\n"
                                   f"{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"jupyter lab did not answer within {timeout} s:\n"
                           f"{self.log.read_text()[-3000:]}")

    def __exit__(self, *exc) -> None:
        if self.server is not None:
            try:
                os.killpg(self.server.pid, signal.SIGTERM)  # the server and its kernels
                self.server.wait(timeout=10)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait(timeout=10)
        if self._scratch is not None:
            self._scratch.cleanup()

    def open(self, context, notebook: str, timeout_ms: int = 90_000):
        """A new page with ``notebook`` open and its kernel idle (``context``: a browser or a
        browser context)."""
        page = context.new_page(viewport=VIEWPORT)
        page.set_default_timeout(30_000)
        page.goto(f"{self.base}/lab/tree/{notebook}?token={self.token}")
        page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
            " && window.jupyterapp.shell.currentWidget.sessionContext", timeout=timeout_ms)
        page.evaluate(KERNEL_INFO)
        page.wait_for_function(KERNEL_IDLE, timeout=timeout_ms)
        page.wait_for_timeout(1000)  # idle shows a moment before the session takes input
        return page


@contextlib.contextmanager
def chromium():
    """Headless Chromium (Debian's), closed at the end of the block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                    headless=True)
        try:
            yield browser
        finally:
            browser.close()


# The frontend's own promises: the document is loaded and the kernel has answered kernel_info.
KERNEL_INFO = """async () => {
    const panel = window.jupyterapp.shell.currentWidget;
    await panel.context.ready;
    await panel.sessionContext.ready;
    await panel.sessionContext.session.kernel.info;
}"""
# …and then its websocket is connected and it reports idle.
KERNEL_IDLE = """() => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    return kernel.connectionStatus === "connected" && kernel.status === "idle";
}"""
# Runs code in the notebook's kernel (as a silent request: no cell, no history) and returns
# what it printed, or throws with the traceback.
EXECUTE = """async (code) => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    const future = kernel.requestExecute({code, silent: false, store_history: false});
    let out = "", error = null;
    future.onIOPub = (msg) => {
        if (msg.header.msg_type === "stream") out += msg.content.text;
        if (msg.header.msg_type === "error") error = msg.content.traceback.join("\\n");
    };
    await future.done;
    if (error !== null) throw new Error(error);
    return out;
}"""


def run_all(page) -> None:
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")


def kernel_execute(page, code: str) -> str:
    """Run ``code`` in the open notebook's kernel; what it printed."""
    return page.evaluate(EXECUTE, code)


def news_plugin_active(page) -> bool:
    return page.evaluate(f"() => window.jupyterapp.hasPlugin({ANNOUNCEMENTS!r}) && "
                         f"window.jupyterapp.isPluginActivated({ANNOUNCEMENTS!r})")
