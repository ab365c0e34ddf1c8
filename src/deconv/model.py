"""What every training shares: the input size and seeding.

The network itself is notebook 02's ``build_cnn``, exported into
``deconv.cnn``; this module imports no Keras, so the command-line scripts
can check their arguments before TensorFlow loads.
"""

from __future__ import annotations

IMAGE_SIZE = (150, 150)
INPUT_SHAPE = (*IMAGE_SIZE, 3)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and make TF ops deterministic.

    ImageDataGenerator draws its augmentation from NumPy's global generator,
    which ``keras.utils.set_random_seed`` seeds too.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
