"""Where training time goes: how fast each input pipeline feeds the tutorial's CNN.

The measuring code ``scripts/benchmark.py`` and notebook 07 share. Every
figure is images per second through ``model.fit``, one epoch at a time:

- *training*: the tutorial's CNN fed by the pipeline, against the *compute
  limit*, the same training steps on a batch already in memory;
- *pipeline alone*: the same pipeline feeding a model that does almost nothing,
  which shows how fast it could deliver images if training cost nothing.

All variants read the same images: a seeded selection of the training set,
linked into a temporary folder so that ``flow_from_directory`` and
``image_dataset_from_directory`` see exactly those files, in full batches. A
warm-up per variant (a few batches to build the training function and start
threads; a whole epoch where a cache must fill) is not timed. Then the
variants take turns, one epoch each, for several rounds: a
machine that gets busier or quieter during the run affects every variant
alike. A variant's images per second is the median over the rounds; its ratio
to the compute limit is the median of the ratios within each round.

Seeding follows the notebooks (``seed_everything``), which also turns on
TensorFlow's op determinism; that setting runs any ``tf.data`` map holding
stateful random ops on one thread, so the tf.data variants draw their random
numbers statelessly or augment inside the model.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .layout import CLASS_NAMES
from .model import IMAGE_SIZE, INPUT_SHAPE, build_cnn, compile_cnn, seed_everything
from .pipeline import NOTES_AUGMENTATION, RESCALE, directory_flows, image_data_generator

# Suffixes both flow_from_directory and image_dataset_from_directory read.
READABLE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp"})
BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # x86 instructions that make bfloat16 fast on a CPU
COMPUTE = "compute"
WARMUP_STEPS = 3  # enough to build the training function and start the threads
BFLOAT16 = "mixed_bfloat16"
# The goals, as ratios to the compute limit on a 2-core CPU.
GOALS = {"ImageDataGenerator": 0.80, "fastest pipeline": 0.95}
BLOG_TRAINING_IMAGES = 2000  # the Keras blog's training set, which it trained at 300-400 s per epoch


@dataclass(frozen=True)
class Variant:
    """One way of feeding the CNN, and what it changes about what the model learns."""

    key: str
    label: str
    what: str
    accuracy: str
    precision: str = "float32"

    @property
    def feed(self) -> str:
        """The pipeline, whatever the precision: 'idg_decoded_threads' for 'idg_decoded_threads_bf16'."""
        return self.key.removesuffix("_bf16")


SAME_AS_IDG = "none: the same pixels and the same random transforms"
KERAS_LAYERS = (
    "small, not measured: Keras' RandomZoom and RandomShear draw the same ranges as ImageDataGenerator "
    "and resize the same way (nearest), but differ in detail (edge filling, sampling)"
)
BF16_COST = (
    "not measured here; expected within run-to-run noise: weights, their updates and the loss stay "
    "float32, only the layers' arithmetic keeps 8 significant bits (2-3 decimal digits)"
)

VARIANTS = (
    Variant(
        COMPUTE,
        "compute limit",
        "the same training steps on one batch already in memory: nothing read, decoded or augmented",
        "none: it trains on nothing real; it is the ceiling every pipeline is measured against",
    ),
    Variant(
        "idg",
        "ImageDataGenerator, 1 worker (the notes)",
        "flow_from_directory with the notes' augmentation and Keras' default of one worker, as the notes "
        "use it: every epoch decodes each JPEG, resizes it, and applies the affine transform in SciPy",
        "the reference",
    ),
    Variant(
        "idg_threads",
        "ImageDataGenerator, N threads",
        "the same iterator with .workers above 1: Keras fills a queue of batches from that many threads",
        "none in expectation; the threads draw from NumPy's one random generator in no fixed order, so "
        "a seeded run is no longer repeatable bit for bit",
    ),
    Variant(
        "idg_processes",
        "ImageDataGenerator, N processes",
        "the same iterator with .workers above 1 and .use_multiprocessing = True: no shared GIL, but "
        "every batch is pickled from a worker process to the trainer",
        "none in expectation; Keras reseeds NumPy in each worker process, so runs are not repeatable",
    ),
    Variant(
        "idg_decoded",
        "ImageDataGenerator, decoded once",
        "every image decoded and resized once into memory (uint8), then ImageDataGenerator.flow with "
        "the same augmentation: each epoch only augments",
        SAME_AS_IDG + "; costs memory (the flow keeps a float32 copy, 270 kB per image) and one "
        "decoding pass before training",
    ),
    Variant(
        "idg_decoded_threads",
        "ImageDataGenerator, decoded once, N threads",
        "decoded once, and the flow's .workers above 1, as with threads",
        "as decoded once; and, as with threads, runs are not repeatable bit for bit",
    ),
    Variant(
        "idg_decoded_nearest",
        "ImageDataGenerator, decoded once, N threads, nearest",
        "decoded once, worker threads, and interpolation_order=0: the zoom and shear take the nearest "
        "pixel instead of blending four (SciPy's cheapest path)",
        "small, not measured: slightly blockier zooms; the images were resized from the JPEG with "
        "nearest-neighbour sampling already",
    ),
    Variant(
        "tfdata",
        "tf.data, Keras layers in the model",
        "image_dataset_from_directory (decoding in parallel C++ threads) with prefetch; Rescaling, "
        "RandomFlip, RandomZoom and RandomShear as the model's first layers",
        KERAS_LAYERS,
    ),
    Variant(
        "tfdata_cached",
        "tf.data cached, Keras layers in the model",
        "image_dataset_from_directory with the decoded images cached in memory as uint8 after the first "
        "epoch (67.5 kB each), and prefetch; the Keras augmentation layers first in the model: each "
        "epoch only augments",
        KERAS_LAYERS,
    ),
    Variant(
        "tfdata_fast",
        "tf.data cached, one-pass zoom and flip",
        "cached and prefetched as above; zoom and flip in one nearest-neighbour crop_and_resize per "
        "image, in a parallel map with stateless random numbers; the notes' 0.2 degree shear left out",
        "small, not measured: no shear (0.2 degrees moves the image's edge by half a pixel), "
        "nearest-neighbour zooms, and borders uncovered by zooming out are black rather than copies of "
        "the edge",
    ),
    Variant(
        "compute_bf16",
        "compute limit, bfloat16",
        "the compute limit with Keras' mixed_bfloat16 policy: weights stay float32, the layers compute "
        "in bfloat16 (fast only on CPUs with AVX512-BF16 or AMX)",
        "none: it trains on nothing real",
        precision=BFLOAT16,
    ),
    Variant(
        "idg_decoded_threads_bf16",
        "ImageDataGenerator, decoded once, N threads, bfloat16",
        "the fastest ImageDataGenerator setting, training in mixed_bfloat16",
        BF16_COST,
        precision=BFLOAT16,
    ),
    Variant(
        "tfdata_fast_bf16",
        "tf.data cached, one-pass zoom and flip, bfloat16",
        "the one-pass tf.data pipeline, training in mixed_bfloat16",
        "that of the one-pass pipeline and of bfloat16: " + BF16_COST,
        precision=BFLOAT16,
    ),
)
VARIANT_KEYS = tuple(v.key for v in VARIANTS)
# The notebook's short run: one of each kind of pipeline, no bfloat16 pipelines, no processes.
NOTEBOOK_VARIANTS = (
    "compute",
    "idg",
    "idg_threads",
    "idg_decoded",
    "idg_decoded_threads",
    "tfdata_cached",
    "tfdata_fast",
    "compute_bf16",
)


def variant(key: str) -> Variant:
    for candidate in VARIANTS:
        if candidate.key == key:
            return candidate
    raise KeyError(f"unknown variant {key!r}; choose from {', '.join(VARIANT_KEYS)}")


# ---------------------------------------------------------------- the machine


def cpu_flags() -> set[str]:
    """The CPU's feature flags from /proc/cpuinfo (empty where there is none, e.g. macOS)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.partition(":")[2].split())
    return set()


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or platform.machine() or "unknown"


