"""The ways of feeding the CNN that the benchmark compares, and what each changes for the model."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..model import IMAGE_SIZE
from ..pipeline import NOTES_AUGMENTATION

COMPUTE = "compute"
BFLOAT16 = "mixed_bfloat16"
# How far the notes' 0.2 degree shear moves the top and bottom rows, about the image centre.
NOTES_SHEAR_PIXELS = IMAGE_SIZE[0] / 2 * math.sin(math.radians(NOTES_AUGMENTATION["shear_range"]))


@dataclass(frozen=True)
class Variant:
    """One way of feeding the CNN, and what it changes about what the model learns."""

    key: str
    label: str
    description: str  # what the pipeline does
    effect_on_learning: str  # what it changes about what the model sees or learns, in words
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
BF16_EFFECT = (
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
        f"small, not measured: no shear (the notes' 0.2 degrees moves the top and bottom rows by "
        f"{NOTES_SHEAR_PIXELS:.2f} pixels), "
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
        BF16_EFFECT,
        precision=BFLOAT16,
    ),
    Variant(
        "tfdata_fast_bf16",
        "tf.data cached, one-pass zoom and flip, bfloat16",
        "the one-pass tf.data pipeline, training in mixed_bfloat16",
        "that of the one-pass pipeline and of bfloat16: " + BF16_EFFECT,
        precision=BFLOAT16,
    ),
)
VARIANT_KEYS = tuple(v.key for v in VARIANTS)
# Notebook 07's short run: one of each kind of pipeline, no bfloat16 pipelines, no processes.
NOTEBOOK_VARIANTS = (
    "compute",
    "idg",
    "idg_threads",
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
