"""The images every variant reads: a seeded selection of the training set, in a temporary folder.

Linked into ``root/train/<class>/`` so that ``flow_from_directory`` and
``image_dataset_from_directory`` see exactly those files, in full batches.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..layout import CLASS_NAMES, image_files
from ..model import IMAGE_SIZE


@dataclass
class BenchmarkData:
    """The training images every variant reads, linked into ``root/train/<class>/``."""

    root: Path
    files: list[Path]
    labels: list[int]
    available: int  # readable training images in the dataset

    def __len__(self) -> int:
        return len(self.files)

    @property
    def train_dir(self) -> Path:
        return self.root / "train"


def training_files(dataset_root: Path | str) -> list[tuple[Path, int]]:
    """Every readable training image of a train/validation x cats/dogs folder, with its label."""
    train = Path(dataset_root) / "train"
    found = []
    for label, name in enumerate(CLASS_NAMES):
        found += [(path, label) for path in image_files(train / name, recursive=True)]
    return found


def usable_count(available: int, limit: int | None, batch_sizes: Sequence[int]) -> int:
    """The most images, at most ``limit``, that every batch size divides, so every batch is full."""
    step = math.lcm(*batch_sizes)
    count = min(available, limit or available)
    return count - count % step


def _link(source: Path, target: Path) -> None:
    try:
        target.symlink_to(source.resolve())
    except OSError:  # no symbolic links (Windows without developer mode): a hard link, else a copy
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)


@contextlib.contextmanager
def benchmark_data(
    dataset_root: Path | str, images: int | None, batch_sizes: Sequence[int], seed: int = 0
) -> Iterator[BenchmarkData]:
    """A temporary folder with a seeded selection of at most ``images`` training images; removed after."""
    import numpy as np

    candidates = training_files(dataset_root)
    count = usable_count(len(candidates), images, batch_sizes)
    if count == 0:
        raise ValueError(
            f"{len(candidates)} training images in {dataset_root}: too few for one full batch of "
            f"{math.lcm(*batch_sizes)}"
        )
    chosen = sorted(np.random.default_rng(seed).choice(len(candidates), size=count, replace=False))
    with tempfile.TemporaryDirectory(prefix="deconv-benchmark-") as folder:
        root = Path(folder)
        for name in CLASS_NAMES:
            (root / "train" / name).mkdir(parents=True)
            (root / "validation" / name).mkdir(parents=True)  # directory_flows opens it too
        files, labels = [], []
        for number, index in enumerate(chosen):
            source, label = candidates[index]
            target = root / "train" / CLASS_NAMES[label] / f"{number:05d}{source.suffix.lower()}"
            _link(source, target)
            files.append(target)
            labels.append(label)
        yield BenchmarkData(root=root, files=files, labels=labels, available=len(candidates))


def decode_images(files: Sequence[Path]):
    """Each image decoded and resized once, exactly as flow_from_directory does: uint8 (n, 150, 150, 3)."""
    import keras
    import numpy as np

    images = np.empty((len(files), *IMAGE_SIZE, 3), dtype=np.uint8)
    for index, path in enumerate(files):
        image = keras.utils.load_img(path, color_mode="rgb", target_size=IMAGE_SIZE, interpolation="nearest")
        images[index] = np.asarray(image)
    return images
