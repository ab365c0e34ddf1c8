"""The environment files agree with each other and with what is installed."""

import re
import sys
from importlib import metadata
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.\-]+)$")


def requirement_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.match(line)
        assert match, f"requirements.txt line is not an exact pin (name==version): {line!r}"
        pins[match.group(1).lower()] = match.group(2)
    return pins


def test_requirements_pin_the_stack_the_tutorial_needs():
    pins = requirement_pins()
    for name in (
        "tensorflow",
        "keras",
        "numpy",
        "scipy",
        "matplotlib",
        "pillow",
        "jupyter",
        "nbval",
        "pytest",
        "tqdm",
    ):
        assert name in pins, f"{name} is not pinned in requirements.txt"
    assert pins["tensorflow"] == "2.21.0"
    assert pins["keras"].startswith("3."), "the tutorial is written for Keras 3"


def test_installed_versions_match_the_pins():
    mismatched = {
        name: (wanted, metadata.version(name))
        for name, wanted in requirement_pins().items()
        if metadata.version(name) != wanted
    }
    assert not mismatched, f"installed versions differ from requirements.txt: {mismatched}"


def test_environment_yml_installs_requirements_txt_on_python_311():
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    assert "conda-forge" in environment["channels"]
    conda_packages = [d for d in environment["dependencies"] if isinstance(d, str)]
    assert "python=3.11" in conda_packages
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert "-r requirements.txt" in pip_section
    assert "-e ." in pip_section
    # Any package conda installs itself must carry the same version as the pin.
    pins = requirement_pins()
    for spec in conda_packages:
        name, _, version = spec.partition("=")
        if name.lower() in pins:
            assert version == pins[name.lower()], (
                f"environment.yml pins {spec}, requirements.txt {pins[name.lower()]}"
            )


def test_python_matches_the_environment_file():
    assert sys.version_info[:2] >= (3, 11)


def test_generated_data_and_results_are_not_committed():
    ignored = (REPO / ".gitignore").read_text().splitlines()
    for pattern in ("data/*", "!data/README.md", "results/", ".venv/"):
        assert pattern in ignored, f".gitignore lacks {pattern}"
    assert (REPO / "data" / "README.md").is_file()


def test_notebook_environment_check_prints_versions_and_devices(capsys):
    from deconv.environment import check_environment

    check_environment()
    out = capsys.readouterr().out
    for name in ("python", "tensorflow", "keras", "scipy", "devices"):
        assert name in out
    assert "tested with" not in out, "installed versions differ from requirements.txt"


def test_notebook_environment_check_says_what_to_do_when_a_library_is_too_old(monkeypatch):
    import pytest

    from deconv import environment

    monkeypatch.setitem(environment.MINIMUM_VERSIONS, "keras", "99.0")
    with pytest.raises(environment.EnvironmentProblem, match="keras .* is older than 99.0.*tasks.py setup"):
        environment.check_environment()


def test_tensorflow_start_up_lines_stay_out_of_stderr_and_stderr_works_after():
    import os
    import subprocess

    code = (
        "import sys; from deconv.environment import import_tensorflow; import_tensorflow(); "
        "print('still here', file=sys.stderr)"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"}  # the most talkative level
    command = [sys.executable, "-c", code]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "still here\n"