def usable_cores() -> int:
    """Cores this process may run on (a container or taskset can allow fewer than the machine has)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def bfloat16_support() -> tuple[bool, str]:
    """Whether the CPU computes bfloat16 natively, and how we know.

    Without such instructions TensorFlow emulates bfloat16, slower than
    float32, so the bfloat16 variants are skipped there.
    """
    flags = cpu_flags()
    found = [flag for flag in BF16_FLAGS if flag in flags]
    if found:
        return True, f"the CPU has {' and '.join(found)}"
    if "bf16" in flags:  # Arm, e.g. Graviton 3
        return True, "the CPU has Arm's bf16 extension"
    return False, f"the CPU lists neither {' nor '.join(BF16_FLAGS)} (or /proc/cpuinfo is not readable)"


def machine_info() -> dict:
    from .environment import library_versions

    supported, why = bfloat16_support()
    return {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cores": usable_cores(),
        "platform": platform.platform(),
        "bfloat16": {"supported": supported, "why": why},
        "versions": library_versions(),
    }


# ---------------------------------------------------------------- the images


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
        found += [
            (path, label)
            for path in sorted((train / name).rglob("*"))
            if path.is_file() and path.suffix.lower() in READABLE_SUFFIXES
        ]
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


# ---------------------------------------------------------------- augmentation without ImageDataGenerator


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
    degrees moves the image's edge by half a pixel, for a whole second pass).
    """
    import tensorflow as tf

    zoom = NOTES_AUGMENTATION["zoom_range"]
    count = tf.shape(images)[0]
    draws = tf.random.stateless_uniform((3, count), seed=seeds)
    half_height = (1 - zoom + 2 * zoom * draws[0]) / 2
    half_width = (1 - zoom + 2 * zoom * draws[1]) / 2 * tf.where(draws[2] < 0.5, -1.0, 1.0)
    boxes = tf.stack([0.5 - half_height, 0.5 - half_width, 0.5 + half_height, 0.5 + half_width], axis=1)
    return tf.image.crop_and_resize(images, boxes, tf.range(count), IMAGE_SIZE, method=method) * RESCALE


