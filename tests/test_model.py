"""The tutorial's CNN has the architecture, shapes and parameter counts the notebooks explain."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from deconv.cnn import build_cnn  # noqa: E402

EXPECTED = [
    # name, output shape (without the batch axis), parameters
    ("conv1", (148, 148, 32), 896),
    ("relu1", (148, 148, 32), 0),
    ("pool1", (74, 74, 32), 0),
    ("conv2", (72, 72, 32), 9_248),
    ("relu2", (72, 72, 32), 0),
    ("pool2", (36, 36, 32), 0),
    ("conv3", (34, 34, 64), 18_496),
    ("relu3", (34, 34, 64), 0),
    ("pool3", (17, 17, 64), 0),
    ("flatten", (18_496,), 0),
    ("dense1", (64,), 1_183_808),
    ("relu4", (64,), 0),
    ("dropout", (64,), 0),
    ("dense2", (1,), 65),
    ("output", (1,), 0),
]


def test_layers_shapes_and_parameters():
    model = build_cnn()
    got = [(layer.name, tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers]
    assert got == EXPECTED
    assert model.count_params() == 1_212_513


def test_output_is_a_probability():
    model = build_cnn()
    images = np.random.default_rng(0).uniform(0, 1, size=(4, 150, 150, 3)).astype("float32")
    scores = np.asarray(model(images, training=False))
    assert scores.shape == (4, 1)
    assert np.all((scores > 0) & (scores < 1))
