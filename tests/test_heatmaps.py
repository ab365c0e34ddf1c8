"""Can the heat map be trusted: notebook 09's measuring code, deconv.heatmaps and deconv.inspect, and the
inspect command, on small generated images and models built here.

The measuring code (deletion and insertion, the randomisation cascade, the
pointing game, occlusion, gradient x input, the baselines) is taught in
notebook 09's cells, once: the cells tagged "export" (read by deconv.export,
as notebook 08's are) are executed here, as they are, with small images
instead of the photos.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import REPO_ROOT, run_main, run_script

NOTEBOOK = REPO_ROOT / "notebooks" / "09_can_we_trust_the_heat_map.ipynb"
SCRIPT = REPO_ROOT / "scripts" / "inspect_model.py"
SIDE = 32


@pytest.fixture(scope="module")
def measuring():
    """The notebook's exported cells, executed in a namespace with small images (SIDE x SIDE)."""
    import zlib

    import keras
    import tensorflow as tf
    from scipy import ndimage, stats

    from deconv.export import exported_sources
    from deconv.heatmaps import layer_cam, place_on_input, scaled

    cells = exported_sources(NOTEBOOK)
    assert len(cells) >= 6, "notebook 09 exports its measuring cells"
    namespace = {
        "np": np, "tf": tf, "keras": keras, "ndimage": ndimage, "stats": stats, "zlib": zlib,
        "SEED": 0, "IMAGE_SIZE": (SIDE, SIDE), "MARK": 4,
        "layer_cam": layer_cam, "place_on_input": place_on_input, "scaled": scaled,
    }  # fmt: skip
    for source in cells:
        exec(compile(source, f"{NOTEBOOK.name}:export", "exec"), namespace)
    return namespace


def red_detector(side: int = SIDE):
    """A network that finds red squares by construction: its evidence for class 1 is the total redness.

    conv1 responds to red minus green and blue, relu3 keeps the positive part;
    dense2 adds the map up. Named as the tutorial's layers, so the notebook's
    code reads it as it reads the CNN.
    """
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(side, side, 3)),
            layers.Conv2D(1, 3, name="conv1"),
            layers.Activation("relu", name="relu3"),
            layers.Flatten(name="flatten"),
            layers.Dense(1, name="dense2"),
            layers.Activation("sigmoid", name="output"),
        ]
    )
    kernel = np.zeros((3, 3, 3, 1), dtype="float32")
    kernel[:, :, 0], kernel[:, :, 1:] = 1 / 9, -1 / 9
    model.get_layer("conv1").set_weights([kernel, np.array([-0.2], dtype="float32")])
    flat = model.get_layer("dense2").input.shape[-1]
    model.get_layer("dense2").set_weights([np.ones((flat, 1), dtype="float32"), np.array([-1.0], "float32")])
    return model


def marked_images(count: int, mark: int = 4, seed: int = 0):
    """Grey noise with a red mark x mark square at a random place in each; the squares' top-left corners."""
    rng = np.random.default_rng(seed)
    grey = rng.uniform(0.2, 0.6, size=(count, SIDE, SIDE, 1))
    images = np.repeat(grey, 3, axis=-1).astype("float32")
    corners = rng.integers(0, SIDE - mark + 1, size=(count, 2))
    for image, (top, left) in zip(images, corners, strict=True):
        image[top : top + mark, left : left + mark] = (0.9, 0.1, 0.1)
    return images, corners


# ---------------------------------------------------------------- the planted mark, in miniature


def test_the_favoured_method_points_at_the_planted_mark_far_more_often_than_the_random_map(measuring):
    from deconv.heatmaps import FAVOURED_METHOD
    from deconv.inspect import heat_map_layer

    model = red_detector()
    measuring["chosen"] = heat_map_layer(model)
    measuring["TOLERANCE"] = 1  # pixels: on a 32x32 image the notebook's 8 would be a third of it
    images, corners = marked_images(40)
    classes = np.ones(len(images), dtype=int)
    hits = {}
    for name in (FAVOURED_METHOD, "random"):
        found = measuring["heat_maps"](name, model, images, classes)
        hits[name] = measuring["points_at_mark"](found, corners).mean()
        assert 0 <= measuring["mass_on_mark"](found, corners).mean() <= 1
    assert hits[FAVOURED_METHOD] >= 0.9
    assert hits["random"] <= 0.3


