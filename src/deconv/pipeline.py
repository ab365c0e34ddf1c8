"""The tutorial's input pipeline: ImageDataGenerator, with the source notes' settings and the ones they meant.

Keras 3 keeps ImageDataGenerator only as a deprecated legacy class, reachable
as ``tf.keras.preprocessing.image.ImageDataGenerator``; ``from
keras.preprocessing.image import ImageDataGenerator`` fails there.
"""

from __future__ import annotations

import math
from pathlib import Path

from .model import IMAGE_SIZE

# The notes' augmentation as they wrote it. shear_range is in degrees (Keras
# >= 2.1.3), so 0.2 is a 0.2 degree shear: nearly nothing. Notebook 03 shows it.
NOTES_AUGMENTATION = {"shear_range": 0.2, "zoom_range": 0.2, "horizontal_flip": True}
# As they meant it: 0.2 radians, written in the degrees Keras reads (11.46).
# Notebook 04 trains with this.
INTENDED_AUGMENTATION = {**NOTES_AUGMENTATION, "shear_range": round(math.degrees(0.2), 2)}
RESCALE = 1 / 255


def image_data_generator(augmentation: dict | None = None, **settings):
    """An ImageDataGenerator that rescales to [0, 1], with ``augmentation`` (a dict above) if given."""
    import tensorflow as tf

    options = {"rescale": RESCALE, **(augmentation or {}), **settings}
    return tf.keras.preprocessing.image.ImageDataGenerator(**options)


def directory_flows(
    root: Path | str,
    batch_size: int = 16,
    seed: int = 0,
    workers: int = 1,
    augmentation: dict | None = INTENDED_AUGMENTATION,
):
    """Training (augmented, shuffled) and validation (rescaled only, in file order) iterators.

    The tested copy of notebook 04's generator calls, for the tests, the
    benchmark and the notebooks after 04. Validation keeps file order so
    predictions line up with ``.classes`` and ``.filenames``. ``workers`` > 1
    loads batches in threads while the model trains.
    """
    root = Path(root)
    common = {"target_size": IMAGE_SIZE, "batch_size": batch_size, "class_mode": "binary", "seed": seed}
    train = image_data_generator(augmentation).flow_from_directory(root / "train", **common)
    validation = image_data_generator().flow_from_directory(root / "validation", shuffle=False, **common)
    for iterator in (train, validation):
        iterator.workers = workers
    return train, validation


FLOW_SETTINGS = ("directory", "target_size", "color_mode", "interpolation", "class_mode", "batch_size")
FLOW_SETTINGS += ("shuffle", "seed", "workers")


def flow_differences(train, validation, root: Path | str, **options) -> list[str]:
    """How a notebook's two iterators differ from ``directory_flows(root, **options)``; empty when they agree.

    Compares every setting of the generators and the reading settings of the
    iterators, so that the notebook's visible calls and the package's tested
    copy cannot drift apart.
    """
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):  # the "Found N images" lines
        expected = directory_flows(root, **options)
    differences = []
    for role, mine, theirs in zip(("training", "validation"), (train, validation), expected, strict=True):
        generator_mine, generator_theirs = vars(mine.image_data_generator), vars(theirs.image_data_generator)
        for name in sorted(generator_mine.keys() | generator_theirs.keys()):
            if generator_mine.get(name) != generator_theirs.get(name):
                differences.append(f"{role} generator {name}: {generator_mine.get(name)!r}")
        for name in FLOW_SETTINGS:
            if getattr(mine, name) != getattr(theirs, name):
                differences.append(f"{role} iterator {name}: {getattr(mine, name)!r}")
    return differences
