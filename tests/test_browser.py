"""The learning-rate explorer in a real browser: JupyterLab + ipympl + Chromium via Playwright.

Starts JupyterLab (isolated config/data/runtime folders, random token, free port) on a temp
copy of the course's own ``notebooks/01_gradient_descent_1d.ipynb`` (its setup cell keeps
``%matplotlib inline``; the explorer in its ``widget`` cell draws on an ipympl canvas of its
own), opens it in headless Chromium, runs all cells, then moves the η slider by keyboard and by
typing into its readout, and checks that the regime label changes and the canvas pixels change.
It also checks that the notebook's other figures stayed inline images, and that no cell wrote
an error, and that JupyterLab's "get notified about official Jupyter news?" pop-up (which would
cover the explorer) never shows. Screenshots go to ``test-artifacts/browser/``.

Chromium is the Debian package at /usr/bin/chromium (no ``playwright install``, no downloads);
``make sysdeps`` (which ``make test`` runs first) installs it. Without it, or without the
playwright package, the test fails and says so: it never skips.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import json

import pytest

from conftest import REPO

CHROMIUM = Path(os.environ.get("DESCENT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
NOTEBOOK = REPO / "notebooks" / "01_gradient_descent_1d.ipynb"
# The plugin behind JupyterLab's news pop-up; `make lab` disables it too (see the Makefile).
ANNOUNCEMENTS = "@jupyterlab/apputils-extension:announcements"
NEWS_POPUP = "Would you like to get notified about official Jupyter news?"
ARTIFACTS = REPO / "test-artifacts" / "browser"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _require_browser():
    """Fail (never skip) when Chromium or Playwright is missing, saying how to get them."""
    problems = []
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        problems.append(f"no Chromium at {CHROMIUM} (or set DESCENT_CHROMIUM=/path/to/chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("the Python package playwright is not installed in this environment "
                        "(it is pinned in requirements.txt: rebuild .venv with `make venv`)")
    if problems:
        pytest.fail(f"the browser test cannot run: {'; '.join(problems)}. Run `make sysdeps` "
                    "(it installs Chromium, bubblewrap and the fonts with apt-get), or "
                    "`make test`, which runs it first.", pytrace=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_server(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {process.returncode}:\n"
                               f"{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"jupyter lab did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on a temp copy of NOTEBOOK; yields (base URL, token, notebook name)."""
    _require_browser()  # before starting anything
    home = tmp_path / "home"
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ)
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR",
                "MPLCONFIGDIR"):
        folder = home / var.lower()
        folder.mkdir(parents=True)
        env[var] = str(folder)  # labextensions and the kernel are still found under sys.prefix
    # No news pop-up over the explorer: disable the plugin that asks (as `make lab` does).
    labconfig = Path(env["JUPYTER_CONFIG_DIR"]) / "labconfig"
    labconfig.mkdir()
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {ANNOUNCEMENTS: True}}))
    env.pop("MPLBACKEND", None)  # the notebook's own backend (inline) and the explorer's canvas
    env["PYTHONPATH"] = str(REPO)  # course_utils, even if the editable install is missing
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    token, port = secrets.token_hex(16), _free_port()
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.port={port}",
               "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.token={token}", f"--ServerApp.root_dir={work}",
               "--LabApp.expose_app_in_browser=True",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = tmp_path / "jupyter.log"
    with open(log, "w") as log_file:
        server = subprocess.Popen(command, env=env, cwd=work, stdout=log_file,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for_server(f"{base}/api/status?token={token}", server, log)
        yield base, token, NOTEBOOK.name
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)  # the server and its kernels
            server.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


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

EXPLORER = ".jp-OutputArea-output .widget-vbox"
LR_SLIDER = ".widget-hslider:has(label:text-is('learning rate η'))"


def _regime(page) -> str:
    return page.locator(".descent-regime").inner_text().strip()


def _canvas_png(page) -> bytes:
    return page.locator(".jupyter-matplotlib-canvas-div").screenshot()


