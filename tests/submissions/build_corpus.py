"""Build a corpus of synthetic submissions (honest and hostile) from the fixture course.

``build(release_dir, dest, secrets_paths)`` writes ``dest/folder/STUDENT/*.ipynb`` and
``dest/lms.zip`` and returns ``EXPECTED``: (student, assignment) -> (status, score or None, a
flag substring or None). Submissions start from the nbgrader release, as a student's would.

Fixture points: 01_fixture_add = add tests 1 + 2 (hidden), scale test 1 → 4;
02_fixture_square = 1 + 2 (hidden) → 3.
"""
from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path

import nbformat

ADD, SQUARE = "01_fixture_add", "02_fixture_square"

CORRECT = {
    "add": "def add(a, b):\n    return a + b",
    "scale": "def scale(x, k):\n    return np.asarray(x, dtype=np.float64) * k",
    "explain_add": "Order does not matter when counting.",
    "square": "def square(x):\n    return np.asarray(x, dtype=np.float64) ** 2",
    "explain_square": "The sign is lost.",
}
WRONG_ADD = "def add(a, b):\n    return 0.0"
WRONG_SCALE = "def scale(x, k):\n    return np.asarray(x, dtype=np.float64) + k"

READ_HIDDEN = '''
import glob, os
found = []
for root in {roots!r}:
    for path in glob.glob(os.path.join(root, "**", "*.ipynb"), recursive=True):
        try:
            if "add(-1.5, " + "0.25)" in open(path, errors="ignore").read():
                found.append(path)
        except OSError:
            pass
print("hidden tests found in:", found)

def add(a, b):
    return a + b if found else 0.0
'''

UPDATE_GRADEBOOK = '''
import glob, os, sqlite3
for root in {roots!r}:
    for db in glob.glob(os.path.join(root, "**", "*.db"), recursive=True):
        try:
            con = sqlite3.connect(db)
            con.execute("UPDATE grade SET auto_score = 999, manual_score = 999")
            con.commit()
            print("updated", db)
        except Exception as exc:
            print("could not update", db, exc)

def add(a, b):
    return a + b
'''

IGNORE_SIGINT = '''
import signal
signal.signal(signal.SIGINT, signal.SIG_IGN)
while True:
    pass
'''

MEMORY_BOMB = '''
hoard = [bytes(1 << 30) for _ in range(64)]  # 1 GiB each, until the address-space limit

def scale(x, k):
    return np.asarray(x, dtype=np.float64) * k
'''

FORK_BOMB = '''
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
'''

PATCH_ALLCLOSE = '''
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None

def add(a, b):
    return 0.0
'''

# The warm path (one zygote per slot, a fresh fork per submission): each attacker is graded
# right before its victim in the same slot (``--jobs 1``, students in name order). A victim
# holds the correct answers but returns a wrong ``add`` if anything of the attacker survived.
LEAVE_DAEMON = '''
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:  # a daemon: double fork, own session, keeps writing into /tmp
        while True:
            for where in ("/tmp/leak-daemon", "/dev/shm/leak-daemon"):
                try:
                    open(where, "w").write("def add(a, b):\\n    return a + b\\n")
                except OSError:
                    pass
            time.sleep(0.02)
    os._exit(0)
time.sleep(0.2)

def add(a, b):
    return a + b
'''

LEAVE_FILES = '''
import os
for where in ("/tmp/answers.py", os.path.expanduser("~/answers.py"), "/tmp/.hidden/answers.py"):
    try:
        os.makedirs(os.path.dirname(where), exist_ok=True)
        open(where, "w").write("def add(a, b):\\n    return a + b\\n")
    except OSError:
        pass
leaked_fd = os.open("/tmp/answers.py", os.O_RDONLY)  # an fd a fork server could pass on
os.makedirs("/tmp/.locked/inner", exist_ok=True)  # a folder locked against the wipe
open("/tmp/.locked/inner/answers.py", "w").write("def add(a, b):\\n    return a + b\\n")
os.chmod("/tmp/.locked/inner", 0)
os.chmod("/tmp/.locked", 0)

def add(a, b):
    return a + b
'''

PATCH_MODULES = '''
import sys, types
import numpy as np
import matplotlib
import course_utils.optim as optim
np.allclose = lambda *a, **k: True
np.ATTACKED = True
optim.adam_step = lambda *a, **k: "attacked"
optim.ATTACKED = True
fake = types.ModuleType("course_utils.optim")
fake.ATTACKED = True
sys.modules["course_utils.optim"] = fake
matplotlib.rcParams["lines.linewidth"] = 99.0

def add(a, b):
    return a + b
'''

