"""Notebook 06's synthetic DNA and Conv1D shape arithmetic: encoding, planted motifs, formulas vs Keras."""

from __future__ import annotations

import numpy as np
import pytest

from deconv.dna import (
    BASES,
    MOTIF,
    batches,
    build_motif_finder,
    consensus,
    conv1d_length,
    decode,
    filter_matches,
    keras_table,
    one_hot,
    pool1d_length,
    reverse_complement,
    shape_table,
    synthetic_dna,
)


def mismatches(a: str, b: str) -> int:
    return sum(x != y for x, y in zip(a, b, strict=True))


# Encoding


def test_one_hot_round_trip():
    sequences = ["ACGTTGCA", "GGGGCCCC", "acgtacgt"]
    encoded = one_hot(sequences)
    assert encoded.shape == (3, 8, 4) and encoded.dtype == np.float32
    assert np.all(encoded.sum(axis=-1) == 1)
    assert decode(encoded) == [sequence.upper() for sequence in sequences]


def test_one_hot_columns_follow_the_base_order():
    encoded = one_hot(BASES)[0]
    assert np.array_equal(encoded, np.eye(4))
    assert decode(encoded) == [BASES]  # a single (length, 4) array decodes too


@pytest.mark.parametrize(
    "sequences, message",
    [(["ACGN"], "other than ACGT"), (["ACGT", "ACG"], "same length"), ([], "no sequences")],
)
def test_one_hot_rejects_bad_input(sequences, message):
    with pytest.raises(ValueError, match=message):
        one_hot(sequences)


def test_decode_rejects_what_is_not_one_hot():
    encoded = one_hot("ACGT")
    encoded[0, 2, :] = 0.25  # an "N": all bases equally likely
    with pytest.raises(ValueError, match="not one-hot"):
        decode(encoded)
    with pytest.raises(ValueError, match="shape"):
        decode(np.zeros((2, 5, 3)))


def test_consensus_takes_the_largest_base_per_position():
    weights = np.array([[0.1, 0.9, 0.0, 0.0], [-1.0, -2.0, -0.5, -3.0], [0.0, 0.0, 0.0, 2.0]])
    assert consensus(weights) == "CGT"
    assert consensus(one_hot(MOTIF)[0]) == MOTIF


def test_reverse_complement():
    assert reverse_complement("AACG") == "CGTT"
    assert reverse_complement(reverse_complement(MOTIF)) == MOTIF
    # In the A, C, G, T order the other strand is the one-hot array flipped along both axes.
    assert np.array_equal(one_hot(reverse_complement(MOTIF)), one_hot(MOTIF)[:, ::-1, ::-1])


def test_the_motif_is_not_its_own_reverse_complement():
    assert reverse_complement(MOTIF) != MOTIF
    assert set(MOTIF) == set(BASES)


# The synthetic data


@pytest.fixture(scope="module")
def data():
    return synthetic_dna(400, 60, mutation_rate=0.1, seed=0)


def test_shapes_and_exactly_half_positive(data):
    assert data.sequences.shape == (400, 60, 4) and data.sequences.dtype == np.float32
    assert data.labels.sum() == 200 and set(np.unique(data.labels)) == {0, 1}
    assert len(data.sites) == len(data.starts) == 400
    # Shuffled: positives are not all in one half.
    assert 0 < data.labels[:200].sum() < 200


def test_the_planted_copy_is_at_its_recorded_start(data):
    text = data.text
    for sequence, label, start, site in zip(text, data.labels, data.starts, data.sites, strict=True):
        if label == 1:
            assert 0 <= start <= 60 - len(MOTIF)
            assert sequence[start : start + len(MOTIF)] == site
        else:
            assert start == -1 and site == ""


def test_starts_spread_over_the_sequence(data):
    starts = data.starts[data.labels == 1]
    assert starts.min() < 10 and starts.max() > 60 - len(MOTIF) - 10


def test_mutations_follow_the_rate(data):
    assert list(data.mutations) == [mismatches(site, MOTIF) for site in data.sites if site]
    per_base = data.mutations.sum() / (200 * len(MOTIF))
    assert 0.07 < per_base < 0.13  # 2,000 bases at rate 0.1: the standard deviation is under 0.007
    assert (data.mutations == 0).any() and (data.mutations > 0).any()


def test_rate_zero_plants_exact_copies():
    exact = synthetic_dna(100, 30, mutation_rate=0.0, seed=3)
    assert all(site == MOTIF for site in exact.sites if site)
    assert np.all(exact.mutations == 0)


def test_negatives_never_contain_the_motif():
    # Short sequences and a short motif make chance copies common, so the redraw is exercised.
    small = synthetic_dna(200, 20, motif="ACG", mutation_rate=0.0, seed=0)
    text = small.text
    assert not any("ACG" in text[i] for i in np.flatnonzero(small.labels == 0))
    assert all("ACG" in text[i] for i in np.flatnonzero(small.labels == 1))


def test_same_seed_same_data_different_seed_different_data(data):
    again = synthetic_dna(400, 60, mutation_rate=0.1, seed=0)
    other = synthetic_dna(400, 60, mutation_rate=0.1, seed=1)
    assert np.array_equal(again.sequences, data.sequences)
    assert np.array_equal(again.labels, data.labels) and np.array_equal(again.starts, data.starts)
    assert again.sites == data.sites
    assert not np.array_equal(other.sequences, data.sequences)
    assert not np.array_equal(other.starts, data.starts)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"count": 11, "length": 50}, "even"),
        ({"count": 0, "length": 50}, "even"),
        ({"count": 10, "length": 5}, "longer than the sequences"),
        ({"count": 10, "length": 50, "motif": "ACGU"}, "other than ACGT"),
        ({"count": 10, "length": 50, "motif": ""}, "empty"),
        ({"count": 10, "length": 50, "mutation_rate": 1.5}, "between 0 and 1"),
    ],
)
def test_synthetic_dna_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        synthetic_dna(**kwargs)


