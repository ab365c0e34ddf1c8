"""Convolutions in one dimension: synthetic DNA with a planted motif, and a Conv1D network to find it.

Notebook 06 and tests/test_dna.py share this code. A DNA sequence is a string
over the four bases A, C, G, T. One-hot encoded it becomes an array of shape
(length, 4): one row per position, one column ("channel") per base, the way an
image is (height, width, 3) with one channel per colour. A Conv1D filter of k
bases is then a (k, 4) block of weights that slides along the sequence, as a
3 x 3 x 3 Conv2D filter slides over an image.

The data are made up: uniformly random bases, and in half of the sequences a
copy of a short motif (with some bases mutated) at a random position. The
motif stands in for a transcription factor's binding site; it is not the site
of any real factor.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

BASES = "ACGT"
# Made up for the tutorial. It is not its own reverse complement (the other
# strand reads TGATCCTACG), and no prefix of it equals a suffix, so a copy
# cannot overlap itself and its position is never ambiguous.
MOTIF = "CGTAGGATCA"

_BASE_INDEX = {base: index for index, base in enumerate(BASES)}


def _check_bases(sequence: str, what: str) -> None:
    unknown = sorted(set(sequence) - set(BASES))
    if unknown:
        raise ValueError(f"{what} has letters other than {BASES}: {''.join(unknown)!r}")


def one_hot(sequences: str | Iterable[str]) -> np.ndarray:
    """Sequences of equal length as a float32 array (count, length, 4); base order A, C, G, T.

    A single string gives an array of count 1. Lower-case letters are accepted
    (genome files use them for repeats); anything other than A, C, G, T is an
    error rather than a silent row of zeros.
    """
    if isinstance(sequences, str):
        sequences = [sequences]
    sequences = [sequence.upper() for sequence in sequences]
    if not sequences:
        raise ValueError("no sequences to encode")
    lengths = {len(sequence) for sequence in sequences}
    if len(lengths) != 1:
        raise ValueError(f"sequences must all have the same length, got lengths {sorted(lengths)}")
    for number, sequence in enumerate(sequences):
        _check_bases(sequence, f"sequence {number}")
    return _one_hot_indices(np.array([[_BASE_INDEX[base] for base in sequence] for sequence in sequences]))


def _one_hot_indices(indices: np.ndarray) -> np.ndarray:
    """Base indices (0-3, any shape) as one-hot float32 vectors along a new last axis."""
    # Row i of the identity matrix is the one-hot vector of base i.
    return np.eye(len(BASES), dtype="float32")[indices]


def decode(encoded: np.ndarray) -> list[str]:
    """The strings back from a one-hot array (count, length, 4) or (length, 4)."""
    encoded = np.asarray(encoded)
    if encoded.ndim == 2:
        encoded = encoded[np.newaxis]
    if encoded.ndim != 3 or encoded.shape[-1] != len(BASES):
        raise ValueError(f"expected shape (count, length, 4) or (length, 4), got {encoded.shape}")
    is_one_hot = np.all((encoded == 0) | (encoded == 1)) and np.all(encoded.sum(axis=-1) == 1)
    if not is_one_hot:
        raise ValueError("not one-hot: every position needs exactly one 1 and three 0s")
    letters = np.array(list(BASES))[encoded.argmax(axis=-1)]
    return ["".join(row) for row in letters]


def reverse_complement(sequence: str) -> str:
    """The other strand of ``sequence``, read in its own 5' to 3' direction."""
    sequence = sequence.upper()
    _check_bases(sequence, "the sequence")
    return sequence[::-1].translate(str.maketrans(BASES, BASES[::-1]))  # A<->T, C<->G


def consensus(weights: np.ndarray) -> str:
    """The base with the largest value at each position of a (positions, 4) matrix, such as a filter."""
    weights = np.asarray(weights)
    if weights.ndim != 2 or weights.shape[1] != len(BASES):
        raise ValueError(f"expected shape (positions, 4), got {weights.shape}")
    return "".join(BASES[index] for index in weights.argmax(axis=1))


@dataclass(frozen=True)
class DnaData:
    """Synthetic sequences, half of them carrying a mutated copy of ``motif``."""

    sequences: np.ndarray  # (count, length, 4) float32, one-hot
    labels: np.ndarray  # (count,) int: 1 carries the motif, 0 does not
    starts: np.ndarray  # (count,) int: where the copy begins; -1 for no copy
    sites: list[str]  # the planted copy, mutations included; "" for no copy
    motif: str
    mutation_rate: float
    seed: int

    @property
    def text(self) -> list[str]:
        """The sequences as strings."""
        return decode(self.sequences)

    @property
    def mutations(self) -> np.ndarray:
        """How many bases of each planted copy differ from the motif (positives only, in order)."""
        return np.array(
            [sum(a != b for a, b in zip(site, self.motif, strict=True)) for site in self.sites if site],
            dtype=int,
        )


def synthetic_dna(
    count: int, length: int, motif: str = MOTIF, mutation_rate: float = 0.1, seed: int = 0
) -> DnaData:
    """``count`` random sequences of ``length`` bases; half (shuffled in) carry a copy of ``motif``.

    Background bases are drawn uniformly, so only the motif tells the classes
    apart. Each base of a planted copy is replaced, with probability
    ``mutation_rate``, by one of the three other bases: real binding sites
    vary too. Sequences without a copy are redrawn until the exact motif
    appears nowhere in them, so a label 0 is never wrong. The same arguments
    always give the same data.
    """
    motif = motif.upper()
    if not motif:
        raise ValueError("the motif is empty")
    _check_bases(motif, "the motif")
    if length < len(motif):
        raise ValueError(f"the motif ({len(motif)} bases) is longer than the sequences ({length})")
    if count <= 0 or count % 2:
        raise ValueError(f"count must be a positive even number (half carry the motif), got {count}")
    if not 0.0 <= mutation_rate <= 1.0:
        raise ValueError(f"mutation_rate must lie between 0 and 1, got {mutation_rate}")

    rng = np.random.default_rng(seed)
    letters = np.array(list(BASES))
    labels = rng.permutation(np.repeat([1, 0], count // 2))
    indices = rng.integers(0, len(BASES), size=(count, length))
    starts = np.where(labels == 1, rng.integers(0, length - len(motif) + 1, size=count), -1)

    sites = [""] * count
    motif_indices = np.array([_BASE_INDEX[base] for base in motif])
    for row in np.flatnonzero(labels == 1):
        # A shift of 1, 2 or 3 (mod 4) always lands on a different base.
        mutated = rng.random(len(motif)) < mutation_rate
        site = (motif_indices + mutated * rng.integers(1, len(BASES), size=len(motif))) % len(BASES)
        indices[row, starts[row] : starts[row] + len(motif)] = site
        sites[row] = "".join(letters[site])
    for row in np.flatnonzero(labels == 0):
        while motif in "".join(letters[indices[row]]):
            indices[row] = rng.integers(0, len(BASES), size=length)

    return DnaData(
        sequences=_one_hot_indices(indices),
        labels=labels,
        starts=starts,
        sites=sites,
        motif=motif,
        mutation_rate=mutation_rate,
        seed=seed,
    )


# The 1D shape arithmetic, as notebook 02 does it in 2D. Lengths only: the
# channels of a convolution's output are its filters, pooling keeps them.


def conv1d_length(length: int, kernel_size: int, stride: int = 1) -> int:
    """Output length of a Conv1D with padding="valid": the kernel fits floor((L - k) / s) + 1 times."""
    if kernel_size < 1 or stride < 1:
        raise ValueError("kernel_size and stride must be at least 1")
    if kernel_size > length:
        raise ValueError(f"a kernel of {kernel_size} does not fit in a length of {length}")
    return (length - kernel_size) // stride + 1


def pool1d_length(length: int, pool_size: int, stride: int | None = None, padding: str = "valid") -> int:
    """Output length of MaxPooling1D; the stride defaults to the pool size, as in Keras.

    "valid" places windows only where they fit: floor((L - p) / s) + 1, a
    leftover end is dropped. "same" pads the end so every base is covered:
    ceil(L / s).
    """
    stride = pool_size if stride is None else stride
    if pool_size < 1 or stride < 1:
        raise ValueError("pool_size and stride must be at least 1")
    if padding == "valid":
        if pool_size > length:
            raise ValueError(f"a pool of {pool_size} does not fit in a length of {length}")
        return (length - pool_size) // stride + 1
    if padding == "same":
        return math.ceil(length / stride)
    raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")


@dataclass(frozen=True)
class LayerRow:
    """One line of a shape table: a layer's name, kind, output shape (batch first) and parameters."""

    name: str
    kind: str
    shape: tuple
    params: int