# ---------------------------------------------------------------- the cost of each step


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


# ---------------------------------------------------------------- the pipelines


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
        with _quiet_stdout():
            train, _ = directory_flows(
                self.data.root, batch_size=batch_size, seed=self.seed, augmentation=NOTES_AUGMENTATION
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


# ---------------------------------------------------------------- models


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


# ---------------------------------------------------------------- measuring


def _epoch_clock():
    import keras

    class EpochClock(keras.callbacks.Callback):
        """Wall-clock and CPU seconds of the last epoch (this process, all threads)."""

        def on_epoch_begin(self, epoch, logs=None):
            self.started = (time.perf_counter(), time.process_time())

        def on_epoch_end(self, epoch, logs=None):
            self.wall = time.perf_counter() - self.started[0]
            self.cpu = time.process_time() - self.started[1]

    return EpochClock()


def time_epoch(model, source, steps: int | None = None) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one epoch of ``model.fit`` on ``source`` (``steps`` batches if given)."""
    import keras

    clock = _epoch_clock()
    # fit shuffles a PyDataset's batch order by default, as in the notebooks; tf.data shuffles itself.
    shuffle = isinstance(source, keras.utils.PyDataset)
    model.fit(source, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=shuffle, callbacks=[clock])
    return clock.wall, clock.cpu


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
            "warmup_seconds": round(
                self.warmup_seconds, 3
            ),  # a few batches, or a whole epoch to fill a cache
        }


@dataclass
class Benchmark:
    """One run's settings, and everything it measured."""

    batch_sizes: Sequence[int] = (16, 32)
    repeats: int = 3
    images: int | None = 640
    variants: Sequence[str] = VARIANT_KEYS
    workers: int | None = None
    seed: int = 0
    pipeline_alone: bool = True
    stages: bool = True  # also time each step of a pipeline on its own (a few seconds)
    rows: list[dict] = field(default_factory=list)
    stage_costs: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)

    def selected(self) -> list[Variant]:
        """The variants to measure, in table order, the compute limit always first."""
        unknown = sorted(set(self.variants) - set(VARIANT_KEYS))
        if unknown:
            raise KeyError(f"unknown variants {', '.join(unknown)}; choose from {', '.join(VARIANT_KEYS)}")
        wanted = {COMPUTE, *self.variants}
        supported, why = bfloat16_support()
        chosen = []
        for item in VARIANTS:
            if item.key not in wanted:
                continue
            if item.precision == BFLOAT16 and not supported:
                self.skipped[item.key] = f"bfloat16 would be emulated, slower than float32: {why}"
            else:
                chosen.append(item)
        return chosen

    def run(self, dataset_root: Path | str, log: Callable[[str], None] = print) -> dict:
        """Measure every selected variant at every batch size on ``dataset_root``; return the report."""
        if self.repeats < 1 or not self.batch_sizes or min(self.batch_sizes) < 1:
            raise ValueError("need at least one repetition and positive batch sizes")
        chosen = self.selected()
        started = time.perf_counter()
        with benchmark_data(dataset_root, self.images, self.batch_sizes, self.seed) as data:
            feeds = Feeds(data, seed=self.seed, workers=self.workers)
            log(
                f"{len(data)} training images per epoch (of {data.available}); batch sizes "
                f"{', '.join(map(str, self.batch_sizes))}; {self.repeats} timed epochs per variant after "
                f"a warm-up; N = {feeds.workers} workers."
            )
            if any(item.feed.startswith("idg_decoded") for item in chosen):
                feeds.decoded()
                log(f"Decoded the {len(data)} images once in {feeds.decode_seconds:.1f} s.")
            if self.stages:
                seed_everything(self.seed)
                self.stage_costs = stage_costs(data.files, seed=self.seed)
            for batch_size in self.batch_sizes:
                self._measure_batch_size(chosen, feeds, batch_size, len(data), log)
                feeds.release()
        return self.report(data, feeds, dataset_root, time.perf_counter() - started)

    def _measure_batch_size(self, chosen, feeds: Feeds, batch_size: int, images: int, log) -> None:
        models, idle_models = {}, {}
        training = {item.key: Timings(images) for item in chosen}
        alone = {item.key: Timings(images) for item in chosen if self._alone(item)}

        def model_for(item):
            kind = (item.precision, feeds.augments_in_model(item.key))
            if kind not in models:
                models[kind] = training_model(kind[0], augment=kind[1], seed=self.seed)
            return models[kind]

        def idle_for(item):
            augment = feeds.augments_in_model(item.key)
            if augment not in idle_models:
                idle_models[augment] = idle_model(augment=augment, seed=self.seed)
            return idle_models[augment]

        log(f"Batch size {batch_size}: warming up {len(chosen)} variants...")
        for round_number in range(1 + self.repeats):
            warmup = round_number == 0
            for item in chosen:
                source = feeds.source(item.key, batch_size)
                runs = [(training[item.key], model_for(item))]
                if item.key in alone:
                    runs.append((alone[item.key], idle_for(item)))
                for timings, model in runs:
                    wall, cpu = time_epoch(model, source, feeds.warmup_steps(item.key) if warmup else None)
                    timings.record(wall, cpu, warmup)
            if round_number:
                log(f"  round {round_number} of {self.repeats} done")

        limit = training[COMPUTE].rates
        for item in chosen:
            ratios = [
                rate / reference for rate, reference in zip(training[item.key].rates, limit, strict=True)
            ]
            row = {
                "variant": item.key,
                "label": item.label.replace(" N ", f" {feeds.workers} "),
                "precision": item.precision,
                "batch_size": batch_size,
                **training[item.key].summary(),
                "ratio_to_compute_limit": round(statistics.median(ratios), 3),
                "pipeline_alone": alone[item.key].summary() if item.key in alone else None,
            }
            self.rows.append(row)
            log(progress_line(row))

    def _alone(self, item: Variant) -> bool:
        return self.pipeline_alone and not item.key.startswith(COMPUTE)

    def report(self, data: BenchmarkData, feeds: Feeds, dataset_root, seconds: float) -> dict:
        import tensorflow as tf

        return {
            "machine": machine_info(),
            "settings": {
                "data": str(dataset_root),
                "images_per_epoch": len(data),
                "training_images_available": data.available,
                "image_limit": self.images,
                "batch_sizes": list(self.batch_sizes),
                "repeats": self.repeats,
                "workers": feeds.workers,
                "seed": self.seed,
                "op_determinism": True,  # seed_everything, as in the notebooks
                "tf_threads": {
                    "intra_op": tf.config.threading.get_intra_op_parallelism_threads(),
                    "inter_op": tf.config.threading.get_inter_op_parallelism_threads(),
                },
                "cpu_ms_per_image": (
                    "CPU time of this process's threads per image; the worker processes of "
                    "idg_processes are not counted"
                ),
                "method": (
                    "an untimed warm-up per variant (a few batches; a whole epoch where a cache fills), "
                    "then the variants take turns, one epoch each, "
                    "for `repeats` rounds; images/s is the median over rounds, the ratio the median of "
                    "each round's ratio to that round's compute limit (same batch size)"
                ),
            },
            "decode_once_seconds": None if feeds.decode_seconds is None else round(feeds.decode_seconds, 3),
            "stage_cpu_ms_per_image": {name: round(ms, 3) for name, ms in self.stage_costs.items()},
            "seconds": round(seconds, 1),
            "variants": {
                item.key: {"label": item.label, "what": item.what, "accuracy": item.accuracy}
                for item in VARIANTS
            },
            "results": self.rows,
            "skipped": self.skipped,
        }


