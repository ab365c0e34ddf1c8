"""What a benchmark report says: a table, each step's cost, a closing note, and a plot."""

from __future__ import annotations

from .variants import BFLOAT16, COMPUTE

BLOG_TRAINING_IMAGES = 2000  # the Keras blog's training set, which it trained at 300-400 s per epoch


def progress_line(row: dict) -> str:
    alone = row["pipeline_alone"]
    alone_text = f"; pipeline alone {alone['images_per_second']:.0f}" if alone else ""
    return (
        f"  batch {row['batch_size']:>3}  {row['label']:<52} {row['images_per_second']:7.1f} images/s, "
        f"{row['ratio_to_compute_limit']:.2f} of the compute limit{alone_text}"
    )


def format_table(report: dict) -> str:
    """The results as a plain-text table: one row per variant and batch size."""
    header = ("variant", "batch", "images/s", "ratio", "pipeline alone, images/s")
    lines = []
    for row in report["results"]:
        alone = row["pipeline_alone"]
        lines.append(
            (
                row["label"],
                str(row["batch_size"]),
                f"{row['images_per_second']:.1f}",
                f"{row['ratio_to_compute_limit']:.2f}",
                f"{alone['images_per_second']:.1f}" if alone else "-",
            )
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]

    def render(cells):
        first, *rest = cells
        return "  ".join(
            [first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))]
        )

    return "\n".join([render(header), "  ".join("-" * w for w in widths), *map(render, lines)])


def format_stages(report: dict) -> str:
    """Each step's CPU milliseconds per image, beside the compute limit's, as plain text."""
    costs = dict(report.get("stage_cpu_ms_per_image") or {})
    for row in report["results"]:
        if row["variant"] == COMPUTE:
            costs[f"training step, batch {row['batch_size']} (compute limit, all threads)"] = row[
                "cpu_ms_per_image"
            ]
    width = max(map(len, costs), default=0)
    return "\n".join(f"{name:<{width}}  {ms:6.2f} ms" for name, ms in costs.items())


def seconds_per_epoch(images_per_second: float, images: int = BLOG_TRAINING_IMAGES) -> float:
    return images / images_per_second


def _best(rows: list[dict]) -> dict | None:
    return max(rows, key=lambda row: row["ratio_to_compute_limit"], default=None)


def summary_lines(report: dict) -> list[str]:
    """The closing note: per batch size, the compute limit and the ratios that matter."""
    lines = []
    for batch_size in report["settings"]["batch_sizes"]:
        rows = [row for row in report["results"] if row["batch_size"] == batch_size]
        by_key = {row["variant"]: row for row in rows}
        limit = by_key[COMPUTE]["images_per_second"]
        pipelines = [row for row in rows if row["precision"] == "float32" and row["variant"] != COMPUTE]
        lines.append(
            f"Batch size {batch_size}: the compute limit is {limit:.0f} images/s, "
            f"{seconds_per_epoch(limit):.0f} s per epoch of {BLOG_TRAINING_IMAGES:,} images "
            "(the Keras blog quoted 300-400 s per epoch on a CPU)."
        )
        if "idg" in by_key:
            row = by_key["idg"]
            lines.append(
                f"  ImageDataGenerator as in the notes (1 worker): {row['ratio_to_compute_limit']:.2f} of "
                f"the limit, {seconds_per_epoch(row['images_per_second']):.0f} s per epoch of "
                f"{BLOG_TRAINING_IMAGES:,}."
            )
        best_idg = _best([row for row in pipelines if row["variant"].startswith("idg")])
        if best_idg:
            lines.append(
                f"  fastest ImageDataGenerator setting: {best_idg['label']}, "
                f"{best_idg['ratio_to_compute_limit']:.2f}."
            )
        fastest = _best(pipelines)
        if fastest:
            lines.append(f"  fastest pipeline: {fastest['label']}, {fastest['ratio_to_compute_limit']:.2f}.")
        if "compute_bf16" in by_key:
            ratio = by_key["compute_bf16"]["ratio_to_compute_limit"]
            lines.append(f"  bfloat16 moves the compute limit to {ratio:.2f} times float32's.")
        noise = ratio_noise(rows)
        if noise:
            lines.append(
                f"  Between rounds a ratio moved by up to {noise:.0%}: smaller differences are noise, and "
                "a ratio that near 1.00 (above it too) means as fast as the limit."
            )
    for key, why in report["skipped"].items():
        lines.append(f"Skipped {key}: {why}.")
    return lines


