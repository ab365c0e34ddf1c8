#!/usr/bin/env python3
"""Train notebook 08's recipes with more seeds, for the table over seeds that the notebook shows.

Each training (one recipe, one seed) writes what it measured to
results/beyond/<recipe>_<E>epochs_seed<N>.json: validation accuracy and seconds per
epoch, parameters, and the accuracy with test-time augmentation. Trainings
already there are skipped, so a stopped study continues where it stopped;
--again trains them anew. Notebook 08 trains the recipes it teaches with seed
0 and reads every file in results/beyond/ for its table.

Each file records a fingerprint of the photos it was trained on; notebook 08
leaves out trainings made on other photos, and a file made on other photos
is trained again here.

The default is the rest of what the table's verdicts need, 3 seeds of every
recipe: seeds 1 and 2 of the recipes notebook 08 trains (blog, richer,
modern, then modern_bf16 where the CPU computes bfloat16), then seeds 0-2 of
the one-change steps between blog and richer (adamw, smoothing). On two CPU
cores each training takes 6 to 12 minutes on the 2,000 photos, the whole
plan about two and a half hours; --recipes chooses fewer.
The data is the dataset the notebooks use (data/cats_and_dogs, or
$DECONV_DATA_DIR); 30 epochs on photos, 3 on the synthetic sample, unless
--epochs or $DECONV_EPOCHS says otherwise.

Exit status: 0 every training done; 1 a training failed; 2 bad arguments or
no usable dataset; 130 interrupted (finished trainings are kept).
"""

from __future__ import annotations

import sys
from pathlib import Path

PROG = "beyond_study.py"
# deconv.cli, which says what to do when the environment is missing, needs only the standard library:
# found in src/ even when this Python is not the project's.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
# The other seeds of the recipes notebook 08 trains first, then the one-change steps in between.
DEFAULT_PLAN = [
    *[(name, seed) for seed in (1, 2) for name in ("modern", "richer", "blog", "modern_bf16")],
    *[(name, seed) for seed in (0, 1, 2) for name in ("adamw", "smoothing")],
]


def parse_arguments(argv=None):
    from deconv import cli

    parser = cli.parser(PROG, __doc__)
    parser.add_argument(
        "--recipes", nargs="+", metavar="NAME", help="recipes to train (default: the plan above)"
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], metavar="N", help="with --recipes")
    parser.add_argument(
        "--epochs", type=cli.positive_int, help="epochs per training (default: 30 on photos, 3 on the sample)"
    )
    parser.add_argument("--again", action="store_true", help="train again what results/beyond/ already has")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    from deconv import cli

    arguments = parse_arguments(argv)
    try:
        import keras  # noqa: F401  (what the trainings need: missing, nothing starts)

        from deconv import beyond, scoreboard
        from deconv.benchmark import bfloat16_support
        from deconv.dataset import open_dataset
        from deconv.layout import DatasetLayoutError
        from deconv.paths import display_path, results_dir
        from deconv.training import epochs_for
    except ImportError as error:
        return cli.outside_environment(PROG, error)
    unknown = sorted(set(arguments.recipes or []) - set(beyond.RECIPES))
    if unknown:
        return cli.fail(
            PROG,
            cli.EXIT_USAGE,
            f"unknown recipe {', '.join(unknown)}; choose from {', '.join(beyond.RECIPES)}",
        )
    try:
        dataset = open_dataset()
    except DatasetLayoutError as error:
        return cli.fail(PROG, cli.EXIT_USAGE, str(error))
    plan = (
        [(name, seed) for name in arguments.recipes for seed in arguments.seeds]
        if arguments.recipes
        else DEFAULT_PLAN
    )
    epochs = arguments.epochs or epochs_for(dataset.kind, scoreboard.PHOTO_EPOCHS, scoreboard.SAMPLE_EPOCHS)
    folder = results_dir() / scoreboard.RUNS_DIRNAME
    photos = scoreboard.dataset_fingerprint(dataset.root)
    if not arguments.recipes and not bfloat16_support()[0]:
        plan = [(name, seed) for name, seed in plan if beyond.RECIPES[name].precision == "float32"]
        print("This CPU would emulate bfloat16: modern_bf16 left out of the plan.")
    with cli.sigterm_as_interrupt():
        try:
            for number, (name, seed) in enumerate(plan, start=1):
                path = scoreboard.run_path(folder, name, seed, epochs)
                step = f"[{number}/{len(plan)}] {name}, seed {seed}"
                if path.exists() and not arguments.again:
                    if scoreboard.Run.load(path).data == photos:
                        print(f"{step}: already in {display_path(path)}")
                        continue
                    print(f"{step}: {display_path(path)} was trained on other photos; training again")
                print(f"{step}: {epochs} epochs", flush=True)
                model, run = beyond.train_recipe(beyond.RECIPES[name], dataset.root, epochs, seed)
                _, validation = beyond.image_datasets(dataset.root)
                run.tta_accuracy = beyond.tta_accuracy(model, validation)
                saved = display_path(run.save(folder))
                print(f"  final {run.final:.3f}, TTA {run.tta_accuracy:.3f}: {saved}")
        except KeyboardInterrupt:
            print(
                f"{PROG}: interrupted; finished trainings are kept in {display_path(folder)}", file=sys.stderr
            )
            return cli.EXIT_INTERRUPTED
        except Exception as error:  # a training that fails: say which, keep the others
            return cli.fail(PROG, cli.EXIT_FAILED, f"training {name} with seed {seed} failed: {error!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
