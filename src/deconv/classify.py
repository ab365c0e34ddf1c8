"""Classifying your own photos with a trained model, and showing where it looked.

``scripts/classify.py`` (``python3 scripts/tasks.py classify PHOTO...``) is
the command line for it; a notebook can call the same functions::

    model = load_model("08")
    for result in classify(model, paths):
        image = heatmap_image(model, result.path, result.class_index)

The two models it knows differ in what they read: notebook 04's CNN learnt
from ImageDataGenerator's pixels scaled to [0, 1]; notebook 08's scales
0-255 pixels itself, with a Rescaling layer. Which one a model is, is read
from the model, so any other saved model of either kind works too.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from .layout import CLASS_NAMES, FILE_PREFIXES, IMAGE_SUFFIXES, image_files
from .model import IMAGE_SIZE
from .paths import display_path, results_dir
from .pipeline import RESCALE
from .training import TRAINED_MODEL_NAME

# The models the notebooks save in results/: file name, and the notebook that trains it.
MODELS = {
    "04": (TRAINED_MODEL_NAME, "04_train_and_evaluate.ipynb"),
    "08": ("beyond_cnn.keras", "08_beyond_the_blog.ipynb"),
}
DEFAULT_MODEL = "04"
VERDICTS = tuple(FILE_PREFIXES[name] for name in CLASS_NAMES)  # ("cat", "dog"): classes 0 and 1
THRESHOLD = 0.5  # above it, a dog: the rule Keras' accuracy metric applies
DISPLAY_SIDE = 512  # heat-map images: longest side at most this, in pixels
TUTORIAL_COMMAND = "python3 scripts/tasks.py tutorial"
PILLOW_FORMATS = "JPEG, PNG, BMP, GIF, TIFF, WebP and more; convert others, such as HEIC, to JPEG first"


class ModelError(ValueError):
    """The model is missing, cannot be loaded or is not a cats-vs-dogs classifier; the message says why."""


class PhotoError(ValueError):
    """A photo that cannot be classified; the message names it and says why."""


@dataclass(frozen=True)
class Classification:
    """One photo's result: the model's p(dog), and the verdict it means."""

    path: Path
    p_dog: float

    @property
    def class_index(self) -> int:
        return int(self.p_dog > THRESHOLD)

    @property
    def verdict(self) -> str:
        return VERDICTS[self.class_index]


# ---------------------------------------------------------------- the model


def model_path(model: str | Path = DEFAULT_MODEL) -> Path:
    """The file ``model`` names: "04" or "08" for a notebook's model in results/, anything else a path."""
    if str(model) in MODELS:
        return results_dir() / MODELS[str(model)][0]
    return Path(model)


def _missing_model(model: str | Path, path: Path) -> str:
    if str(model) not in MODELS:
        return f"no model at {path}: give a saved .keras model, or 04 or 08 for the notebooks' models."
    notebook = MODELS[str(model)][1]
    return (
        f"no model at {display_path(path)}: notebook {model} (notebooks/{notebook}) trains and saves it. "
        f"Run that notebook, or every notebook in order with '{TUTORIAL_COMMAND}'."
    )


def load_model(model: str | Path = DEFAULT_MODEL):
    """The Keras model ``model`` names (see ``model_path``), checked to take RGB images and give p(dog)."""
    import keras

    path = model_path(model)
    if not path.is_file():
        raise ModelError(_missing_model(model, path))
    try:
        loaded = keras.models.load_model(path, compile=False)  # no training here: no optimizer needed
    except Exception as error:  # Keras raises many kinds for a file that is not a model it can read
        raise ModelError(f"could not load a model from {path} ({type(error).__name__}: {error}).") from None
    if not _takes_photos_gives_p_dog(loaded):
        raise ModelError(
            f"{path} takes {loaded.input_shape} and gives {loaded.output_shape}: a cats-vs-dogs model "
            "takes RGB images (batch, height, width, 3) and gives one probability, p(dog), per image."
        )
    return loaded


def _takes_photos_gives_p_dog(model) -> bool:
    shape = model.input_shape  # a list for a model with several inputs
    return isinstance(shape, tuple) and len(shape) == 4 and shape[3] == 3 and model.output_shape == (None, 1)


