"""``python -m editions check`` catches what the issue names: a changed English sentence, a
missing translation, an edited code cell and a changed formula; a good translation passes."""
from __future__ import annotations

import nbformat
import pytest

from editions.check import check, read_complete
from edition_fixtures import DOMAIN, LANG, course_copy, declare_complete, edit_catalog


@pytest.fixture
def course(tmp_path):
    return course_copy(tmp_path)


def problems(source, i18n, complete=None) -> list[str]:
    return [str(p) for p in check(source, i18n, complete, locale=i18n / "no-locale").problems]


def cell_with(nb, kind: str, text: str):
    return next(c for c in nb.cells if c.cell_type == kind and text in c.source)


def test_a_full_translation_passes_even_when_declared_complete(course):
    source, i18n = course
    assert problems(source, i18n, declare_complete(i18n, f"{LANG} {DOMAIN}", "es *")) == []


def test_a_changed_english_sentence_makes_the_translation_stale(course):
    source, i18n = course
    path = source / f"{DOMAIN}.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = cell_with(nb, "markdown", "## 1. A loss of one weight")
    cell.source = cell.source.replace("large is bad", "large is worse")
    nbformat.write(nb, path)
    before = problems(source, i18n)
    assert any("template out of date" in p for p in before)
    assert any(f"{LANG} {DOMAIN} {cell.id}: stale" in p for p in before)

    from editions.catalogs import extract_notebooks
    extract_notebooks(source, i18n)     # gettext now marks the old translation fuzzy
    after = problems(source, i18n)
    assert [p for p in after if "template" in p] == []
    assert f"{LANG} {DOMAIN} {cell.id}: stale: the English changed since it was translated " \
           "(fuzzy); translate it again (worksheet, apply)" in after
    assert len([p for p in after if cell.id in p]) == 2    # pt_BR and es, nothing else


def test_a_missing_translation_fails_only_where_declared_complete(course):
    source, i18n = course
    nb = nbformat.read(source / f"{DOMAIN}.ipynb", as_version=4)
    target = cell_with(nb, "markdown", "## 3. The gradient-descent step").id
    edit_catalog(i18n, LANG, lambda m: "", only=target)
    report = check(source, i18n, declare_complete(i18n), locale=i18n / "none")
    assert report.problems == [] and report.todo[(LANG, DOMAIN)] == 1
    complete = declare_complete(i18n, f"{LANG} {DOMAIN}")
    assert problems(source, i18n, complete) == [
        f"{LANG} {DOMAIN} {target}: untranslated (the catalog is declared complete)"]


@pytest.mark.parametrize("edit, why", [
    (lambda s: s.replace("return w - lr * dL_dw", "return w - 2 * lr * dL_dw"), "code differs"),
    (lambda s: s.replace("### END SOLUTION", "# END SOLUTION"), "nbgrader markers"),
    (lambda s: s.replace("def gd_step_1d(w, dL_dw, lr):", "def passo(w, dL_dw, lr):"),
     "code differs"),
])
def test_an_edited_code_cell_in_a_translation_fails(course, edit, why):
    source, i18n = course
    nb = nbformat.read(source / f"{DOMAIN}.ipynb", as_version=4)
    cell = cell_with(nb, "code", "def gd_step_1d(")
    assert edit(cell.source) != cell.source, "the edit must apply to today's notebook"
    edit_catalog(i18n, LANG, lambda m: edit(m.string), only=cell.id)
    found = problems(source, i18n)
    assert len(found) == 1 and found[0].startswith(f"{LANG} {DOMAIN} {cell.id}: ") and why in found[0]


def test_a_translated_option_value_is_an_edited_code_cell(course):
    source, i18n = course
    nb = nbformat.read(source / f"{DOMAIN}.ipynb", as_version=4)
    cell = cell_with(nb, "code", 'label=r"$L(w)$"')
    edit_catalog(i18n, "es", lambda m: m.string.replace('color=plotting.OKABE_ITO["black"]',
                                                       'color=plotting.OKABE_ITO["negro"]'),
                 only=cell.id)
    found = problems(source, i18n)
    assert len(found) == 1 and "es 01_gradient_descent_1d" in found[0] \
        and "string differs: '\"black\"' became '\"negro\"'" in found[0]


