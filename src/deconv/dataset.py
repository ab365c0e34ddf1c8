"""Open the dataset a notebook reads, say which it is, and prepare the sample when there is none."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .data.images import check_images
from .data.prepare import Request, prepare, read_manifest
from .layout import REAL_PHOTOS_HINT, DatasetLayoutError, check_layout, format_counts, image_files
from .paths import DATA_DIR_ENV, DATASET_DIRNAME, DEFAULT_DATA_DIR, dataset_dir, display_path


@dataclass(frozen=True)
class Dataset:
    root: Path
    kind: str  # "sample", "filtered", "full", "zip" or "own" (a folder without a manifest)
    title: str
    counts: dict[str, dict[str, int]]

    @property
    def is_sample(self) -> bool:
        return self.kind == "sample"

    def split(self, name: str) -> Path:
        return self.root / name

    def describe(self) -> str:
        return f"{self.title} at {display_path(self.root)}: {format_counts(self.counts)}"


def _refuse_unreadable_images(root: Path) -> None:
    """Decode every image of a folder the data script did not build.

    Keras would otherwise stop at the first broken file, in the middle of a
    training, with a message that names neither the file nor the cause.
    """
    files = image_files(root, recursive=True)
    _, unusable = check_images(files, progress=len(files) >= 2000)
    if unusable:
        named = [f"{display_path(path)} ({reason})" for path, reason in unusable[:5]]
        listed = "; ".join(named) + ("; ..." if len(unusable) > 5 else "")
        raise DatasetLayoutError(
            f"{len(unusable)} of the {len(files)} images in {display_path(root)} cannot be read: {listed}. "
            "Remove or replace them; nothing was changed."
        )


def open_dataset(data_dir: Path | None = None, show: bool = True) -> Dataset:
    """The dataset in ``<data_dir>/cats_and_dogs`` (``data/`` by default) or ``$DECONV_DATA_DIR``, checked.

    With neither in place, the synthetic sample is generated there (a few
    seconds), so every notebook runs offline. A
    folder that is present but wrongly laid out raises DatasetLayoutError and
    is left untouched.
    """
    root = dataset_dir(data_dir)
    if not root.exists() and os.environ.get(DATA_DIR_ENV):
        raise DatasetLayoutError(
            f"{DATA_DIR_ENV} names {root}, which does not exist. Point it at a train/validation x "
            f"cats/dogs folder, or unset it to use {display_path(DEFAULT_DATA_DIR / DATASET_DIRNAME)}."
        )
    if not root.exists():
        print(
            f"No dataset at {display_path(root)}: generating the synthetic sample there. {REAL_PHOTOS_HINT}"
        )
        prepare(Request(dataset="sample", data_dir=root.parent, progress=False), log=lambda _: None)
    counts = check_layout(root)
    manifest = read_manifest(root)
    if manifest is None:
        _refuse_unreadable_images(root)
        manifest = {}
    kind = manifest.get("dataset", "own")
    title = manifest.get("title", "your own images (no manifest.json)")
    dataset = Dataset(root=root, kind=kind, title=title, counts=counts)
    if show:
        print(f"Data: {dataset.describe()}.")
        if dataset.is_sample:
            print(f"The sample has drawn animals, not photos. {REAL_PHOTOS_HINT} Then run it again.")
    return dataset
