"""The tutorial's input pipeline: ImageDataGenerator, with the source notes' settings and the ones they meant.

Keras 3 keeps ImageDataGenerator only as a deprecated legacy class, reachable
as ``tf.keras.preprocessing.image.ImageDataGenerator``; ``from
keras.preprocessing.image import ImageDataGenerator`` fails there.
"""

from __future__ import annotations

import math

# The notes' augmentation as they wrote it, from notebook 03. shear_range is in degrees
# (Keras >= 2.1.3), so 0.2 is a 0.2 degree shear: nearly nothing. Notebook 03 shows it.
from .notes_augmentation import NOTES_AUGMENTATION

# As they meant it: 0.2 radians, written in the degrees Keras reads (11.46).
# Notebook 04 trains with this.
INTENDED_AUGMENTATION = {**NOTES_AUGMENTATION, "shear_range": round(math.degrees(0.2), 2)}
RESCALE = 1 / 255


def image_data_generator(augmentation: dict | None = None, **settings):
    """An ImageDataGenerator that rescales to [0, 1], with ``augmentation`` (a dict above) if given."""
    import tensorflow as tf

    options = {"rescale": RESCALE, **(augmentation or {}), **settings}
    return tf.keras.preprocessing.image.ImageDataGenerator(**options)
