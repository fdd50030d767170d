"""A Portuguese and a Spanish feedback page in a real browser: the named mistake in the
student's language, formulas laid out as maths by Chromium's MathML, and nothing fetched.

Screenshots go to ``test-artifacts/feedback/`` (look at them: a fraction stacked, subscripts
lowered, the price left as a price). Chromium is Debian's (/usr/bin/chromium), driven by
Playwright as in ``test_browser``; without it the test fails and says so.
"""
from __future__ import annotations

import sys

import pytest

from conftest import REPO
from test_feedback_i18n import ADD, MISTAKE, graded_row   # the same pages as the unit tests

sys.path.insert(0, str(REPO))  # bench is run from the checkout, not installed
from bench.lab import chromium  # noqa: E402

ARTIFACTS = REPO / "test-artifacts" / "feedback"

# Geometry of the maths as laid out: a fraction is taller than a line of text, a superscript
# sits higher than its base. (Subscripts are checked by eye: with no OpenType maths font on
# the machine, e.g. only DejaVu, Chromium lowers them by under a pixel.)
LAYOUT = """() => {
    const box = (el) => el.getBoundingClientRect();
    const frac = document.querySelector('math[display="block"] mfrac');
    const sup = document.querySelector('math[display="block"] msubsup');
    const line = box(document.querySelector('p')).height;
    return {
        maths: document.querySelectorAll('math').length,
        fracHeight: box(frac).height, textLine: parseFloat(getComputedStyle(frac).fontSize),
        supRaised: box(sup.children[0]).top - box(sup.children[2]).top,
        mathml: typeof MathMLElement !== 'undefined' && frac instanceof MathMLElement,
        scripts: document.scripts.length, line: line,
    };
}"""


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("lang", ["pt_BR", "es"])
def test_feedback_page_in_chromium(tmp_path, lang):
    from autograder.course import load_course
    from autograder.feedback import write_feedback
    from conftest import FIXTURE_COURSE

    course = load_course(FIXTURE_COURSE)
    path = tmp_path / f"{lang}.html"
    write_feedback(course[ADD], graded_row(course, lang), path, language=lang)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    fetched = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1000, "height": 900},
                                device_scale_factor=2)
        page.on("request", lambda request: fetched.append(request.url))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        layout = page.evaluate(LAYOUT)
        text = page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / f"{lang}_page.png"), full_page=True)
        page.locator("table").first.screenshot(path=str(ARTIFACTS / f"{lang}_summary.png"))

    assert fetched == [path.as_uri()], "the page fetched something besides itself"
    assert layout["scripts"] == 0 and layout["mathml"]
    assert layout["maths"] >= 3
    assert layout["fracHeight"] > 1.6 * layout["textLine"], layout    # numerator over denominator
    assert layout["supRaised"] > 2, layout                            # β_1^t: t above the β
    words = MISTAKE[lang].split(":")[0]                               # the named mistake
    assert words in text and "$1 - \\beta" not in text                # its formula rendered
    assert ("Devolutiva" if lang == "pt_BR" else "Retroalimentación") in text
