"""Timing: the models a variant trains, one epoch of ``model.fit``, and each step of a pipeline alone."""

from __future__ import annotations

import contextlib
import io
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..model import IMAGE_SIZE, INPUT_SHAPE, seed_everything
from ..pipeline import NOTES_AUGMENTATION, image_data_generator
from .feeds import keras_augmentation, zoom_and_flip


@contextlib.contextmanager
def precision_policy(name: str):
    """Build models under a Keras dtype policy, then restore the previous one."""
    import keras

    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def training_model(precision: str = "float32", augment: bool = False, seed: int = 0):
    """The tutorial's CNN, compiled as the notebooks compile it; Keras augmentation layers first if asked."""
    import keras

    from ..blog_recipe import compile_cnn
    from ..cnn import build_cnn

    seed_everything(seed)
    with precision_policy(precision):
        model = build_cnn()
        if augment:
            model = keras.Sequential(
                [keras.Input(shape=INPUT_SHAPE), keras_augmentation(seed), model], name="augmented_cnn"
            )
        return compile_cnn(model)


def idle_model(augment: bool = False, seed: int = 0):
    """A model that does almost nothing (average each image, one weight), to time a pipeline alone."""
    import keras
    from keras import layers

    seed_everything(seed)
    model = keras.Sequential(
        [
            keras.Input(shape=INPUT_SHAPE),
            *([keras_augmentation(seed)] if augment else []),
            layers.GlobalAveragePooling2D(),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="idle",
    )
    model.compile(optimizer="rmsprop", loss="binary_crossentropy")
    return model


def time_epoch(model, source, steps: int | None = None) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one epoch of ``model.fit`` on ``source`` (``steps`` batches if given)."""
    import keras

    from ..epoch_timer import EpochTimer

    timer = EpochTimer(show=False)
    # fit shuffles a PyDataset's batch order by default, as in the notebooks; tf.data shuffles itself.
    shuffle = isinstance(source, keras.utils.PyDataset)
    model.fit(source, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=shuffle, callbacks=[timer])
    return timer.seconds, timer.cpu_seconds


@dataclass
class Timings:
    """The timed epochs of one variant at one batch size (the warm-up left out)."""

    images: int
    warmup_seconds: float = 0.0
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def record(self, wall: float, cpu: float, warmup: bool) -> None:
        if warmup:
            self.warmup_seconds = wall
        else:
            self.wall.append(wall)
            self.cpu.append(cpu)

    @property
    def rates(self) -> list[float]:
        return [self.images / seconds for seconds in self.wall]

    def summary(self) -> dict:
        return {
            "images_per_second": round(statistics.median(self.rates), 2),
            "repetitions": [round(rate, 2) for rate in self.rates],
            "cpu_ms_per_image": round(statistics.median(1000 * c / self.images for c in self.cpu), 3),
            "warmup_seconds": round(self.warmup_seconds, 3),  # a few batches, or an epoch to fill a cache
        }


def stage_costs(files: Sequence[Path], count: int = 32, seed: int = 0) -> dict[str, float]:
    """CPU milliseconds per image of each step a pipeline can take, one after another on ``count`` images.

    CPU time, not wall-clock time, so other programs running at the same time
    hardly change it. The Python steps run on this one thread; TensorFlow's
    steps run on a batch of ``count`` images, on as many threads as it likes,
    and are charged the CPU time of them all.
    """
    import keras
    import numpy as np
    import tensorflow as tf
    from PIL import Image

    chosen = list(files)[:count]
    costs: dict[str, float] = {}

    def charge(name: str, step: Callable, items: Sequence, clock=time.thread_time):
        step(items[0])  # the first call pays one-off costs (imports, tracing)
        started = clock()
        results = [step(item) for item in items]
        costs[name] = 1000 * (clock() - started) / len(items)
        return results

    contents = charge("read the file", lambda path: Path(path).read_bytes(), chosen)
    decoded = charge("decode the JPEG", lambda data: Image.open(io.BytesIO(data)).convert("RGB"), contents)
    resized = charge(
        "resize to 150 x 150 (nearest)", lambda image: image.resize(IMAGE_SIZE[::-1], Image.NEAREST), decoded
    )
    arrays = [keras.utils.img_to_array(image) for image in resized]
    np.random.seed(seed)
    for name, order in (("bilinear", 1), ("nearest", 0)):
        generator = image_data_generator(NOTES_AUGMENTATION, interpolation_order=order)
        charge(f"ImageDataGenerator's affine transform ({name})", generator.random_transform, arrays)

    batch = tf.constant(np.stack(arrays))
    layers = keras_augmentation(seed)
    in_graph = {
        "Keras augmentation layers": tf.function(lambda x: layers(x, training=True)),
        "one-pass zoom and flip (crop_and_resize)": tf.function(
            lambda x: zoom_and_flip(tf.cast(x, tf.uint8), tf.constant([seed, 0]))
        ),
    }
    for name, function in in_graph.items():
        charge(name, lambda x, f=function: f(x).numpy(), [batch] * 3, clock=time.process_time)
        costs[name] /= len(arrays)  # charged per batch: per image
    return costs
