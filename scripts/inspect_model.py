#!/usr/bin/env python3
"""Inspect any Keras image classifier: its layers, their receptive fields, and heat maps of photos.

Prints one line per layer: its name, kind, output shape, parameters and,
for layers with a spatial map, the receptive field of one position (its
size in input pixels) and the jump (input pixels between neighbouring
positions). Works for Sequential and Functional models, with "valid" or
"same" padding, strides, dilation and branches that join (Add,
Concatenate), e.g. keras.applications models.

Then names the layer the heat maps read: by default the last layer, from
the first convolution on, whose map is at least 7x7 positions (pooling and
padding layers left out, they only coarsen or pad the map before them); if
every map is smaller, the last of the largest. --layer NAME chooses
another. classify --heatmap reads the same layer.

For each PHOTO (a file, or a folder of .jpg, .jpeg, .png and .bmp files)
it prints the class the model gives it, with p(class 1) for a model with
one sigmoid output or the class's score for several, and, with --out DIR, writes
DIR/<name>_heatmap.png: the photo in grey with the heat map of the
evidence for that class over it. The map is HiResCAM, the method notebook
09 (Can we trust the heat map?) measures and favours, placed on the
receptive-field centres of the layer; --method grad-cam draws Grad-CAM.
For one output (a sigmoid) the classes are 0 and 1; for several (softmax)
the class with the highest score. A model with its own Rescaling layer
gets 0-255 pixels, any other pixels scaled to [0, 1].

Exit status: 0 the table printed (and every heat map written); 1 some
photos could not be read or their heat map written (each named on stderr);
2 bad arguments, including a --layer that does not exist or has no spatial
map (the layers that do are listed), or a Python without the project's
libraries; 6 the file is not a Keras model, or the model is not an image
classifier (one input of (height, width, channels) images, one score per
class) or has no convolution; 130 interrupted.
"""

from __future__ import annotations

import sys
from pathlib import Path

PROG = "inspect_model.py"
# deconv.cli, which says what to do when the environment is missing, needs only the standard library:
# found in src/ even when this Python is not the project's.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def build_parser():
    from deconv import cli

    parser = cli.parser(PROG, __doc__)
    parser.add_argument("model", type=Path, metavar="MODEL", help="a saved Keras model (.keras)")
    parser.add_argument("photos", nargs="*", type=Path, metavar="PHOTO", help="photos, or folders of photos")
    parser.add_argument("--layer", metavar="NAME", help="the layer whose map the heat maps read")
    parser.add_argument(
        "--method", choices=("hirescam", "grad-cam"), default="hirescam", help="default: hirescam"
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help="write each photo's heat map here")
    return parser


def main(argv: list[str] | None = None) -> int:
    from deconv import cli  # standard library only: importable outside the environment too

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} is a file; give a folder")
    try:
        with cli.sigterm_as_interrupt():
            return _inspect(args)
    except KeyboardInterrupt:
        return cli.fail(PROG, cli.EXIT_INTERRUPTED, "interrupted.")
    except ImportError as error:
        return cli.outside_environment(PROG, error)


def _inspect(args) -> int:
    from deconv import cli
    from deconv.environment import import_tensorflow

    import_tensorflow()  # quietly, before Keras logs anything; and a missing library shows here, first
    from deconv.classify import PhotoError, photos_in
    from deconv.inspect import (
        InspectError,
        check_image_classifier,
        format_table,
        heat_map_layer,
        inspect,
        layer_table,
        load_any_model,
    )

    try:
        model = load_any_model(args.model)
        check_image_classifier(model)
        rows = layer_table(model)
        heat_map_layer(model)  # a model without any convolution is refused here, whatever --layer says
    except InspectError as error:
        return cli.fail(PROG, cli.EXIT_MODEL, str(error))
    try:
        chosen = heat_map_layer(model, args.layer)
    except InspectError as error:
        return cli.fail(PROG, cli.EXIT_USAGE, str(error))
    print(f"Model: {args.model}, input {model.input_shape}, output {model.output_shape}")
    print(format_table(rows))
    size, jump = chosen.geometry.size, chosen.geometry.jump
    print(
        f"Heat maps read {chosen.name} ({chosen.output_shape[1]}x{chosen.output_shape[2]} positions, "
        f"field {size[0]}x{size[1]} px, jump {jump[0]} px) with {args.method}.",
        flush=True,
    )
    if args.out is not None:
        try:
            args.out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            return cli.fail(PROG, cli.EXIT_USAGE, f"cannot create the --out folder {args.out}: {error}")
    problems = 0
    for argument in args.photos:
        try:
            photos = photos_in(argument)
        except PhotoError as error:
            problems += 1
            cli.fail(PROG, cli.EXIT_FAILED, str(error))
            continue
        for photo in photos:
            try:
                found = inspect(model, [photo], chosen.name, args.out, args.method)
            except (PhotoError, OSError) as error:
                problems += 1
                cli.fail(PROG, cli.EXIT_FAILED, f"{photo}: {error}")
                continue
            path, class_index, score, written = found.written[0]
            score_name = "p(class 1)" if model.output_shape[-1] == 1 else "score"
            line = f"class {class_index}  {score_name} {score:.3f}  {path}"
            print(line + (f"  -> {written}" if written else ""), flush=True)
    if problems:
        return cli.fail(PROG, cli.EXIT_FAILED, f"{problems} of the photos could not be inspected; see above.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