def progress_line(row: dict) -> str:
    alone = row["pipeline_alone"]
    alone_text = f"; pipeline alone {alone['images_per_second']:.0f}" if alone else ""
    return (
        f"  batch {row['batch_size']:>3}  {row['label']:<52} {row['images_per_second']:7.1f} images/s, "
        f"{row['ratio_to_compute_limit']:.2f} of the compute limit{alone_text}"
    )


# ---------------------------------------------------------------- reporting


def format_table(report: dict) -> str:
    """The results as a plain-text table: one row per variant and batch size."""
    header = ("variant", "batch", "images/s", "ratio", "pipeline alone, images/s")
    lines = []
    for row in report["results"]:
        alone = row["pipeline_alone"]
        lines.append(
            (
                row["label"],
                str(row["batch_size"]),
                f"{row['images_per_second']:.1f}",
                f"{row['ratio_to_compute_limit']:.2f}",
                f"{alone['images_per_second']:.1f}" if alone else "-",
            )
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]

    def render(cells):
        first, *rest = cells
        return "  ".join(
            [first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))]
        )

    return "\n".join([render(header), "  ".join("-" * w for w in widths), *map(render, lines)])


def format_stages(report: dict) -> str:
    """Each step's CPU milliseconds per image, beside the compute limit's, as plain text."""
    costs = dict(report.get("stage_cpu_ms_per_image") or {})
    for row in report["results"]:
        if row["variant"] == COMPUTE:
            costs[f"training step, batch {row['batch_size']} (compute limit, all threads)"] = row[
                "cpu_ms_per_image"
            ]
    width = max(map(len, costs), default=0)
    return "\n".join(f"{name:<{width}}  {ms:6.2f} ms" for name, ms in costs.items())


