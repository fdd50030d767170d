"""Every explorer in a real browser: JupyterLab 4 + ipympl + Chromium via Playwright.

One JupyterLab server and one page (``bench/lab.py``) on a notebook that builds every explorer
as its notebook does (``bench.browser.EXPLORERS``; 06 and 07 race the reference rules), between
two plain matplotlib figures. Each explorer is then driven as a student would: sliders by the
keyboard and by typing into their readout, drop-downs, toggle buttons, check boxes, the play
button, a click on the contours — including switching the loss or the landscape and back. After
every action:

- the canvas the page shows equals the kernel's figure, pixel for pixel (the last frame the
  kernel drew, fetched by a kernel call made from the page; the canvas read back with
  ``toDataURL``), once the page has painted;
- the action sent exactly one frame per change (no second redraw from values the page sends
  back), and the sliders' readouts show the kernel's values (after a landscape switch too);
- no error reached an output area.

And once for the page: the news pop-up never shows, the other figures stay inline images, each
explorer's canvas fits the notebook's width with the file browser open, and no control's label
is cut off. Screenshots of every explorer go to ``test-artifacts/browser/``; a canvas that
differs from the kernel's figure is saved there with the kernel's, side by side.

Chromium is the Debian package at /usr/bin/chromium (no ``playwright install``, no downloads);
``make sysdeps`` (which ``make test`` runs first) installs it. Without it, or without the
playwright package, the test fails and says so: it never skips.
"""
from __future__ import annotations

import base64
import io
import json
import shutil
import sys
import time

import numpy as np
import pytest

from conftest import REPO

sys.path.insert(0, str(REPO))  # bench is run from the checkout, not installed
from bench import browser as explorers_page  # noqa: E402
from bench.lab import (NEWS_POPUP, JupyterLab, browser_problems, chromium,  # noqa: E402
                       kernel_execute, news_plugin_active, run_all)

ARTIFACTS = REPO / "test-artifacts" / "browser"
SETTLE_S = 15  # the longest a frame may take to reach the canvas on a loaded machine

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _require_browser():
    """Fail (never skip) when Chromium or Playwright is missing, saying how to get them."""
    problems = browser_problems()
    if problems:
        pytest.fail(f"the browser test cannot run: {'; '.join(problems)}. Run `make sysdeps` "
                    "(it installs Chromium, bubblewrap and the fonts with apt-get), or "
                    "`make test`, which runs it first.", pytrace=False)


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


CANVAS_PNG = """(cls) => {
    const canvas = document.querySelector(`.${cls} .jupyter-matplotlib-canvas-div canvas`);
    return canvas.toDataURL("image/png").split(",")[1];
}"""
# The SHA-256 of the canvas' RGBA pixels, as the kernel hashes its figure's.
CANVAS_SHA256 = """async (cls) => {
    const canvas = document.querySelector(`.${cls} .jupyter-matplotlib-canvas-div canvas`);
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    const digest = await crypto.subtle.digest("SHA-256", pixels.data);
    return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}"""


