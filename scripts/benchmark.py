#!/usr/bin/env python3
"""Measure where training time goes: how fast each input pipeline feeds the tutorial's CNN here.

For every variant and batch size it prints images per second of training the
CNN, the ratio to the compute limit (the same training steps on a batch
already in memory, no input pipeline) and images per second of the pipeline
alone (feeding a model that does almost nothing). Variants:

  compute              the compute limit
  idg                  ImageDataGenerator + flow_from_directory, as the notebooks use it
  idg_threads          the same with the iterator's workers = N threads
  idg_processes        the same with N worker processes (use_multiprocessing)
  idg_decoded          ImageDataGenerator.flow on images decoded once into memory
  idg_decoded_threads  decoded once, N threads
  idg_decoded_nearest  decoded once, N threads, nearest-neighbour transforms
  tfdata               image_dataset_from_directory, Keras augmentation layers in the model
  tfdata_cached        the same with the decoded images cached in memory
  tfdata_fast          cached, zoom and flip in one crop_and_resize per image
  *_bf16               mixed bfloat16 training (only on CPUs with AVX512-BF16 or AMX)

Each figure is the median of several epochs after an untimed warm-up; the
variants take turns epoch by epoch, so a machine that gets busier affects all
of them alike. Other programs running at the same time slow everything down:
close them for figures worth quoting. The images are a seeded selection of the
dataset's training images (--images), read by every variant.

Results go to results/benchmark.json (machine, library versions, settings,
every figure, what each variant changes for the model) and a plot beside it
(benchmark.png). The data is the dataset the notebooks use
(data/cats_and_dogs, or $DECONV_DATA_DIR); with none, the synthetic sample is
generated there first, as the notebooks do.

Exit status: 0 measured and written; 1 the benchmark failed (a pipeline or
the results could not be written); 2 bad arguments, including a data folder
that is missing or not laid out as train/validation x cats/dogs;
130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

PROG = "benchmark.py"
# deconv.cli, which says what to do when the environment is missing, needs only the standard library:
# found in src/ even when this Python is not the project's.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
QUICK = {"batch_sizes": [16], "images": 128, "repeats": 3}
FULL = {"batch_sizes": [16, 32], "images": 640, "repeats": 3}


def _image_limit(text: str) -> int | str:
    from deconv import cli

    return text if text == "all" else cli.positive_int(text)


def build_parser() -> argparse.ArgumentParser:
    from deconv import cli
    from deconv.benchmark import VARIANT_KEYS

    parser = cli.parser(PROG, __doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"a short run, about a minute on 2 cores: batch size 16, {QUICK['images']} images per epoch, "
        f"{QUICK['repeats']} timed epochs (options given explicitly still apply)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="a train/validation x cats/dogs folder (default: the notebooks' dataset, the synthetic "
        "sample generated if there is none)",
    )
    parser.add_argument(
        "--batch-sizes",
        type=cli.positive_int,
        nargs="+",
        metavar="N",
        help=f"batch sizes to measure (default: {' '.join(map(str, FULL['batch_sizes']))})",
    )
    parser.add_argument(
        "--repeats",
        type=cli.positive_int,
        metavar="N",
        help=f"timed epochs per figure (default: {FULL['repeats']})",
    )
    parser.add_argument(
        "--images",
        type=_image_limit,
        metavar="N|all",
        help=f"training images per epoch, at most (default: {FULL['images']}); rounded down so every "
        "batch size divides it",
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=VARIANT_KEYS,
        metavar="NAME",
        help="variants to measure (default: all; the compute limit is always measured). "
        f"Choices: {', '.join(VARIANT_KEYS)}",
    )
    parser.add_argument(
        "--workers",
        type=cli.positive_int,
        metavar="N",
        help="threads or processes for the N-worker variants (default: the number of cores, at least 2)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for the image selection and the models")
    parser.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="where the JSON results go (default: results/benchmark.json); the plot goes beside it as .png",
    )
    return parser


def _data_root(parser: argparse.ArgumentParser, data_dir: Path | None) -> Path:
    """The folder to read, checked; exits with status 2 when it cannot be used."""
    from deconv.dataset import open_dataset
    from deconv.layout import DatasetLayoutError, check_layout

    try:
        if data_dir is None:
            return open_dataset().root  # prints which dataset it is
        if not data_dir.is_dir():
            parser.error(f"--data-dir {data_dir} is not a folder")
        check_layout(data_dir)
        return data_dir.resolve()
    except DatasetLayoutError as error:
        parser.error(str(error))


def _write(report: dict, output: Path) -> Path:
    """The JSON results and, beside them, the plot; returns the plot's path."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    from deconv.benchmark import plot_report

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    figure = plot_report(report)
    plot = output.with_suffix(".png")
    figure.savefig(plot, dpi=110)
    plt.close(figure)
    return plot


def main(argv: list[str] | None = None) -> int:
    from deconv import cli  # standard library only: importable outside the environment too
    from deconv.paths import display_path

    parser = build_parser()
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    batch_sizes = args.batch_sizes or defaults["batch_sizes"]
    repeats = args.repeats or defaults["repeats"]
    images = defaults["images"] if args.images is None else None if args.images == "all" else args.images
    if images is not None and images < math.lcm(*batch_sizes):
        parser.error(
            f"--images {images} is fewer than one full batch of every size ({math.lcm(*batch_sizes)})"
        )
    if args.output is not None and args.output.suffix != ".json":
        parser.error("--output must end in .json (the plot is written beside it as .png)")

    try:
        with cli.sigterm_as_interrupt():  # a SIGTERM still removes the temporary folders
            report, output, plot = _measure(parser, args, batch_sizes, repeats, images)
    except KeyboardInterrupt:
        return cli.fail(PROG, cli.EXIT_INTERRUPTED, "interrupted; nothing was written.")
    except ImportError as error:
        return cli.outside_environment(PROG, error)
    except Exception as error:  # a pipeline or a write failed: say which, briefly
        return cli.fail(PROG, cli.EXIT_FAILED, f"{type(error).__name__}: {error}")
    print(f"\nWrote {display_path(output)} and {display_path(plot)}.")
    return 0


def _measure(parser, args, batch_sizes, repeats, images):
    """Measure, print the results and write them; returns the report and where it went."""
    from deconv.benchmark import VARIANT_KEYS, Benchmark, format_stages, format_table, summary_lines
    from deconv.environment import import_tensorflow
    from deconv.paths import display_path, results_dir

    import_tensorflow()  # quietly, before Keras logs anything; missing, nothing else starts
    root = _data_root(parser, args.data_dir)
    benchmark = Benchmark(
        batch_sizes=tuple(batch_sizes),
        repeats=repeats,
        images=images,
        variants=tuple(args.variants or VARIANT_KEYS),
        workers=args.workers,
        seed=args.seed,
    )
    report = benchmark.run(root, log=lambda line: print(line, flush=True))
    report["settings"]["data"] = display_path(root)
    report["settings"]["quick"] = args.quick
    print()
    print(format_table(report))
    print("\nCPU time per image of each step on its own (one thread; TensorFlow's steps: all threads):")
    print(format_stages(report))
    print()
    for line in summary_lines(report):
        print(line)
    output = args.output or results_dir() / "benchmark.json"  # created only now, when there are results
    return report, output, _write(report, output)


if __name__ == "__main__":
    sys.exit(main())