def shape_table(
    length: int, filters: int = 8, kernel_size: int = 12, pool_size: int = 4, dense_units: int = 16
) -> list[LayerRow]:
    """The layers of ``build_motif_finder`` with the same arguments, worked out by formula alone."""
    conv = conv1d_length(length, kernel_size)
    pooled = pool1d_length(conv, pool_size)
    flat = pooled * filters
    return [
        # Each filter: kernel_size x 4 weights (one per base at each offset) + 1 bias.
        LayerRow("conv", "Conv1D", (None, conv, filters), (kernel_size * len(BASES) + 1) * filters),
        LayerRow("pool", "MaxPooling1D", (None, pooled, filters), 0),
        LayerRow("flatten", "Flatten", (None, flat), 0),
        LayerRow("dense", "Dense", (None, dense_units), (flat + 1) * dense_units),
        LayerRow("output", "Dense", (None, 1), dense_units + 1),
    ]


def keras_table(model) -> list[LayerRow]:
    """The same table as Keras reports it for a built model."""
    return [
        LayerRow(layer.name, type(layer).__name__, tuple(layer.output.shape), layer.count_params())
        for layer in model.layers
    ]


def build_motif_finder(
    length: int, filters: int = 8, kernel_size: int = 12, pool_size: int = 4, dense_units: int = 16
):
    """The uncompiled Conv1D classifier: does a one-hot sequence of ``length`` bases carry the motif?

    Conv1D (ReLU) -> MaxPooling1D -> Flatten -> Dense (ReLU) -> Dense(1, sigmoid):
    the cats-vs-dogs network of notebook 02 with one stage and one spatial axis.
    A kernel a little longer than the motif leaves the filter room to place it.
    """
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input(shape=(length, len(BASES))),
            layers.Conv1D(filters, kernel_size, activation="relu", name="conv"),
            layers.MaxPooling1D(pool_size, name="pool"),
            layers.Flatten(name="flatten"),
            layers.Dense(dense_units, activation="relu", name="dense"),
            layers.Dense(1, activation="sigmoid", name="output"),
        ],
        name="motif_finder",
    )


