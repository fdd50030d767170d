"""The three places that pin packages agree, and torch is pinned to the CPU build we can install."""
import re
import tomllib

from conftest import REPO


def _pins(lines):
    pins = {}
    for line in lines:
        line = line.split("#", 1)[0].strip().lstrip("- ").strip()
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([^\s;]+)", line)
        if m:
            pins[m.group(1).lower().replace("_", "-")] = m.group(2)
    return pins


def requirements():
    return _pins((REPO / "requirements.txt").read_text().splitlines())


def environment_yml():
    return _pins((REPO / "environment.yml").read_text().splitlines())


def pyproject():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return _pins(deps)


def test_every_requirement_is_pinned_exactly():
    lines = [l for l in (REPO / "requirements.txt").read_text().splitlines()
             if l.strip() and not l.startswith("#")]
    loose = [l for l in lines if "==" not in l]
    assert not loose, f"requirements.txt must pin exact versions; loose lines: {loose}"


def test_torch_is_pinned_to_the_local_cpu_build_everywhere():
    for name, pins in (("requirements.txt", requirements()), ("environment.yml", environment_yml()),
                       ("pyproject.toml", pyproject())):
        assert pins.get("torch") == "2.13.0", f"{name} must pin torch==2.13.0, has {pins.get('torch')}"


def test_environment_yml_and_pyproject_agree_with_requirements():
    req = requirements()
    for name, pins in (("environment.yml", environment_yml()), ("pyproject.toml", pyproject())):
        assert pins, f"{name} lists no pinned packages"
        diff = {k: (v, req.get(k)) for k, v in pins.items() if req.get(k) != v}
        assert not diff, f"{name} disagrees with requirements.txt (theirs, requirements): {diff}"
    assert environment_yml() == pyproject(), "environment.yml and pyproject.toml list different packages"


def test_installed_versions_match_the_pins():
    from importlib.metadata import version

    for name, pinned in pyproject().items():
        got = version(name).split("+")[0]
        assert got == pinned, f"{name}: installed {got}, pinned {pinned} — run `make lock` or rebuild .venv"


def test_readme_gives_the_two_commands():
    text = (REPO / "README.md").read_text()
    assert "make lab" in text and "make test" in text