# ---------------------------------------------------------------- the randomisation cascade


@pytest.fixture(scope="module")
def small_cnn():
    from deconv.cnn import build_cnn
    from deconv.model import seed_everything

    seed_everything(0)
    return build_cnn(input_shape=(SIDE, SIDE, 3))


def test_the_cascade_re_initialises_the_named_layers_cumulatively_top_first(measuring, small_cnn):
    before = {layer.name: [w.copy() for w in layer.get_weights()] for layer in small_cnn.layers}
    for step, (name, randomised) in enumerate(measuring["cascade"](small_cnn)):
        assert name == measuring["CASCADE"][step]
        for layer in randomised.layers:
            if not before[layer.name]:
                continue
            changed = not np.array_equal(layer.get_weights()[0], before[layer.name][0])
            assert changed == (layer.name in measuring["CASCADE"][: step + 1]), (name, layer.name)
    assert np.array_equal(small_cnn.get_layer("conv1").get_weights()[0], before["conv1"][0])  # a copy changed


def test_baselines_keep_correlation_1_and_gradients_change_when_every_layer_is_random(measuring, small_cnn):
    images, _ = marked_images(4)
    classes = np.array([0, 1, 0, 1])
    names = ("random", "centred blob", "edges", "gradient x input")
    trained = {name: measuring["heat_maps"](name, small_cnn, images, classes) for name in names}
    *_, (_, destroyed) = measuring["cascade"](small_cnn)
    for name, maps in trained.items():
        after = measuring["heat_maps"](name, destroyed, images, classes)
        correlations = [measuring["rank_correlation"](b, a) for b, a in zip(maps, after, strict=True)]
        if name == "gradient x input":
            assert np.mean(correlations) < 0.9
        else:
            assert correlations == pytest.approx([1.0] * len(images))


def test_a_map_that_becomes_flat_counts_as_changed(measuring):
    ranked = np.arange(16.0).reshape(4, 4)
    assert measuring["rank_correlation"](ranked, ranked) == pytest.approx(1.0)
    assert measuring["rank_correlation"](ranked, -ranked) == pytest.approx(-1.0)
    assert measuring["rank_correlation"](ranked, np.zeros((4, 4))) == 0.0


# ---------------------------------------------------------------- deletion and insertion


def region_mean_model(region):
    """p(class 1) = sigmoid(20 x (mean of the pixels in ``region``) - 10): only that region matters."""
    import keras
    from keras import layers

    mask = np.zeros((SIDE, SIDE, 3), dtype="float32")
    mask[region] = 1
    model = keras.Sequential([keras.Input(shape=(SIDE, SIDE, 3)), layers.Flatten(), layers.Dense(1)])
    weights = (20 * mask / mask.sum()).reshape(-1, 1)
    model.layers[-1].set_weights([weights, np.array([-10.0], dtype="float32")])
    return keras.Sequential([model, layers.Activation("sigmoid")])


def test_deleting_the_region_the_model_reads_first_gives_the_lowest_deletion_auc(measuring):
    region = (slice(0, 12), slice(0, 16))
    model = region_mean_model(region)
    image = np.zeros((SIDE, SIDE, 3), dtype="float32")
    image[region] = 1.0
    blurry = measuring["blurred"](image[None])[0]
    right_first = np.zeros((SIDE, SIDE))
    right_first[region] = 1
    maps = {
        "region first": right_first,
        "random": np.random.default_rng(0).random((SIDE, SIDE)),
        "region last": 1 - right_first,
    }
    auc = {}
    for name, heat in maps.items():
        deletion, insertion = measuring["deletion_insertion"](model, image, blurry, heat, 1)
        assert len(deletion) == len(insertion) == measuring["STEPS"] + 1
        assert deletion[0] == pytest.approx(insertion[-1]) and deletion[-1] == pytest.approx(insertion[0])
        auc[name] = measuring["area"](deletion), measuring["area"](insertion)
    assert auc["region first"][0] < auc["random"][0] < auc["region last"][0]
    assert auc["region first"][1] > auc["random"][1] > auc["region last"][1]


