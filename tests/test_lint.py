"""The code follows the project's ruff settings (pyproject.toml)."""

import subprocess
import sys

from deconv.paths import REPO_ROOT as REPO

CHECKED = ["scripts", "src", "tests", "notebooks", "book", "conftest.py"]


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *CHECKED], capture_output=True, text=True, cwd=REPO
    )


def test_ruff_finds_nothing():
    result = ruff("check", "--output-format", "concise")
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted():
    result = ruff("format", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
