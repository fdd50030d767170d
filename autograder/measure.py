"""Moved to the benchmark: ``python -m bench --only grading [--students N] [--jobs J]``.

``bench/grading.py`` grades one synthetic class three ways — this grader, plain sequential
``nbgrader autograde`` and bare nbclient — and writes the comparison to ``bench/results.md``.
This module only forwards to it (run from the checkout, where the ``bench`` package lives).
"""
from __future__ import annotations

import sys


def main(argv=None) -> int:
    from bench.__main__ import main as bench_main

    return bench_main(["--only", "grading", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
