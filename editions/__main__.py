"""python -m editions extract | worksheet LANG DOMAIN [--all] | apply LANG DOMAIN FILE | status
                    | check | build LANG [--out DIR]"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import I18N, LANGUAGES, NOTEBOOKS, REPO, TRANSLATED, catalog_path
from .catalogs import extract_notebooks, load
from .worksheets import apply_worksheet, open_entries, write_worksheet

WORK = REPO / "build" / "worksheets"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m editions", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("extract", help="English notebooks -> templates, merged into every catalog")
    w = sub.add_parser("worksheet", help="a catalog's open entries as a plain-text worksheet")
    w.add_argument("lang", choices=TRANSLATED)
    w.add_argument("domain")
    w.add_argument("--all", action="store_true", help="every entry, translated ones too")
    a = sub.add_parser("apply", help="copy a worksheet's translations into its catalog")
    a.add_argument("lang", choices=TRANSLATED)
    a.add_argument("domain")
    a.add_argument("sheet", type=Path)
    sub.add_parser("status", help="entries to do per catalog")
    c = sub.add_parser("check", help="fail on stale, changed-code, changed-formula or (in "
                       "catalogs declared complete in i18n/complete.txt) untranslated entries")
    c.add_argument("--source", type=Path, default=NOTEBOOKS, help="English notebooks")
    c.add_argument("--i18n", type=Path, default=I18N, help="catalogs (and complete.txt)")
    b = sub.add_parser("build", help="write a language's edition of the notebooks")
    b.add_argument("lang", choices=LANGUAGES)
    b.add_argument("--out", type=Path, help="folder to write (default: build/editions/LANG)")
    b.add_argument("--source", type=Path, default=NOTEBOOKS, help="English notebooks")
    args = p.parse_args(argv)

    if args.command == "check":
        return run_check(args.source, args.i18n)
    if args.command == "build":
        return run_build(args.lang, args.out or REPO / "build" / "editions" / args.lang,
                         args.source)

    if args.command == "extract":
        print(f"{len(extract_notebooks())} notebook catalogs extracted and merged")
        return 0
    if args.command == "status":
        for lang in TRANSLATED:
            for po in sorted(catalog_path(lang, "x").parent.glob("*.po")):
                catalog = load(po)
                todo, total = len(open_entries(catalog)), len([m for m in catalog if m.id])
                done = 100 * (total - todo) // total if total else 100
                print(f"{lang:6} {po.stem:32} {todo:4} to do of {total:<4} ({done} % translated)")
        return 0
    po = catalog_path(args.lang, args.domain)
    if not po.exists():
        print(f"error: {po} does not exist: run `python -m editions extract` first", file=sys.stderr)
        return 2
    if args.command == "worksheet":
        out = WORK / args.lang / f"{args.domain}.txt"
        print(f"{write_worksheet(po, out, args.all)} entries -> {out}")
        return 0
    applied, problems = apply_worksheet(po, args.sheet)
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)
    print(f"{applied} translations applied to {po}")
    return 0 if not problems else 1


def run_check(source: Path, i18n: Path) -> int:
    from .check import check

    if not source.is_dir() or not i18n.is_dir():
        print(f"error: {source if not source.is_dir() else i18n} is not a folder", file=sys.stderr)
        return 2
    report = check(source, i18n)
    for problem in report.problems:
        print(problem)
    todo = {key: n for key, n in report.todo.items() if n}
    if todo:
        print(f"to do (not declared complete, allowed): {sum(todo.values())} entries in "
              f"{len(todo)} catalogs; python -m editions status lists them")
    print(f"i18n check: {len(report.problems)} problem(s)")
    return 1 if report.problems else 0


def run_build(lang: str, out: Path, source: Path) -> int:
    from .build import build_edition

    if not source.is_dir():
        print(f"error: {source} is not a folder", file=sys.stderr)
        return 2
    for built in build_edition(lang, out, source):
        print(f"{built.path}  {built.translated} translated, {len(built.fallbacks)} in English")
        for cell_id, why in built.fallbacks:
            print(f"    {cell_id}: {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
