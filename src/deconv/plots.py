"""Figures more than one notebook draws (image grids, learning curves, heat maps) and the drawings
that illustrate a lesson without being its subject (notebook 02's model boxes, numbered matrices, pooling
windows)."""

from __future__ import annotations

import math


def image_grid(
    images,
    titles=(),
    columns: int = 6,
    size: float = 2.0,
    suptitle: str | None = None,
    interpolation: str | None = None,
):
    """Show images (arrays in [0, 1] or [0, 255], or PIL images) in a grid with titles.

    ``interpolation="nearest"`` draws each pixel as a block, however much the image is enlarged;
    the default smooths images that are enlarged less than threefold.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    images = list(images)
    rows = math.ceil(len(images) / columns)
    title_lines = max((str(title).count("\n") + 1 for title in titles), default=0)
    figure, axes = plt.subplots(
        rows,
        columns,
        figsize=(columns * size, rows * (size + 0.2 * title_lines) + (0.4 if suptitle else 0)),
        squeeze=False,
        layout="constrained",  # leaves room for multi-line titles
    )
    for index, axis in enumerate(axes.flat):
        axis.axis("off")
        if index >= len(images):
            continue
        image = np.asarray(images[index])
        if image.dtype != np.uint8 and image.max() > 1.0:
            image = image.astype("uint8")
        axis.imshow(image, interpolation=interpolation)
        if index < len(titles):
            axis.set_title(titles[index], fontsize=9)
    if suptitle:
        figure.suptitle(suptitle)
    return figure


def data_limits(values, margin: float = 0.08) -> tuple[float, float]:
    """Axis limits that span ``values`` with a margin of ``margin`` times their range on each side."""
    low, high = min(values), max(values)
    pad = margin * (high - low) if high > low else 0.05 * max(abs(high), 1.0)
    return low - pad, high + pad


def learning_curves(log: dict[str, list[float]], title: str = "Learning curves"):
    """Loss and accuracy per epoch, training beside validation, from a training log."""
    import matplotlib.pyplot as plt

    epochs = [int(e) + 1 for e in log["epoch"]]
    figure, (loss_axis, accuracy_axis) = plt.subplots(1, 2, figsize=(11, 4))
    panels = ((loss_axis, "loss", "binary cross-entropy"), (accuracy_axis, "accuracy", "accuracy"))
    for axis, metric, label in panels:
        axis.plot(epochs, log[metric], "o-", label="training")
        axis.plot(epochs, log[f"val_{metric}"], "s-", label="validation")
        axis.set_xlabel("epoch")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
        axis.legend()
    for axis, metric in ((loss_axis, "loss"), (accuracy_axis, "accuracy")):
        axis.set_ylim(*data_limits([*log[metric], *log[f"val_{metric}"]]))
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def heat_colours(heat, cmap: str = "inferno", max_alpha: float = 0.9):
    """RGBA colours for a heat map in [0, 1]: colour from ``cmap``, opacity proportional to the value.

    A value of 0 is fully transparent and 1 has opacity ``max_alpha``, so where
    the map is cold the image underneath shows unchanged instead of tinted.
    """
    import matplotlib
    import numpy as np

    heat = np.clip(np.asarray(heat, dtype="float32"), 0.0, 1.0)
    colours = matplotlib.colormaps[cmap](heat)
    colours[..., 3] = max_alpha * heat
    return colours


def faded_grey(image):
    """An RGB image in [0, 1] as grey in [0.15, 0.85]: its shapes stay, no colour to mistake for heat."""
    import numpy as np

    image = np.asarray(image, dtype="float32")
    luminance = image[..., :3] @ np.array([0.299, 0.587, 0.114], dtype="float32")
    return 0.15 + 0.7 * luminance


def heat_overlay(axis, image, heat, cmap: str = "inferno", max_alpha: float = 0.9):
    """Draw ``image`` (RGB in [0, 1]) in faded grey with a heat map in [0, 1] over it, see-through where low.

    Returns a colour scale for ``figure.colorbar`` (its colours at full opacity).
    """
    import matplotlib

    grey = faded_grey(image)
    height, width = grey.shape
    axis.imshow(grey, cmap="gray", vmin=0, vmax=1)
    # extent stretches a map of any size over the whole image (pixel centres at whole numbers)
    axis.imshow(heat_colours(heat, cmap, max_alpha), extent=(-0.5, width - 0.5, height - 0.5, -0.5))
    axis.axis("off")
    return matplotlib.cm.ScalarMappable(norm=matplotlib.colors.Normalize(0, 1), cmap=cmap)


# ---- notebook 02: the model as boxes, small matrices with their numbers, pooling windows ----

LAYER_COLOURS = {
    "InputLayer": "#d9d9d9",
    "Conv2D": "#9ecae1",
    "Activation": "#fdd0a2",
    "MaxPooling2D": "#a1d99b",
    "Flatten": "#dadaeb",
    "Dense": "#fcbba1",
    "Dropout": "#e5e5e5",
}


def layer_detail(layer) -> str:
    """A few words on a layer's settings: filters, window, units, rate or function."""
    import keras

    if isinstance(layer, keras.layers.Conv2D):
        return f"{layer.filters} filters, {layer.kernel_size[0]}×{layer.kernel_size[1]}"
    if isinstance(layer, keras.layers.MaxPooling2D):
        return f"{layer.pool_size[0]}×{layer.pool_size[1]} window, {layer.padding}"
    if isinstance(layer, keras.layers.Dense):
        return f"{layer.units} unit{'s' if layer.units > 1 else ''}"
    if isinstance(layer, keras.layers.Dropout):
        return f"rate {layer.rate}"
    if isinstance(layer, keras.layers.Activation):
        return layer.activation.__name__
    return ""


