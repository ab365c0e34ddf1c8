"""Classifying your own photos: scripts/classify.py and deconv.classify, with real models and real files.

The script runs on the tutorial's CNN trained for one epoch on a small
synthetic sample (those tests are marked slow, as training is) and on a
small untrained model shaped like notebook 08's: its own Rescaling layer,
global average pooling, a Dense with a built-in sigmoid. The tests in this
process use the tutorial's CNN untrained: reading the model, preparing the
photos and drawing heat maps do not depend on what it learnt.
"""

from __future__ import annotations

import io
import re
import warnings

import numpy as np
import pytest
from PIL import Image

from conftest import REPO_ROOT, run_main, run_script
from deconv.classify import (
    DISPLAY_SIDE,
    Classification,
    ModelError,
    PhotoError,
    cam_layers,
    classify,
    display_size,
    feeds_raw_pixels,
    heatmap_image,
    heatmap_names,
    load_model,
    load_photo,
    model_input,
    photos_in,
)
from deconv.data.sample import generate_sample
from deconv.paths import RESULTS_DIR_ENV

SCRIPT = REPO_ROOT / "scripts" / "classify.py"
ORIENTATION = 0x0112  # the EXIF tag phones set instead of turning the pixels


def classify_script(*args, env_extra=None):
    return run_script(*args, script=SCRIPT, env_extra=env_extra, timeout=120)


def jpeg(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95, **options)
    return buffer.getvalue()


