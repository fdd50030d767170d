"""python -m editions extract | worksheet LANG DOMAIN [--all] | apply LANG DOMAIN FILE | status"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import REPO, TRANSLATED, catalog_path
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
    args = p.parse_args(argv)

    if args.command == "extract":
        print(f"{len(extract_notebooks())} notebook catalogs extracted and merged")
        return 0
    if args.command == "status":
        for lang in TRANSLATED:
            for po in sorted(catalog_path(lang, "x").parent.glob("*.po")):
                catalog = load(po)
                todo = len(open_entries(catalog))
                print(f"{lang:6} {po.stem:32} {todo:4} to do of {len([m for m in catalog if m.id])}")
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


if __name__ == "__main__":
    sys.exit(main())
