"""The check every notebook runs first: the right Python and libraries, and TensorFlow imported quietly."""

from __future__ import annotations

import contextlib
import os
import re
import sys
from importlib import metadata

from .cli import SETUP_COMMAND
from .paths import REPO_ROOT

# What the notebooks cannot run without: Keras 3 APIs (RandomShear arrived in
# Keras 3.8; before 3.15 Keras builds a layer whose output would be empty
# instead of refusing it, as notebook 02's shape explorer shows it doing) and
# the legacy ImageDataGenerator, whose transforms need SciPy.
MINIMUM_VERSIONS = {
    "tensorflow": "2.16",
    "keras": "3.15",
    "numpy": "1.26",
    "scipy": "1.10",
    "matplotlib": "3.7",
    "pillow": "10.0",
}
NOTEBOOK_SETUP_HINT = (
    f"Set up the project's environment with '{SETUP_COMMAND}' and start Jupyter with "
    "'python3 scripts/tasks.py lab' (or pick the .venv kernel), from the repository root."
)


class EnvironmentProblem(RuntimeError):
    """A library the notebooks need is missing or too old."""


def _release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def pinned_versions() -> dict[str, str]:
    """The exact versions requirements.txt asks for (empty when it is not at hand)."""
    requirements = REPO_ROOT / "requirements.txt"
    if not requirements.exists():
        return {}
    pins = {}
    for line in requirements.read_text().splitlines():
        name, _, version = line.split("#", 1)[0].strip().partition("==")
        if version:
            pins[name.strip().lower()] = version.strip()
    return pins


@contextlib.contextmanager
def _stderr_silenced():
    """Silence file descriptor 2, where TensorFlow's C++ core logs as it starts.

    Those lines (oneDNN, CUDA probing) are written before any log level is
    read, differ between machines and would land in every saved notebook.
    Python exceptions still propagate.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow():
    """Import TensorFlow and probe its devices without the start-up log lines."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _stderr_silenced():
        import tensorflow as tf

        tf.config.list_physical_devices()  # the CUDA probe logs here, once
    return tf


def library_versions() -> dict[str, str]:
    """Python's version and those of the libraries the notebooks use (those installed)."""
    versions = {"python": sys.version.split()[0]}
    for name in MINIMUM_VERSIONS:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def check_environment() -> None:
    """Check Python and the libraries and print their versions; raise with what to do if wrong."""
    problems = []
    versions = library_versions()
    for name, minimum in MINIMUM_VERSIONS.items():
        if name not in versions:
            problems.append(f"{name} is not installed")
        elif _release(versions[name]) < _release(minimum):
            problems.append(f"{name} {versions[name]} is older than {minimum}")
    if problems:
        raise EnvironmentProblem("; ".join(problems) + ". " + NOTEBOOK_SETUP_HINT)

    tf = import_tensorflow()
    devices = sorted({device.device_type for device in tf.config.list_physical_devices()})
    pins = pinned_versions()
    for name, version in versions.items():
        note = ""
        if name in pins and pins[name] != version:
            note = f"  (tested with {pins[name]}; results may differ slightly)"
        print(f"{name:<11}{version}{note}")
    print(f"{'devices':<11}{', '.join(devices)}")
