"""The language course_utils speaks to the student: English, Português (Brasil) or Español.

A notebook edition starts with ``set_language("pt_BR")``; the grader sets ``DESCENT_LANG`` for a
submission's kernel. Modules wrap what a student reads in ``_()`` and fill it afterwards, with
named placeholders a translator may reorder::

    from course_utils.i18n import _
    raise CheckFailure(_("{name} has shape {got}, expected {expected}").format(...))

``_`` looks the message up when it is called, never at import: ``set_language`` after the import
works, and an explorer built afterwards shows the new language's labels. English needs no
catalog (the message is its own msgid); another language's catalog, a gettext PO file under
``locale/``, is read with Babel the first time it is needed and kept in memory. Nothing is
written at run time: the grader's checkout is read-only. A fuzzy (stale) translation is not
used: the student sees the current English until a translator confirms it.

Catalogs follow the notebooks' conventions (``editions``): ``locale/templates/course_utils.pot``
extracted from the source, ``locale/<lang>/LC_MESSAGES/course_utils.po`` per language. After
changing English text, re-extract and merge (a changed message becomes fuzzy, with the English
it was translated from kept as ``#| msgid``)::

    python -m course_utils.i18n extract
    python -m course_utils.i18n status
    python -m course_utils.i18n check     # exit 1, one line per problem: for CI / make i18n-check

A page written for someone else (the grader's feedback page) uses ``using(lang)``: the language
is then per thread (a context variable), so pages in different languages can be written at once.
"""
from __future__ import annotations

import contextlib
import contextvars
import os
from pathlib import Path

__all__ = ["LANGUAGES", "known_language", "set_language", "language", "using", "_", "ngettext", "pgettext", "N_",
           "NP_"]

LANGUAGES = ("en", "pt_BR", "es")
DOMAIN = "course_utils"
LOCALE = Path(__file__).resolve().parent / "locale"
ENV = "DESCENT_LANG"

_chosen: str | None = None            # set_language's choice; None: DESCENT_LANG or English
_override: contextvars.ContextVar[str | None] = contextvars.ContextVar("descent_lang", default=None)
_catalogs: dict[str, tuple[dict, object]] = {}   # lang -> (messages, plural index function)


def known_language(lang: object) -> str | None:
    """"pt_BR" from "pt_BR", "pt-br" or "PT_br"; None if it is not one of ``LANGUAGES``."""
    key = str(lang).strip().replace("-", "_").lower()
    return next((choice for choice in LANGUAGES if choice.lower() == key), None)


def _checked(lang: str) -> str:
    found = known_language(lang)
    if found is None:
        raise ValueError(f"unknown language {lang!r}: choose one of {', '.join(LANGUAGES)}")
    return found


def set_language(lang: str) -> None:
    """Speak ``lang`` ("en", "pt_BR" or "es") from now on; anything else is a ValueError."""
    global _chosen
    _chosen = _checked(lang)


def language() -> str:
    """The language in use: ``using``'s, else ``set_language``'s, else ``DESCENT_LANG``'s,
    else "en"."""
    return _override.get() or _chosen or known_language(os.environ.get(ENV, "")) or "en"


@contextlib.contextmanager
def using(lang: str):
    """Speak ``lang`` inside the block, in this thread only (a feedback page for one student)."""
    token = _override.set(_checked(lang))
    try:
        yield
    finally:
        _override.reset(token)


def catalog_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _load(lang: str) -> tuple[dict, object]:
    """The translated (and not fuzzy) messages of ``lang``'s PO file, and its plural rule."""
    import gettext

    from babel.messages.pofile import read_po   # Babel only when a translation is needed

    with open(catalog_path(lang), "rb") as handle:
        catalog = read_po(handle, locale=lang)
    messages = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        key = message.id if isinstance(message.id, str) else tuple(message.id)
        if message.context:   # gettext's own key for a message in a context
            key = f"{message.context}\x04{key}"
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if all(strings):
            messages[key] = message.string
    return messages, gettext.c2py(catalog.plural_expr)


def _translations(lang: str) -> tuple[dict, object]:
    if lang not in _catalogs:
        _catalogs[lang] = _load(lang)
    return _catalogs[lang]


def _(message: str) -> str:
    """``message`` in the current language (English if it has no current translation)."""
    lang = language()
    if lang == "en":
        return message
    return _translations(lang)[0].get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message for the number ``n``, in the current language."""
    lang = language()
    if lang != "en":
        messages, plural_index = _translations(lang)
        forms = messages.get((singular, plural))
        if forms:
            return forms[min(plural_index(n), len(forms) - 1)]
    return singular if n == 1 else plural


def pgettext(context: str, message: str) -> str:
    """``message`` in the current language, as meant in ``context`` (a word with two senses:
    "step" the schedule, "step" of an optimizer)."""
    lang = language()
    if lang == "en":
        return message
    return _translations(lang)[0].get(f"{context}\x04{message}", message)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it (translate with ``_`` later)."""
    return message


def NP_(context: str, message: str) -> str:
    """Mark ``message`` in ``context`` for the catalog (translate with ``pgettext`` later)."""
    return message


# Catalog upkeep (developers only; Babel imported here, never by the student's code) ----------

# What a student reads comes from course_utils and from the grader's feedback page.
ROOT = LOCALE.parents[1]
SOURCES = (LOCALE.parent, ROOT / "autograder" / "feedback.py")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2),
            "NP_": ((1, "c"), 2)}
