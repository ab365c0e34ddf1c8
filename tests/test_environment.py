"""The dependency files agree with each other and with what is installed.

pyproject.toml declares ranges, requirements.txt pins each direct dependency
(with its reason), requirements.lock pins every package with hashes; both
`tasks.py setup` and environment.yml install the lock.
"""

import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import Specifier
from packaging.utils import canonicalize_name

from deconv.environment import MINIMUM_VERSIONS, pinned_versions

REPO = Path(__file__).resolve().parents[1]
LOCK = REPO / "requirements.lock"
PIN_WITH_REASON = re.compile(r"^[A-Za-z0-9_.\-]+==[A-Za-z0-9_.\-]+  # \S.*$")
LOCKED = re.compile(r"^(?P<name>[A-Za-z0-9_.\-]+)==(?P<version>\S+?)(?: ; (?P<marker>.+?))? \\$")


def direct_pins() -> dict[str, str]:
    """requirements.txt as the notebooks read it, by canonical name."""
    return {canonicalize_name(name): version for name, version in pinned_versions().items()}


def declared() -> dict[str, Requirement]:
    """pyproject.toml's dependencies and test extra, by canonical name."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + project["optional-dependencies"]["test"]
    return {canonicalize_name(requirement.name): requirement for requirement in map(Requirement, lines)}


def locked() -> list[tuple[str, str, str | None, int]]:
    """requirements.lock's entries: (canonical name, version, marker or None, number of hashes)."""
    entries = []
    for line in LOCK.read_text().splitlines():
        if match := LOCKED.match(line):
            entries.append([canonicalize_name(match["name"]), match["version"], match["marker"], 0])
        elif line.strip().startswith("--hash=sha256:"):
            entries[-1][3] += 1
        else:
            assert not line.strip() or line.lstrip().startswith("#"), f"unexpected line in the lock: {line!r}"
    return [tuple(entry) for entry in entries]


def test_every_line_of_requirements_txt_is_an_exact_pin_with_its_reason():
    for line in (REPO / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert PIN_WITH_REASON.match(line), f"not 'name==version  # reason': {line!r}"


def test_pyproject_declares_each_pinned_package_in_a_range_that_holds_the_pin():
    ranges, pins = declared(), direct_pins()
    assert ranges.keys() == pins.keys()
    for name, requirement in ranges.items():
        assert requirement.specifier.contains(pins[name]), f"{name}=={pins[name]} is outside {requirement}"


def test_pyproject_lower_bounds_are_the_minimums_the_notebooks_check():
    ranges = declared()
    for name, minimum in MINIMUM_VERSIONS.items():
        assert Specifier(f">={minimum}") in set(ranges[name].specifier), f"{ranges[name]}: not >={minimum}"


def test_the_lock_holds_every_pin_at_its_version_and_every_package_with_hashes():
    entries = locked()
    assert all(hashes for _, _, _, hashes in entries)
    unconditional = {name: version for name, version, marker, _ in entries if marker is None}
    for name, version in direct_pins().items():
        assert unconditional.get(name) == version, f"{name}: requirements.txt {version}, lock {unconditional}"


def test_the_lock_was_made_by_the_command_requirements_txt_gives():
    (command,) = [
        line.lstrip("# ").strip()
        for line in (REPO / "requirements.txt").read_text().splitlines()
        if "uv pip compile" in line
    ]
    header = LOCK.read_text().splitlines()[:2]
    assert header[1].lstrip("# ").strip() == command


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def test_installed_versions_are_the_locked_ones():
    differ = {}
    for name, version, marker, _ in locked():
        if marker and not Marker(marker).evaluate():
            continue  # for another platform or Python
        if installed_version(name) != version:
            differ[name] = (version, installed_version(name))
    assert not differ, f"(locked, installed) differ: {differ}; run python3 scripts/tasks.py setup"


def test_environment_yml_installs_the_lock_on_python_311():
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    assert environment["channels"] == ["conda-forge"]
    conda_packages = [d for d in environment["dependencies"] if isinstance(d, str)]
    assert conda_packages == ["python=3.11", "pip"]  # everything else comes from the lock
    (pip_section,) = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict)]
    assert pip_section == ["--require-hashes", "-r requirements.lock"]


def test_notebook_environment_check_prints_versions_and_devices(capsys):
    from deconv.environment import check_environment

    check_environment()
    out = capsys.readouterr().out
    for name in ("python", "tensorflow", "keras", "scipy", "devices"):
        assert name in out
    assert "tested with" not in out, "installed versions differ from requirements.txt"


def test_notebook_environment_check_says_what_to_do_when_a_library_is_too_old(monkeypatch):
    from deconv import environment

    monkeypatch.setitem(environment.MINIMUM_VERSIONS, "keras", "99.0")
    with pytest.raises(environment.EnvironmentProblem, match="keras .* is older than 99.0.*tasks.py setup"):
        environment.check_environment()


def test_tensorflow_start_up_lines_stay_out_of_stderr_and_stderr_works_after():
    code = (
        "import sys; from deconv.environment import import_tensorflow; import_tensorflow(); "
        "print('still here', file=sys.stderr)"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"}  # the most talkative level
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "still here\n"
