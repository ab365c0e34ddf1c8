"""pytest settings for the unit tests and the notebooks under nbval.

Together with [tool.pytest.ini_options] in pyproject.toml (test paths, nbval's
options, --durations, the slow marker) this makes plain `pytest` run exactly
what `python3 scripts/tasks.py test` runs. The notebooks read the synthetic
sample in data/test/cats_and_dogs, generated here (offline) when they are about
to run, and write their results to data/test/results: never the reader's photos
or results/, whatever DECONV_DATA_DIR and DECONV_RESULTS_DIR say.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

try:
    from deconv.paths import DATA_DIR_ENV, DATASET_DIRNAME, RESULTS_DIR_ENV
except ModuleNotFoundError as error:  # pytest from outside the project's environment
    raise pytest.UsageError(
        f"{error}: run the tests in the project's environment, with 'python3 scripts/tasks.py test' "
        "(or .venv/bin/python -m pytest once tasks.py has set it up)"
    ) from None

REPO = Path(__file__).resolve().parent
TEST_DATA_DIR = REPO / "data" / "test"
TEST_ENVIRONMENT = {
    DATA_DIR_ENV: str(TEST_DATA_DIR / DATASET_DIRNAME),
    RESULTS_DIR_ENV: str(TEST_DATA_DIR / "results"),
    # Kept unless set: TensorFlow's C++ start-up lines stay out of the output, and hashing is
    # reproducible in the notebooks' kernels, which inherit this environment.
    "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"),
    "PYTHONHASHSEED": os.environ.get("PYTHONHASHSEED", "0"),
}
_saved_environment: dict[str, str | None] = {}


def is_notebook(item: pytest.Item) -> bool:
    return item.path.suffix == ".ipynb"


def pytest_configure(config):
    for name, value in TEST_ENVIRONMENT.items():
        _saved_environment[name] = os.environ.get(name)
        os.environ[name] = value
    # pyproject.toml names the sanitising file relative to the repository; nbval opens it relative
    # to the working directory, which differs when pytest is started from a sub-folder.
    sanitize = config.getoption("nbval_sanitize_with", None)
    if sanitize and not Path(sanitize).exists() and (config.rootpath / sanitize).exists():
        config.option.nbval_sanitize_with = str(config.rootpath / sanitize)


def pytest_unconfigure(config):
    for name, value in _saved_environment.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def pytest_collectstart(collector):
    # TensorFlow writes log lines to stderr; they differ between machines and
    # runs, so notebook comparisons leave stderr out.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)


def pytest_collection_modifyitems(config, items):
    # A notebook runs for seconds to minutes (04 trains the CNN); -m "not slow" leaves them out.
    for item in items:
        if is_notebook(item):
            item.add_marker(pytest.mark.slow)


def pytest_collection_finish(session):
    """Make the sample the notebooks run on, once the run is known to include a notebook."""
    if session.config.option.collectonly or not any(is_notebook(item) for item in session.items):
        return
    sample = TEST_DATA_DIR / DATASET_DIRNAME
    if not (sample / "manifest.json").exists():
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line(f"Generating the synthetic sample the notebooks run on in {sample} ...")
    # The data script leaves a complete sample alone and rebuilds a damaged one.
    command = [sys.executable, REPO / "scripts" / "download_data.py", "--dataset", "sample"]
    command += ["--data-dir", TEST_DATA_DIR, "--quiet"]
    result = subprocess.run(list(map(str, command)), cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.exit(
            f"could not prepare the sample the notebooks run on:\n{result.stdout}{result.stderr}",
            returncode=pytest.ExitCode.TESTS_FAILED,
        )