TEMPLATE = LOCALE / "templates" / f"{DOMAIN}.pot"


def _source_files() -> list[Path]:
    files = []
    for source in SOURCES:
        files += sorted(source.rglob("*.py")) if source.is_dir() else [source]
    return [f for f in files if "locale" not in f.parts]


def template():
    """A fresh template: every ``_()``, ``N_()`` and ``ngettext()`` message of the sources."""
    from datetime import datetime, timezone

    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_file

    epoch = datetime(2026, 1, 1, tzinfo=timezone.utc)   # unchanged sources: identical files
    catalog = Catalog(project="Descent", domain=DOMAIN, fuzzy=False, creation_date=epoch,
                      revision_date=epoch)
    for path in _source_files():
        for lineno, message, comments, context in extract_from_file(
                "python", str(path), keywords=KEYWORDS, comment_tags=("Translators:",)):
            catalog.add(message, locations=[(str(path.relative_to(ROOT)), lineno)],
                        auto_comments=comments, context=context)
    return catalog


def _save(catalog, path: Path) -> None:
    """Write a catalog as the notebooks' catalogs are written (``editions.catalogs``): no
    ``#| msgid`` previous English, which Babel 2.18 reads back as user comments that pile up
    on every save; a stale entry is marked fuzzy, its old translation kept."""
    from babel.messages.pofile import write_po

    for message in [*catalog, *catalog.obsolete.values()]:
        message.user_comments = [c for c in message.user_comments if not c.startswith("|")]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as handle:
        write_po(handle, catalog, width=0, include_previous=False, include_lineno=False,
                 sort_by_file=True)
    tmp.replace(path)


def merge(fresh, path: Path, lang: str) -> None:
    """Merge the template ``fresh`` into ``lang``'s catalog at ``path`` (created if missing): a
    changed English message becomes fuzzy, its old translation and English kept; a removed one
    obsolete."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    if path.exists():
        with open(path, "rb") as handle:
            catalog = read_po(handle, locale=lang)
    else:
        catalog = Catalog(locale=lang, project="Descent", domain=DOMAIN, fuzzy=False,
                          creation_date=fresh.creation_date, revision_date=fresh.creation_date)
    catalog.update(fresh, update_creation_date=False)
    _save(catalog, path)


def extract() -> int:
    """Write the template and merge it into each language; the number of messages."""
    fresh = template()
    _save(fresh, TEMPLATE)
    for lang in LANGUAGES[1:]:
        merge(fresh, catalog_path(lang), lang)
    return len([m for m in fresh if m.id])


def status() -> dict[str, tuple[int, int, int]]:
    """lang -> (translated, fuzzy, untranslated) messages of its catalog."""
    from babel.messages.pofile import read_po

    counts = {}
    for lang in LANGUAGES[1:]:
        with open(catalog_path(lang), "rb") as handle:
            messages = [m for m in read_po(handle) if m.id]
        fuzzy = sum(m.fuzzy for m in messages)
        empty = sum(not all(m.string if isinstance(m.string, tuple) else (m.string,))
                    for m in messages if not m.fuzzy)
        counts[lang] = (len(messages) - fuzzy - empty, fuzzy, empty)
    return counts


def _fields(text: str) -> list[str]:
    import string

    return sorted(field for _text, field, _spec, _conv in string.Formatter().parse(text)
                  if field is not None)


def check() -> list[str]:
    """One line per problem: a template out of step with the source (``extract`` not run), a
    message untranslated or stale in a language, a translation whose placeholders differ."""
    from babel.messages.pofile import read_po

    def key(m):
        return m.context, m.id if isinstance(m.id, str) else tuple(m.id)

    with open(TEMPLATE, "rb") as handle:
        committed = {key(m) for m in read_po(handle) if m.id}
    problems = [f"template: {k[1]!r} not extracted (run python -m course_utils.i18n extract)"
                for k in {key(m) for m in template() if m.id} ^ committed]
    for lang in LANGUAGES[1:]:
        with open(catalog_path(lang), "rb") as handle:
            messages = {key(m): m for m in read_po(handle, locale=lang) if m.id}
        for k in sorted(committed, key=str):
            m = messages.get(k)
            english = (m.id,) if m is not None and isinstance(m.id, str) else (m.id if m else ())
            strings = (m.string,) if m is not None and isinstance(m.string, str) else \
                (m.string if m else ())
            if m is None or m.fuzzy or not all(strings):
                problems.append(f"{lang}: {'stale' if m is not None and m.fuzzy else 'untranslated'}"
                                f" {k[1]!r}")
            elif any(_fields(s) != _fields(english[min(i, len(english) - 1)])
                     for i, s in enumerate(strings)):
                problems.append(f"{lang}: placeholders differ from the English in {k[1]!r}")
    return problems


def main(argv=None) -> int:
    """python -m course_utils.i18n extract | status | check"""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m course_utils.i18n", description=main.__doc__)
    parser.add_argument("command", choices=("extract", "status", "check"))
    command = parser.parse_args(argv).command
    if command == "check":
        problems = check()
        print("\n".join(problems) or "course_utils catalogs: complete and current")
        return 1 if problems else 0
    if command == "extract":
        print(f"{extract()} messages in {TEMPLATE.relative_to(ROOT)}, merged into "
              f"{', '.join(LANGUAGES[1:])}")
    for lang, (done, fuzzy, empty) in status().items():
        print(f"{lang:6} {done:4} translated, {fuzzy:3} fuzzy (stale), {empty:3} untranslated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