def test_translated_hints_and_docstrings_are_the_same_code(course):
    """A test cell's named mistakes are display text: translating them is allowed."""
    source, i18n = course
    nb = nbformat.read(source / f"{DOMAIN}.ipynb", as_version=4)
    cell = cell_with(nb, "code", "the step went uphill")
    edit_catalog(i18n, LANG, lambda m: m.string.replace(
        "the step went uphill: subtract lr * dL_dw, do not add it",
        "o passo subiu: subtraia lr * dL_dw, não some"), only=cell.id)
    answer = cell_with(nb, "code", "def gd_step_1d(")
    edit_catalog(i18n, LANG, lambda m: m.string.replace("One gradient-descent step",
                                                        "Um passo de descida do gradiente"),
                 only=answer.id)
    assert problems(source, i18n) == []


@pytest.mark.parametrize("before, after, ok", [
    (r"$$\boxed{\,w \leftarrow w - \eta\, L'(w)\,}$$", r"$$\boxed{\,w \leftarrow w + \eta\, L'(w)\,}$$", False),
    (r"\lambda > 0 \text{ (the curvature)}", r"\lambda > 0 \text{ (a curvatura)}", True),
    (r"\lambda > 0 \text{ (the curvature)}", r"\lambda \ge 0 \text{ (a curvatura)}", False),
])
def test_a_changed_formula_fails_and_translated_text_in_it_does_not(course, before, after, ok):
    source, i18n = course
    nb = nbformat.read(source / f"{DOMAIN}.ipynb", as_version=4)
    cell = cell_with(nb, "markdown", before)
    edit_catalog(i18n, LANG, lambda m: m.string.replace(before, after), only=cell.id)
    found = problems(source, i18n)
    assert (found == []) is ok
    if not ok:
        assert len(found) == 1 and "formula changed or missing" in found[0] and cell.id in found[0]


def test_complete_list_reads_comments_and_wildcards(tmp_path):
    path = tmp_path / "complete.txt"
    path.write_text("# header\npt_BR 01_gradient_descent_1d  # done 2026-12-02\nes *\n\n")
    assert read_complete(path) == {("pt_BR", "01_gradient_descent_1d"), ("es", "*")}


def test_a_catalog_declared_complete_must_exist(course):
    source, i18n = course
    found = problems(source, i18n, declare_complete(i18n, "es 99_no_such_notebook"))
    assert found == ["es 99_no_such_notebook: declared complete in complete.txt, but there is "
                     "no such catalog"]


def test_the_command_prints_one_line_per_problem_and_fails(course, capsys):
    from editions.__main__ import main

    source, i18n = course
    assert main(["check", "--source", str(source), "--i18n", str(i18n)]) == 0
    nb = nbformat.read(source / f"{DOMAIN}.ipynb", as_version=4)
    cell = cell_with(nb, "code", "def gd_step_1d(")
    edit_catalog(i18n, "es", lambda m: m.string.replace("lr * dL_dw", "lr*dL_dw*1"), only=cell.id)
    capsys.readouterr()
    assert main(["check", "--source", str(source), "--i18n", str(i18n)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"es {DOMAIN} {cell.id}: code differs") and \
        lines[-1] == "i18n check: 1 problem(s)"


def test_the_course_utils_catalog_is_checked_too(course):
    """Its messages: fuzzy is stale, placeholders must survive, untranslated counts as to do
    unless ``course_utils`` is declared complete."""
    from babel.messages.catalog import Catalog
    from editions.catalogs import save

    source, i18n = course
    locale = i18n / "locale"
    catalog = Catalog(locale=LANG)
    catalog.add("{name} has shape {got}", "{name} tem formato {obtido}")
    catalog.add("not attempted", "não tentado", flags=["fuzzy"])
    catalog.add("passed", "")
    save(catalog, locale / LANG / "LC_MESSAGES" / "course_utils.po")

    def found(*complete):
        report = check(source, i18n, declare_complete(i18n, *complete), locale=locale)
        return sorted(str(p) for p in report.problems), report.todo[(LANG, "course_utils")]
    assert found() == ([f"{LANG} course_utils not attempted: stale: fuzzy",
                        f"{LANG} course_utils {{name}} has shape {{got}}: placeholders ({{…}}, "
                        "%s) differ"], 1)
    assert len(found(f"{LANG} course_utils")[0]) == 3


@pytest.mark.parametrize("target", ["test", "test-fast"])
def test_make_test_runs_the_i18n_check_first(target):
    import subprocess

    from conftest import REPO

    proc = subprocess.run(["make", "-n", target], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    lines = proc.stdout.splitlines()
    check = next(i for i, line in enumerate(lines) if line.endswith("-m editions check"))
    assert check < next(i for i, line in enumerate(lines) if "-m pytest" in line)