def test_paired_intervals_say_cannot_tell_when_they_span_zero(measuring):
    rng = np.random.default_rng(1)
    mean, low, high = measuring["paired_interval"](rng.normal(-1, 0.1, 50))
    assert low < mean < high < 0
    assert measuring["verdict"](low, high, True, "centred blob") == "beats the centred blob"
    assert measuring["verdict"](low, high, False, "centred blob") == "worse than the centred blob"
    _, low, high = measuring["paired_interval"](rng.normal(0, 1, 50))
    assert measuring["verdict"](low, high, True, "centred blob") == "cannot tell"


def test_occlusion_is_highest_where_hiding_lowers_the_evidence(measuring):
    model = red_detector()
    measuring["PATCH"], measuring["TOLERANCE"], measuring["MARK"] = 8, 2, 6
    measuring["corners"] = np.linspace(0, SIDE - 8, 7).round().astype(int)
    images, corners = marked_images(2, mark=6)
    found = measuring["occlusion"](model, images, 1)
    measuring["MARK"] = 4
    assert measuring["points_at_mark"](found, corners).all()


# ---------------------------------------------------------------- placement and the layer table


def test_a_map_is_placed_at_its_receptive_fields_centres():
    from deconv.cnn import build_cnn
    from deconv.heatmaps import place_on_input
    from deconv.inspect import heat_map_layer

    chosen = heat_map_layer(build_cnn())
    assert chosen.name == "relu3" and chosen.geometry.centre == (8.5, 8.5) and chosen.geometry.jump == (4, 4)
    one_hot = np.zeros((1, 34, 34), dtype="float32")
    one_hot[0, 5, 30] = 1
    placed = place_on_input(one_hot, chosen.geometry, (150, 150))[0]
    row, column = np.unravel_index(placed.argmax(), placed.shape)
    assert row in (28, 29) and column in (128, 129)  # 8.5 + 5 x 4 and 8.5 + 30 x 4
    assert placed[:, :8].max() == 0  # nothing leaks to the border the convolutions lost


def test_layer_table_agrees_with_receptive_fields_for_the_tutorials_cnn():
    from deconv.cnn import build_cnn
    from deconv.inspect import layer_table
    from deconv.interpret import receptive_fields

    model = build_cnn()
    rows = {row.name: row for row in layer_table(model)}
    for field in receptive_fields(model):
        geometry = rows[field.layer].geometry
        assert geometry.size == (field.size,) * 2 and geometry.jump == (field.jump,) * 2
        assert geometry.centre[0] == field.start(0) + (field.size - 1) / 2
    assert rows["dense1"].geometry is None and rows["dense1"].parameters == 1_183_808


