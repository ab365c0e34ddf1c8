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


def dataset_dir(data_dir: Path | str | None = None) -> Path:
    """The dataset the notebooks read.

    ``$DECONV_DATA_DIR`` (any directory in the train/validation x cats/dogs
    layout) wins; otherwise ``<data_dir>/cats_and_dogs``.
    """
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser().resolve()
    return Path(data_dir or DEFAULT_DATA_DIR) / DATASET_DIRNAME