class Student:
    """Drives one explorer on the page and checks it against the kernel after every action."""

    def __init__(self, page, key):
        self.page, self.key = page, key
        self.cls = explorers_page.dom_class(explorers_page.name_of(key))
        self.box = page.locator(f".{self.cls}")
        self.descriptions = explorers_page.descriptions(page, key)
        first = self.probe()
        self.frames, self.changes, self.actions = first["frames"], first["changes"], 0

    def probe(self, png=False) -> dict:
        return json.loads(kernel_execute(self.page, f"_probe({self.key!r}, png={png})"))

    def canvas_differs(self, state) -> int:
        """Pixels of the canvas that differ from the kernel's frame: 0 at once when their
        hashes agree, else counted on both images (a level or two of colour is forgiven)."""
        if self.page.evaluate(CANVAS_SHA256, self.cls) == state["sha256"]:
            return 0
        kernel = _pixels(base64.b64decode(self.probe(png=True)["png"]))
        shown = _pixels(base64.b64decode(self.page.evaluate(CANVAS_PNG, self.cls)))
        return _differing(kernel, shown)

    def control(self, name):
        description = self.descriptions[name]
        return self.box.locator(f".lm-Widget:has(> label:text-is({description!r}))").first

    # ------------------------------------------------------------------ what a student does
    def press(self, name, key, times=1, changes=True):
        handle = self.control(name).locator(".noUi-handle")
        handle.scroll_into_view_if_needed()
        handle.focus()
        for _ in range(times):
            self.page.keyboard.press(key)
        self.settled(f"{times} × {key} on {name}", changes)

    def type(self, name, text):
        readout = self.control(name).locator(".widget-readout")
        readout.scroll_into_view_if_needed()
        readout.click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(text)
        self.page.keyboard.press("Enter")
        self.settled(f"typing {text} into {name}")

    def select(self, name, label):
        self.control(name).locator("select").select_option(label=label)
        self.settled(f"choosing {label!r} for {name}")

    def toggle(self, name, label):
        self.control(name).locator(f"button:text-is({label!r})").click()
        self.settled(f"clicking {label!r} of {name}")

    def tick(self, description):
        self.box.locator(".widget-checkbox").filter(has_text=description).locator(
            "input").click()
        self.settled(f"ticking {description!r}")

    def click_figure(self, axes: int, x: float, y: float):
        """A click at data point (x, y) of the figure's axes number ``axes``."""
        px, py = json.loads(kernel_execute(self.page, (
            f"import json; f = E[{self.key!r}].figure; a = f.axes[{axes}]\n"
            f"x, y = a.transData.transform(({x}, {y})); print(json.dumps([x, f.bbox.height - y]))"
        )))
        canvas = self.box.locator(".jupyter-matplotlib-canvas-div canvas").last  # the top one
        canvas.click(position={"x": px, "y": py})
        self.settled(f"clicking the figure at ({x}, {y})", clicks=1)

    def play(self, seconds):
        buttons = self.box.locator(".widget-play button")
        buttons.first.click()  # play
        self.page.wait_for_timeout(seconds * 1000)
        buttons.nth(1).click()  # pause
        self.settled(f"playing for {seconds} s")

    # ------------------------------------------------------------------ what must hold after
    def settled(self, what, changes=True, clicks=0):
        """Wait until the page and the kernel agree: the canvas shows the kernel's last frame,
        the readouts its values, and no frame came for 0.4 s. Then check one frame per change
        the kernel received (``clicks``: and per click on the figure; at least one change if
        ``changes``) and that no error was printed."""
        self.actions += 1
        deadline, state, problem = time.monotonic() + SETTLE_S, None, None
        while time.monotonic() < deadline:
            state = self.probe()
            differ = self.canvas_differs(state)
            problem = (f"the canvas differs from the kernel's figure in {differ} pixels"
                       if differ else self.readouts_differ(state["values"]))
            if problem is None:
                self.page.wait_for_timeout(400)  # a late second frame would show up here
                again = self.probe()
                if again["frames"] == state["frames"] and again["sha256"] == state["sha256"]:
                    break
            self.page.wait_for_timeout(150)
        else:
            self._save(what, state)
            raise AssertionError(f"after {what}: {problem} for {SETTLE_S} s (the canvas and "
                                 f"the kernel's frame are saved in {ARTIFACTS})")
        sent, self.frames = state["frames"] - self.frames, state["frames"]
        received, self.changes = state["changes"] - self.changes, state["changes"]
        assert sent == received + clicks, (f"after {what}: the kernel sent {sent} frames for "
                                           f"{received} change(s) from the page")
        assert received + clicks >= 1 or not changes, f"after {what}: the kernel saw no change"
        assert not state["errors"], f"after {what}: {state['errors']}"
        self.state = state

    def readouts_differ(self, values):
        """The first slider whose readout is not the kernel's value, or None."""
        for name, description in self.descriptions.items():
            readout = self.control(name).locator(".widget-readout")
            if not description or readout.count() == 0 or not isinstance(values[name], float):
                continue
            shown = float(readout.inner_text().strip().replace("−", "-"))
            if shown != pytest.approx(values[name], rel=2e-3, abs=6e-3):
                return f"the {name} slider reads {shown} but the kernel draws {values[name]}"
        return None

    def _save(self, what, state):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        stem = f"{self.key}_mismatch_{self.actions}"
        (ARTIFACTS / f"{stem}_kernel.png").write_bytes(
            base64.b64decode(self.probe(png=True)["png"]))
        (ARTIFACTS / f"{stem}_canvas.png").write_bytes(
            base64.b64decode(self.page.evaluate(CANVAS_PNG, self.cls)))


