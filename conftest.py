"""pytest settings for the unit tests and the notebooks under nbval.

Together with [tool.pytest.ini_options] in pyproject.toml (test paths, nbval's
options, --durations, the slow marker) this makes plain `pytest` run exactly
what `python3 scripts/tasks.py test` runs, on one core or, with `-n auto`
(pytest-xdist), on all of them.

Each notebook runs in a kernel started with its own environment: it reads a
synthetic sample of 70 + 35 images per class, generated (offline) once in
pytest's cache folder, and writes
into a results folder of its own, empty when it starts. So no notebook reads
what another wrote, in whatever order or on whichever worker they run, and none
ever sees the reader's photos or results/. The unit tests get no notebook
variables: DECONV_DATA_DIR and DECONV_RESULTS_DIR point into the test's own
temporary folder, so a test that forgets to choose its folders never touches
the reader's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from filelock import FileLock

try:
    from deconv.paths import DATA_DIR_ENV, DATASET_DIRNAME, RESULTS_DIR_ENV
except ModuleNotFoundError as error:  # pytest from outside the project's environment
    raise pytest.UsageError(
        f"{error}: run the tests in the project's environment, with 'python3 scripts/tasks.py test' "
        "(or .venv/bin/python -m pytest once tasks.py has set it up)"
    ) from None

REPO = Path(__file__).resolve().parent
# The notebooks run on a smaller draw of the synthetic sample than a reader gets (200 + 100 per class):
# every notebook still learns it (notebook 04 checks 0.90 validation accuracy; 50 + 25 falls short),
# in about a third of the time.
SAMPLE_PER_CLASS = {"train": 70, "validation": 35}
# What a notebook's kernel inherits besides its folders, unless already set: TensorFlow's C++
# start-up lines stay out of the output, and hashing is reproducible.
KERNEL_DEFAULTS = {"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONHASHSEED": "0"}


# The threads TensorFlow's operations and oneDNN's OpenMP use, read when TensorFlow starts.
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS")


def is_notebook(item: pytest.Item) -> bool:
    return item.path.suffix == ".ipynb"


def sample_parent(config: pytest.Config) -> Path:
    """The folder that holds the notebooks' sample: pytest's cache, shared by runs and workers."""
    cache = getattr(config, "cache", None)  # absent with -p no:cacheprovider
    if cache is not None:
        return cache.mkdir(f"deconv-sample-{SAMPLE_PER_CLASS['train']}")
    return Path(tempfile.gettempdir()) / f"deconv-test-sample-{SAMPLE_PER_CLASS['train']}"


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker more than there are cores. A worker waits at times (a subprocess starting,
    a kernel starting, a local server, the browser), and the extra one fills those gaps: on two cores the
    whole run took 290 s with 3 workers, 317 s with 2 and 308 s with 4 (one run each)."""
    return (os.cpu_count() or 1) + 1


def pytest_configure(config):
    # Under xdist every worker would start TensorFlow with a thread per core; on two cores two workers
    # would then fight over them. Each worker, and the kernels it starts, gets its share of the cores.
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        share = str(max(1, (os.cpu_count() or 1) // workers))
        for name in THREAD_VARIABLES:
            os.environ.setdefault(name, share)
    # pyproject.toml names the sanitising file relative to the repository; nbval opens it relative
    # to the working directory, which differs when pytest is started from a sub-folder.
    sanitize = config.getoption("nbval_sanitize_with", None)
    if sanitize and not Path(sanitize).exists() and (config.rootpath / sanitize).exists():
        config.option.nbval_sanitize_with = str(config.rootpath / sanitize)
    config.notebook_results = None  # made when the first notebook starts


def pytest_unconfigure(config):
    if getattr(config, "notebook_results", None):
        shutil.rmtree(config.notebook_results, ignore_errors=True)


def pytest_collectstart(collector):
    # TensorFlow writes log lines to stderr; they differ between machines and
    # runs, so notebook comparisons leave stderr out.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)


def pytest_collection_modifyitems(config, items):
    # A notebook runs for seconds to minutes (04 trains the CNN); -m "not slow" leaves them out.
    # Its cells share one kernel, so under xdist they stay on one worker (--dist loadfile, in
    # pyproject.toml); the notebooks go first, so that the longest work starts early.
    for item in items:
        if is_notebook(item):
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: not is_notebook(item))  # a stable sort: the order within each stays


def pytest_collection_finish(session):
    """Make the sample the notebooks run on, once the run is known to include a notebook."""
    if session.config.option.collectonly or not any(is_notebook(item) for item in session.items):
        return
    parent = sample_parent(session.config)
    # Workers collect at the same time: one builds the sample, the others wait and find it built.
    with FileLock(parent / "build.lock"):
        if not (parent / DATASET_DIRNAME / "manifest.json").exists():
            reporter = session.config.pluginmanager.get_plugin("terminalreporter")
            if reporter:
                reporter.write_line(f"Generating the synthetic sample the notebooks run on in {parent} ...")
        # The data script leaves a complete sample alone and rebuilds a damaged one.
        command = [sys.executable, REPO / "scripts" / "download_data.py", "--dataset", "sample"]
        command += ["--data-dir", parent, "--quiet"]
        command += ["--train-per-class", SAMPLE_PER_CLASS["train"]]
        command += ["--validation-per-class", SAMPLE_PER_CLASS["validation"]]
        result = subprocess.run(list(map(str, command)), cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.exit(
            f"could not prepare the sample the notebooks run on:\n{result.stdout}{result.stderr}",
            returncode=pytest.ExitCode.TESTS_FAILED,
        )


def notebook_environment(item: pytest.Item) -> dict[str, str]:
    """The variables a notebook's kernel starts with: the sample, and an empty results folder."""
    config = item.config
    if config.notebook_results is None:
        config.notebook_results = Path(tempfile.mkdtemp(prefix="deconv-notebook-results-"))
    results = config.notebook_results / item.path.stem
    return {
        DATA_DIR_ENV: str(sample_parent(config) / DATASET_DIRNAME),
        RESULTS_DIR_ENV: str(results),
        **{name: os.environ.get(name, value) for name, value in KERNEL_DEFAULTS.items()},
    }


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    """nbval starts a notebook's kernel while its first cell sets up: only then are its variables set."""
    if not is_notebook(item):
        return (yield)
    environment = notebook_environment(item)
    results = Path(environment[RESULTS_DIR_ENV])
    if item.parent not in item.session.started_notebooks:
        item.session.started_notebooks.add(item.parent)
        shutil.rmtree(results, ignore_errors=True)
        results.mkdir(parents=True)
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        return (yield)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def pytest_sessionstart(session):
    session.started_notebooks = set()


@pytest.fixture(autouse=True)
def no_notebook_folders(monkeypatch, tmp_path):
    """Unit tests choose their own data and results folders; until they do, these empty stand-ins."""
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "unset-data-dir"))
    monkeypatch.setenv(RESULTS_DIR_ENV, str(tmp_path / "unset-results-dir"))
