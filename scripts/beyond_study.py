#!/usr/bin/env python3
"""Train notebook 08's recipes with more seeds, for the table over seeds that the notebook shows.

Each training (one recipe, one seed) writes what it measured to
results/beyond/<recipe>_<E>epochs_seed<N>.json: validation accuracy and seconds per
epoch, parameters, and the accuracy with test-time augmentation. Trainings
already there are skipped, so a stopped study continues where it stopped;
--again trains them anew. Notebook 08 trains the recipes it teaches with seed
0 and reads every file in results/beyond/ for its table.

The default is the rest of what the table needs: the final recipes (modern,
richer) with seeds 1 and 2, then the two one-change steps between the blog's
recipe and richer (adamw, smoothing) with seed 0; on two CPU cores that is
about an hour on the 2,000 photos.
The data is the dataset the notebooks use (data/cats_and_dogs, or
$DECONV_DATA_DIR); 30 epochs on photos, 3 on the synthetic sample.

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
# The final recipes' other seeds first, then the one-change steps in between.
DEFAULT_PLAN = [("modern", 1), ("richer", 1), ("modern", 2), ("richer", 2), ("adamw", 0), ("smoothing", 0)]


def parse_arguments(argv=None):
    from deconv import cli

    parser = cli.parser(PROG, __doc__)
    parser.add_argument(
        "--recipes", nargs="+", metavar="NAME", help="recipes to train (default: the plan above)"
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2], metavar="N", help="with --recipes")
    parser.add_argument(
        "--epochs", type=int, help="epochs per training (default: 30 on photos, 3 on the sample)"
    )
    parser.add_argument("--again", action="store_true", help="train again what results/beyond/ already has")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    from deconv import cli

    arguments = parse_arguments(argv)
    try:
        import keras  # noqa: F401  (what the trainings need: missing, nothing starts)

        from deconv import beyond, scoreboard
        from deconv.dataset import open_dataset
        from deconv.layout import DatasetLayoutError
        from deconv.paths import display_path, results_dir
    except ImportError as error:
        return cli.outside_environment(PROG, error)
    unknown = sorted(set(arguments.recipes or []) - set(beyond.RECIPES))
    if unknown:
        return cli.fail(
            PROG,
            cli.EXIT_USAGE,
            f"unknown recipe {', '.join(unknown)}; choose from {', '.join(beyond.RECIPES)}",
        )
    if arguments.epochs is not None and arguments.epochs < 1:
        return cli.fail(PROG, cli.EXIT_USAGE, "--epochs must be 1 or more")
    try:
        dataset = open_dataset()
    except DatasetLayoutError as error:
        return cli.fail(PROG, cli.EXIT_USAGE, str(error))
    plan = (
        [(name, seed) for name in arguments.recipes for seed in arguments.seeds]
        if arguments.recipes
        else DEFAULT_PLAN
    )
    epochs = arguments.epochs or beyond.epochs_for_data(dataset.kind)
    folder = results_dir() / scoreboard.RUNS_DIRNAME
    with cli.sigterm_as_interrupt():
        try:
            for number, (name, seed) in enumerate(plan, start=1):
                path = scoreboard.run_path(folder, name, seed, epochs)
                if path.exists() and not arguments.again:
                    print(f"[{number}/{len(plan)}] {name}, seed {seed}: already in {display_path(path)}")
                    continue
                print(f"[{number}/{len(plan)}] {name}, seed {seed}: {epochs} epochs", flush=True)
                _, run = beyond.train_recipe(beyond.RECIPES[name], dataset.root, epochs, seed)
                saved = display_path(run.save(folder))
                print(f"  best {run.best:.3f} at epoch {run.best_epoch}, TTA {run.tta_accuracy:.3f}: {saved}")
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