def ratio_noise(rows: list[dict]) -> float:
    """The most any one variant's ratio moved between rounds, as a fraction of its median (0: one round)."""
    spreads = [
        (max(row["round_ratios"]) - min(row["round_ratios"])) / row["ratio_to_compute_limit"]
        for row in rows
        if row.get("round_ratios")
    ]
    return max(spreads, default=0.0)


def plot_report(report: dict, title: str | None = None):
    """Training images per second of every variant against the compute limit, a panel per batch size.

    Bars: training the CNN, with the ratio to the compute limit beside each.
    Dots: the pipeline alone; a triangle at the right edge marks one off the
    scale, with its value.
    """
    import matplotlib.pyplot as plt

    batch_sizes = report["settings"]["batch_sizes"]
    rows = report["results"]
    labels = list(dict.fromkeys(row["label"] for row in rows))
    figure, axes = plt.subplots(
        len(batch_sizes), 1, figsize=(10, (0.42 * len(labels) + 1.3) * len(batch_sizes) + 0.9), squeeze=False
    )
    for axis, batch_size in zip(axes[:, 0], batch_sizes, strict=True):
        these = {row["label"]: row for row in rows if row["batch_size"] == batch_size}
        limit = these[labels[0]]["images_per_second"]
        fastest = max(row["images_per_second"] for row in these.values())
        alone_values = [
            row["pipeline_alone"]["images_per_second"] for row in these.values() if row["pipeline_alone"]
        ]
        right = max(1.3 * fastest, min(1.1 * max(alone_values, default=0), 2.2 * limit))
        for position, label in enumerate(labels):
            row = these[label]
            colour = (
                "0.6"
                if row["variant"].startswith(COMPUTE)
                else ("C2" if row["precision"] == BFLOAT16 else "C0")
            )
            axis.barh(position, row["images_per_second"], color=colour, height=0.7)
            axis.text(
                row["images_per_second"] + right * 0.01,
                position,
                f"{row['ratio_to_compute_limit']:.2f}",
                va="center",
                fontsize=9,
            )
            alone = row["pipeline_alone"]
            if alone:
                value = alone["images_per_second"]
                beyond = value > right
                axis.plot(
                    min(value, right * 0.985), position, ">" if beyond else "o", color="C1", markersize=7
                )
                if beyond:
                    axis.text(
                        right * 0.97,
                        position,
                        f"{value:,.0f}",
                        ha="right",
                        va="center",
                        fontsize=8,
                        color="C1",
                    )
        axis.axvline(limit, color="C3", linestyle="--", linewidth=1.2)
        axis.set_yticks(range(len(labels)), labels)
        axis.invert_yaxis()
        axis.set_xlim(0, right)
        axis.set_xlabel("images per second")
        axis.set_title(f"batch size {batch_size}")
        axis.grid(axis="x", alpha=0.3)
    legend = {
        "training the CNN, float32 (ratio to the compute limit beside)": plt.Rectangle(
            (0, 0), 1, 1, color="C0"
        ),
        "compute limit, float32": plt.Line2D([], [], color="C3", linestyle="--"),
        "pipeline alone (triangle: off the scale)": plt.Line2D([], [], color="C1", marker="o", linestyle=""),
    }
    if any(row["precision"] == BFLOAT16 and not row["variant"].startswith(COMPUTE) for row in rows):
        legend["training in mixed bfloat16"] = plt.Rectangle((0, 0), 1, 1, color="C2")
    names, handles = list(legend), list(legend.values())
    figure.legend(handles, names, loc="lower center", ncol=2, fontsize=9, frameon=False)
    figure.suptitle(title or "Where training time goes: images per second feeding the CNN")
    figure.tight_layout(rect=(0, 0.07 / len(batch_sizes) + 0.02, 1, 1))
    return figure
