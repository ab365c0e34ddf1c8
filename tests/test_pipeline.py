"""The package's copy of notebook 04's generator calls, and the check that keeps the two in step."""

from __future__ import annotations

import math

import pytest

from deconv.data.sample import generate_sample
from deconv.pipeline import INTENDED_AUGMENTATION, NOTES_AUGMENTATION, flow_differences

tf = pytest.importorskip("tensorflow")


def test_intended_shear_is_the_notes_radians_in_degrees():
    assert NOTES_AUGMENTATION["shear_range"] == 0.2
    assert math.isclose(math.radians(INTENDED_AUGMENTATION["shear_range"]), 0.2, rel_tol=1e-3)
    assert {**INTENDED_AUGMENTATION, "shear_range": 0.2} == NOTES_AUGMENTATION


def notebook_flows(root, shear_range=11.46, shuffle_validation=False):
    """The calls notebook 04 writes out, with one setting that a test may change."""
    generator = tf.keras.preprocessing.image.ImageDataGenerator
    train_datagen = generator(rescale=1 / 255, shear_range=shear_range, zoom_range=0.2, horizontal_flip=True)
    common = {"target_size": (150, 150), "batch_size": 16, "class_mode": "binary", "seed": 0}
    train = train_datagen.flow_from_directory(root / "train", **common)
    validation = generator(rescale=1 / 255).flow_from_directory(
        root / "validation", shuffle=shuffle_validation, **common
    )
    for iterator in (train, validation):
        iterator.workers = 2
    return train, validation


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("flows")
    generate_sample(root, seed=0, train_per_class=2, validation_per_class=1, progress=False)
    return root


def test_notebook_calls_agree_with_directory_flows(tiny_dataset):
    train, validation = notebook_flows(tiny_dataset)
    assert flow_differences(train, validation, tiny_dataset, batch_size=16, seed=0, workers=2) == []


def test_a_changed_setting_is_named(tiny_dataset):
    train, validation = notebook_flows(tiny_dataset, shear_range=0.2, shuffle_validation=True)
    differences = flow_differences(train, validation, tiny_dataset, batch_size=16, seed=0, workers=2)
    assert differences == ["training generator shear_range: 0.2", "validation iterator shuffle: True"]
