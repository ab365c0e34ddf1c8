"""Each variant's source of batches: ImageDataGenerator iterators, tf.data pipelines, one batch in memory.

Seeding follows the notebooks (``seed_everything``), which also turns on
TensorFlow's op determinism; that setting runs any ``tf.data`` map holding
stateful random ops on one thread, so the tf.data variants draw their random
numbers statelessly or augment inside the model.
"""

from __future__ import annotations

import contextlib
import io
import math
import time

from ..layout import CLASS_NAMES
from ..model import IMAGE_SIZE, INPUT_SHAPE
from ..pipeline import NOTES_AUGMENTATION, RESCALE, image_data_generator
from .machine import usable_cores
from .selection import BenchmarkData, decode_images
from .variants import COMPUTE, variant

WARMUP_STEPS = 3  # enough to build the training function and start the threads


def keras_augmentation(seed: int = 0):
    """The notes' augmentation as Keras layers, with ImageDataGenerator's ranges; rescales to [0, 1].

    ``shear_range`` is an angle in degrees; RandomShear takes the shear factor,
    the tangent of that angle. ``zoom_range`` 0.2 scales width and height
    independently by 0.8 to 1.2.
    """
    import keras
    from keras import layers

    shear = math.tan(math.radians(NOTES_AUGMENTATION["shear_range"]))
    zoom = NOTES_AUGMENTATION["zoom_range"]
    return keras.Sequential(
        [
            layers.Rescaling(RESCALE),
            layers.RandomFlip("horizontal", seed=seed),
            layers.RandomZoom(zoom, zoom, fill_mode="nearest", interpolation="nearest", seed=seed + 1),
            layers.RandomShear(x_factor=shear, fill_mode="nearest", interpolation="nearest", seed=seed + 2),
        ],
        name="augmentation",
    )


def zoom_and_flip(images, seeds, method: str = "nearest"):
    """The notes' zoom and horizontal flip in one resampling pass per image, rescaled to [0, 1].

    Each image is resized from a box 0.8 to 1.2 times its height and width
    (drawn independently, as ImageDataGenerator does) with
    ``tf.image.crop_and_resize``; a box whose left and right edges are swapped
    flips the image at no extra cost. ``seeds`` (shape (2,), int) makes the
    random draws stateless, so a parallel map stays parallel under op
    determinism. Compared with ImageDataGenerator: nearest-neighbour sampling
    (a third of the cost of bilinear), borders uncovered by zooming out are
    black rather than copies of the edge, and no shear (the notes' 0.2
    degrees moves the top and bottom rows by a quarter of a pixel, ``NOTES_SHEAR_PIXELS``, for a
    whole second pass).
    """
    import tensorflow as tf

    zoom = NOTES_AUGMENTATION["zoom_range"]
    count = tf.shape(images)[0]
    draws = tf.random.stateless_uniform((3, count), seed=seeds)
    half_height = (1 - zoom + 2 * zoom * draws[0]) / 2
    half_width = (1 - zoom + 2 * zoom * draws[1]) / 2 * tf.where(draws[2] < 0.5, -1.0, 1.0)
    boxes = tf.stack([0.5 - half_height, 0.5 - half_width, 0.5 + half_height, 0.5 + half_width], axis=1)
    return tf.image.crop_and_resize(images, boxes, tf.range(count), IMAGE_SIZE, method=method) * RESCALE