def batches(sequences: np.ndarray, labels: np.ndarray, batch_size: int, seed: int | None = None):
    """A ``tf.data`` pipeline of (sequences, labels) batches; with a seed, shuffled anew every epoch.

    Keras accepts NumPy arrays directly, but its own pipeline for them shuffles
    inside a parallel map. Once ``seed_everything`` has switched on TensorFlow's
    op determinism, TensorFlow turns that map into a sequential one and logs a
    harmless error line about it, which would land in the notebook. This
    pipeline has no map: the same batches, with a seeded shuffle, and no log.
    """
    import tensorflow as tf

    if len(sequences) != len(labels):
        raise ValueError(f"{len(sequences)} sequences but {len(labels)} labels")
    dataset = tf.data.Dataset.from_tensor_slices((sequences, labels))
    if seed is not None:
        dataset = dataset.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size)


@dataclass(frozen=True)
class FilterMatch:
    """How well one filter's strongest response lines up with the planted copies."""

    filter: int
    offset: int  # the commonest (peak position - planted start)
    fraction: float  # the share of sequences whose peak sits at exactly that offset


def filter_matches(activations: np.ndarray, starts: np.ndarray) -> list[FilterMatch]:
    """For each filter, where its peak falls relative to the planted start, and how often.

    ``activations`` is a Conv1D output (sequences, positions, filters) for
    sequences that carry the motif, ``starts`` their planted starts. A filter
    that learned the motif peaks at the same offset from the start in nearly
    every sequence; one that did not peaks anywhere.
    """
    activations, starts = np.asarray(activations), np.asarray(starts)
    if activations.ndim != 3 or len(activations) != len(starts) or not len(starts):
        raise ValueError("expected activations (sequences, positions, filters) and one start per sequence")
    if np.any(starts < 0):
        raise ValueError("every sequence must carry the motif (start >= 0)")
    matches = []
    for index in range(activations.shape[2]):
        offsets = activations[:, :, index].argmax(axis=1) - starts
        values, counts = np.unique(offsets, return_counts=True)
        best = int(counts.argmax())
        matches.append(FilterMatch(index, int(values[best]), float(counts[best] / len(starts))))
    return matches