def seconds_per_epoch(images_per_second: float, images: int = BLOG_TRAINING_IMAGES) -> float:
    return images / images_per_second


def _best(rows: list[dict]) -> dict | None:
    return max(rows, key=lambda row: row["ratio_to_compute_limit"], default=None)


def _verdict(ratio: float, goal: float) -> str:
    return f"goal {goal:.2f} {'reached' if ratio >= goal else 'not reached'}"


def summary_lines(report: dict) -> list[str]:
    """The closing note: per batch size, the compute limit and the ratios that matter, against the goals."""
    lines = []
    for batch_size in report["settings"]["batch_sizes"]:
        rows = [row for row in report["results"] if row["batch_size"] == batch_size]
        by_key = {row["variant"]: row for row in rows}
        limit = by_key[COMPUTE]["images_per_second"]
        pipelines = [row for row in rows if row["precision"] == "float32" and row["variant"] != COMPUTE]
        lines.append(
            f"Batch size {batch_size}: the compute limit is {limit:.0f} images/s, "
            f"{seconds_per_epoch(limit):.0f} s per epoch of {BLOG_TRAINING_IMAGES:,} images "
            "(the Keras blog quoted 300-400 s per epoch on a CPU)."
        )
        if "idg" in by_key:
            row = by_key["idg"]
            lines.append(
                f"  ImageDataGenerator as in the notes (1 worker): {row['ratio_to_compute_limit']:.2f} of "
                f"the limit, {seconds_per_epoch(row['images_per_second']):.0f} s per epoch of "
                f"{BLOG_TRAINING_IMAGES:,}."
            )
        best_idg = _best([row for row in pipelines if row["variant"].startswith("idg")])
        if best_idg:
            lines.append(
                f"  fastest ImageDataGenerator setting: {best_idg['label']}, "
                f"{best_idg['ratio_to_compute_limit']:.2f} "
                f"({_verdict(best_idg['ratio_to_compute_limit'], GOALS['ImageDataGenerator'])})."
            )
        fastest = _best(pipelines)
        if fastest:
            lines.append(
                f"  fastest pipeline: {fastest['label']}, {fastest['ratio_to_compute_limit']:.2f} "
                f"({_verdict(fastest['ratio_to_compute_limit'], GOALS['fastest pipeline'])})."
            )
        if "compute_bf16" in by_key:
            ratio = by_key["compute_bf16"]["ratio_to_compute_limit"]
            lines.append(f"  bfloat16 moves the compute limit to {ratio:.2f} times float32's.")
    for key, why in report["skipped"].items():
        lines.append(f"Skipped {key}: {why}.")
    return lines


