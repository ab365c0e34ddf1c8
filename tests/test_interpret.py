"""Looking inside the CNN: receptive fields, heat maps, gradient ascent, and which model notebook 05 uses."""

from __future__ import annotations

import numpy as np
import pytest

from deconv.cam import grad_cam
from deconv.cnn import build_cnn
from deconv.interpret import (
    layer_outputs_model,
    maximise_filters,
    measured_receptive_field,
    receptive_fields,
    stretch,
)
from deconv.model import seed_everything


@pytest.fixture(scope="module")
def small_cnn():
    """The tutorial's CNN on 40x40 images, untrained but seeded: the same layers, quicker to run."""
    seed_everything(0)
    return build_cnn(input_shape=(40, 40, 3))


def test_receptive_fields_of_the_tutorial_cnn():
    fields = receptive_fields(build_cnn())
    assert [f.layer for f in fields] == ["conv1", "pool1", "conv2", "pool2", "conv3", "pool3"]
    assert [f.size for f in fields] == [3, 4, 8, 10, 18, 22]
    assert [f.jump for f in fields] == [1, 2, 2, 4, 4, 8]
    assert [f.output_size for f in fields] == [148, 74, 72, 36, 34, 17]
    last = fields[-1]
    assert last.box(0, 0) == (0, 0, 21, 21)
    assert last.box(16, 16) == (128, 128, 149, 149)  # the 17x17 fields reach the last pixel


def test_measurement_agrees_with_the_formula_on_another_architecture():
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(64, 64, 3)),
            layers.Conv2D(4, 5, strides=2, name="wide"),
            layers.MaxPooling2D(3, strides=2, name="overlapping_pool"),
            layers.Conv2D(4, 3, name="narrow"),
        ]
    )
    fields = receptive_fields(model)
    assert [f.size for f in fields] == [5, 5 + 2 * 2, 9 + 2 * 4]  # (kernel - 1) x jump, jumps 1, 2, 4
    for field in fields:
        assert measured_receptive_field(model, field.layer) == (field.size, field.size)


def test_same_padding_and_unknown_layers_are_refused():
    import keras
    from keras import layers

    model = keras.Sequential([keras.Input(shape=(16, 16, 3)), layers.Conv2D(2, 3, padding="same", name="c")])
    with pytest.raises(ValueError, match="padding='valid'"):
        receptive_fields(model)
    with pytest.raises(ValueError, match="no layer named"):
        measured_receptive_field(build_cnn(input_shape=(40, 40, 3)), "conv9")


def test_layer_outputs_have_the_layers_shapes(small_cnn):
    images = np.random.default_rng(0).uniform(size=(2, 40, 40, 3)).astype("float32")
    outputs = layer_outputs_model(small_cnn, ["relu1", "relu3"])(images)
    assert [tuple(o.shape) for o in outputs] == [(2, 38, 38, 32), (2, 6, 6, 64)]


@pytest.mark.parametrize("method", ["grad-cam", "hirescam"])
def test_heat_maps_are_scaled_maps_at_the_input_size(small_cnn, method):
    images = np.random.default_rng(1).uniform(size=(3, 40, 40, 3)).astype("float32")
    for class_index in (0, 1):
        maps = grad_cam(small_cnn, images, class_index, method=method)
        assert maps.shape == (3, 40, 40)
        assert maps.min() >= 0
        assert all(peak in (0.0, 1.0) for peak in np.round(maps.max(axis=(1, 2)), 6))
    assert grad_cam(small_cnn, images[:0], 1, method=method).shape == (0, 40, 40)


def test_hirescam_finds_where_the_score_comes_from_and_grad_cam_spreads_it():
    # A network whose score reads only the top-left quarter of its feature map: the answer is known.
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            layers.Conv2D(1, 1, kernel_initializer="ones", use_bias=False, name="features"),
            layers.Flatten(name="flatten"),
            layers.Dense(1, name="logit"),
        ]
    )
    reads = np.zeros((8, 8))
    reads[:4, :4] = 1.0
    model.get_layer("logit").set_weights([reads.reshape(64, 1), np.zeros(1)])
    image = np.ones((1, 8, 8, 1), dtype="float32")
    options = {"conv_layer": "features", "logit_layer": "logit"}

    np.testing.assert_allclose(grad_cam(model, image, 1, method="hirescam", **options)[0], reads, atol=1e-6)
    np.testing.assert_allclose(grad_cam(model, image, 1, method="grad-cam", **options)[0], 1.0, atol=1e-6)
    for method in ("hirescam", "grad-cam"):  # nothing in the image speaks for the other class
        assert grad_cam(model, image, 0, method=method, **options).max() == 0


def test_bad_class_method_or_layer_is_refused(small_cnn):
    images = np.zeros((1, 40, 40, 3), dtype="float32")
    with pytest.raises(ValueError, match="class_index"):
        grad_cam(small_cnn, images, 2)
    with pytest.raises(ValueError, match="method"):
        grad_cam(small_cnn, images, 1, method="saliency")
    with pytest.raises(ValueError, match="no layer named 'relu9' in .*; its layers: conv1, relu1"):
        grad_cam(small_cnn, images, 1, conv_layer="relu9")
    with pytest.raises(ValueError, match="no layer named 'logits'"):
        grad_cam(small_cnn, images, 1, logit_layer="logits")


