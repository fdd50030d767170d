"""Warm sandbox slots (``warm.py``, ``zygote.py``): one zygote per slot serves submission after
submission, and nothing of one reaches the next. The CLI-level corpus run is in
test_autograder_corpus.py; here the slot is driven directly, so each test also checks that the
victim really ran in the attacker's zygote (not in a sandbox replaced in between)."""
from __future__ import annotations

import os
import stat
import sys

import nbformat
import pytest

from autograder.sandbox import Limits, Sandbox, have_bwrap
from conftest import load_corpus_builder

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not have_bwrap(), reason="bubblewrap cannot sandbox here")]


builder = load_corpus_builder()


def _notebook(*sources: str) -> dict:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def _text(reply: dict) -> str:
    return "".join(o.get("text", "") for c in reply["notebook"]["cells"]
                   for o in c.get("outputs", []))


@pytest.fixture
def sandbox(monkeypatch):
    monkeypatch.delenv("AUTOGRADER_WARM", raising=False)  # the default path
    box = Sandbox(Limits(timeout=20), hide=[])
    yield box
    box.close()


@pytest.mark.parametrize("attack", ["LEAVE_DAEMON", "LEAVE_FILES", "PATCH_MODULES"])
def test_the_next_submission_in_the_same_zygote_finds_nothing(sandbox, attack):
    first = sandbox.run(_notebook(getattr(builder, attack), "print('attacked', add(1, 2))"), 0)
    assert first.reply and "attacked 3" in _text(first.reply), first.problem
    zygote_pid = sandbox._warm.zygotes[0].pid  # still up: it cleaned up after the attacker
    second = sandbox.run(_notebook(builder.FIND_LEFTOVERS, "print('sum', add(1, 2))"), 0)
    assert second.reply, second.problem
    assert "left over from an earlier submission: []" in _text(second.reply), _text(second.reply)
    assert "sum 3" in _text(second.reply)
    assert sandbox._warm.zygotes[0].pid == zygote_pid


def test_a_fork_bomb_does_not_starve_the_slots_next_submission(monkeypatch):
    # the EAGAIN bug: the bomb's processes outlived the sweep (same slot uid, same NPROC count)
    monkeypatch.delenv("AUTOGRADER_WARM", raising=False)
    box = Sandbox(Limits(timeout=4), hide=[])
    try:
        bomb = box.run(_notebook(builder.FORK_BOMB), 0)
        assert bomb.reply is None or bomb.reply["failure"], bomb
        for _ in range(2):  # a fresh or cleaned zygote, then the same one again
            after = box.run(_notebook("import threading, os",
                                      "ts = [threading.Thread(target=len, args=('x',)) "
                                      "for _ in range(20)]\n[t.start() for t in ts]\n"
                                      "print('processes', sum(p.isdigit() for p in os.listdir('/proc')))"), 0)
            assert after.reply and not after.reply["failure"], after
            # bwrap's init, the zygote, the submission's process, its kernel: no bomb left
            assert "processes 4\n" in _text(after.reply), _text(after.reply)
    finally:
        box.close()


def test_a_slot_whose_zygote_cannot_start_grades_cold(monkeypatch, tmp_path, capsys):
    broken = tmp_path / "zygote.py"
    broken.write_text("raise SystemExit(1)\n")
    monkeypatch.setattr("autograder.warm.ZYGOTE", broken)
    monkeypatch.delenv("AUTOGRADER_WARM", raising=False)
    box = Sandbox(Limits(timeout=30), hide=[])
    try:
        outcome = box.run(_notebook("print(6 * 7)"), 0)
    finally:
        box.close()
    assert outcome.reply and "42" in _text(outcome.reply), outcome
    assert "note: the warm worker did not start" in capsys.readouterr().err


def test_cancel_kills_a_zygote_in_the_middle_of_a_submission(sandbox):
    import threading
    import time

    assert sandbox.run(_notebook("1"), 0).reply  # the slot's zygote is up
    outcome = []
    runner = threading.Thread(target=lambda: outcome.append(
        sandbox.run(_notebook("import time; time.sleep(60)"), 0)))
    runner.start()
    time.sleep(2)
    cancelled = time.monotonic()
    sandbox.cancel()
    runner.join(30)
    assert time.monotonic() - cancelled < 10  # not the 20 s cell timeout, nor the 60 s sleep
    assert outcome and outcome[0].reply is None
    assert not sandbox._warm.zygotes and not sandbox._warm.busy


def test_autograder_warm_0_selects_the_cold_path(monkeypatch):
    monkeypatch.setenv("AUTOGRADER_WARM", "0")
    assert Sandbox(Limits(), hide=[])._warm is None
    monkeypatch.delenv("AUTOGRADER_WARM")
    assert Sandbox(Limits(), hide=[])._warm is not None


@pytest.fixture
def zygote(monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))  # it puts its own folder first
    monkeypatch.delitem(sys.modules, "worker", raising=False)
    from autograder import zygote as module
    return module


def test_wipe_keeps_bind_mounts_and_the_folders_leading_to_them(zygote, tmp_path, monkeypatch):
    """A checkout under /tmp: its venv is bound back into the sandbox's /tmp. The wipe must keep
    the folders leading to it, with their modes (0700 there locked the slot uid out)."""
    top, checkout = tmp_path / "tmp", tmp_path / "tmp" / "clone"
    venv = checkout / ".venv"
    venv.mkdir(parents=True)
    (venv / "python").write_text("kept")
    (checkout / "answers.py").write_text("left by a submission")
    (top / "locked" / "inner").mkdir(parents=True)
    (top / "locked" / "inner" / "answers.py").write_text("left by a submission")
    os.chmod(top / "locked" / "inner", 0)
    os.chmod(checkout, 0o700)  # as the old wipe did, or a submission
    monkeypatch.setitem(zygote.SKELETON, "mounts", {str(venv)})
    monkeypatch.setitem(zygote.SKELETON, "modes", {str(top): 0o1777, str(checkout): 0o755})
    zygote.wipe(str(top))
    assert sorted(p.name for p in top.iterdir()) == ["clone"]
    assert sorted(p.name for p in checkout.iterdir()) == [".venv"]
    assert (venv / "python").read_text() == "kept"
    assert stat.S_IMODE(checkout.stat().st_mode) == 0o755


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
