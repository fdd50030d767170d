"""Descent's instructor autograder, built around nbgrader 0.9.6.

    python -m autograder release  [--out release/]     student notebooks, made by nbgrader
    python -m autograder grade SUBMISSIONS [--out grading-out/] [--jobs N] [--timeout S]
    python -m autograder validate                      solutions: full marks; blank release: 0

Modules, in the order a grading run uses them:

- ``course``     source notebooks (``notebooks/NN_name.ipynb``), their graded cells, nbgrader's
                 generated course folder (``build/nbgrader/``) and the release
- ``collect``    submissions from a folder or zip (course layout, nbgrader layout, LMS names)
- ``transplant`` the graded notebook = the source notebook + the student's answer cells
- ``flags``      static scan of answer cells for tampering (never changes a score)
- ``sandbox``    bubblewrap + rlimits + whole-notebook timeout around ``worker``
- ``worker``     runs inside the sandbox: executes one notebook with nbclient
- ``scoring``    status and score from the executed notebook (in the trusted parent)
- ``grade``      the run: plan rows, execute in parallel, commit each result atomically
- ``report``     grades.csv, tests.csv, gradebook.db, feedback pages, report.html
- ``cli``        the three commands; ``measure`` compares speed with nbgrader and nbclient

Statuses: ``graded``, ``timeout``, ``error`` (unreadable notebook, kernel died, ``sys.exit``,
grader failure), ``missing`` (no notebook for an assignment others in the batch handed in),
``invalid`` (not gradable: unknown notebook, unsafe student id, no nbgrader cells). Only graded
rows have a score; the others say why in ``reason``.
"""