@contextlib.contextmanager
def _quiet_stdout():
    """flow_from_directory prints "Found N images belonging to 2 classes." for every iterator."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


class Feeds:
    """Each variant's source of batches over the same images, built once per batch size.

    Variants that differ only in a setting (an ImageDataGenerator iterator's
    ``workers``, its interpolation) share one iterator, and ``source`` applies
    the setting before each use.
    """

    def __init__(self, data: BenchmarkData, seed: int = 0, workers: int | None = None):
        self.data = data
        self.seed = seed
        self.workers = workers or max(2, usable_cores())
        self.decode_seconds: float | None = None
        self._decoded = None
        self._built: dict[tuple[str, int], object] = {}

    def decoded(self):
        """The images decoded once (timed the first time)."""
        if self._decoded is None:
            started = time.perf_counter()
            self._decoded = decode_images(self.data.files)
            self.decode_seconds = time.perf_counter() - started
        return self._decoded

    def augments_in_model(self, key: str) -> bool:
        return variant(key).feed in ("tfdata", "tfdata_cached")

    def warmup_steps(self, key: str) -> int | None:
        """Batches that warm a variant up: a whole epoch where a cache must fill, else a few."""
        return None if variant(key).feed in ("tfdata_cached", "tfdata_fast") else WARMUP_STEPS

    def source(self, key: str, batch_size: int):
        """One epoch of ``len(data)`` images in full batches, ready for ``model.fit``."""
        feed = variant(key).feed
        if feed == COMPUTE:
            return self._cached(("compute", batch_size), lambda: self._in_memory(batch_size))
        if feed.startswith("idg"):
            if feed.startswith("idg_decoded"):
                iterator = self._cached(("decoded", batch_size), lambda: self._decoded_flow(batch_size))
            else:
                iterator = self._cached(("directory", batch_size), lambda: self._directory_flow(batch_size))
            iterator.workers = 1 if feed in ("idg", "idg_decoded") else self.workers
            iterator.image_data_generator.interpolation_order = 0 if feed == "idg_decoded_nearest" else 1
            iterator.use_multiprocessing = feed == "idg_processes"
            return iterator
        return self._cached((feed, batch_size), lambda: self._tf_data(feed, batch_size))

    def release(self) -> None:
        """Forget the sources built so far (their memory), keeping the decoded images."""
        self._built.clear()

    def _cached(self, key, build):
        if key not in self._built:
            self._built[key] = build()
        return self._built[key]

    def _in_memory(self, batch_size: int):
        import tensorflow as tf

        generator = tf.random.Generator.from_seed(self.seed)
        images = generator.uniform((batch_size, *INPUT_SHAPE))
        labels = tf.cast(generator.uniform((batch_size,)) < 0.5, "float32")
        return tf.data.Dataset.from_tensors((images, labels)).repeat(len(self.data) // batch_size)

    def _directory_flow(self, batch_size: int):
        from ..blog_recipe import directory_flows

        notes_generator = image_data_generator(NOTES_AUGMENTATION)
        with _quiet_stdout():
            train, _ = directory_flows(
                self.data.root, batch_size=batch_size, seed=self.seed, train_generator=notes_generator
            )
        return train

    def _decoded_flow(self, batch_size: int):
        import numpy as np

        labels = np.asarray(self.data.labels, dtype="float32")
        return image_data_generator(NOTES_AUGMENTATION).flow(
            self.decoded(), labels, batch_size=batch_size, shuffle=True, seed=self.seed
        )

    def _tf_data(self, feed: str, batch_size: int):
        import keras
        import tensorflow as tf

        autotune = tf.data.AUTOTUNE
        cached = feed != "tfdata"
        images = keras.utils.image_dataset_from_directory(
            self.data.train_dir,
            label_mode="binary",
            class_names=list(CLASS_NAMES),
            batch_size=None,  # batched below, after the cache and the shuffle
            image_size=IMAGE_SIZE,
            interpolation="nearest",  # as ImageDataGenerator resizes
            shuffle=not cached,  # a cache would freeze this order: shuffled after the cache instead
            seed=self.seed,
            verbose=False,
        )
        images = images.map(
            lambda x, y: (tf.cast(x, tf.uint8), tf.squeeze(y, -1)), num_parallel_calls=autotune
        )
        if cached:
            images = images.cache().shuffle(len(self.data), seed=self.seed, reshuffle_each_iteration=True)
        batches = images.batch(batch_size, drop_remainder=True)
        if feed == "tfdata_fast":
            seeds = tf.data.Dataset.random(seed=self.seed, rerandomize_each_iteration=True).batch(2)
            batches = tf.data.Dataset.zip(batches, seeds).map(
                lambda batch, seed: (zoom_and_flip(batch[0], seed), batch[1]), num_parallel_calls=autotune
            )
        else:  # augmented inside the model
            batches = batches.map(lambda x, y: (tf.cast(x, tf.float32), y), num_parallel_calls=autotune)
        return batches.prefetch(autotune)
