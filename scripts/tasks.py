#!/usr/bin/env python3
"""Set up the environment and run the tutorial's jobs; needs only python3.

Each task first makes sure .venv exists and holds exactly what
requirements.lock pins, every package by version and hash (installing only
when requirements.lock or pyproject.toml changed since the last install),
then runs inside it. Run with another Python (python3.12 scripts/tasks.py
test), a task uses .venv-3.12 instead; DECONV_VENV=path chooses the folder.

  tutorial  prepare data (real photos if already downloaded, otherwise the
            synthetic sample) and execute the notebooks in order into
            results/notebooks/
  test      run pytest: the unit tests, and the notebooks under nbval on the
            synthetic sample (pytest's own settings, in
            pyproject.toml and conftest.py, say how; plain pytest does the
            same). --quick leaves out the slow tests and the notebooks
  setup     only create/update .venv
  data      download and prepare real photos (e.g. -- --dataset full)
  sample    generate the synthetic sample into data/cats_and_dogs
  lab       start JupyterLab in notebooks/
  book      build the book: the notebooks, with their saved outputs, as a
            static site in results/book/ (nothing is executed; -- --help
            for book/build.py's options)
  classify  classify your own photos as cat or dog with the model notebook
            04 trained (e.g. classify photo.jpg photos/ --heatmap out/;
            classify --help for its options)
  inspect   any Keras image classifier: its layers with output shapes,
            parameters and receptive fields, and heat maps of photos (e.g.
            inspect model.keras photo.jpg --out heatmaps/; inspect --help)
  seeds     train notebook 04's recipe with seeds 1 and 2, for its accuracy
            over 3 seeds: about 28 minutes on photos on two CPU cores;
            stopped, it resumes (-- --help for scripts/blog_seeds.py)
  study     train notebook 08's recipes with more seeds (3 per recipe),
            for the verdicts of its table: about two and a half hours on
            photos on two CPU cores; stopped, it continues where it stopped
            (-- --help for scripts/beyond_study.py's options)
  export    write the package modules exported from the notebooks' cells
            tagged "export" (notebook 02 is the source of deconv.cnn,
            03 of deconv.notes_augmentation, 04 of deconv.blog_recipe,
            05 of deconv.cam, 08 of deconv.beyond);
            edit such a cell, then export
  colab     write the Colab link and the Colab/Kaggle setup cell into every
            notebook, from the repository and ref in pyproject.toml (e.g.
            colab -- notebooks/06_convolutions_on_dna.ipynb for one)
  clean     remove results/ and caches (--all: also .venv and the
            prepared dataset; downloaded archives in data/downloads/ are kept)

Arguments after -- go on to the program the task runs: pytest for test,
scripts/download_data.py for data, sample and tutorial, JupyterLab for lab,
the notebooks to stamp for colab.
classify and inspect need no --: everything after their name goes on to
scripts/classify.py and scripts/inspect_model.py.

Exit status: that of the task (0 on success); 2 for bad arguments; 7 when
the environment cannot be set up.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MIN_PYTHON = (3, 11)
# The Pythons the tests pass on; the first is the default, whose environment is .venv.
TESTED_PYTHON = ((3, 11), (3, 12), (3, 13))
VENV_ENV = "DECONV_VENV"


def venv_dir() -> Path:
    """Where this Python's environment lives: $DECONV_VENV if set; otherwise .venv for the default
    Python and .venv-3.X for any other, so that one Python's environment never replaces another's."""
    chosen = os.environ.get(VENV_ENV)
    if chosen:
        return REPO / Path(chosen).expanduser()  # an absolute path stays as it is
    if sys.version_info[:2] == TESTED_PYTHON[0]:
        return REPO / ".venv"
    return REPO / ".venv-{}.{}".format(*sys.version_info[:2])


VENV = venv_dir()
STAMP = VENV / ".deconv-installed"
LOCK = "requirements.lock"
# What the install is made from: a change to either means installing again.
INSTALL_INPUTS = (LOCK, "pyproject.toml")
NOTEBOOKS = REPO / "notebooks"
QUICK = ("-m", "not slow")  # the marker is declared in pyproject.toml
TASKS = (
    "tutorial",
    "test",
    "setup",
    "data",
    "sample",
    "lab",
    "book",
    "classify",
    "inspect",
    "seeds",
    "study",
    "export",
    "colab",
    "clean",
)
# Tasks whose program takes arguments of its own (photos, options): all that follows the name goes on.
PASS_ON_TASKS = ("classify", "inspect")
EXIT_SETUP = 7  # as in deconv.cli; the others are those of the task run


def venv_shown() -> str:
    return str(VENV.relative_to(REPO)) if VENV.is_relative_to(REPO) else str(VENV)


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def venv_python() -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    return VENV / scripts / ("python.exe" if os.name == "nt" else "python")


def task_environment() -> dict[str, str]:
    env = dict(os.environ)
    # TensorFlow's C++ start-up chatter hides real output; 2 keeps errors.
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def run(command: list, **kwargs) -> int:
    printable = " ".join(str(part) for part in command)
    say(f"$ {printable}")
    return subprocess.call([str(part) for part in command], cwd=REPO, env=task_environment(), **kwargs)


def install_digest() -> str:
    digest = hashlib.sha256(sys.version.encode())
    for name in INSTALL_INPUTS:
        digest.update((REPO / name).read_bytes())
    return digest.hexdigest()


def install_commands(python: Path) -> list[list]:
    """The two installs: every locked package, checked against its hash, then this project itself."""
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    return [[*pip, "--require-hashes", "-r", LOCK], [*pip, "--no-deps", "-e", "."]]


def setup() -> int:
    """Create .venv and install the locked requirements, unless already done."""
    if sys.version_info < MIN_PYTHON:
        print(
            f"Python {'.'.join(map(str, MIN_PYTHON))} or newer is needed; this is "
            f"{sys.version.split()[0]}. Run this script with python3.11 (or create the conda "
            "environment from environment.yml).",
            file=sys.stderr,
        )
        return EXIT_SETUP
    if sys.version_info[:2] not in TESTED_PYTHON:
        tested = ", ".join(".".join(map(str, version)) for version in TESTED_PYTHON)
        say(
            f"Note: this is Python {sys.version.split()[0]}; the pinned requirements are tested on "
            f"{tested}. If an install fails, use python3.11."
        )
    if not venv_python().exists():
        say(f"Creating a virtual environment in {venv_shown()}/")
        if run([sys.executable, "-m", "venv", VENV]) != 0:
            print(
                f"Could not create {venv_shown()}: is the venv module installed "
                "(Debian: apt install python3-venv)?",
                file=sys.stderr,
            )
            return EXIT_SETUP
    wanted = install_digest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        say(f"Environment already up to date ({venv_shown()} matches {LOCK})")
        return 0
    say(
        f"Installing the locked requirements ({LOCK}) into {venv_shown()} (2.6 GB installed, "
        "TensorFlow most of it): a minute or more the first time, depending on the connection"
    )
    for step in install_commands(venv_python()):
        if run(step) != 0:
            print(
                "Installing the requirements failed (see pip's message above). Check the network or "
                "proxy settings for pip, then run the same command again: it picks up where it stopped.",
                file=sys.stderr,
            )
            return EXIT_SETUP
    STAMP.write_text(wanted + "\n")
    say("Environment ready")
    return 0


def notebook_paths() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def prepare_data(extra: list[str]) -> int:
    return run([venv_python(), "scripts/download_data.py", *extra])


def tutorial(extra: list[str]) -> int:
    say("Preparing data")
    status = prepare_data(["--dataset", "auto", *extra])
    if status != 0:
        return status
    if not notebook_paths():
        say("Data is ready, and notebooks/ holds no NN_topic.ipynb notebooks to execute.")
        return 0
    say("Executing the notebooks in order")
    return run([venv_python(), "scripts/run_notebooks.py", *notebook_paths()])


def test(extra: list[str], quick: bool = False) -> int:
    # pytest's own configuration (pyproject.toml, conftest.py) prepares the
    # sample, points the notebooks at it and adds nbval's options.
    say("Running the tests" + (" (quick: no slow tests, no notebooks)" if quick else ""))
    return run([venv_python(), "-m", "pytest", *(QUICK if quick else ()), *extra])


def classify(extra: list[str]) -> int:
    return run([venv_python(), "scripts/classify.py", *extra])


def inspect(extra: list[str]) -> int:
    return run([venv_python(), "scripts/inspect_model.py", *extra])


def lab(extra: list[str]) -> int:
    return run([venv_python(), "-m", "jupyter", "lab", f"--notebook-dir={NOTEBOOKS}", *extra])


def book(extra: list[str]) -> int:
    say("Building the book from the committed notebooks (nothing is executed)")
    return run([venv_python(), "book/build.py", *extra])


def clean(everything: bool) -> int:
    targets = [REPO / "results", REPO / ".pytest_cache", REPO / ".ruff_cache"]
    targets += [p for p in REPO.rglob("__pycache__") if not any(part.startswith(".venv") for part in p.parts)]
    targets += list(NOTEBOOKS.rglob(".ipynb_checkpoints"))
    if everything:
        targets += [VENV, REPO / "data" / "cats_and_dogs"]
    for target in targets:
        if target.exists():
            say(f"Removing {target.relative_to(REPO)}")
            shutil.rmtree(target)
    if everything:
        say(
            "Kept data/downloads/ (verified archives are slow to fetch again); delete it by hand if you want."
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tasks.py",
        usage="%(prog)s [-h] [--quick] [--all] {" + ",".join(TASKS) + "} [-- ARGUMENTS ...]",
        description=__doc__.split("\n\n")[0],
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("task", choices=TASKS)
    parser.add_argument(
        "--quick", action="store_true", help="with test: leave out the slow tests and the notebooks"
    )
    parser.add_argument(
        "--all", action="store_true", help="with clean: also remove .venv and the prepared dataset"
    )
    return parser


def split_arguments(argv: list[str]) -> tuple[list[str], list[str]]:
    """(tasks.py's own arguments, those for the program the task runs).

    The program gets everything after the first --, or, for a task in
    PASS_ON_TASKS, everything after the task's name (a -- right after it is
    dropped, so both ways work). The task's name is the first argument that
    is not an option: tasks.py's own options take no values.
    """
    cut = argv.index("--") if "--" in argv else len(argv)
    task = next((index for index, arg in enumerate(argv[:cut]) if not arg.startswith("-")), None)
    if task is not None and argv[task] in PASS_ON_TASKS:
        extra = argv[task + 1 :]
        return argv[: task + 1], extra[1:] if extra[:1] == ["--"] else extra
    return argv[:cut], argv[cut + 1 :]


def main(argv: list[str] | None = None) -> int:
    argv, extra = split_arguments(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.quick and args.task != "test":
        parser.error("--quick goes with test")
    if args.all and args.task != "clean":
        parser.error("--all goes with clean")
    if args.task == "clean":
        return clean(args.all)
    status = setup()
    if status != 0 or args.task == "setup":
        return status
    if args.task == "tutorial":
        return tutorial(extra)
    if args.task == "test":
        return test(extra, quick=args.quick)
    if args.task == "data":
        return prepare_data(extra)
    if args.task == "sample":
        return prepare_data(["--dataset", "sample", *extra])
    if args.task == "book":
        return book(extra)
    if args.task == "classify":
        return classify(extra)
    if args.task == "inspect":
        return inspect(extra)
    if args.task == "seeds":
        return run([venv_python(), "scripts/blog_seeds.py", *extra])
    if args.task == "study":
        return run([venv_python(), "scripts/beyond_study.py", *extra])
    if args.task == "export":
        return run([venv_python(), "-m", "deconv.export", *extra])
    if args.task == "colab":
        return run([venv_python(), "-m", "deconv.hosted", *extra])
    return lab(extra)


if __name__ == "__main__":
    sys.exit(main())
