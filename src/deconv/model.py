"""The tutorial's CNN, defined once (the Keras blog's small convnet).

Three stages of 3x3 convolution (32, 32, 64 filters) + ReLU + 2x2 max
pooling, then flatten, dense 64 + ReLU, dropout 0.5, dense 1 + sigmoid.
The source notes end in ReLU; a sigmoid is what makes the output a
probability that binary cross-entropy can score.
"""

from __future__ import annotations

IMAGE_SIZE = (150, 150)
INPUT_SHAPE = (*IMAGE_SIZE, 3)


def build_cnn(input_shape=INPUT_SHAPE, output_activation: str = "sigmoid", dropout_rate: float = 0.5):
    """Return the uncompiled CNN; layers are separate so each can be inspected.

    Notebook 02 writes the same network out layer by layer and checks that
    the two agree. ``dropout_rate=0`` keeps the dropout layer but makes it
    pass everything (notebook 04's ablation).
    """
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(32, (3, 3), name="conv1"),
            layers.Activation("relu", name="relu1"),
            layers.MaxPooling2D((2, 2), name="pool1"),
            layers.Conv2D(32, (3, 3), name="conv2"),
            layers.Activation("relu", name="relu2"),
            layers.MaxPooling2D((2, 2), name="pool2"),
            layers.Conv2D(64, (3, 3), name="conv3"),
            layers.Activation("relu", name="relu3"),
            layers.MaxPooling2D((2, 2), name="pool3"),
            layers.Flatten(name="flatten"),
            layers.Dense(64, name="dense1"),
            layers.Activation("relu", name="relu4"),
            layers.Dropout(dropout_rate, name="dropout"),
            layers.Dense(1, name="dense2"),
            layers.Activation(output_activation, name="output"),
        ],
        name="cats_vs_dogs_cnn",
    )


def compile_cnn(model, learning_rate: float = 1e-3):
    """Compile as the Keras blog did: RMSprop, binary cross-entropy, accuracy."""
    import keras

    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and make TF ops deterministic.

    ImageDataGenerator draws its augmentation from NumPy's global generator,
    which ``keras.utils.set_random_seed`` seeds too.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
