#!/usr/bin/env python3
"""Classify your own photos as cat or dog with the model a notebook trained.

Prints the model it loaded, then one line per photo: the model's p(dog) and
the verdict (dog above 0.5), for example

    p(dog) 0.931  dog  photos/rex.jpg

A PHOTO is any image Pillow reads (JPEG, PNG, BMP, GIF, TIFF, WebP, in any
colour mode and size); a phone photo is turned upright as its EXIF says. A
folder means every .jpg, .jpeg, .png and .bmp file in it and its
sub-folders, in name order. Each photo is resized to the model's input
(150x150 for the tutorial's models) without keeping its aspect ratio, as
in training.

Models:
  04    results/cnn.keras, the tutorial's CNN trained by notebook 04 (default)
  08    results/beyond_cnn.keras, trained by notebook 08
  PATH  any saved Keras model that takes RGB images and gives p(dog)
results/ is $DECONV_RESULTS_DIR when that is set. A model with its own
Rescaling layer reads 0-255 pixels; any other gets them scaled to [0, 1].

--heatmap DIR writes, for each photo, DIR/<name>_heatmap.png: the photo,
upright, its longest side at most 512 pixels, in grey with the HiResCAM heat
map over it, bright where the evidence for the verdict lies. The map is read
from the layer inspect_model.py chooses (tasks.py inspect) and placed on its
receptive fields' centres.

A photo that cannot be read (missing, not an image, truncated, too many
pixels) is named on stderr with the reason and skipped; the others are
still classified.

Exit status: 0 every photo classified (and its heat map written); 1 some
photos could not be classified or their heat map written (each named on
stderr); 2 bad arguments (a --heatmap folder that is a file or cannot be
created too), or a Python without the project's libraries; 6 the model is
missing, cannot be loaded or is not a cats-vs-dogs model; 130 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROG = "classify.py"
# deconv.cli, which says what to do when the environment is missing, needs only the standard library:
# found in src/ even when this Python is not the project's.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def build_parser():
    from deconv import cli
    from deconv.classify import DEFAULT_MODEL

    parser = cli.parser(PROG, __doc__)
    parser.add_argument("photos", nargs="+", type=Path, metavar="PHOTO", help="photos, or folders of photos")
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        metavar="04|08|PATH",
        help=f"the notebook whose model to use, or a model file (default: {DEFAULT_MODEL})",
    )
    parser.add_argument(
        "--heatmap", type=Path, metavar="DIR", help="write each photo's heat map here (created if missing)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    from deconv import cli  # standard library only: importable outside the environment too

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.heatmap is not None and args.heatmap.exists() and not args.heatmap.is_dir():
        parser.error(f"--heatmap {args.heatmap} is a file; give a folder")
    try:
        with cli.sigterm_as_interrupt():
            return _classify(args)
    except KeyboardInterrupt:
        return cli.fail(PROG, cli.EXIT_INTERRUPTED, "interrupted.")
    except ImportError as error:
        return cli.outside_environment(PROG, error)


def _classify(args) -> int:
    """Load the model, classify every photo and write the heat maps; returns the exit status."""
    from deconv import cli
    from deconv.environment import import_tensorflow

    import_tensorflow()  # quietly, before Keras logs anything; and a missing library shows here, first
    from deconv.classify import ModelError, load_model, model_path

    try:
        model = load_model(args.model)
    except ModelError as error:
        return cli.fail(PROG, cli.EXIT_MODEL, str(error))
    print(f"Model: {_describe(model, model_path(args.model))}", flush=True)
    if args.heatmap is not None:
        try:
            args.heatmap.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            return cli.fail(
                PROG, cli.EXIT_USAGE, f"cannot create the --heatmap folder {args.heatmap}: {error}"
            )
    problems = []

    def report(error: Exception) -> None:
        problems.append(error)
        cli.fail(PROG, cli.EXIT_FAILED, str(error))

    _classify_photos(model, _photo_paths(args.photos, report), args.heatmap, report)
    if problems:
        return cli.fail(
            PROG, cli.EXIT_FAILED, f"{len(problems)} of the photos could not be classified; see above."
        )
    return 0


def _describe(model, path: Path) -> str:
    from deconv.classify import feeds_raw_pixels
    from deconv.paths import display_path

    reads = "0-255 pixels (it rescales them itself)" if feeds_raw_pixels(model) else "pixels scaled to [0, 1]"
    return f"{display_path(path)}, reads {reads}"


def _photo_paths(arguments: list[Path], report) -> list[Path]:
    """Every photo the arguments name; an empty folder is reported."""
    from deconv.classify import PhotoError, photos_in

    paths = []
    for argument in arguments:
        try:
            paths += photos_in(argument)
        except PhotoError as error:
            report(error)
    return paths


def _classify_photos(model, paths: list[Path], heatmaps: Path | None, report) -> None:
    """Print each photo's line as its batch is predicted and, with --heatmap, write its heat map."""
    from deconv.classify import PhotoError, classify, heatmap_image, heatmap_names, write_heatmap
    from deconv.paths import display_path

    names = heatmap_names(paths)
    for result in classify(model, paths, on_error=report):
        print(f"p(dog) {result.p_dog:.3f}  {result.verdict}  {result.path}", flush=True)
        if heatmaps is None:
            continue
        try:
            image = heatmap_image(model, result.path, result.class_index)
            written = write_heatmap(image, heatmaps / names[result.path])
        except (PhotoError, OSError) as error:
            report(PhotoError(f"{result.path}: no heat map ({error})"))
        else:
            print(f"{'heat map':>17}  {display_path(written)}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
