"""Heat maps for any Keras image classifier: its layers' geometry, the layer to read, maps on the pixels.

``scripts/inspect_model.py`` (``python3 scripts/tasks.py inspect MODEL.keras
[PHOTO ...]``) is the command line for it; a notebook can call the same::

    report = inspect(model, photos=["rex.jpg"], out="heatmaps/")

The layer table extends ``interpret.receptive_fields`` (the tutorial's CNN)
to any Sequential or Functional model, with ``"same"`` padding, dilation,
strides and branches that join; ``heat_map_layer`` is the one layer choice
``inspect`` and ``classify --heatmap`` share. The maps themselves are in
``deconv.heatmaps``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .heatmaps import FAVOURED_METHOD

MIN_MAP_SIDE = 7  # the default layer: the last whose map is at least this many positions a side
NOT_READ = ("MaxPooling2D", "AveragePooling2D", "ZeroPadding2D")  # they only coarsen or pad the map before


class InspectError(ValueError):
    """A model or layer the heat maps cannot be drawn for; the message says why and what would do."""


@dataclass(frozen=True)
class Geometry:
    """Where one layer's positions sit in the input, per axis (rows, columns).

    Position ``i`` along an axis is centred on input pixel ``centre + i * jump``
    and sees ``size`` pixels around it. ``None`` for a layer without a spatial
    map (Flatten, Dense, global pooling) or one whose geometry is not known.
    """

    size: tuple[int, int]
    jump: tuple[int, int]
    centre: tuple[float, float]

    def centres(self, axis: int, count: int):
        import numpy as np

        return self.centre[axis] + self.jump[axis] * np.arange(count)


ORIGIN = Geometry((1, 1), (1, 1), (0.0, 0.0))


@dataclass(frozen=True)
class LayerRow:
    name: str
    kind: str
    output_shape: tuple
    parameters: int
    geometry: Geometry | None

    @property
    def spatial(self) -> bool:
        return len(self.output_shape) == 4

    @property
    def map_side(self) -> int:
        return min(side or 0 for side in self.output_shape[1:3]) if self.spatial else 0


# ---------------------------------------------------------------- loading and checking


def load_any_model(path: Path | str):
    """A saved Keras model; InspectError, saying why, for anything else."""
    import keras

    path = Path(path)
    if not path.is_file():
        raise InspectError(f"no model at {path}: give a saved Keras model (a .keras file).")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises many kinds for a file that is not a model it can read
        raise InspectError(
            f"{path} is not a Keras model Keras can load ({type(error).__name__}: {error})."
        ) from None


def check_image_classifier(model) -> None:
    """InspectError unless the model takes one batch of (height, width, channels) images and gives scores."""
    shape = model.input_shape
    if not (isinstance(shape, tuple) and len(shape) == 4 and shape[3] in (1, 3, 4)):
        raise InspectError(
            f"{model.name} takes {shape}: an image model takes one input of (height, width, channels) "
            "images, shape (batch, H, W, C) with 1, 3 or 4 channels."
        )
    output = model.output_shape
    if not (isinstance(output, tuple) and len(output) == 2):
        raise InspectError(
            f"{model.name} gives {output}: a classifier gives one score per class, shape (batch, classes)."
        )


# ---------------------------------------------------------------- geometry


def _producers(layer):
    """The layers whose outputs ``layer`` reads (one, or several where branches join)."""
    tensors = layer.input if isinstance(layer.input, list | tuple) else [layer.input]
    return [tensor._keras_history.operation for tensor in tensors]


def _pad_before(size: int | None, kernel: int, stride: int, padding: str) -> int:
    if padding == "valid" or size is None:
        return 0
    out = -(-size // stride)
    return max((out - 1) * stride + kernel - size, 0) // 2  # TensorFlow puts the odd pixel after


def _window(layer):
    """(kernel, stride, dilation, padding), each per axis, of a layer that slides a window; else None."""
    from keras import layers

    if isinstance(layer, layers.Conv2D | layers.DepthwiseConv2D | layers.SeparableConv2D):
        if isinstance(layer, layers.Conv2DTranspose):
            return None
        return layer.kernel_size, layer.strides, layer.dilation_rate, layer.padding
    if isinstance(layer, layers.MaxPooling2D | layers.AveragePooling2D):
        return layer.pool_size, layer.strides, (1, 1), layer.padding
    return None


def _geometry(layer, before: Geometry, input_hw) -> Geometry | None:
    from keras import layers

    window = _window(layer)
    if window is not None:
        kernels, strides, dilations, padding = window
        size, jump, centre = [], [], []
        for axis in (0, 1):
            span = (kernels[axis] - 1) * dilations[axis] + 1
            pad = _pad_before(input_hw[axis], span, strides[axis], padding)
            size.append(before.size[axis] + (span - 1) * before.jump[axis])
            centre.append(before.centre[axis] + ((span - 1) / 2 - pad) * before.jump[axis])
            jump.append(before.jump[axis] * strides[axis])
        return Geometry(tuple(size), tuple(jump), tuple(centre))
    if isinstance(layer, layers.ZeroPadding2D | layers.Cropping2D):
        (top, _), (left, _) = layer.padding if isinstance(layer, layers.ZeroPadding2D) else layer.cropping
        sign = -1 if isinstance(layer, layers.ZeroPadding2D) else 1
        centre = (
            before.centre[0] + sign * top * before.jump[0],
            before.centre[1] + sign * left * before.jump[1],
        )
        return Geometry(before.size, before.jump, centre)
    return before  # an activation, normalisation, dropout, rescaling: positions unchanged


def layer_table(model) -> list[LayerRow]:
    """Every layer with its output shape, parameter count and, for spatial maps, its receptive field.

    Works through the graph of a Sequential or Functional model: each layer's
    geometry follows from the layer (or layers) it reads; where branches join
    (Add, Concatenate), the field is the larger and the positions must agree.
    A layer that changes the map's size in a way not known here (resizing,
    upsampling, a nested model that pools) gets no geometry.
    """
    from keras import layers

    geometry: dict[str, Geometry | None] = {}
    rows = []
    for layer in model.layers:
        shape = tuple(layer.output.shape) if hasattr(layer, "output") else ()
        if isinstance(layer, layers.InputLayer):
            found = ORIGIN
        elif len(shape) != 4:
            found = None
        else:
            inputs = [
                ORIGIN if isinstance(producer, layers.InputLayer) else geometry.get(producer.name)
                for producer in _producers(layer)
            ]
            in_shapes = [tuple(producer.output.shape) for producer in _producers(layer)]
            if any(found is None for found in inputs) or any(len(s) != 4 for s in in_shapes):
                found = None
            elif len(inputs) > 1:
                same_grid = all(g.jump == inputs[0].jump and g.centre == inputs[0].centre for g in inputs)
                largest = tuple(max(g.size[axis] for g in inputs) for axis in (0, 1))
                found = Geometry(largest, inputs[0].jump, inputs[0].centre) if same_grid else None
            else:
                found = _geometry(layer, inputs[0], in_shapes[0][1:3])
                if _window(layer) is None and tuple(shape[1:3]) != tuple(in_shapes[0][1:3]):
                    if not isinstance(layer, layers.ZeroPadding2D | layers.Cropping2D):
                        found = None  # the map changed size by something not modelled here
        geometry[layer.name] = found
        if not isinstance(layer, layers.InputLayer):
            rows.append(LayerRow(layer.name, type(layer).__name__, shape, layer.count_params(), found))
    return rows


def format_table(rows: list[LayerRow]) -> str:
    """The layer table as text: name, kind, output shape, parameters, receptive field and jump."""
    lines = [f"{'layer':<28}{'kind':<24}{'output shape':<22}{'parameters':>12}{'field':>10}{'jump':>6}"]
    for row in rows:
        shape = "(" + ", ".join("None" if side is None else str(side) for side in row.output_shape) + ")"
        field = jump = ""
        if row.geometry is not None:
            field = "x".join(map(str, row.geometry.size))
            jump = (
                str(row.geometry.jump[0])
                if len(set(row.geometry.jump)) == 1
                else "x".join(map(str, row.geometry.jump))
            )
        lines.append(f"{row.name:<28}{row.kind:<24}{shape:<22}{row.parameters:>12,}{field:>10}{jump:>6}")
    total = sum(row.parameters for row in rows)
    lines.append(f"{'total':<74}{total:>12,}")
    return "\n".join(lines)


def heat_map_layer(model, name: str | None = None) -> LayerRow:
    """The layer whose map a heat map reads: ``name``, or by default the last one at least 7x7.

    By default: the last layer, from the first convolution on, with a spatial
    map of at least ``MIN_MAP_SIDE`` positions a side and a known geometry,
    pooling and zero padding left out (they only coarsen or pad the map
    before them): relu3 in notebook 04's CNN, the residual block's sum in
    notebook 08's. If every map is smaller, the last of the largest.
    """
    rows = layer_table(model)
    candidates = [row for row in rows if row.spatial and row.geometry is not None]
    if name is not None:
        chosen = next((row for row in rows if row.name == name), None)
        if chosen is None:
            raise InspectError(
                f"{model.name} has no layer {name!r}; layers with a spatial map: "
                + ", ".join(row.name for row in candidates)
            )
        if not chosen.spatial:
            raise InspectError(
                f"{name} gives {chosen.output_shape}, not a spatial map (batch, height, width, channels); "
                "choose one of: " + ", ".join(row.name for row in candidates)
            )
        if chosen.geometry is None:
            raise InspectError(f"{name}: where its positions sit in the input is not known here")
        return chosen
    first_conv = next((n for n, row in enumerate(rows) if _is_conv(row.kind)), None)
    if first_conv is None:
        raise InspectError(f"{model.name} has no convolutional layer to draw a heat map from")
    usable = [row for row in rows[first_conv:] if row in candidates and row.kind not in NOT_READ]
    if not usable:
        raise InspectError(f"{model.name} has no spatial map after its first convolution")
    large = [row for row in usable if row.map_side >= MIN_MAP_SIDE]
    largest = max(row.map_side for row in usable)
    return large[-1] if large else [row for row in usable if row.map_side == largest][-1]


def _is_conv(kind: str) -> bool:
    return kind in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D")


# ---------------------------------------------------------------- the command's work


@dataclass
class Inspection:
    table: str
    layer: LayerRow
    method: str
    written: list


def inspect(
    model_or_path, photos=(), layer: str | None = None, out: Path | str | None = None, method=FAVOURED_METHOD
):
    """The layer table, the heat-map layer, and for each photo its heat map (written to ``out`` if given).

    ``model_or_path``: a Keras model or a saved one. Each photo is resized to
    the model's input; a model with a Rescaling layer of its own gets 0-255
    pixels, any other pixels in [0, 1] (as ``classify`` does). The heat map is
    for the class the model gives the photo. Returns an ``Inspection``;
    raises InspectError for a model or layer it cannot use, and
    classify.PhotoError for a photo it cannot read.
    """
    import numpy as np

    from .classify import heatmap_names, load_photo, model_input, overlay, write_heatmap
    from .heatmaps import heat_maps

    model = load_any_model(model_or_path) if isinstance(model_or_path, str | Path) else model_or_path
    check_image_classifier(model)
    rows = layer_table(model)
    chosen = heat_map_layer(model, layer)
    written = []
    photos = [Path(photo) for photo in photos]
    names = heatmap_names(photos)
    for photo in photos:
        pixels = load_photo(photo)
        inputs = model_input(model, pixels)[None]
        scores = model.predict(inputs, verbose=0)[0]
        class_index = int(scores[0] > 0.5) if len(scores) == 1 else int(np.argmax(scores))
        heat = heat_maps(model, inputs, class_index, method, chosen.name)[0]
        image = overlay(pixels, heat)
        path = write_heatmap(image, Path(out) / names[photo]) if out is not None else None
        written.append((photo, class_index, float(scores.max() if len(scores) > 1 else scores[0]), path))
    return Inspection(format_table(rows), chosen, method, written)
