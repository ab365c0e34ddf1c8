"""Every script is a command-line program: --help, exit codes, no work at import.

tasks.py's setup is tested on a temporary folder with the commands it would
run recorded, not run: a real setup installs 2.6 GB.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import load_script

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((REPO / "scripts").glob("*.py"))


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
    module = load_script(script)
    assert callable(module.main)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- tasks.py


@pytest.fixture
def tasks(tmp_path, monkeypatch):
    """tasks.py with every path it knows moved into tmp_path (which holds a copy of the install
    inputs); the commands it runs are recorded, not run.

    A recorded ``-m venv`` makes the environment's python, as the real one would.
    """
    module = load_script(REPO / "scripts" / "tasks.py")
    for name, value in list(vars(module).items()):
        if isinstance(value, Path) and value.is_relative_to(REPO):
            monkeypatch.setattr(module, name, tmp_path / value.relative_to(REPO))
    assert module.REPO == tmp_path and module.STAMP.is_relative_to(tmp_path)
    for name in module.INSTALL_INPUTS:
        shutil.copy(REPO / name, tmp_path / name)
    module.commands = []
    module.failing = ()  # commands whose text contains one of these exit 1

    def run(command, **kwargs):
        command = [str(part) for part in command]
        module.commands.append(command)
        if command[1:3] == ["-m", "venv"]:
            python = module.venv_python()
            python.parent.mkdir(parents=True)
            python.touch()
        return 1 if any(word in " ".join(command) for word in module.failing) else 0

    monkeypatch.setattr(module, "run", run)
    return module


def test_setup_creates_the_environment_and_installs_the_lock_by_hash_then_the_project(tasks, capsys):
    assert tasks.main(["setup"]) == 0
    python = str(tasks.venv_python())
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    assert tasks.commands == [
        [sys.executable, "-m", "venv", str(tasks.VENV)],
        [*pip, "--require-hashes", "-r", "requirements.lock"],
        [*pip, "--no-deps", "-e", "."],
    ]
    assert tasks.STAMP.read_text().strip() == tasks.install_digest()
    assert "Environment ready" in capsys.readouterr().out


def test_setup_again_installs_nothing(tasks, capsys):
    assert tasks.main(["setup"]) == 0
    tasks.commands.clear()
    assert tasks.main(["setup"]) == 0
    assert tasks.commands == []
    assert "already up to date" in capsys.readouterr().out


@pytest.mark.parametrize("changed", ["requirements.lock", "pyproject.toml"])
def test_setup_installs_again_when_the_lock_or_pyproject_changes(tasks, changed):
    assert tasks.main(["setup"]) == 0
    with open(tasks.REPO / changed, "a") as file:
        file.write("\n# changed\n")
    tasks.commands.clear()
    assert tasks.main(["setup"]) == 0
    assert [command[-2:] for command in tasks.commands] == [["-r", "requirements.lock"], ["-e", "."]]


def test_failed_install_exits_3_and_is_tried_again_next_time(tasks, capsys):
    tasks.failing = ("--require-hashes",)
    assert tasks.main(["setup"]) == tasks.EXIT_SETUP
    assert "Installing the requirements failed" in capsys.readouterr().err
    assert not tasks.STAMP.exists()
    assert tasks.commands[-1][-2:] == ["-r", "requirements.lock"]  # the project is not installed after it

    tasks.failing = ()
    tasks.commands.clear()
    assert tasks.main(["setup"]) == 0
    assert [command[-1] for command in tasks.commands] == ["requirements.lock", "."]  # no new venv


def test_test_runs_plain_pytest_and_quick_leaves_out_the_slow_tests(tasks):
    assert tasks.main(["test"]) == 0
    assert tasks.commands[-1] == [str(tasks.venv_python()), "-m", "pytest"]
    assert tasks.main(["test", "--quick", "--", "-x", "tests/test_model.py"]) == 0
    assert tasks.commands[-1][1:] == ["-m", "pytest", "-m", "not slow", "-x", "tests/test_model.py"]


@pytest.mark.parametrize(
    "args",
    [
        ["classify", "photo.jpg", "--heatmap", "out", "--model", "08"],
        ["classify", "--", "photo.jpg", "--heatmap", "out", "--model", "08"],
    ],
    ids=["without --", "with --"],
)
def test_classify_passes_everything_after_its_name_to_the_script(tasks, args):
    assert tasks.main(args) == 0
    script_args = ["photo.jpg", "--heatmap", "out", "--model", "08"]
    assert tasks.commands[-1] == [str(tasks.venv_python()), "scripts/classify.py", *script_args]
    assert tasks.main(["classify", "--help"]) == 0  # the script's help, not tasks.py's
    assert tasks.commands[-1][1:] == ["scripts/classify.py", "--help"]


def test_colab_stamps_the_notebooks_in_the_environment(tasks):
    assert tasks.main(["colab", "--", "notebooks/06_convolutions_on_dna.ipynb"]) == 0
    python = str(tasks.venv_python())
    assert tasks.commands[-1] == [python, "-m", "deconv.hosted", "notebooks/06_convolutions_on_dna.ipynb"]


def test_each_python_gets_its_own_environment_unless_told(monkeypatch):
    tasks = load_script(REPO / "scripts" / "tasks.py")
    monkeypatch.delenv(tasks.VENV_ENV, raising=False)
    default = (
        ".venv" if sys.version_info[:2] == tasks.TESTED_PYTHON[0] else ".venv-{}.{}".format(*sys.version_info)
    )
    assert tasks.venv_dir() == REPO / default
    monkeypatch.setenv(tasks.VENV_ENV, "elsewhere")
    assert tasks.venv_dir() == REPO / "elsewhere"


@pytest.mark.parametrize("args", [["setup", "--quick"], ["test", "--all"]])
def test_an_option_for_another_task_exits_2(args, capsys):
    tasks = load_script(REPO / "scripts" / "tasks.py")
    with pytest.raises(SystemExit) as exit:
        tasks.main(args)
    assert exit.value.code == 2
    assert f"{args[1]} goes with" in capsys.readouterr().err


def test_clean_all_removes_the_environment_and_the_dataset_and_keeps_the_downloads(tasks):
    results = tasks.REPO / "results" / "cnn.keras"
    test_sample = tasks.REPO / ".pytest_cache" / "d" / "deconv-sample-70" / "cats_and_dogs" / "manifest.json"
    dataset = tasks.REPO / "data" / "cats_and_dogs" / "manifest.json"
    download = tasks.REPO / "data" / "downloads" / "a.zip"
    for path in (results, test_sample, dataset, download, tasks.STAMP):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")

    assert tasks.main(["clean"]) == 0
    assert not results.exists() and not test_sample.exists()
    assert dataset.exists() and tasks.STAMP.exists()
    assert tasks.main(["clean", "--all"]) == 0
    assert not dataset.exists() and not tasks.VENV.exists()
    assert download.exists()
    assert tasks.commands == []  # clean sets nothing up


# ---------------------------------------------------------------- run_notebooks.py


@pytest.mark.slow  # starts a Jupyter kernel for each notebook
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


@pytest.mark.slow  # starts a Jupyter kernel for each notebook
def test_run_notebooks_stops_at_a_failing_or_overlong_cell_and_names_it(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    cells = {
        "fails": [new_markdown_cell("# a title"), new_code_cell("x = 1"), new_code_cell("1 / 0")],
        "sleeps": [new_code_cell("import time\ntime.sleep(60)")],
        "after": [new_code_cell("print('never run')")],
    }
    for name, notebook_cells in cells.items():
        nbformat.write(new_notebook(cells=notebook_cells), tmp_path / f"{name}.ipynb")

    def run(*names, timeout="600"):
        command = [sys.executable, REPO / "scripts" / "run_notebooks.py"]
        command += [tmp_path / f"{name}.ipynb" for name in names]
        command += ["--output-dir", tmp_path / "executed", "--cell-timeout", timeout]
        return subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=300)

    failed = run("fails", "after")
    assert failed.returncode == 1
    assert "fails.ipynb failed in cell 3 of 3 (1 / 0): ZeroDivisionError" in failed.stderr
    assert "after.ipynb" not in failed.stdout  # the run stops at the first failure
    assert (tmp_path / "executed" / "fails.ipynb").exists()  # the copy, with the error in place
    slow = run("sleeps", timeout="2")
    assert slow.returncode == 1
    assert (
        "sleeps.ipynb failed in cell 1 of 1 (import time): it ran longer than --cell-timeout 2 s"
        in slow.stderr
    )


# Each script reached with a Python that has none of the project's libraries (-S: no site-packages),
# past argument parsing, and what it says.
WITHOUT_LIBRARIES = {
    "download_data.py": ["--dataset", "sample", "--quiet"],
    "run_notebooks.py": ["notebooks/01_explore_the_data.ipynb"],
    "benchmark.py": ["--quick"],
    "classify.py": ["photo.jpg"],
    "beyond_study.py": ["--epochs", "1"],
    "blog_seeds.py": ["--seeds", "1"],
}


@pytest.mark.parametrize("name", sorted(WITHOUT_LIBRARIES))
def test_outside_the_environment_a_script_says_how_to_set_it_up(name, tmp_path):
    args = [*WITHOUT_LIBRARIES[name]]
    args += (
        ["--data-dir", tmp_path]
        if name == "download_data.py"
        else ["--output-dir", tmp_path] * (name == "run_notebooks.py")
    )
    result = subprocess.run(
        [sys.executable, "-S", REPO / "scripts" / name, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode == 2, result.stderr
    assert f"{name}: error: No module named" in result.stderr
    assert "python3 scripts/tasks.py setup" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "cats_and_dogs").exists()
