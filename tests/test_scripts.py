"""Every script is a command-line program: --help, exit codes, no work at import."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((REPO / "scripts").glob("*.py"))


def test_there_are_scripts():
    assert {p.name for p in SCRIPTS} >= {"download_data.py", "tasks.py", "run_notebooks.py"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_help_exits_zero_and_describes_the_script(script):
    result = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:")
    assert "Exit status" in result.stdout


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_bad_arguments_exit_2(script):
    result = subprocess.run(
        [sys.executable, script, "--no-such-option"], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 2
    assert "error" in result.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_import_does_no_work(script, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    spec = importlib.util.spec_from_file_location(f"script_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(module.main)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert list(tmp_path.iterdir()) == []


def test_setup_is_idempotent():
    # The test run itself was set up by tasks.py, so a second setup has nothing to install.
    result = subprocess.run(
        [sys.executable, REPO / "scripts" / "tasks.py", "setup"], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    assert "already up to date" in result.stdout