def _wait_for_change(page, before_label: str, before_pixels: bytes, timeout: float = 20):
    """Poll until both the regime label and the canvas differ from before; return them."""
    deadline = time.monotonic() + timeout
    label, pixels = before_label, before_pixels
    while time.monotonic() < deadline:
        label = _regime(page)
        pixels = _canvas_png(page)
        if label != before_label and pixels != before_pixels:
            break
        page.wait_for_timeout(200)
    return label, pixels


def test_learning_rate_explorer_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright

    base, token, name = lab
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # no stale screenshot from an earlier run
    ARTIFACTS.mkdir(parents=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                    headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(30_000)
            page.goto(f"{base}/lab/tree/{name}?token={token}")
            page.wait_for_function(
                "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                " && window.jupyterapp.shell.currentWidget.sessionContext", timeout=60_000)
            page.evaluate(KERNEL_INFO)
            assert page.evaluate(f"() => window.jupyterapp.hasPlugin({ANNOUNCEMENTS!r}) && "
                                 f"window.jupyterapp.isPluginActivated({ANNOUNCEMENTS!r})") \
                is False, "the news announcements plugin is active"
            page.wait_for_function(KERNEL_IDLE, timeout=60_000)
            page.wait_for_timeout(1000)  # idle shows a moment before the session takes input
            page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

            page.locator(".descent-regime").wait_for(timeout=90_000)
            page.locator(".jupyter-matplotlib-canvas-div canvas").first.wait_for()
            # The explorer's cell runs last: every figure above it is drawn by now. One live
            # canvas — the explorer's; the lessons' figures are still inline PNGs.
            assert page.locator(".jupyter-matplotlib-canvas-div").count() == 1
            assert page.locator(".jp-RenderedImage img").count() >= 1
            slider = page.locator(f"{EXPLORER} {LR_SLIDER}")
            readout = slider.locator(".widget-readout")
            slider.scroll_into_view_if_needed()  # the explorer sits at the end of the notebook
            assert _regime(page) == "good"  # η = 0.3 on L = ½w²
            page.wait_for_timeout(1000)  # the first frame reaches the canvas
            before = _canvas_png(page)
            # The news pop-up would have been emitted once the app was restored, long before
            # the explorer's cell ran: none on the page, and nothing over the explorer.
            assert page.get_by_text(NEWS_POPUP).count() == 0, "the Jupyter news pop-up is shown"
            page.screenshot(path=str(ARTIFACTS / "01_initial.png"))
            eta = float(readout.inner_text())
            assert eta == pytest.approx(10 ** -0.5, rel=1e-3)  # 0.3 on the slider's grid

            # Keyboard: each → moves η by one step of 0.05 decades; 12 steps: 0.316 → 1.26.
            slider.locator(".noUi-handle").focus()
            for _ in range(12):
                page.keyboard.press("ArrowRight")
            label, after_keys = _wait_for_change(page, "good", before)
            page.screenshot(path=str(ARTIFACTS / "02_after_keyboard.png"))
            assert float(readout.inner_text()) == pytest.approx(eta * 10 ** 0.6, rel=0.01)
            assert label == "oscillating", f"after 12 × ArrowRight the label says {label!r}"
            assert after_keys != before, "the canvas did not change after the keyboard moves"

            # Typing into the readout: η = 2.5 > 2/λ = 2 diverges.
            readout.click()
            page.keyboard.press("Control+A")
            page.keyboard.type("2.5")
            page.keyboard.press("Enter")
            label, after_typing = _wait_for_change(page, "oscillating", after_keys)
            page.screenshot(path=str(ARTIFACTS / "03_after_typing.png"))
            assert float(readout.inner_text()) == pytest.approx(2.5, rel=0.01)
            assert label == "diverging", f"after typing 2.5 the label says {label!r}"
            assert after_typing != after_keys, "the canvas did not change after typing η"
            (ARTIFACTS / "canvas_after_typing.png").write_bytes(after_typing)
            errors = page.locator(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            assert errors.count() == 0, errors.first.inner_text()
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "failure.png"))  # what the page showed
            raise
        finally:
            browser.close()
