"""Where the repository, the data and the results live."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = REPO_ROOT / "data"
RESULTS_DIR = REPO_ROOT / "results"
DATASET_DIRNAME = "cats_and_dogs"
DOWNLOADS_DIRNAME = "downloads"
DATA_DIR_ENV = "DECONV_DATA_DIR"
RESULTS_DIR_ENV = "DECONV_RESULTS_DIR"


def dataset_dir(data_dir: Path | str | None = None) -> Path:
    """The dataset the notebooks read.

    ``$DECONV_DATA_DIR`` (any directory in the train/validation x cats/dogs
    layout) wins; otherwise ``<data_dir>/cats_and_dogs``.
    """
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return Path(data_dir or DEFAULT_DATA_DIR) / DATASET_DIRNAME


def results_dir() -> Path:
    """Where notebooks write models, logs and metrics (``$DECONV_RESULTS_DIR`` wins)."""
    override = os.environ.get(RESULTS_DIR_ENV)
    path = Path(override).expanduser().resolve() if override else RESULTS_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


def display_path(path: Path | str) -> str:
    """A path as the reader should see it: relative to the repository when inside it."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)