FIND_LEFTOVERS = '''
import glob, os, sys, time
import numpy as np
import matplotlib
import course_utils.optim as optim
time.sleep(0.3)  # a surviving daemon would write again by now
found = [p for pattern in ("/tmp/leak*", "/tmp/answers.py", "/tmp/.hidden", "/tmp/.locked", "/dev/shm/*",
                           "/tmp/*/answers.py") for p in glob.glob(pattern)]
for fd in os.listdir("/proc/self/fd"):
    try:
        if "answers" in os.readlink(f"/proc/self/fd/{fd}"):
            found.append("fd " + fd)
    except OSError:
        pass
if getattr(np, "ATTACKED", False) or np.allclose(1.0, 2.0):
    found.append("numpy patched")
if getattr(optim, "ATTACKED", False) or getattr(sys.modules["course_utils.optim"], "ATTACKED",
                                                False) or optim.adam_step.__module__ != "course_utils.optim":
    found.append("course_utils.optim replaced")
if matplotlib.rcParams["lines.linewidth"] == 99.0:
    found.append("matplotlib rc")
print("left over from an earlier submission:", found)

def add(a, b):
    return 0.0 if found else a + b
'''


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def fill(release_nb, answers: dict[str, str]):
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        grade_id = _meta(cell).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def _find(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if _meta(c).get("grade_id") == grade_id)


