"""Every script is a command-line program: --help, exit codes, no work at import."""

import importlib.util
import os
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


def test_run_notebooks_summarises_only_metrics_written_during_the_run(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    results = tmp_path / "results"
    results.mkdir()
    (results / "metrics.json").write_text('{"best_val_accuracy": 0.5}\n')  # left from an earlier run
    writes = "import json, os, pathlib\n" + (
        "path = pathlib.Path(os.environ['DECONV_RESULTS_DIR']) / 'metrics.json'\n"
        "path.write_text(json.dumps({'best_val_accuracy': 0.75}))"
    )
    notebooks = {"quiet": "print('no training here')", "trains": writes}
    for name, source in notebooks.items():
        nbformat.write(new_notebook(cells=[new_code_cell(source)]), tmp_path / f"{name}.ipynb")

    def run(name):
        command = [sys.executable, REPO / "scripts" / "run_notebooks.py", tmp_path / f"{name}.ipynb"]
        command += ["--output-dir", tmp_path / "executed"]
        env = {**os.environ, "DECONV_RESULTS_DIR": str(results)}
        return subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env, timeout=300)

    quiet = run("quiet")
    assert quiet.returncode == 0, quiet.stderr
    assert "Metrics" not in quiet.stdout
    trains = run("trains")
    assert trains.returncode == 0, trains.stderr
    assert "best_val_accuracy: 0.75" in trains.stdout