def _differing(a: np.ndarray, b: np.ndarray) -> int:
    """Pixels that differ by more than 2 levels in a channel (all of them if sizes differ)."""
    if a.shape != b.shape:
        return int(max(a.size, b.size) // 4)
    return int(np.count_nonzero(np.abs(a.astype(int) - b.astype(int)).max(axis=-1) > 2))


# Per explorer, what a student does with it (each step checked by Student.settled).
def drive_01(s):
    s.press("lr", "ArrowRight", 3)
    s.type("lr", "2.5")
    assert ">diverging<" in s.state["labels"]["regime"]
    s.select("loss", "double well (non-convex)")
    assert s.state["values"]["start"] == pytest.approx(0.3)
    s.press("start", "ArrowLeft", 4)
    s.select("loss", "parabola  L = ½λw²")  # and back: the canvas once stayed garbled here
    assert s.state["values"]["start"] == pytest.approx(3.5)
    assert s.state["values"]["lr"] == pytest.approx(0.316, rel=1e-2)


def drive_02(s):
    s.press("lr", "ArrowRight", 2)
    s.click_figure(0, 2.0, -5.0)
    # The start moves to the click, on the sliders' grid (0.1): a pixel is about 0.04 here.
    assert (s.state["values"]["x0"], s.state["values"]["y0"]) == (pytest.approx(2.0, abs=0.11),
                                                                  pytest.approx(-5.0, abs=0.11))
    s.type("x0", "-9")


def drive_03(s):
    s.press("batch_size", "ArrowLeft", 2)
    s.type("lr", "0.9")
    assert "diverged" in s.state["labels"]["summary"]
    s.tick("shuffle each epoch")
    s.type("lr", "0.05")


def drive_04(s):
    s.press("z1", "ArrowRight", 2)
    s.toggle("true_class", "3")
    s.type("T", "0.1")


def drive_05(s):
    s.press("depth", "ArrowRight", 2)
    s.toggle("activation", "tanh")
    s.type("weight_scale", "10")


def race_start(s, landscape, start):
    s.select("landscape", landscape)
    values = s.state["values"]
    assert (values["x0"], values["y0"]) == (pytest.approx(start[0]), pytest.approx(start[1]))


def drive_06(s):
    s.press("lr_sgd", "ArrowRight", 2)
    race_start(s, "saddle", (1.8, 0.05))
    race_start(s, "ill-conditioned bowl", (-8.0, 3.0))
    s.tick("arrows: −∇f (grey), step direction")
    s.press("step", "ArrowLeft", 3)
    s.play(1)


def drive_07(s):
    race_start(s, "ill-conditioned bowl", (-8.0, 3.0))
    race_start(s, "Rosenbrock", (-1.2, 1.0))  # the slider once read 0.60 with the start at 3
    s.press("lr_adaptive", "ArrowRight", 2)
    s.click_figure(0, 0.5, 2.0)


def drive_08(s):
    s.select("schedule", "step")
    s.press("lr0", "ArrowRight", 2)
    s.press("warmup", "ArrowRight", 3)


def drive_09(s):
    s.press("lr0", "ArrowRight", 1)
    s.select("optimizer", "SGD")
    s.press("batch_size", "ArrowRight", 1)


def drive_10(s):
    s.press("scale", "ArrowRight", 2)
    s.toggle("scheme", "He")
    s.toggle("activation", "relu")
    s.press("depth", "ArrowLeft", 3)


LAYOUT = """(cls) => {
    const box = document.querySelector('.' + cls);
    const area = box.closest('.jp-OutputArea-output').getBoundingClientRect();
    const canvas = box.querySelector('.jupyter-matplotlib-canvas-div canvas')
        .getBoundingClientRect();
    const cut = [];
    for (const el of box.querySelectorAll('.widget-label, button, label, .widget-readout')) {
        if (el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1) {
            cut.push(el.textContent.trim() || el.title);
        }
    }
    const iconOnly = [...box.querySelectorAll('.widget-play')].filter(
        (play) => !(play.previousElementSibling && play.previousElementSibling.textContent.trim()));
    return {overflow: canvas.right - area.right, cut, iconOnly: iconOnly.length};
}"""


def test_every_explorer_in_jupyterlab(tmp_path):
    _require_browser()  # before starting anything
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # no stale screenshot from an earlier run
    ARTIFACTS.mkdir(parents=True)
    work = tmp_path / "work"
    work.mkdir()
    notebook = explorers_page.write_notebook(work)
    keys = list(explorers_page.EXPLORERS)
    failures = {}
    with JupyterLab(work, home=tmp_path / "home") as lab, chromium() as browser:
        page = lab.open(browser, notebook)
        try:
            assert news_plugin_active(page) is False, "the news announcements plugin is active"
            run_all(page)
            explorers_page.hook_canvases(page, keys)
            page.wait_for_function("""() => window.jupyterapp.shell.currentWidget.sessionContext
                .session.kernel.status === "idle" """, timeout=180_000)
            page.screenshot(path=str(ARTIFACTS / "00_notebook.png"))
            # One live canvas per explorer; the plain figures around them stay inline.
            assert page.locator(".jupyter-matplotlib-canvas-div").count() == len(keys)
            assert page.locator(".jp-RenderedImage img").count() >= 2
            assert page.get_by_text(NEWS_POPUP).count() == 0, "the Jupyter news pop-up is shown"
            for key in keys:
                student = None
                try:
                    student = Student(page, key)
                    student.box.scroll_into_view_if_needed()
                    layout = page.evaluate(LAYOUT, student.cls)
                    assert layout["overflow"] <= 0, (
                        f"the canvas runs {layout['overflow']:.0f} px past the notebook's width")
                    assert not layout["cut"], f"labels cut off: {layout['cut']}"
                    assert layout["iconOnly"] == 0, "a play button has no text next to it"
                    globals()[f"drive_{key}"](student)
                except Exception as error:  # noqa: BLE001 - report every explorer's problems
                    failures[key] = f"{type(error).__name__}: {error}"
                finally:
                    box = page.locator(f".{explorers_page.dom_class(explorers_page.name_of(key))}")
                    if box.count():
                        box.screenshot(path=str(ARTIFACTS / f"{key}_explorer.png"))
            errors = page.locator(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            assert errors.count() == 0, errors.first.inner_text()
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "failure.png"))  # what the page showed
            raise
    assert not failures, "\n".join(f"explorer {k}: {v}" for k, v in failures.items())
