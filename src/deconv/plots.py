"""Figures more than one notebook draws: image grids and learning curves."""

from __future__ import annotations

import math


def image_grid(images, titles=(), columns: int = 6, size: float = 2.0, suptitle: str | None = None):
    """Show images (arrays in [0, 1] or [0, 255], or PIL images) in a grid with titles."""
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
        axis.imshow(image)
        if index < len(titles):
            axis.set_title(titles[index], fontsize=9)
    if suptitle:
        figure.suptitle(suptitle)
    return figure


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
    accuracy_axis.set_ylim(0, 1.02)
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