def _all_layers(model):
    """Every layer, inside nested models too (08 may keep its Rescaling in a Sequential block)."""
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def feeds_raw_pixels(model) -> bool:
    """Whether the model takes 0-255 pixels: it has a Rescaling layer of its own that scales them."""
    from keras import layers

    return any(isinstance(layer, layers.Rescaling) for layer in _all_layers(model))


def input_size(model) -> tuple[int, int]:
    """(height, width) of the images the model reads; the tutorial's size when the model takes any."""
    height, width = model.input_shape[1:3]
    return IMAGE_SIZE if None in (height, width) else (height, width)


# ---------------------------------------------------------------- the photos


def photos_in(path: Path | str) -> list[Path]:
    """The photos one argument names: a file itself, or a folder's images, sub-folders too, sorted.

    A folder's images are its files ending in one of layout.IMAGE_SUFFIXES
    (any case), the files Keras' folder readers take; hidden files and
    folders (a Mac's ``._IMG_1234.jpg``) are left out.
    """
    path = Path(path)
    if not path.is_dir():
        return [path]  # load_photo says what is wrong with it, if anything
    found = [
        file
        for file in image_files(path, recursive=True)
        if not any(part.startswith(".") for part in file.relative_to(path).parts)
    ]
    if not found:
        raise PhotoError(
            f"{path}: the folder holds no photos ({', '.join(sorted(IMAGE_SUFFIXES))} files, in it or "
            "below); give a folder of photos, or the photos themselves."
        )
    return found


def load_photo(path: Path | str):
    """A photo as an (height, width, 3) uint8 RGB array, upright as its EXIF orientation says.

    Reads anything Pillow reads, in any colour mode (see data.images.as_rgb);
    raises PhotoError, saying why, for a file that cannot be used.
    """
    import numpy as np
    from PIL import Image, ImageOps

    from .data.images import as_rgb

    try:
        with warnings.catch_warnings():
            # Pillow only warns between its two size limits; a photo that big is refused all the same.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                # First of all: a phone stores a portrait photo on its side and says so in EXIF.
                return np.asarray(as_rgb(ImageOps.exif_transpose(image)))
    except Image.UnidentifiedImageError:
        raise PhotoError(f"{path}: not an image Pillow can read ({PILLOW_FORMATS}).") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise PhotoError(
            f"{path}: refused, too many pixels ({error}); make a smaller copy of the photo and classify that."
        ) from None
    except OSError as error:
        if error.filename is not None:  # the system's error (missing, a folder, no permission), not Pillow's
            raise PhotoError(f"{path}: cannot open it ({error.strerror}); check the path.") from None
        raise PhotoError(f"{path}: truncated or corrupt image ({error}); copy it again.") from None
    except (SyntaxError, ValueError) as error:  # what some of Pillow's decoders raise for a damaged file
        raise PhotoError(f"{path}: truncated or corrupt image ({error}); copy it again.") from None


def model_input(model, photo):
    """A photo (uint8 RGB) as ``model`` reads it: float32 at its input size, in 0-255 or in [0, 1].

    Resized bilinearly without keeping the aspect ratio, as Keras' folder
    readers do. A model with a Rescaling layer (notebook 08's) scales 0-255
    itself; one without (notebook 04's) learnt from pixels already scaled.
    """
    import numpy as np
    from PIL import Image

    height, width = input_size(model)
    resized = Image.fromarray(photo).resize((width, height), Image.Resampling.BILINEAR)
    pixels = np.asarray(resized, dtype="float32")
    return pixels if feeds_raw_pixels(model) else pixels * np.float32(RESCALE)


def classify(model, paths, on_error=None, batch_size: int = 32):
    """Yield a Classification for each photo, in order, as each batch of ``batch_size`` is predicted.

    A photo that cannot be read raises PhotoError, unless ``on_error`` is
    given: then it is called with the error and the photo skipped.
    ``list(classify(model, paths))`` gives them all at once.
    """
    import numpy as np

    paths = list(paths)
    for start in range(0, len(paths), batch_size):
        batch = []
        for path in paths[start : start + batch_size]:
            try:
                batch.append((Path(path), model_input(model, load_photo(path))))
            except PhotoError as error:
                if on_error is None:
                    raise
                on_error(error)
        if batch:
            p_dogs = model.predict(np.stack([inputs for _, inputs in batch]), verbose=0)[:, 0]
            yield from (Classification(path, float(p)) for (path, _), p in zip(batch, p_dogs, strict=True))