def halves(width: int, height: int) -> Image.Image:
    """Red on the left, blue on the right: shows which way an image was turned."""
    image = Image.new("RGB", (width, height), (220, 20, 20))
    image.paste((20, 20, 220), (width // 2, 0, width, height))
    return image


def sideways_jpeg(width: int, height: int, orientation: int = 6) -> bytes:
    """A JPEG stored on its side, as a phone stores a portrait photo, with EXIF saying how to turn it."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return jpeg(halves(width, height), exif=exif.tobytes())


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample")
    generate_sample(root, seed=0, train_per_class=8, validation_per_class=2, progress=False)
    return root


@pytest.fixture(scope="module")
def untrained_04():
    from deconv.cnn import build_cnn
    from deconv.model import seed_everything

    seed_everything(0)
    return build_cnn()


@pytest.fixture(scope="module")
def cnn_04(sample, tmp_path_factory):
    """(path, model): notebook 04's CNN trained for one epoch on the sample, saved as notebook 04 saves it."""
    import contextlib

    from deconv.blog_recipe import compile_cnn, directory_flows
    from deconv.cnn import build_cnn
    from deconv.model import seed_everything

    seed_everything(0)
    with contextlib.redirect_stdout(io.StringIO()):  # the "Found N images" lines
        train, _ = directory_flows(sample, batch_size=16, seed=0)
    model = compile_cnn(build_cnn())
    model.fit(train, epochs=1, verbose=0)
    path = tmp_path_factory.mktemp("models") / "cnn.keras"
    model.save(path)
    return path, model


def beyond_style_model(nested: bool = False, bias: float = 0.0):
    """A functional model built like notebook 08's: Rescaling inside (in a Sequential block when nested)."""
    import keras
    from keras import layers

    from deconv.model import seed_everything

    seed_everything(0)
    inputs = keras.Input(shape=(150, 150, 3))
    rescale = layers.Rescaling(1 / 255)
    if nested:  # augmentation and rescaling as one block, as a notebook may write it
        rescale = keras.Sequential([layers.RandomFlip("horizontal"), rescale], name="augment_and_rescale")
    x = rescale(inputs)
    x = layers.Conv2D(4, 3, name="conv")(x)
    x = layers.BatchNormalization(name="norm")(x)
    x = layers.ReLU(name="relu")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    dense = layers.Dense(1, activation="sigmoid", bias_initializer=keras.initializers.Constant(bias))
    return keras.Model(inputs, dense(x), name="beyond_style")


@pytest.fixture(scope="module")
def model_08(tmp_path_factory):
    model = beyond_style_model()
    path = tmp_path_factory.mktemp("models") / "beyond_cnn.keras"
    model.save(path)
    return path, model


@pytest.fixture(scope="module")
def photos(sample, tmp_path_factory, odd_images):
    """Photos of every kind, good and bad, as files; a folder of them too."""
    folder = tmp_path_factory.mktemp("photos")
    dogs = sorted((sample / "validation" / "dogs").glob("*.jpg"))
    cats = sorted((sample / "validation" / "cats").glob("*.jpg"))
    files = {"dog": dogs[0], "cat": cats[0]}
    big = Image.open(dogs[1]).resize((1200, 800))
    files["big"] = folder / "big.png"
    big.save(files["big"])
    files["sideways"] = folder / "sideways.jpg"
    files["sideways"].write_bytes(sideways_jpeg(600, 300))
    for kind in ("text", "truncated"):
        files[kind] = folder / f"{kind}.jpg"
        files[kind].write_bytes(odd_images[kind])
    # Just over Pillow's limit of about 89 million pixels, and a few kilobytes as a PNG.
    files["bomb"] = folder / "bomb.png"
    Image.new("1", (9500, 9500)).save(files["bomb"])
    files["missing"] = folder / "no_such_photo.jpg"
    album = folder / "album"
    (album / "holiday").mkdir(parents=True)
    Image.open(cats[1]).save(album / "holiday" / "cat.JPG")  # upper-case suffix, in a sub-folder
    Image.open(dogs[1]).save(album / "cat.jpg")  # the same stem as the one in holiday/
    (album / "notes.txt").write_text("not a photo, not read")
    (album / "._cat.jpg").write_bytes(b"a Mac's resource fork, not a photo")
    files["album"] = album
    files["empty"] = folder / "empty"
    files["empty"].mkdir()
    return files


# ---------------------------------------------------------------- photos


def test_exif_rotated_photo_is_turned_upright(tmp_path):
    path = tmp_path / "portrait.jpg"
    path.write_bytes(sideways_jpeg(60, 30, orientation=6))  # 6: turn 90 degrees clockwise to view
    photo = load_photo(path)
    assert photo.shape == (60, 30, 3) and photo.dtype == np.uint8
    top, bottom = photo[:20].mean(axis=(0, 1)), photo[-20:].mean(axis=(0, 1))
    assert top[0] > top[2] and bottom[2] > bottom[0]  # the stored left (red) side is now on top
    path.write_bytes(sideways_jpeg(60, 30, orientation=8))  # 8: counter-clockwise; red at the bottom
    bottom = load_photo(path)[-20:].mean(axis=(0, 1))
    assert load_photo(path).shape == (60, 30, 3) and bottom[0] > bottom[2]


def png(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **options)
    return buffer.getvalue()


def transparent_palette() -> bytes:
    image = Image.new("P", (8, 6), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    return png(image, transparency=0)


@pytest.mark.parametrize(
    "kind, data, expected",
    [
        ("cmyk", None, None),
        ("gray", None, None),
        ("rgba", png(Image.new("RGBA", (8, 6), (255, 0, 0, 0))), (255, 255, 255)),  # see-through: white
        ("palette", transparent_palette(), (255, 255, 255)),
        ("16-bit", png(Image.fromarray(np.full((6, 8), 40_000, dtype="uint16"))), (156, 156, 156)),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_any_colour_mode_loads_as_rgb(tmp_path, odd_images, kind, data, expected):
    path = tmp_path / f"{kind}.img"
    path.write_bytes(odd_images[kind] if data is None else data)
    photo = load_photo(path)
    assert photo.ndim == 3 and photo.shape[2] == 3 and photo.dtype == np.uint8
    if expected is not None:  # 16-bit 40,000 is 156 of 255, not clipped to 255
        assert tuple(photo[0, 0]) == expected


@pytest.mark.parametrize(
    "kind, says",
    [
        ("text", "not an image Pillow can read"),
        ("truncated", "truncated or corrupt image"),
        ("missing", "cannot open it (No such file or directory); check the path"),
        ("bomb", "refused, too many pixels"),
    ],
)
def test_unusable_files_raise_a_photo_error_that_says_why(photos, kind, says):
    with pytest.raises(PhotoError, match=re.escape(says)) as error:
        load_photo(photos[kind])
    assert str(error.value).startswith(str(photos[kind]))


@pytest.mark.parametrize("pixels_over_limit", [1.5, 3])  # Pillow warns up to twice its limit, then refuses
def test_a_decompression_bomb_is_refused_whether_pillow_warns_or_refuses(
    tmp_path, monkeypatch, pixels_over_limit
):
    path = tmp_path / "bomb.png"
    Image.new("L", (100, 100)).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", int(100 * 100 / pixels_over_limit))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # whatever the test run's filters say, the loader refuses
        with pytest.raises(PhotoError, match="refused, too many pixels"):
            load_photo(path)


def test_a_folder_means_its_images_sorted_sub_folders_too(photos):
    album = photos["album"]
    assert photos_in(album) == [album / "cat.jpg", album / "holiday" / "cat.JPG"]
    assert photos_in(photos["dog"]) == [photos["dog"]]
    with pytest.raises(PhotoError, match="the folder holds no photos"):
        photos_in(photos["empty"])


def test_heat_map_names_follow_the_photos_and_never_clash(tmp_path):
    paths = [
        tmp_path / "a" / "rex.jpg",
        tmp_path / "b" / "rex.png",
        tmp_path / "Rex.jpg",
        tmp_path / "tom.jpg",
    ]
    assert list(heatmap_names(paths).values()) == [
        "rex_heatmap.png",
        "rex_2_heatmap.png",
        "Rex_3_heatmap.png",
        "tom_heatmap.png",
    ]


# ---------------------------------------------------------------- models


def test_pixel_scaling_is_read_from_the_model(untrained_04, model_08, photos):
    cnn, (_, beyond) = untrained_04, model_08
    assert not feeds_raw_pixels(cnn)
    assert feeds_raw_pixels(beyond)
    assert feeds_raw_pixels(beyond_style_model(nested=True))
    photo = load_photo(photos["big"])  # 1200x800, resized to the models' 150x150
    scaled, raw = model_input(cnn, photo), model_input(beyond, photo)
    assert scaled.shape == raw.shape == (150, 150, 3)
    assert scaled.max() <= 1.0 < raw.max() <= 255.0
    np.testing.assert_allclose(scaled * 255, raw, atol=1e-3)


def test_classification_is_the_models_prediction_on_the_prepared_photo(untrained_04, photos):
    model = untrained_04
    paths = [photos["dog"], photos["cat"], photos["sideways"]]
    results = list(classify(model, paths, batch_size=2))  # two batches
    inputs = np.stack([model_input(model, load_photo(path)) for path in paths])
    expected = model.predict(inputs, verbose=0)[:, 0]
    assert [result.path for result in results] == paths
    np.testing.assert_allclose([result.p_dog for result in results], expected, rtol=1e-5, atol=1e-6)
    assert [result.verdict for result in results] == ["dog" if p > 0.5 else "cat" for p in expected]


def test_a_bad_photo_raises_or_goes_to_on_error(untrained_04, photos):
    model = untrained_04
    with pytest.raises(PhotoError, match="not an image"):
        list(classify(model, [photos["dog"], photos["text"]]))
    errors = []
    results = list(classify(model, [photos["text"], photos["dog"]], on_error=errors.append))
    assert [result.path for result in results] == [photos["dog"]]
    assert len(errors) == 1 and "not an image" in str(errors[0])


def test_verdicts_follow_the_class_numbers():
    assert Classification("x.jpg", 0.93).verdict == "dog"  # dogs are class 1
    assert Classification("x.jpg", 0.5).verdict == "cat"  # as Keras' accuracy counts it
    assert Classification("x.jpg", 0.07).class_index == 0


def test_heat_map_layers_are_found_in_either_kind_of_model(untrained_04, model_08):
    cnn, (_, beyond) = untrained_04, model_08
    assert cam_layers(cnn) == (cnn, "relu3", "dense2")
    twin, feature_layer, logit_layer = cam_layers(beyond)
    assert feature_layer == "relu" and logit_layer.endswith("_logit")
    images = np.random.default_rng(0).uniform(0, 255, size=(2, 150, 150, 3)).astype("float32")
    probabilities = beyond.predict(images, verbose=0)
    logits = twin.predict(images, verbose=0)
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), probabilities, rtol=1e-5)


def test_heat_map_survives_a_saturated_sigmoid(photos):
    model = beyond_style_model(bias=60.0)  # p(dog) is 1.0 exactly in float32: its gradient is 0
    assert model.predict(model_input(model, load_photo(photos["dog"]))[None], verbose=0)[0, 0] == 1.0
    image = heatmap_image(model, photos["dog"], class_index=1)
    grey = np.ptp(image.astype(int), axis=-1) <= 1  # where no heat colours the grey photo
    assert not grey.all()


def test_heat_map_image_is_the_upright_photo_at_display_size(model_08, photos):
    _, model = model_08
    image = heatmap_image(model, photos["sideways"])  # stored 600x300, upright 300x600
    assert image.shape == (DISPLAY_SIDE, DISPLAY_SIDE // 2, 3) and image.dtype == np.uint8
    assert display_size(1200, 800) == (512, 341) and display_size(100, 50) == (100, 50)


def test_missing_named_model_names_the_notebook_that_makes_it(tmp_path, monkeypatch):
    monkeypatch.setenv(RESULTS_DIR_ENV, str(tmp_path))
    with pytest.raises(ModelError, match=r"notebook 08 \(notebooks/08_beyond_the_blog.ipynb\)"):
        load_model("08")
    not_a_model = tmp_path / "model.keras"
    not_a_model.write_text("not a model")
    with pytest.raises(ModelError, match="could not load a model from"):
        load_model(not_a_model)


# ---------------------------------------------------------------- the script


def test_help_describes_the_script():
    result = classify_script("--help")
    assert result.returncode == 0
    assert "Exit status" in result.stdout and "--heatmap DIR" in result.stdout


def test_missing_model_exits_6_and_says_which_notebook_makes_it(tmp_path, photos):
    result = run_main(photos["dog"], script=SCRIPT, env_extra={RESULTS_DIR_ENV: str(tmp_path)})
    assert result.returncode == 6, result.stderr
    assert "notebook 04 (notebooks/04_train_and_evaluate.ipynb)" in result.stderr
    assert "python3 scripts/tasks.py tutorial" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def mixed_run(cnn_04, photos, tmp_path_factory):
    """One run of the script on good photos, a folder, an empty folder and every kind of bad file."""
    heatmaps = tmp_path_factory.mktemp("run") / "heat" / "maps"  # created by the script
    kinds = ["dog", "missing", "text", "album", "truncated", "empty", "bomb", "big", "sideways"]
    result = classify_script("--model", cnn_04[0], *[photos[kind] for kind in kinds], "--heatmap", heatmaps)
    return result, heatmaps


def classified(stdout: str) -> dict[str, float]:
    return {
        line.split()[3]: float(line.split()[1]) for line in stdout.splitlines() if line.startswith("p(dog)")
    }


@pytest.mark.slow  # trains a model, then runs the script on it
def test_good_photos_are_classified_and_bad_ones_reported_with_exit_1(mixed_run, photos, cnn_04):
    result, _ = mixed_run
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith(f"Model: {cnn_04[0]}, reads pixels scaled to [0, 1]\n")
    album = photos["album"]
    good = [
        photos["dog"],
        album / "cat.jpg",
        album / "holiday" / "cat.JPG",
        photos["big"],
        photos["sideways"],
    ]
    assert list(classified(result.stdout)) == [str(path) for path in good]
    for kind, says in [
        ("missing", "No such file or directory"),
        ("text", "not an image Pillow can read"),
        ("truncated", "truncated or corrupt image"),
        ("empty", "the folder holds no photos"),
        ("bomb", "refused, too many pixels"),
    ]:
        assert f"classify.py: error: {photos[kind]}: " in result.stderr and says in result.stderr, kind
    assert "5 of the photos could not be classified" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_printed_p_dog_is_the_models_prediction(mixed_run, photos, cnn_04):
    result, _ = mixed_run
    _, model = cnn_04
    p_dog = model.predict(model_input(model, load_photo(photos["dog"]))[None], verbose=0)[0, 0]
    line = next(line for line in result.stdout.splitlines() if line.endswith(str(photos["dog"])))
    verdict = "dog" if p_dog > 0.5 else "cat"
    assert line == f"p(dog) {p_dog:.3f}  {verdict}  {photos['dog']}"


@pytest.mark.slow
def test_heat_maps_are_pngs_at_display_size_one_per_photo(mixed_run, photos):
    result, heatmaps = mixed_run
    expected = {
        f"{photos['dog'].stem}_heatmap.png": Image.open(photos["dog"]).size,
        "cat_heatmap.png": Image.open(photos["album"] / "cat.jpg").size,
        "cat_2_heatmap.png": Image.open(photos["album"] / "holiday" / "cat.JPG").size,
        "big_heatmap.png": display_size(1200, 800),
        "sideways_heatmap.png": display_size(300, 600),  # upright
    }
    assert sorted(path.name for path in heatmaps.iterdir()) == sorted(expected)
    for name, size in expected.items():
        with Image.open(heatmaps / name) as image:
            assert (image.format, image.mode, image.size) == ("PNG", "RGB", size), name
            image.verify()
        assert f"heat map  {heatmaps / name}" in result.stdout


def test_a_model_with_its_own_rescaling_reads_raw_pixels_and_gets_heat_maps(model_08, photos, tmp_path):
    result = classify_script("--model", model_08[0], photos["cat"], "--heatmap", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "reads 0-255 pixels (it rescales them itself)" in result.stdout.splitlines()[0]
    assert list(classified(result.stdout)) == [str(photos["cat"])]
    with Image.open(tmp_path / f"{photos['cat'].stem}_heatmap.png") as image:
        assert image.size == Image.open(photos["cat"]).size
