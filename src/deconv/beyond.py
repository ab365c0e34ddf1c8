"""Notebook 08's recipes, the tested copy: Keras 3 input pipeline, optimiser, schedule, a modernised CNN.

Notebook 08 writes each piece out in the cell that teaches it and checks
it against this copy; ``scripts/beyond_study.py`` trains the same recipes
with more seeds and writes what it measured to ``results/beyond/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .model import IMAGE_SIZE, INPUT_SHAPE
from .scoreboard import Run

BATCH_SIZE = 32
# Epochs per training on real photos (8 to 12 minutes each on two cores); the sample is learnt in a few.
PHOTO_EPOCHS = 30
SAMPLE_EPOCHS = 3
# How much of BN's running mean and variance the last batch replaces is 1 - momentum. Keras' default,
# 0.99, needs a few hundred steps to forget the initial values; 0.9 (PyTorch's default) a few dozen,
# which suits 63 steps per epoch on photos and 13 on the sample.
BN_MOMENTUM = 0.9


# --- data -------------------------------------------------------------------------------


def image_datasets(root, image_size=IMAGE_SIZE, batch_size: int = BATCH_SIZE, seed: int = 0):
    """Training and validation sets as ``tf.data`` pipelines of raw RGB (0-255) images and 0/1 labels.

    Each image is decoded and resized once, kept in memory as uint8 (a
    quarter of float32's size), then reshuffled every epoch; ``prefetch``
    prepares the next batch while the model trains on this one.
    """
    import keras
    import tensorflow as tf

    def load(split: str):
        return keras.utils.image_dataset_from_directory(
            Path(root) / split,
            label_mode="binary",
            image_size=image_size,
            batch_size=None,  # batch after caching and shuffling
            shuffle=False,
            verbose=False,
        ).map(lambda image, label: (tf.cast(image, tf.uint8), label))

    train = load("train").cache()
    count = int(train.cardinality())
    train = train.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    validation = load("validation").cache()
    return (
        train.batch(batch_size).prefetch(tf.data.AUTOTUNE),
        validation.batch(batch_size).prefetch(tf.data.AUTOTUNE),
    )


# --- augmentation ---------------------------------------------------------------------


def blog_augmentation(seed: int = 0):
    """The Keras blog's ImageDataGenerator augmentation as layers: shear 0.2 rad, zoom 0.2, flips."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            # shear_range=0.2 radians is a shear of tan(0.2) = 0.20 of the width.
            layers.RandomShear(x_factor=0.2, fill_mode="nearest", seed=seed),
            layers.RandomZoom(0.2, fill_mode="nearest", seed=seed),
            layers.RandomFlip("horizontal", seed=seed),
        ],
        name="augmentation",
    )


def richer_augmentation(seed: int = 0):
    """More kinds of change per photo: small rotations, shifts and contrast on top of the blog's."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomRotation(0.05, fill_mode="nearest", seed=seed),  # +-18 degrees
            layers.RandomTranslation(0.1, 0.1, fill_mode="nearest", seed=seed),
            layers.RandomZoom(0.2, fill_mode="nearest", seed=seed),
            layers.RandomContrast(0.2, seed=seed),
        ],
        name="augmentation",
    )


AUGMENTATIONS = {"blog": blog_augmentation, "richer": richer_augmentation}


# --- networks ---------------------------------------------------------------------------


def blog_network(augmentation, input_shape=INPUT_SHAPE):
    """The blog's CNN (notebook 02) behind the augmentation and a Rescaling layer: raw pixels in."""
    import keras
    from keras import layers

    from .model import build_cnn

    inputs = keras.Input(shape=input_shape, name="rgb_0_255")
    x = augmentation(inputs)
    x = layers.Rescaling(1 / 255, name="rescaling")(x)
    outputs = build_cnn(input_shape)(x)
    return keras.Model(inputs, outputs, name="blog_cnn")