# ---------------------------------------------------------------- heat maps


def cam_layers(model):
    """(model, feature-map layer, logit layer) for cam.grad_cam, found in any model of either kind.

    The feature map is the one ``inspect`` reads too (``inspect.heat_map_layer``):
    the last layer, from the first convolution on, whose map is at least 7x7,
    pooling left out: relu3 in notebook 04's CNN, the residual block's sum in
    notebook 08's. A final Dense with a built-in sigmoid is copied without it,
    so the map follows the logit, whose gradient does not vanish where the
    sigmoid saturates.
    """
    import keras
    from keras import layers

    from .inspect import InspectError, heat_map_layer

    try:
        feature_layer = heat_map_layer(model).name
    except InspectError as error:
        raise ValueError(f"no feature map to draw a heat map from: {error}") from None
    last = model.layers[-1]
    if isinstance(last, layers.Activation):  # 04's CNN: Dense, then the sigmoid as a layer of its own
        return model, feature_layer, model.layers[-2].name
    if getattr(getattr(last, "activation", None), "__name__", None) != "sigmoid":
        return model, feature_layer, last.name
    logit = type(last).from_config(
        {**last.get_config(), "activation": "linear", "name": f"{last.name}_logit"}
    )
    outputs = logit(last.input)
    logit.set_weights(last.get_weights())
    return keras.Model(model.inputs, outputs), feature_layer, logit.name


def display_size(width: int, height: int, side: int = DISPLAY_SIDE) -> tuple[int, int]:
    """(width, height) of a photo shown with its longest side at most ``side``; smaller ones keep theirs."""
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def overlay(photo, heat, side: int = DISPLAY_SIDE):
    """The photo at display size in faded grey, the heat map over it, as plots.heat_overlay draws it.

    ``heat`` in [0, 1], at any size (it is stretched over the photo); returns
    uint8 RGB pixels, to show with ``imshow`` or save as a PNG.
    """
    import numpy as np
    from PIL import Image

    from .plots import faded_grey, heat_colours

    size = display_size(photo.shape[1], photo.shape[0], side)
    shown = np.asarray(Image.fromarray(photo).resize(size, Image.Resampling.BILINEAR), dtype="float32") / 255
    heat = Image.fromarray(np.asarray(heat, dtype="float32")).resize(size, Image.Resampling.BILINEAR)
    colours = heat_colours(np.asarray(heat))
    opacity = colours[..., 3:]
    mixed = opacity * colours[..., :3] + (1 - opacity) * faded_grey(shown)[..., None]
    return np.round(mixed * 255).astype("uint8")


def heatmap_image(model, path: Path | str, class_index: int | None = None, side: int = DISPLAY_SIDE):
    """The photo with the heat map of the evidence for ``class_index`` (default: the verdict) over it.

    The map is the method notebook 09 favours (HiResCAM), read from the layer
    ``cam_layers`` and ``inspect`` choose and placed on its receptive fields'
    centres. Returns uint8 RGB pixels at display size (see ``overlay``);
    raises PhotoError as load_photo does.
    """
    from .heatmaps import FAVOURED_METHOD, heat_maps

    photo = load_photo(path)
    inputs = model_input(model, photo)[None]
    if class_index is None:
        class_index = int(model.predict(inputs, verbose=0)[0, 0] > THRESHOLD)
    _, feature_layer, _ = cam_layers(model)
    heat = heat_maps(model, inputs, class_index, FAVOURED_METHOD, feature_layer)[0]
    return overlay(photo, heat, side)


def heatmap_names(paths) -> dict[Path, str]:
    """A PNG name for each photo's heat map, ``<stem>_heatmap.png``, numbered when two stems agree."""
    names, taken = {}, set()
    for path in map(Path, paths):
        name, number = f"{path.stem}_heatmap.png", 1
        while name.lower() in taken:  # lower case: two names that differ only in case clash on macOS
            number += 1
            name = f"{path.stem}_{number}_heatmap.png"
        taken.add(name.lower())
        names[path] = name
    return names


def write_heatmap(image, path: Path | str) -> Path:
    """Save heatmap_image's pixels as a PNG, creating its folder; returns the path."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path, format="PNG")
    return path
