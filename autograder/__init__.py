"""Descent's instructor autograder, built around nbgrader 0.9.6.

    python -m autograder release  [--out release/]     student notebooks, made by nbgrader
    python -m autograder grade SUBMISSIONS [--out grading-out/] [--jobs N] [--timeout S]
                               [--cluster tcp://HOST:8786|local] [--db postgresql://...]
    python -m autograder validate                      solutions: full marks; blank release: 0

Modules, in the order a grading run uses them:

- ``course``     source notebooks (``notebooks/NN_name.ipynb``), their graded cells, nbgrader's
                 generated course folder (``build/nbgrader/``) and the release
- ``collect``    submissions from a folder or zip (course layout, nbgrader layout, LMS names)
- ``transplant`` the graded notebook = the source notebook + the student's answer cells
- ``flags``      static scan of answer cells for tampering (never changes a score)
- ``reference_copy``  answers that are a renamed copy of the answer key's source (a flag)
- ``plan``       one task per notebook to run, one row per notebook that cannot run
- ``sandbox``    bubblewrap + rlimits + whole-notebook timeout around ``worker``
- ``worker``     runs inside the sandbox: executes one notebook with nbclient
- ``scoring``    status and score from the executed notebook (in the trusted parent), by the
                 project's one pass/fail rule (``cell_failure``)
- ``execute``    runs the tasks side by side and stores each result as it finishes
- ``cluster``    the same on a Dask cluster's workers (``grade --cluster``), scored and stored here
- ``record``     the grading record: ``TestResult``, ``NotebookResult``, ``GradeRow`` (schema)
- ``grade``      the run, from planning to the written outputs
- ``tables``, ``feedback``, ``gradebook``, ``similarity``, ``report``: grades.csv and tests.csv,
                 the feedback pages, gradebook.db, similarity.csv, report.html
- ``database``   ``--db``: nbgrader's gradebook in a shared PostgreSQL database (URL, turns)
- ``files``      the atomic write every output goes through
- ``validate``   solutions get full marks, blank releases 0, releases fit for students
- ``cli``        the three commands: parses arguments, calls ``grade``/``validate``, prints
- ``nbtools``    ``strip`` and ``check`` for maintainers

Statuses and the meaning of every field of a row: ``record``.
"""
import sys

# jsonschema's optional IRI checker (rfc3987_syntax) compiles a grammar for ~3 s whenever
# nbformat is imported; nbformat never validates that format. Blocking it makes jsonschema's
# import of it fail fast, as jsonschema allows. Done here, once, for everything that imports
# autograder (the CLI, bench, the tests); the sandbox's worker.py, a standalone script, does
# the same for itself.
sys.modules.setdefault("rfc3987_syntax", None)
