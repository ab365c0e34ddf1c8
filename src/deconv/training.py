"""Training that survives interruption: backup, best checkpoint, CSV log, seconds per epoch."""

from __future__ import annotations

import csv
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .paths import display_path

EPOCHS_ENV = "DECONV_EPOCHS"
# The Keras blog trained 50 epochs on 2,000 photos. The drawn sample is learnt
# far sooner (validation accuracy passes 0.90 by epoch 2-4), so it gets a
# short run that finishes in about a minute on two cores.
DEFAULT_EPOCHS = {"sample": 10}
BLOG_EPOCHS = 50


def epochs_for(dataset_kind: str, photos: int = BLOG_EPOCHS, sample: int = DEFAULT_EPOCHS["sample"]) -> int:
    """Epochs to train: ``$DECONV_EPOCHS`` if set, else ``sample`` on the sample and ``photos`` otherwise."""
    value = os.environ.get(EPOCHS_ENV)
    if value is None:
        return sample if dataset_kind == "sample" else photos
    if not value.strip().isdigit() or int(value) < 1:
        raise ValueError(f"{EPOCHS_ENV}={value!r}: give a whole number of epochs, 1 or more.")
    return int(value)


@dataclass(frozen=True)
class TrainingFiles:
    """Where one training run keeps its state, all under one results folder."""

    folder: Path

    @property
    def backup(self) -> Path:  # the last finished epoch, for resuming
        return self.folder / "training_backup"

    @property
    def best_model(self) -> Path:  # the epoch with the best validation accuracy
        return self.folder / "best_checkpoint.keras"

    @property
    def log(self) -> Path:  # one row per epoch, across resumptions
        return self.folder / "training_log.csv"

    def interrupted(self) -> bool:
        return self.backup.exists()

    def start_over(self) -> None:
        """Forget an interrupted run so the next training starts from epoch 1."""
        shutil.rmtree(self.backup, ignore_errors=True)
        for path in (self.best_model, self.log):
            path.unlink(missing_ok=True)


def read_log(path: Path) -> dict[str, list[float]]:
    """The CSV log as columns of numbers (epoch, loss, accuracy, val_loss, ...)."""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {key: [float(row[key]) for row in rows] for key in (rows[0] if rows else {})}


def resume_or_start_over(files: TrainingFiles, epochs: int) -> float | None:
    """Keep an interrupted run's state to resume it; otherwise delete the previous run's files.

    Without a backup (the previous run finished, or there was none) the log
    and the best checkpoint of the previous run are deleted, so the new run
    starts from epoch 1. Returns the best validation accuracy logged before
    an interruption (the bar a new best checkpoint must pass), or None.
    """
    files.folder.mkdir(parents=True, exist_ok=True)
    if files.interrupted() and files.log.exists():
        earlier = read_log(files.log)
        print(
            f"Resuming the interrupted training after epoch {len(earlier.get('epoch', []))} of {epochs}. "
            f"To start over instead, delete {display_path(files.backup)}/."
        )
        return max(earlier.get("val_accuracy", []), default=None)
    files.start_over()
    return None


TRAINED_MODEL_NAME = "cnn.keras"  # written by notebook 04
SHORT_EPOCHS = 3


def trained_cnn(dataset, results: Path, short_epochs: int = SHORT_EPOCHS, seed: int = 0):
    """The CNN trained by notebook 04 if it is in ``results``, otherwise a short training of its own.

    Returns the model and a sentence saying which it is. The short model is
    not saved, so it never passes for notebook 04's.
    """
    import keras

    from .blog_recipe import compile_cnn, directory_flows
    from .cnn import build_cnn
    from .model import seed_everything

    saved = Path(results) / TRAINED_MODEL_NAME
    if saved.exists():
        message = f"Using the model trained by notebook 04: {display_path(saved)}."
        return keras.models.load_model(saved), message
    print(
        f"No {display_path(saved)} yet (notebook 04 writes it): training a short model of "
        f"{short_epochs} epochs instead."
    )
    seed_everything(seed)
    train, validation = directory_flows(dataset.root, seed=seed, workers=2)
    model = compile_cnn(build_cnn())
    model.fit(train, validation_data=validation, epochs=short_epochs, verbose=2)
    return model, (
        f"Using a short model trained here for {short_epochs} epochs; run notebook 04 for the full "
        "training, then run this notebook again."
    )


SEEDS_DIRNAME = "blog_seeds"  # results/blog_seeds/seed<N>/: notebook 04's recipe with other seeds
FINISHED_NAME = "finished.json"  # written when a seed's training ends: its schedule and its photos


def seed_files(results: Path, seed: int) -> TrainingFiles:
    """Where scripts/blog_seeds.py keeps the training of notebook 04's recipe with ``seed``."""
    return TrainingFiles(Path(results) / SEEDS_DIRNAME / f"seed{seed}")


def mark_finished(files: TrainingFiles, seed: int, epochs: int, photos: str) -> Path:
    """Record that a training ran its whole schedule on the photos with fingerprint ``photos``."""
    import json

    path = files.folder / FINISHED_NAME
    path.write_text(json.dumps({"seed": seed, "epochs": epochs, "data": photos}) + "\n")
    return path


def finished_seed_logs(results: Path, epochs: int, photos: str) -> tuple[dict[int, dict], list[str]]:
    """The logs of scripts/blog_seeds.py's finished trainings with this schedule on these photos.

    Returns {seed: log} and, for every other seed folder, why it was left out
    (unfinished, another number of epochs, other photos).
    """
    import json

    logs, left_out = {}, []
    for folder in sorted((Path(results) / SEEDS_DIRNAME).glob("seed*")):
        files, finished = TrainingFiles(folder), folder / FINISHED_NAME
        if not finished.exists() or not files.log.exists():
            left_out.append(f"{folder.name}: unfinished")
            continue
        record = json.loads(finished.read_text())
        if record["data"] != photos:
            left_out.append(f"{folder.name}: trained on other photos")
        elif record["epochs"] != epochs:
            left_out.append(f"{folder.name}: {record['epochs']} epochs, not {epochs}")
        else:
            logs[int(record["seed"])] = read_log(files.log)
    return logs, left_out