# Shape arithmetic


def test_length_formulas():
    assert conv1d_length(100, 12) == 89
    assert conv1d_length(100, 12, stride=2) == 45
    assert pool1d_length(89, 4) == 22  # valid drops the last base
    assert pool1d_length(89, 4, padding="same") == 23  # same pads to cover it
    assert pool1d_length(88, 4) == pool1d_length(88, 4, padding="same") == 22
    assert pool1d_length(10, 3, stride=1) == 8


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: conv1d_length(5, 6), "does not fit"),
        (lambda: conv1d_length(5, 0), "at least 1"),
        (lambda: pool1d_length(3, 4), "does not fit"),
        (lambda: pool1d_length(8, 2, padding="causal"), "'valid' or 'same'"),
    ],
)
def test_length_formulas_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "length, filters, kernel_size, pool_size, dense_units",
    [(100, 8, 12, 4, 16), (101, 8, 12, 4, 16), (37, 3, 5, 3, 4), (20, 1, 20, 1, 2), (64, 16, 7, 2, 8)],
)
def test_formula_table_matches_keras(length, filters, kernel_size, pool_size, dense_units):
    pytest.importorskip("keras")
    settings = {"filters": filters, "kernel_size": kernel_size, "pool_size": pool_size}
    model = build_motif_finder(length, dense_units=dense_units, **settings)
    assert keras_table(model) == shape_table(length, dense_units=dense_units, **settings)
    assert model.count_params() == sum(
        row.params for row in shape_table(length, dense_units=dense_units, **settings)
    )


def test_pool_formula_matches_keras_for_both_paddings():
    keras = pytest.importorskip("keras")
    for length in (21, 22, 23, 24, 25):
        blank = np.zeros((1, length, 4), dtype="float32")
        for padding in ("valid", "same"):
            pooled = keras.layers.MaxPooling1D(4, padding=padding)(blank)
            assert pooled.shape[1] == pool1d_length(length, 4, padding=padding), (length, padding)


def test_motif_finder_outputs_probabilities():
    pytest.importorskip("keras")
    model = build_motif_finder(50)
    scores = np.asarray(model(synthetic_dna(6, 50, seed=0).sequences, training=False))
    assert scores.shape == (6, 1) and np.all((scores > 0) & (scores < 1))


def test_batches_cover_every_sequence_once_in_a_seeded_order():
    pytest.importorskip("tensorflow")
    small = synthetic_dna(10, 20, seed=0)
    flat = small.sequences.reshape(10, -1)

    def one_epoch(dataset):
        """The sequences (flattened) and labels in the order the dataset yields them, and its batch sizes."""
        pairs = [(np.asarray(x).reshape(len(x), -1), np.asarray(y)) for x, y in dataset]
        return (
            np.concatenate([x for x, _ in pairs]),
            np.concatenate([y for _, y in pairs]),
            [len(y) for _, y in pairs],
        )

    sequences, labels, sizes = one_epoch(batches(small.sequences, small.labels, 4))
    assert np.array_equal(sequences, flat) and np.array_equal(labels, small.labels) and sizes == [4, 4, 2]

    shuffled = batches(small.sequences, small.labels, 4, seed=0)
    first, first_labels, _ = one_epoch(shuffled)
    second, _, _ = one_epoch(shuffled)
    again, _, _ = one_epoch(batches(small.sequences, small.labels, 4, seed=0))
    order = [next(i for i, row in enumerate(flat) if np.array_equal(row, seq)) for seq in first]
    assert sorted(order) == list(range(10)) and order != list(range(10))  # every sequence once, shuffled
    assert np.array_equal(first_labels, small.labels[order])  # labels travel with their sequences
    assert not np.array_equal(first, second)  # shuffled anew each epoch
    assert np.array_equal(first, again)  # the same seed, the same order
    with pytest.raises(ValueError, match="labels"):
        batches(small.sequences, small.labels[:5], 4)


# Finding the filter that learned the motif


def test_filter_matches_finds_the_filter_that_peaks_at_the_start():
    rng = np.random.default_rng(0)
    starts = rng.integers(0, 80, size=50)
    activations = rng.uniform(0, 1, size=(50, 89, 3))
    activations[np.arange(50), starts + 2, 1] = 5.0  # filter 1 peaks 2 positions after every start
    activations[np.arange(25), starts[:25], 2] = 5.0  # filter 2 at the start, in half of them
    matches = filter_matches(activations, starts)
    assert [m.filter for m in matches] == [0, 1, 2]
    assert (matches[1].offset, matches[1].fraction) == (2, 1.0)
    assert (matches[2].offset, matches[2].fraction) == (0, 0.5)
    assert matches[0].fraction < 0.2


def test_filter_matches_rejects_sequences_without_a_copy():
    with pytest.raises(ValueError, match="carry the motif"):
        filter_matches(np.zeros((2, 10, 1)), np.array([3, -1]))
    with pytest.raises(ValueError, match="one start per sequence"):
        filter_matches(np.zeros((2, 10, 1)), np.array([3]))