def build(release_dir: Path, dest: Path, secret_roots: list[str]) -> dict:
    """Write the corpus under ``dest``; ``secret_roots`` are folders an attacker would search."""
    add_nb = nbformat.read(release_dir / f"{ADD}.ipynb", as_version=4)
    square_nb = nbformat.read(release_dir / f"{SQUARE}.ipynb", as_version=4)
    folder = dest / "folder"
    expected: dict[tuple[str, str], tuple] = {}

    def put(student, name, nb_or_bytes, assignment, status, score, flag=None):
        path = folder / student / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(nb_or_bytes, bytes):
            path.write_bytes(nb_or_bytes)
        else:
            nbformat.write(nb_or_bytes, path)
        if assignment:
            expected[(student, assignment)] = (status, score, flag)

    def both(student, add_answers, add_expect, square_answers=None, square_expect=None):
        put(student, f"{ADD}.ipynb", fill(add_nb, add_answers), ADD, *add_expect)
        if square_answers is not None:
            put(student, f"{SQUARE}.ipynb", fill(square_nb, square_answers), SQUARE,
                *square_expect)
        else:
            expected[(student, SQUARE)] = ("missing", None, None)

    both("alice", CORRECT, ("graded", 4), CORRECT, ("graded", 3))
    both("bob", {}, ("graded", 0), {}, ("graded", 0))
    both("carol", {**CORRECT, "scale": WRONG_SCALE}, ("graded", 3))
    both("dave", {**CORRECT, "add": READ_HIDDEN.format(roots=secret_roots)},
         ("graded", 1, "outside the work folder"), CORRECT, ("graded", 3))
    both("erin", {**CORRECT, "add": UPDATE_GRADEBOOK.format(roots=secret_roots)},
         ("graded", 4, "sqlite3"), CORRECT, ("graded", 3))

    frank = fill(add_nb, CORRECT)
    del frank.cells[_find(frank, "test_add_hidden")]
    put("frank", f"{ADD}.ipynb", frank, ADD, "graded", 4, "test_add_hidden deleted")

    grace = fill(add_nb, {**CORRECT, "add": WRONG_ADD})
    grace.cells[_find(grace, "test_add_visible")].source = "pass"
    grace.cells[_find(grace, "test_add_hidden")].source = "print('all good')"
    put("grace", f"{ADD}.ipynb", grace, ADD, "graded", 1, "test_add_visible edited")

    heidi = fill(add_nb, CORRECT)
    second_add = copy.deepcopy(fill(add_nb, {"add": WRONG_ADD}).cells[_find(add_nb, "add")])
    second_test = copy.deepcopy(heidi.cells[_find(heidi, "test_scale")])
    second_add.id, second_test.id = "copied-add", "copied-test"
    heidi.cells.insert(_find(heidi, "add") + 1, second_add)
    heidi.cells.append(second_test)
    put("heidi", f"{ADD}.ipynb", heidi, ADD, "graded", 4, "appears 2 times")

    ivan = fill(add_nb, CORRECT)
    ivan.cells[_find(ivan, "test_add_hidden")].metadata["nbgrader"].update(grade=False, solution=True)
    put("ivan", f"{ADD}.ipynb", ivan, ADD, "graded", 4, "relabelled")

    put("judy", f"{ADD} (1).ipynb", fill(add_nb, CORRECT), ADD, "graded", 4, "renamed")
    put("judy", "homework.ipynb", fill(square_nb, CORRECT), SQUARE, "graded", 3, "renamed")

    both("mallory", {**CORRECT, "add": PATCH_ALLCLOSE, "scale": WRONG_SCALE},
         ("graded", 0, "reassigns np.allclose"))
    both("niaj", {**CORRECT, "add": IGNORE_SIGINT}, ("timeout", None), CORRECT, ("graded", 3))
    both("olivia", {**CORRECT, "scale": MEMORY_BOMB}, ("graded", 3))
    both("peggy", CORRECT, ("graded", 4), {**CORRECT, "square": FORK_BOMB},
         ("timeout", None, "starts processes"))
    both("sybil", {**CORRECT, "add": "import sys\nsys.exit(0)"}, ("error", None, "exits"))
    both("trent", {**CORRECT, "scale": "import os\nos._exit(3)"}, ("error", None, "exits"))
    both("uma", {**CORRECT, "add": CORRECT["add"] + "\nprint('x' * 20_000_000)"},
         ("graded", 4, "output truncated"))

    text = nbformat.writes(fill(add_nb, CORRECT))
    put("victor", f"{ADD}.ipynb", text[: len(text) // 2].encode(), ADD, "error", None)
    put("wendy", f"{ADD}.ipynb", b"\xff\xfe\x00garbage \x81\x82", ADD, "error", None)

    both("xavier", CORRECT, ("graded", 4))
    put("xavier", "scratch.ipynb", nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]),
        "scratch", "invalid", None)

    recreated = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CORRECT["add"])])
    both("yolanda", {}, ("graded", 0), CORRECT, ("graded", 3))
    put("yolanda", f"{ADD}.ipynb", recreated, ADD, "invalid", None)

    (folder / "alice" / "notes.txt").write_text("not a notebook")
    for student in {s for s, _ in expected}:  # whatever a student did not hand in is missing
        for assignment in (ADD, SQUARE):
            expected.setdefault((student, assignment), ("missing", None, None))

    # An LMS download as a zip: Canvas-style names at the top, plus a zip-slip member.
    with zipfile.ZipFile(dest / "lms.zip", "w") as archive:
        archive.writestr(f"lastname_12345_67890_{ADD}.ipynb", nbformat.writes(fill(add_nb, CORRECT)))
        archive.writestr(f"other_late_222_333_{SQUARE}-1.ipynb",
                         nbformat.writes(fill(square_nb, {"square": CORRECT["square"]})))
        archive.writestr(f"../x/{ADD}.ipynb", nbformat.writes(fill(add_nb, CORRECT)))
        archive.writestr("__MACOSX/._junk.ipynb", b"\x00\x01")
    expected_zip = {("12345", ADD): ("graded", 4, None), ("222", SQUARE): ("graded", 3, None),
                    ("..%2Fx", ADD): ("invalid", None, None)}
    return {"folder": expected, "zip": expected_zip}


def build_same_slot(release_dir: Path, dest: Path) -> dict:
    """``dest/sameslot/STUDENT/01_fixture_add.ipynb``: attacker, victim, attacker, victim… for
    a ``--jobs 1`` run (one slot, students in name order); every one of them earns full marks."""
    add_nb = nbformat.read(release_dir / f"{ADD}.ipynb", as_version=4)
    expected: dict[tuple[str, str], tuple] = {}
    for n, attack in enumerate((LEAVE_DAEMON, LEAVE_FILES, PATCH_MODULES)):
        for student, answer in ((f"s{n}a_attacker", attack), (f"s{n}b_victim", FIND_LEFTOVERS)):
            path = dest / "sameslot" / student / f"{ADD}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(fill(add_nb, {**CORRECT, "add": answer}), path)
            expected[(student, ADD)] = ("graded", 4, None)
    return expected


def inputs_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root``, to prove grading left its inputs untouched."""
    import hashlib

    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


if __name__ == "__main__":  # python tests/submissions/build_corpus.py RELEASE_DIR DEST
    import sys

    print(json.dumps({str(k): v for k, v in build(Path(sys.argv[1]), Path(sys.argv[2]),
                                                  sys.argv[3:])["folder"].items()}, indent=1))
