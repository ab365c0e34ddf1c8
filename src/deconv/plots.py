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
