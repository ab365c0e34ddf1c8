"""Training that resumes after an interruption, keeps its best epoch and logs every epoch."""

from __future__ import annotations

from pathlib import Path

import pytest

from deconv.training import EPOCHS_ENV, TrainingFiles, epochs_for, read_log

REPO = Path(__file__).resolve().parents[1]
# Keras notes that fit's shuffle does not apply to a tf.data pipeline; these tests feed one on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:`shuffle=True` was passed")


def test_epochs_default_by_dataset_and_environment_override(monkeypatch):
    monkeypatch.delenv(EPOCHS_ENV, raising=False)
    assert epochs_for("sample") == 10
    assert epochs_for("filtered") == epochs_for("own") == 50  # the Keras blog's 50 epochs
    monkeypatch.setenv(EPOCHS_ENV, "3")
    assert epochs_for("sample") == epochs_for("filtered") == 3


@pytest.mark.parametrize("value", ["0", "-2", "ten", "2.5", ""])
def test_bad_epoch_override_is_refused_with_its_name(monkeypatch, value):
    monkeypatch.setenv(EPOCHS_ENV, value)
    with pytest.raises(ValueError, match=EPOCHS_ENV):
        epochs_for("sample")


class Interrupt:
    """A callback that stops training like Ctrl-C, after a given epoch has been saved."""

    def __new__(cls, after_epoch):
        import keras

        class _Interrupt(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == after_epoch:
                    raise KeyboardInterrupt

        return _Interrupt()


def fit_resumable(*args, **kwargs):
    """Notebook 04's fit_resumable, exported into deconv.blog_recipe (importing it loads TensorFlow)."""
    from deconv.blog_recipe import fit_resumable as notebook_fit_resumable

    return notebook_fit_resumable(*args, **kwargs)


def tiny_problem():
    """A small CNN and a learnable in-memory problem (bright vs dark images)."""
    import numpy as np
    import tensorflow as tf

    from deconv.blog_recipe import compile_cnn
    from deconv.cnn import build_cnn
    from deconv.model import seed_everything

    seed_everything(0)
    labels = np.tile([0.0, 1.0], 16)
    images = np.random.default_rng(0).uniform(0, 0.5, (32, 32, 32, 3)).astype("float32")
    images += labels[:, None, None, None].astype("float32") * 0.5
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(8)
    return compile_cnn(build_cnn(input_shape=(32, 32, 3))), data


@pytest.mark.slow
def test_interrupted_training_resumes_after_its_last_finished_epoch(tmp_path, capsys):
    files = TrainingFiles(tmp_path)
    model, data = tiny_problem()
    with pytest.raises(KeyboardInterrupt):
        fit_resumable(model, data, data, epochs=4, files=files, extra=[Interrupt(after_epoch=1)])
    assert files.interrupted()
    assert read_log(files.log)["epoch"] == [0, 1]

    model, data = tiny_problem()  # as after a kernel restart
    log = fit_resumable(model, data, data, epochs=4, files=files)
    assert "Resuming the interrupted training after epoch 2 of 4" in capsys.readouterr().out
    assert log["epoch"] == [0, 1, 2, 3]
    assert all(seconds > 0 for seconds in log["seconds"])
    assert not files.interrupted(), "a finished run removes its backup"
    assert files.best_model.exists()


@pytest.mark.slow
def test_a_finished_run_is_not_resumed_but_started_over(tmp_path, capsys):
    files = TrainingFiles(tmp_path)
    for _ in range(2):
        model, data = tiny_problem()
        log = fit_resumable(model, data, data, epochs=2, files=files)
        assert log["epoch"] == [0, 1]
    assert "Resuming" not in capsys.readouterr().out


@pytest.mark.slow
def test_best_checkpoint_holds_the_best_validation_accuracy(tmp_path):
    import keras
    import numpy as np

    files = TrainingFiles(tmp_path)
    model, data = tiny_problem()
    log = fit_resumable(model, data, data, epochs=3, files=files)
    best = keras.models.load_model(files.best_model)
    _, accuracy = best.evaluate(data, verbose=0)
    assert np.isclose(accuracy, max(log["val_accuracy"]))


@pytest.mark.slow
def test_epoch_timer_logs_seconds_and_prints_them_as_seconds(tmp_path, capsys):
    import re

    files = TrainingFiles(tmp_path)
    model, data = tiny_problem()
    log = fit_resumable(model, data, data, epochs=2, files=files, every=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[:2] for line in lines] == [["epoch", "1/2"], ["epoch", "2/2"]]
    assert all(re.search(r"\d+\.\d s  ", line) and "seconds" not in line for line in lines)
    assert all(seconds > 0 for seconds in log["seconds"])


# ---------------------------------------------------------------- scripts/blog_seeds.py


def seeds_script(*args, results, data):
    import os
    import subprocess
    import sys

    environment = {**os.environ, "DECONV_RESULTS_DIR": str(results), "DECONV_DATA_DIR": str(data)}
    environment |= {"DECONV_EPOCHS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "blog_seeds.py"), *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO,
    )


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory):
    from deconv.data.sample import generate_sample

    root = tmp_path_factory.mktemp("seeds_sample")
    generate_sample(root, seed=0, train_per_class=8, validation_per_class=4, progress=False)
    return root


@pytest.mark.slow
def test_seeds_script_trains_notebook_04s_recipe_and_keeps_what_it_finished(small_sample, tmp_path):
    from deconv.scoreboard import dataset_fingerprint
    from deconv.training import finished_seed_logs, seed_files

    first = seeds_script("--seeds", "1", results=tmp_path, data=small_sample)
    assert first.returncode == 0, first.stderr[-3000:]
    photos = dataset_fingerprint(small_sample)
    logs, left_out = finished_seed_logs(tmp_path, epochs=1, photos=photos)
    assert list(logs) == [1] and logs[1]["epoch"] == [0] and left_out == []
    assert seed_files(tmp_path, 1).best_model.exists() and not seed_files(tmp_path, 1).interrupted()
    again = seeds_script("--seeds", "1", results=tmp_path, data=small_sample)
    assert again.returncode == 0 and "already in" in again.stdout
    assert finished_seed_logs(tmp_path, epochs=2, photos=photos) == ({}, ["seed1: 1 epochs, not 2"])
    assert finished_seed_logs(tmp_path, epochs=1, photos="other") == ({}, ["seed1: trained on other photos"])


def test_an_unfinished_seed_is_left_out_and_bad_seeds_are_refused(tmp_path):
    from deconv.training import finished_seed_logs, seed_files

    files = seed_files(tmp_path, 2)
    files.backup.mkdir(parents=True)  # what a stopped training leaves
    files.log.write_text("epoch,accuracy,val_accuracy\n0,0.5,0.5\n")
    assert finished_seed_logs(tmp_path, epochs=1, photos="any") == ({}, ["seed2: unfinished"])
    refused = seeds_script("--seeds", "-1", results=tmp_path, data=tmp_path)
    assert refused.returncode == 2 and "seeds are whole numbers" in refused.stderr
