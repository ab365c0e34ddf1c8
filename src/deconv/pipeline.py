"""The tutorial's input pipeline: ImageDataGenerator with the source notes' settings.

Keras 3 keeps ImageDataGenerator only as a deprecated legacy class, reachable
as ``tf.keras.preprocessing.image.ImageDataGenerator``; ``from
keras.preprocessing.image import ImageDataGenerator`` fails there.
"""

from __future__ import annotations

from pathlib import Path

from .model import IMAGE_SIZE

# The notes' augmentation. shear_range is in degrees (Keras >= 2.1.3), so 0.2
# is a 0.2 degree shear: nearly nothing. Notebook 03 shows it.
NOTES_AUGMENTATION = {"shear_range": 0.2, "zoom_range": 0.2, "horizontal_flip": True}
RESCALE = 1 / 255


def image_data_generator(augment: bool = False, **settings):
    """An ImageDataGenerator that rescales to [0, 1], with the notes' augmentation if asked."""
    import tensorflow as tf

    options = {"rescale": RESCALE, **(NOTES_AUGMENTATION if augment else {}), **settings}
    return tf.keras.preprocessing.image.ImageDataGenerator(**options)


def directory_flows(root: Path | str, batch_size: int = 16, seed: int = 0, workers: int = 1):
    """Training (augmented, shuffled) and validation (rescaled only, in file order) iterators.

    Validation keeps file order so predictions line up with ``.classes`` and
    ``.filenames``. ``workers`` > 1 loads batches in threads while the model trains.
    """
    root = Path(root)
    common = {"target_size": IMAGE_SIZE, "batch_size": batch_size, "class_mode": "binary", "seed": seed}
    train = image_data_generator(augment=True).flow_from_directory(root / "train", **common)
    validation = image_data_generator().flow_from_directory(root / "validation", shuffle=False, **common)
    for iterator in (train, validation):
        iterator.workers = workers
    return train, validation