def conv_bn_relu(x, filters: int, name: str):
    """3x3 convolution, batch normalisation, ReLU: the bias is left out as BN's shift replaces it."""
    from keras import layers

    x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def modern_network(augmentation, input_shape=INPUT_SHAPE, widths=(32, 64, 128, 192), dropout_rate=0.3):
    """The same kind of small CNN, modernised: strided stem, BN after each convolution, residual block, GAP.

    A 3x3 convolution with stride 2 halves the photo at once (the cheapest
    place to save time); four stages of convolution + BN + ReLU + 2x2
    pooling; one residual block (two convolutions whose input is added back
    to their output); global average pooling instead of Flatten; dropout and
    one sigmoid unit, kept in float32 when the rest computes in bfloat16.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=input_shape, name="rgb_0_255")
    x = augmentation(inputs)
    x = layers.Rescaling(1 / 255, name="rescaling")(x)
    x = layers.Conv2D(widths[0], 3, strides=2, padding="same", use_bias=False, name="stem_conv")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="stem_bn")(x)
    x = layers.Activation("relu", name="stem_relu")(x)
    for stage, filters in enumerate(widths, start=1):
        x = conv_bn_relu(x, filters, f"stage{stage}")
        x = layers.MaxPooling2D(2, name=f"stage{stage}_pool")(x)
    shortcut = x
    x = conv_bn_relu(x, widths[-1], "residual_a")
    x = conv_bn_relu(x, widths[-1], "residual_b")
    x = layers.Add(name="residual_add")([shortcut, x])
    x = layers.GlobalAveragePooling2D(name="global_average")(x)
    x = layers.Dropout(dropout_rate, name="dropout")(x)
    outputs = layers.Dense(1, activation="sigmoid", dtype="float32", name="p_dog")(x)
    return keras.Model(inputs, outputs, name="modern_cnn")


NETWORKS = {"blog": blog_network, "modern": modern_network}


# --- optimiser and schedule -------------------------------------------------------------


def warmup_cosine(peak: float, total_steps: int, warmup_steps: int):
    """Learning rate rising linearly to ``peak`` over the warm-up, then falling to 0 along a cosine."""
    import keras

    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0,
        decay_steps=max(total_steps - warmup_steps, 1),
        warmup_target=peak,
        warmup_steps=warmup_steps,
    )


@dataclass(frozen=True)
class Recipe:
    """Everything that decides one training, so a recipe can be rebuilt from its name."""

    name: str
    network: str = "blog"  # a key of NETWORKS
    augmentation: str = "blog"  # a key of AUGMENTATIONS
    optimizer: str = "rmsprop"  # rmsprop (the blog's, constant 1e-3) or adamw (warm-up + cosine)
    label_smoothing: float = 0.0
    precision: str = "float32"  # or "mixed_bfloat16": compute in bfloat16, keep the weights in float32
    peak_learning_rate: float = 1e-3
    weight_decay: float = 0.004  # Keras' default for AdamW
    warmup_epochs: int = 2
    description: str = ""


_BETTER = {"optimizer": "adamw", "label_smoothing": 0.1, "augmentation": "richer"}
# Each step changes one thing from the one before it.
RECIPES = {
    recipe.name: recipe
    for recipe in (
        Recipe("blog", description="the blog's network and augmentation, as layers; RMSprop"),
        Recipe("adamw", optimizer="adamw", description="+ AdamW, warm-up and cosine decay"),
        Recipe("smoothing", optimizer="adamw", label_smoothing=0.1, description="+ label smoothing 0.1"),
        Recipe("richer", **_BETTER, description="+ rotations, shifts and contrast"),
        Recipe("modern", network="modern", **_BETTER, description="the modernised network"),
        Recipe(
            "modern_bf16",
            network="modern",
            precision="mixed_bfloat16",
            **_BETTER,
            description="the modernised network in bfloat16",
        ),
    )
}


def build_recipe(recipe: Recipe, epochs: int, steps_per_epoch: int, seed: int = 0):
    """The compiled model a recipe trains (under the current distribution strategy and precision)."""
    import keras

    model = NETWORKS[recipe.network](AUGMENTATIONS[recipe.augmentation](seed))
    if recipe.optimizer == "rmsprop":
        optimizer = keras.optimizers.RMSprop(learning_rate=recipe.peak_learning_rate)
    else:
        schedule = warmup_cosine(
            recipe.peak_learning_rate, epochs * steps_per_epoch, recipe.warmup_epochs * steps_per_epoch
        )
        optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=recipe.weight_decay)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.BinaryCrossentropy(label_smoothing=recipe.label_smoothing),
        metrics=[keras.metrics.BinaryAccuracy(name="accuracy")],
    )
    return model


def distribution_strategy(devices=None):
    """MirroredStrategy over ``devices``, or over every GPU when there are two or more; else the default.

    The default strategy places everything on the one device there is and
    adds nothing; code written inside ``strategy.scope()`` runs unchanged on
    all three.
    """
    import tensorflow as tf

    if devices:
        return tf.distribute.MirroredStrategy(devices)
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


# --- measuring a run ----------------------------------------------------------------------


def history_run(recipe: str, seed: int, model, history) -> Run:
    """A Run from the history of ``model.fit`` with an EpochTimer (which adds each epoch's seconds)."""
    accuracy = [round(float(value), 4) for value in history.history["val_accuracy"]]
    return Run(recipe, seed, len(accuracy), model.count_params(), accuracy, history.history["seconds"])


def tta_accuracy(model, validation) -> float:
    """Validation accuracy when each prediction averages the photo and its mirror image."""
    import numpy as np

    correct = total = 0
    for images, labels in validation:
        p = (model(images, training=False) + model(images[:, :, ::-1, :], training=False)) / 2
        correct += int(np.sum((np.asarray(p) > 0.5) == (np.asarray(labels) > 0.5)))
        total += len(labels)
    return round(correct / total, 4)


def train_recipe(recipe: Recipe, root, epochs: int, seed: int = 0, show: bool = True, strategy=None):
    """Train one recipe from scratch; returns the model and its Run (with the TTA accuracy)."""
    import keras

    from . import training
    from .model import seed_everything

    seed_everything(seed)
    strategy = strategy or distribution_strategy()
    train, validation = image_datasets(root, seed=seed)
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(recipe.precision)
    try:
        with strategy.scope():
            model = build_recipe(recipe, epochs, int(train.cardinality()), seed)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    history = model.fit(
        train,
        validation_data=validation,
        epochs=epochs,
        callbacks=[training.EpochTimer(show)],
        verbose=0,
        shuffle=False,  # the dataset reshuffles itself every epoch
    )
    run = history_run(recipe.name, seed, model, history)
    run.tta_accuracy = tta_accuracy(model, validation)
    return model, run


def epochs_for_data(dataset_kind: str) -> int:
    return SAMPLE_EPOCHS if dataset_kind == "sample" else PHOTO_EPOCHS


# --- checking a notebook's copy against this one ---------------------------------------


def architecture(model) -> list[tuple[str, dict]]:
    """Every layer, nested models opened, as (class, settings but the name): two builds compare equal."""
    described = []
    for layer in model.layers:
        if hasattr(layer, "layers"):  # a nested model: its own layers count, not the container
            described += architecture(layer)
            continue
        config = {key: value for key, value in layer.get_config().items() if key != "name"}
        described.append((type(layer).__name__, config))
    return described


def training_setup(model) -> dict:
    """The optimiser (with its schedule) and the loss a compiled model trains with."""
    import keras

    optimizer = model.optimizer.get_config()
    optimizer.pop("name", None)
    return {
        "optimizer": (type(model.optimizer).__name__, optimizer),
        "loss": keras.losses.serialize(model.loss),
    }