def plot_report(report: dict, title: str | None = None):
    """Training images per second of every variant against the compute limit, a panel per batch size.

    Bars: training the CNN, with the ratio to the compute limit beside each.
    Dots: the pipeline alone; a triangle at the right edge marks one off the
    scale, with its value.
    """
    import matplotlib.pyplot as plt

    batch_sizes = report["settings"]["batch_sizes"]
    rows = report["results"]
    labels = list(dict.fromkeys(row["label"] for row in rows))
    figure, axes = plt.subplots(
        len(batch_sizes), 1, figsize=(10, (0.42 * len(labels) + 1.3) * len(batch_sizes) + 0.9), squeeze=False
    )
    for axis, batch_size in zip(axes[:, 0], batch_sizes, strict=True):
        these = {row["label"]: row for row in rows if row["batch_size"] == batch_size}
        limit = these[labels[0]]["images_per_second"]
        fastest = max(row["images_per_second"] for row in these.values())
        alone_values = [
            row["pipeline_alone"]["images_per_second"] for row in these.values() if row["pipeline_alone"]
        ]
        right = max(1.3 * fastest, min(1.1 * max(alone_values, default=0), 2.2 * limit))
        for position, label in enumerate(labels):
            row = these[label]
            colour = (
                "0.6"
                if row["variant"].startswith(COMPUTE)
                else ("C2" if row["precision"] == BFLOAT16 else "C0")
            )
            axis.barh(position, row["images_per_second"], color=colour, height=0.7)
            axis.text(
                row["images_per_second"] + right * 0.01,
                position,
                f"{row['ratio_to_compute_limit']:.2f}",
                va="center",
                fontsize=9,
            )
            alone = row["pipeline_alone"]
            if alone:
                value = alone["images_per_second"]
                beyond = value > right
                axis.plot(
                    min(value, right * 0.985), position, ">" if beyond else "o", color="C1", markersize=7
                )
                if beyond:
                    axis.text(
                        right * 0.97,
                        position,
                        f"{value:,.0f}",
                        ha="right",
                        va="center",
                        fontsize=8,
                        color="C1",
                    )
        axis.axvline(limit, color="C3", linestyle="--", linewidth=1.2)
        axis.set_yticks(range(len(labels)), labels)
        axis.invert_yaxis()
        axis.set_xlim(0, right)
        axis.set_xlabel("images per second")
        axis.set_title(f"batch size {batch_size}")
        axis.grid(axis="x", alpha=0.3)
    legend = {
        "training the CNN, float32 (ratio to the compute limit beside)": plt.Rectangle(
            (0, 0), 1, 1, color="C0"
        ),
        "compute limit, float32": plt.Line2D([], [], color="C3", linestyle="--"),
        "pipeline alone (triangle: off the scale)": plt.Line2D([], [], color="C1", marker="o", linestyle=""),
    }
    if any(row["precision"] == BFLOAT16 and not row["variant"].startswith(COMPUTE) for row in rows):
        legend["training in mixed bfloat16"] = plt.Rectangle((0, 0), 1, 1, color="C2")
    names, handles = list(legend), list(legend.values())
    figure.legend(handles, names, loc="lower center", ncol=2, fontsize=9, frameon=False)
    figure.suptitle(title or "Where training time goes: images per second feeding the CNN")
    figure.tight_layout(rect=(0, 0.07 / len(batch_sizes) + 0.02, 1, 1))
    return figure