def roughness(images):
    return np.abs(np.diff(images, axis=1)).mean() + np.abs(np.diff(images, axis=2)).mean()


def test_gradient_ascent_raises_each_filters_response_and_smoothing_smooths(small_cnn):
    filters = [0, 7, 63]
    plain, before, after = maximise_filters(small_cnn, "conv3", filters, steps=10, seed=3)
    smooth, before_smooth, after_smooth = maximise_filters(
        small_cnn, "conv3", filters, steps=10, smooth=True, seed=3
    )
    assert plain.shape == (3, 40, 40, 3) and plain.min() >= 0 and plain.max() <= 1
    np.testing.assert_allclose(before, before_smooth)  # the same start
    assert np.all(after > before) and np.all(after_smooth > before_smooth)
    assert roughness(smooth) < roughness(plain) / 2
    again, _, _ = maximise_filters(small_cnn, "conv3", filters, steps=10, seed=3)
    np.testing.assert_allclose(again, plain, atol=1e-6)


def test_stretch_fills_the_unit_range():
    np.testing.assert_allclose(stretch([[-2.0, 0.0, 2.0]]), [[0.0, 0.5, 1.0]])
    np.testing.assert_allclose(stretch(np.ones((2, 2))), np.full((2, 2), 0.5))


class TestWhichModel:
    """Notebook 05 uses notebook 04's model when there is one, and otherwise trains a short one."""

    @pytest.fixture
    def tiny_dataset(self, tmp_path):
        from deconv.data.sample import generate_sample
        from deconv.dataset import Dataset

        counts = generate_sample(tmp_path / "data", train_per_class=4, validation_per_class=2, progress=False)
        return Dataset(root=tmp_path / "data", kind="sample", title="tiny sample", counts=counts)

    def test_uses_the_saved_model(self, tmp_path, tiny_dataset):
        from deconv.training import TRAINED_MODEL_NAME, trained_cnn

        results = tmp_path / "results"
        results.mkdir()
        saved = build_cnn()
        saved.save(results / TRAINED_MODEL_NAME)
        model, provenance = trained_cnn(tiny_dataset, results)
        assert "trained by notebook 04" in provenance
        for mine, theirs in zip(model.get_weights(), saved.get_weights(), strict=True):
            np.testing.assert_array_equal(mine, theirs)

    @pytest.mark.slow
    def test_trains_a_short_model_says_so_and_saves_nothing(self, tmp_path, tiny_dataset, capsys):
        from deconv.training import trained_cnn

        results = tmp_path / "results"
        results.mkdir()
        model, provenance = trained_cnn(tiny_dataset, results, short_epochs=1)
        printed = capsys.readouterr().out
        assert "training a short model of 1 epochs" in printed
        assert "val_accuracy" in printed  # the epoch's line
        assert "short model trained here" in provenance and "notebook 04" in provenance
        assert model.optimizer.iterations.numpy() == 1  # 8 images, batches of 16: one step
        assert list(results.iterdir()) == []


class TestHeatOverlay:
    """Notebook 05 draws heat maps over images with ``deconv.plots.heat_overlay``."""

    def test_opacity_grows_with_the_map_and_cold_places_are_see_through(self):
        import matplotlib

        from deconv.plots import heat_colours

        colours = heat_colours(np.array([[-1.0, 0.0, 0.5, 1.0, 3.0]]), cmap="magma", max_alpha=0.8)
        assert colours.shape == (1, 5, 4)
        np.testing.assert_allclose(colours[0, :, 3], [0.0, 0.0, 0.4, 0.8, 0.8])  # clipped to [0, 1]
        np.testing.assert_allclose(colours[0, 3, :3], matplotlib.colormaps["magma"](1.0)[:3])

    def test_the_image_is_drawn_in_faded_grey_under_the_heat(self):
        import matplotlib.pyplot as plt

        from deconv.plots import faded_grey, heat_overlay

        image = np.zeros((6, 8, 3), dtype="float32")
        image[:, 4:] = 1.0  # black left half, white right half
        np.testing.assert_allclose(faded_grey(image)[0, [0, 7]], [0.15, 0.85], atol=1e-6)
        heat = np.zeros((3, 4))  # a coarser map is stretched over the whole image
        heat[0, 0] = 1.0
        figure, axis = plt.subplots()
        scale = heat_overlay(axis, image, heat, cmap="inferno")
        under, over = axis.get_images()
        assert under.get_array().shape == (6, 8)
        assert over.get_array().shape == (3, 4, 4) and over.get_extent() == [-0.5, 7.5, 5.5, -0.5]
        assert scale.get_cmap().name == "inferno" and scale.norm.vmin == 0 and scale.norm.vmax == 1
        plt.close(figure)