def draw_model(model, stages: dict[str, list[str]]):
    """Boxes from input to output with shapes and parameters; `stages` maps a label to layer names."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    input_shape = tuple(model.inputs[0].shape)
    rows = [("input", "InputLayer", "×".join(map(str, input_shape[1:])), input_shape, 0)]
    for layer in model.layers:
        shape = tuple(layer.output.shape)
        rows.append((layer.name, type(layer).__name__, layer_detail(layer), shape, layer.count_params()))
    step = 1.0
    box_style = {"boxstyle": "round,pad=0.02,rounding_size=0.12", "edgecolor": "#555555"}
    arrow_style = {"arrowstyle": "->", "color": "#555555"}
    figure, axis = plt.subplots(figsize=(9, 0.52 * len(rows) + 0.8))
    for index, (name, kind, detail, shape, params) in enumerate(rows):
        y = -index * step
        colour = LAYER_COLOURS.get(kind, "white")
        axis.add_patch(FancyBboxPatch((0.0, y - 0.32), 6.0, 0.64, facecolor=colour, **box_style))
        axis.text(0.15, y, f"{name}", fontsize=10, fontweight="bold", va="center")
        axis.text(1.05, y, f"{kind}  ({detail})" if detail else kind, fontsize=9, va="center")
        axis.text(3.85, y, str(shape).replace("None", "N"), fontsize=9, va="center", family="monospace")
        axis.text(5.9, y, f"{params:,}" if params else "–", fontsize=9, va="center", ha="right")
        if index:
            axis.annotate("", xy=(3.0, y + 0.33), xytext=(3.0, y + step - 0.33), arrowprops=arrow_style)
    names = [row[0] for row in rows]
    for label, members in stages.items():
        top, bottom = -names.index(members[0]) * step + 0.3, -names.index(members[-1]) * step - 0.3
        axis.plot([-0.15, -0.25, -0.25, -0.15], [top, top, bottom, bottom], color="#555555", lw=1)
        axis.text(-0.35, (top + bottom) / 2, label, rotation=90, ha="right", va="center", fontsize=9)
    axis.text(3.85, step * 0.75, "output shape (N = batch)", fontsize=9, color="#555555", va="center")
    axis.text(5.9, step * 0.75, "parameters", fontsize=9, color="#555555", va="center", ha="right")
    axis.set_xlim(-0.8, 6.1)
    axis.set_ylim(-(len(rows) - 1) * step - 0.6, step * 1.1)
    axis.axis("off")
    axis.set_title(f"{model.name}: {model.count_params():,} parameters", fontsize=12)
    figure.tight_layout()
    return figure


def draw_numbers(axis, values, title, cmap="PuOr", limit=6, window=None, low=None):
    """A small matrix as shaded cells with their numbers; `window` = (row, column, size) is outlined."""
    import matplotlib.pyplot as plt
    import numpy as np

    axis.imshow(values, cmap=cmap, vmin=-limit if low is None else low, vmax=limit)
    for (row, column), value in np.ndenumerate(values):
        if np.isfinite(value):  # cells not computed yet are NaN and left blank
            axis.text(column, row, f"{value:g}", ha="center", va="center", fontsize=10)
    if window is not None:
        top, left, size = window
        outline = plt.Rectangle((left - 0.5, top - 0.5), size, size, fill=False, edgecolor="black", lw=3)
        axis.add_patch(outline)
    axis.set_xticks([])
    axis.set_yticks([])
    axis.set_title(title, fontsize=10)


def draw_pooling(axis, values, pooled, padding: str, p: int = 2):
    """The grid, its p x p windows (coloured), each window's maximum from `pooled` (bold), and the
    cells that no window covers (hatched) or that padding adds (grey)."""
    import matplotlib.pyplot as plt
    import numpy as np

    size, covered = values.shape[0], pooled.shape[0] * p  # rows and columns inside some window
    for (row, column), _ in np.ndenumerate(pooled):
        colour = plt.cm.Pastel1(row * pooled.shape[1] + column)
        axis.add_patch(plt.Rectangle((column * p - 0.5, row * p - 0.5), p, p, facecolor=colour))
    for row, column in np.ndindex(max(size, covered), max(size, covered)):
        if row >= size or column >= size:
            pad = plt.Rectangle((column - 0.5, row - 0.5), 1, 1, fc="#cccccc", ec="white", alpha=0.8)
            axis.add_patch(pad)
            axis.text(column, row, "pad", ha="center", va="center", fontsize=9, color="#555555")
            continue
        inside = row < covered and column < covered
        if not inside:
            dropped = plt.Rectangle((column - 0.5, row - 0.5), 1, 1, fc="white", ec="#999999", hatch="//")
            axis.add_patch(dropped)
        winner = inside and values[row, column] == pooled[row // p, column // p]
        axis.text(
            column,
            row,
            f"{values[row, column]:g}",
            ha="center",
            va="center",
            fontsize=14 if winner else 10,
            fontweight="bold" if winner else "normal",
        )
    for row, column in np.ndindex(*pooled.shape):  # window outlines on top of the padding
        axis.add_patch(plt.Rectangle((column * p - 0.5, row * p - 0.5), p, p, fill=False, ec="black", lw=2))
    extent = max(size, covered)
    axis.set_xlim(-0.5, extent - 0.5)
    axis.set_ylim(extent - 0.5, -0.5)
    axis.set_aspect("equal")
    axis.axis("off")
    axis.set_title(f"padding={padding!r}: {size} × {size} → {pooled.shape[0]} × {pooled.shape[1]}")
