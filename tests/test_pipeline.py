"""Notebook 04's generator calls, as exported into deconv.blog_recipe, and the settings notebook 03 names."""

from __future__ import annotations

import pytest

from deconv.data.sample import generate_sample
from deconv.pipeline import INTENDED_AUGMENTATION, NOTES_AUGMENTATION

pytest.importorskip("tensorflow")
from deconv.blog_recipe import directory_flows, training_generator  # noqa: E402


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("flows")
    generate_sample(root, seed=0, train_per_class=2, validation_per_class=1, progress=False)
    return root


def test_notebook_flows_augment_training_and_keep_validation_in_file_order(tiny_dataset):
    train, validation = directory_flows(tiny_dataset, batch_size=2, seed=0, workers=2)
    assert train.class_indices == validation.class_indices == {"cats": 0, "dogs": 1}
    assert (train.samples, validation.samples) == (4, 2)
    assert train.image_data_generator.shear_range == INTENDED_AUGMENTATION["shear_range"]
    assert train.image_data_generator.horizontal_flip and train.shuffle
    assert not validation.shuffle and list(validation.classes) == [0, 1]
    plain = validation.image_data_generator
    assert (plain.shear_range, plain.horizontal_flip, list(plain.zoom_range)) == (0.0, False, [1.0, 1.0])
    images, labels = validation[0]
    assert images.shape == (2, 150, 150, 3) and 0.0 <= images.min() and images.max() <= 1.0
    assert train.workers == validation.workers == 2


def test_a_given_training_generator_replaces_the_augmented_one(tiny_dataset):
    notes = training_generator(shear_range=NOTES_AUGMENTATION["shear_range"])
    train, _ = directory_flows(tiny_dataset, train_generator=notes)
    assert train.image_data_generator is notes and notes.shear_range == 0.2
