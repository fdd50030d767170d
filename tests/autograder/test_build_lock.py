"""Two commands sharing one build folder take turns instead of deleting each other's gradebook."""
import subprocess
import sys
import time
from pathlib import Path

from autograder.course import build_lock

REPO = Path(__file__).resolve().parents[2]
HOLD = ("import sys; from pathlib import Path; from autograder.course import build_lock\n"
        "with build_lock(Path(sys.argv[1])): print('got it', flush=True)\n")


def test_a_second_command_waits_for_the_build_folder_and_says_so(tmp_path):
    build = tmp_path / "build" / "nbgrader"
    with build_lock(build):
        second = subprocess.Popen([sys.executable, "-c", HOLD, str(build)], cwd=REPO,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        assert second.poll() is None, "the second command did not wait for the first"
    out, err = second.communicate(timeout=30)
    assert second.returncode == 0, err
    assert out == "got it\n"
    assert f"another command is using {build.resolve()}" in err


def test_the_lock_is_free_again_after_the_command(tmp_path):
    build = tmp_path / "nbgrader"
    with build_lock(build):
        pass
    done = subprocess.run([sys.executable, "-c", HOLD, str(build)], cwd=REPO,
                          capture_output=True, text=True, timeout=30)
    assert (done.stdout, done.stderr) == ("got it\n", "")