def functional_model():
    """Strides, 'same' padding and a residual branch, which receptive_fields does not handle."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(64, 64, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same", name="stem")(inputs)
    y = layers.Conv2D(8, 3, padding="same", name="branch")(x)
    x = layers.Add(name="join")([x, y])
    x = layers.Activation("relu", name="joined_relu")(x)
    x = layers.GlobalAveragePooling2D(name="average")(x)
    outputs = layers.Dense(3, activation="softmax", name="scores")(x)
    return keras.Model(inputs, outputs)


def test_functional_geometry_with_same_padding_strides_and_a_branch():
    from deconv.heatmaps import heat_maps
    from deconv.inspect import heat_map_layer, layer_table

    model = functional_model()
    rows = {row.name: row for row in layer_table(model)}
    assert rows["stem"].geometry.size == (3, 3) and rows["stem"].geometry.jump == (2, 2)
    assert rows["stem"].geometry.centre == (1.0, 1.0)  # TensorFlow pads 64 by one pixel, at the end
    assert rows["join"].geometry.size == (7, 7)  # the branch's field, the larger
    assert heat_map_layer(model).name == "joined_relu"
    maps = heat_maps(model, np.random.default_rng(0).random((2, 64, 64, 3)), 2)
    assert maps.shape == (2, 64, 64) and maps.max() <= 1


def test_mobilenet_gets_a_table_and_a_layer_of_at_least_7x7_or_the_largest():
    import keras

    from deconv.heatmaps import heat_maps
    from deconv.inspect import format_table, heat_map_layer, layer_table

    model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3))
    rows = layer_table(model)
    assert sum(row.parameters for row in rows) == model.count_params()
    assert "block_16_project" in format_table(rows)
    chosen = heat_map_layer(model)
    assert chosen.kind not in ("ZeroPadding2D",) and chosen.map_side == 12  # no map of 7 to 11 positions here
    assert heat_maps(model, np.zeros((1, 96, 96, 3)), 5).shape == (1, 96, 96)


def test_layer_choice_refuses_a_missing_or_non_spatial_layer():
    from deconv.cnn import build_cnn
    from deconv.inspect import InspectError, heat_map_layer

    model = build_cnn()
    with pytest.raises(InspectError, match=r"no layer 'relu9'.*relu3"):
        heat_map_layer(model, "relu9")
    with pytest.raises(InspectError, match=r"flatten gives \(None, 18496\), not a spatial map"):
        heat_map_layer(model, "flatten")


def test_classify_reads_the_layer_inspect_chooses():
    from deconv.classify import cam_layers
    from deconv.cnn import build_cnn
    from deconv.inspect import heat_map_layer

    for model in (build_cnn(), functional_model()):
        assert cam_layers(model)[1] == heat_map_layer(model).name


# ---------------------------------------------------------------- the command


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    import keras

    folder = tmp_path_factory.mktemp("inspect")
    cnn = red_detector(64)
    cnn.save(folder / "sequential.keras")
    functional_model().save(folder / "functional.keras")
    keras.Sequential([keras.Input(shape=(10,)), keras.layers.Dense(1)]).save(folder / "tabular.keras")
    (folder / "notes.keras").write_text("not a model")
    photo = np.zeros((80, 120, 3), dtype="uint8")
    photo[20:40, 30:50] = (230, 20, 20)
    Image.fromarray(photo).save(folder / "photo.png")
    return folder


def inspect_script(*args):
    return run_script(*args, script=SCRIPT, timeout=120)


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_inspect_prints_the_table_and_writes_heat_maps(files, kind, tmp_path):
    result = inspect_script(files / f"{kind}.keras", files / "photo.png", "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "field" in result.stdout and "jump" in result.stdout and "Heat maps read" in result.stdout
    written = Image.open(tmp_path / "photo_heatmap.png")
    assert written.size == (120, 80)


@pytest.mark.parametrize(
    ("model", "args", "code", "says"),
    [
        ("notes", [], 6, "is not a Keras model"),
        ("missing", [], 6, "no model at"),
        ("tabular", [], 6, "an image model takes one input of (height, width, channels) images"),
        ("sequential", ["--layer", "nothing"], 2, "has no layer 'nothing'; layers with a spatial map: conv1"),
        ("sequential", ["--layer", "flatten"], 2, "not a spatial map"),
    ],
)
def test_inspect_refuses_bad_input_with_a_clear_message(files, model, args, code, says):
    result = run_main(files / f"{model}.keras", *args, script=SCRIPT)
    assert result.returncode == code, result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr


def test_a_photo_that_cannot_be_read_exits_1_and_the_table_still_prints(files):
    result = run_main(files / "sequential.keras", files / "notes.keras", script=SCRIPT)
    assert result.returncode == 1
    assert "Heat maps read relu3" in result.stdout and "notes.keras" in result.stderr


def test_outside_the_environment_inspect_says_how_to_set_it_up(files):
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-S", SCRIPT, files / "sequential.keras"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 2, result.stderr
    assert "inspect_model.py: error: No module named" in result.stderr
    assert "python3 scripts/tasks.py setup" in result.stderr and "Traceback" not in result.stderr


def test_tasks_passes_everything_after_inspect_to_the_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("tasks_for_inspect", REPO_ROOT / "scripts" / "tasks.py")
    tasks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tasks)
    assert "inspect" in tasks.TASKS
    own, passed = tasks.split_arguments(["inspect", "model.keras", "photo.jpg", "--layer", "relu3"])
    assert own == ["inspect"] and passed == ["model.keras", "photo.jpg", "--layer", "relu3"]
