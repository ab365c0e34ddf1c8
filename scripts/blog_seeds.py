#!/usr/bin/env python3
"""Train notebook 04's recipe again with other seeds, for its accuracy over seeds.

Notebook 04 trains the Keras blog's recipe once, with seed 0. One training
is one draw: the same recipe with another seed ends a few points higher or
lower. This script trains the same code (notebook 04's cells, exported into
deconv.blog_recipe) with seeds 1 and 2, for the same number of epochs, into
results/blog_seeds/seed<N>/; notebook 04 then reports the final epoch's
validation accuracy as a mean over its own run and these.

A training stopped part-way resumes after its last finished epoch when the
script runs again; a finished one is kept (--again trains it anew). Each
finished training records its epochs and a fingerprint of the photos, and
notebook 04 leaves out trainings with another schedule or other photos. The
data is the dataset the notebooks use (data/cats_and_dogs, or
$DECONV_DATA_DIR); 50 epochs on photos and 10 on the sample, or $DECONV_EPOCHS.
On two CPU cores each training of 50 epochs on the 2,000 photos takes about
14 minutes.

Exit status: 0 every training done; 1 a training failed; 2 bad arguments or
no usable dataset; 130 interrupted (run again to resume).
"""

from __future__ import annotations

import sys
from pathlib import Path

PROG = "blog_seeds.py"
# deconv.cli, which says what to do when the environment is missing, needs only the standard library.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def parse_arguments(argv=None):
    from deconv import cli

    parser = cli.parser(PROG, __doc__)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2], metavar="N", help="(default: 1 2)")
    parser.add_argument("--again", action="store_true", help="train finished seeds anew")
    arguments = parser.parse_args(argv)
    if any(seed < 0 for seed in arguments.seeds):
        parser.error("seeds are whole numbers, 0 or more")
    return arguments


def main(argv=None) -> int:
    from deconv import cli

    arguments = parse_arguments(argv)
    try:
        import keras  # noqa: F401  (what the trainings need: missing, nothing starts)

        from deconv.dataset import open_dataset
        from deconv.layout import DatasetLayoutError
        from deconv.paths import display_path, results_dir
        from deconv.scoreboard import dataset_fingerprint
        from deconv.training import FINISHED_NAME, epochs_for, finished_seed_logs, mark_finished, seed_files

        try:
            dataset = open_dataset()
        except DatasetLayoutError as error:
            return cli.fail(PROG, cli.EXIT_USAGE, str(error))
        try:
            epochs = epochs_for(dataset.kind)
        except ValueError as error:
            return cli.fail(PROG, cli.EXIT_USAGE, str(error))
        from deconv.blog_recipe import compile_cnn, directory_flows, fit_resumable
        from deconv.cnn import build_cnn
        from deconv.model import seed_everything
    except ImportError as error:
        return cli.outside_environment(PROG, error)

    results, photos = results_dir(), dataset_fingerprint(dataset.root)
    done, _ = finished_seed_logs(results, epochs, photos)
    with cli.sigterm_as_interrupt():
        for number, seed in enumerate(arguments.seeds, start=1):
            files = seed_files(results, seed)
            step = f"[{number}/{len(arguments.seeds)}] seed {seed}"
            if seed in done and not arguments.again:
                print(f"{step}: already in {display_path(files.folder)}/")
                continue
            if arguments.again:
                files.start_over()
            (files.folder / FINISHED_NAME).unlink(missing_ok=True)
            print(f"{step}: {epochs} epochs into {display_path(files.folder)}/", flush=True)
            try:
                seed_everything(seed)
                train_images, validation_images = directory_flows(dataset.root, seed=seed, workers=2)
                model = compile_cnn(build_cnn())
                log = fit_resumable(model, train_images, validation_images, epochs, files)
            except KeyboardInterrupt:
                print(f"{PROG}: interrupted; run it again to resume seed {seed}", file=sys.stderr)
                return cli.EXIT_INTERRUPTED
            except Exception as error:  # say which training failed; the finished ones stay
                return cli.fail(PROG, cli.EXIT_FAILED, f"training with seed {seed} failed: {error!r}")
            mark_finished(files, seed, epochs, photos)
            print(f"  final validation accuracy {log['val_accuracy'][-1]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
