"""gettext catalogs of the notebooks: the English template and each language's PO file."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import nbformat
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from . import I18N, NOTEBOOKS, TRANSLATED, catalog_path, template_path
from .cells import units

PROJECT = "Descent"
# A fixed date: re-extracting an unchanged notebook must leave its catalogs byte-identical.
EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


def notebook_domains(source: Path = NOTEBOOKS) -> dict[str, Path]:
    """domain (the notebook's stem, e.g. ``04_losses_softmax_ce``) -> English notebook."""
    return {p.stem: p for p in sorted(source.glob("[0-9][0-9]_*.ipynb"))}


def template(notebook: Path) -> Catalog:
    nb = nbformat.read(notebook, as_version=4)
    catalog = Catalog(project=PROJECT, fuzzy=False, creation_date=EPOCH, revision_date=EPOCH)
    for unit in units(nb):
        catalog.add(unit.source, locations=[(notebook.name, 0)], auto_comments=[unit.note],
                    context=unit.cell_id)
    return catalog


def load(path: Path) -> Catalog:
    with open(path, "rb") as handle:
        return read_po(handle)


def save(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as handle:
        # No "#| msgid" previous-English comments: Babel reads them back as user comments and
        # rewraps them on every save. A stale entry is known by its fuzzy flag alone.
        write_po(handle, catalog, width=0, include_previous=False, include_lineno=False)
    tmp.replace(path)


def sync(domain: str, fresh: Catalog, languages=TRANSLATED, i18n: Path = I18N) -> None:
    """Write the template and merge it into every language: new cells appear untranslated,
    changed cells become fuzzy (their old translation kept for reference), removed ones obsolete."""
    save(fresh, template_path(domain, i18n))
    for lang in languages:
        path = catalog_path(lang, domain, i18n)
        if path.exists():
            catalog = load(path)
            catalog.update(fresh, update_creation_date=False)
        else:
            catalog = Catalog(locale=lang, project=PROJECT, fuzzy=False, creation_date=EPOCH,
                              revision_date=EPOCH)
            catalog.update(fresh, update_creation_date=False)
        save(catalog, path)


def extract_notebooks(source: Path = NOTEBOOKS, i18n: Path = I18N) -> list[str]:
    domains = notebook_domains(source)
    for domain, notebook in domains.items():
        sync(domain, template(notebook), i18n=i18n)
    return list(domains)
