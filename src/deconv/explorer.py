"""The shape explorer of notebook 02: shapes and parameter counts of variants of the tutorial's CNN.

A variant keeps the network's form (three stages of convolution, ReLU and max pooling, then flatten,
dense, ReLU, dropout, dense and sigmoid) and changes the input size and, per stage, the kernel size,
stride, padding, pooling window and number of filters. :func:`formula_rows` computes every layer's
output shape and parameter count from the rules notebook 02 teaches; :func:`keras_rows` reads the
same from a Keras model built with those settings; :func:`report` puts both side by side, or says
which layer would shrink its map below 1 x 1. :func:`show_explorer` adds sliders for Jupyter.

Shapes are in Keras' order, (batch, height, width, channels); the inputs are square.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace

PADDINGS = ("valid", "same")


@dataclass(frozen=True)
class Stage:
    """One convolution stage: a kernel x kernel convolution, ReLU, and pool x pool max pooling."""

    filters: int
    kernel: int = 3
    stride: int = 1
    padding: str = "valid"
    pool: int = 2


@dataclass(frozen=True)
class Settings:
    """A variant of the network; the defaults are the tutorial's CNN (the Keras blog's)."""

    input_size: int = 150
    stages: tuple[Stage, ...] = (Stage(32), Stage(32), Stage(64))
    channels: int = 3
    dense_units: int = 64
    dropout_rate: float = 0.5


DEFAULT = Settings()


@dataclass(frozen=True)
class Row:
    """One layer: its name, kind (Keras class name), output shape with the batch axis first, parameters."""

    name: str
    kind: str
    shape: tuple[int | None, ...]
    params: int


class MapTooSmall(ValueError):
    """A layer would shrink its feature map below 1 x 1; ``rows`` holds the layers before it."""

    def __init__(self, message: str, rows: list[Row]):
        super().__init__(message)
        self.rows = rows


def output_size(size: int, kernel: int, stride: int = 1, padding: str = "valid") -> int:
    """Output height (or width) of a convolution or pooling window sliding over ``size`` pixels.

    Notebook 02's formula (exported to deconv.cnn): ``"valid"`` places the window only where it fits,
    which gives 0 or less when the kernel is larger than the input; ``"same"`` first pads the edges
    the way Keras does, so that every pixel is covered.
    """
    from .cnn import output_size as windows_that_fit
    from .cnn import same_padding_total

    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {PADDINGS}, not {padding!r}")
    if min(size, kernel, stride) < 1:
        raise ValueError(f"size, kernel and stride must be at least 1, got {size}, {kernel}, {stride}")
    padded = size + (same_padding_total(size, kernel, stride) if padding == "same" else 0)
    return windows_that_fit(padded, kernel, stride)


def _too_small(name: str, window: str, size: int, remedy: str, rows: list[Row]) -> MapTooSmall:
    message = (
        f"{name}: its {window} is larger than its {size}×{size} input, so with padding='valid' the map "
        f"would shrink below 1×1. Choose {remedy}."
    )
    return MapTooSmall(message, rows)


def formula_rows(settings: Settings = DEFAULT) -> list[Row]:
    """Every layer's output shape and parameters by formula; raises MapTooSmall naming the culprit."""
    size, channels = settings.input_size, settings.channels
    rows = [Row("input", "InputLayer", (None, size, size, channels), 0)]
    for number, stage in enumerate(settings.stages, start=1):
        conv_size = output_size(size, stage.kernel, stage.stride, stage.padding)
        if conv_size < 1:
            remedy = "a smaller kernel, padding='same', or a larger input"
            raise _too_small(f"conv{number}", f"{stage.kernel}×{stage.kernel} kernel", size, remedy, rows)
        conv_params = (stage.kernel * stage.kernel * channels + 1) * stage.filters
        size, channels = conv_size, stage.filters
        rows.append(Row(f"conv{number}", "Conv2D", (None, size, size, channels), conv_params))
        rows.append(Row(f"relu{number}", "Activation", (None, size, size, channels), 0))
        pool_size = output_size(size, stage.pool, stage.pool, "valid")
        if pool_size < 1:
            window = f"{stage.pool}×{stage.pool} pooling window"
            raise _too_small(f"pool{number}", window, size, "a smaller window or a larger input", rows)
        size = pool_size
        rows.append(Row(f"pool{number}", "MaxPooling2D", (None, size, size, channels), 0))
    flat = size * size * channels
    units = settings.dense_units
    rows += [
        Row("flatten", "Flatten", (None, flat), 0),
        Row("dense1", "Dense", (None, units), (flat + 1) * units),
        Row("relu4", "Activation", (None, units), 0),
        Row("dropout", "Dropout", (None, units), 0),
        Row("dense2", "Dense", (None, 1), units + 1),
        Row("output", "Activation", (None, 1), 0),
    ]
    return rows


def keras_model(settings: Settings = DEFAULT):
    """The variant as a keras.Sequential, laid out and named as notebook 02's build_cnn lays out its own."""
    import keras
    from keras import layers

    size = settings.input_size
    stack = [keras.Input(shape=(size, size, settings.channels))]
    for number, stage in enumerate(settings.stages, start=1):
        stack += [
            layers.Conv2D(
                stage.filters,
                (stage.kernel, stage.kernel),
                strides=(stage.stride, stage.stride),
                padding=stage.padding,
                name=f"conv{number}",
            ),
            layers.Activation("relu", name=f"relu{number}"),
            layers.MaxPooling2D((stage.pool, stage.pool), name=f"pool{number}"),
        ]
    stack += [
        layers.Flatten(name="flatten"),
        layers.Dense(settings.dense_units, name="dense1"),
        layers.Activation("relu", name="relu4"),
        layers.Dropout(settings.dropout_rate, name="dropout"),
        layers.Dense(1, name="dense2"),
        layers.Activation("sigmoid", name="output"),
    ]
    return keras.Sequential(stack, name="cats_vs_dogs_cnn")


def keras_rows(model) -> list[Row]:
    """Every layer's output shape and parameter count as Keras reports them."""
    rows = [Row("input", "InputLayer", tuple(model.inputs[0].shape), 0)]
    for layer in model.layers:
        rows.append(Row(layer.name, type(layer).__name__, tuple(layer.output.shape), layer.count_params()))
    return rows


def _shape(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join(str(value) for value in shape) + ")"


def report(settings: Settings = DEFAULT) -> str:
    """A table of every layer's shape and parameters by formula and by Keras, or what went wrong.

    The Keras model is built only when the formulas say every map is at least 1 x 1.
    """
    try:
        rows, problem = formula_rows(settings), None
    except MapTooSmall as error:
        rows, problem = error.rows, str(error)
    by_keras = {}
    if not problem:
        try:
            by_keras = {row.name: row for row in keras_rows(keras_model(settings))}
        except ValueError as error:  # the formulas accepted settings that Keras refuses
            first_line = next((line for line in str(error).splitlines() if line.strip()), "")
            problem = f"Keras refuses settings the formulas accept: {first_line}"
    header = (
        f"{'layer':<8}{'kind':<13}{'shape by formula':<22}{'shape by Keras':<22}"
        f"{'params by formula':>18}{'params by Keras':>17}"
    )
    lines = ["shapes are (batch, height, width, channels)", header]
    disagreements = []
    for row in rows:
        keras_row = by_keras.get(row.name)
        keras_shape = _shape(keras_row.shape) if keras_row else "-"
        keras_params = f"{keras_row.params:,}" if keras_row else "-"
        if keras_row and (keras_row.shape, keras_row.params) != (row.shape, row.params):
            disagreements.append(row.name)
        lines.append(
            f"{row.name:<8}{row.kind:<13}{_shape(row.shape):<22}{keras_shape:<22}"
            f"{row.params:>18,}{keras_params:>17}"
        )
    if problem:
        lines += ["", problem, "No Keras model is built for these settings."]
        return "\n".join(lines)
    total = sum(row.params for row in rows)
    keras_total = sum(row.params for row in by_keras.values())
    lines.append(f"{'total':<65}{total:>18,}{keras_total:>17,}")
    if disagreements or len(by_keras) != len(rows):
        lines.append(f"Formula and Keras DISAGREE on: {', '.join(disagreements) or 'the list of layers'}")
    else:
        lines.append(f"Formula and Keras agree on all {len(rows) - 1} layers.")
    return "\n".join(lines)


def explorer_widget(settings: Settings = DEFAULT):
    """Sliders for the input size and each stage, above the live report (needs ipywidgets)."""
    import ipywidgets as widgets

    slider_style = widgets.SliderStyle(description_width="70px")  # one shared style and layout:
    slider_layout = widgets.Layout(width="250px")  # fewer widget models saved in the notebook

    def slider(description, value, low, high):
        return widgets.IntSlider(
            value=value,
            min=low,
            max=high,
            description=description,
            continuous_update=False,  # rebuild the Keras model once the slider is released
            style=slider_style,
            layout=slider_layout,
        )

    input_size = slider("input size", settings.input_size, 4, 300)
    columns, controls = [], []
    for number, stage in enumerate(settings.stages, start=1):
        stage_controls = {
            "kernel": slider("kernel", stage.kernel, 1, 7),
            "stride": slider("stride", stage.stride, 1, 4),
            "padding": widgets.Dropdown(
                options=PADDINGS, value=stage.padding, description="padding", style=slider_style
            ),
            "pool": slider("pooling", stage.pool, 1, 4),
            "filters": slider("filters", stage.filters, 1, 128),
        }
        controls.append(stage_controls)
        title = widgets.HTML(f"<b>stage {number}</b>: conv{number}, relu{number}, pool{number}")
        columns.append(widgets.VBox([title, *stage_controls.values()]))
    table = widgets.HTML()

    def refresh(_change=None):
        stages = tuple(
            Stage(**{key: control.value for key, control in stage_controls.items()})
            for stage_controls in controls
        )
        current = replace(settings, input_size=input_size.value, stages=stages)
        table.value = f"<pre>{html.escape(report(current))}</pre>"

    for control in [input_size, *(c for stage_controls in controls for c in stage_controls.values())]:
        control.observe(refresh, names="value")
    refresh()
    return widgets.VBox([input_size, widgets.HBox(columns), table])


def show_explorer(settings: Settings = DEFAULT) -> None:
    """Print the report for ``settings`` and display the sliders below it.

    The printed table is what a reader sees where widgets do not run (GitHub, a terminal, the
    tests); in Jupyter the sliders below it redraw their own copy as they move.
    """
    from IPython.display import display

    print(report(settings))
    bundle = explorer_widget(settings)._repr_mimebundle_()
    bundle["text/plain"] = "[The live shape explorer: sliders that need a running Jupyter kernel.]"
    display(bundle, raw=True)
