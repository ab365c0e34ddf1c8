"""Training that resumes after an interruption, keeps its best epoch and logs every epoch."""

from __future__ import annotations

import pytest

from deconv.training import EPOCHS_ENV, TrainingFiles, epochs_for, fit_resumable, read_log

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


def tiny_problem():
    """A small CNN and a learnable in-memory problem (bright vs dark images)."""
    import numpy as np
    import tensorflow as tf

    from deconv.model import build_cnn, compile_cnn, seed_everything

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
        fit_resumable(model, data, data, epochs=4, files=files, show=False, extra=[Interrupt(after_epoch=1)])
    assert files.interrupted()
    assert read_log(files.log)["epoch"] == [0, 1]

    model, data = tiny_problem()  # as after a kernel restart
    log = fit_resumable(model, data, data, epochs=4, files=files, show=False)
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
        log = fit_resumable(model, data, data, epochs=2, files=files, show=False)
        assert log["epoch"] == [0, 1]
    assert "Resuming" not in capsys.readouterr().out


@pytest.mark.slow
def test_best_checkpoint_holds_the_best_validation_accuracy(tmp_path):
    import keras
    import numpy as np

    files = TrainingFiles(tmp_path)
    model, data = tiny_problem()
    log = fit_resumable(model, data, data, epochs=3, files=files, show=False)
    best = keras.models.load_model(files.best_model)
    _, accuracy = best.evaluate(data, verbose=0)
    assert np.isclose(accuracy, max(log["val_accuracy"]))


@pytest.mark.slow
def test_epoch_timer_logs_seconds_and_prints_them_as_seconds(tmp_path, capsys):
    import re

    files = TrainingFiles(tmp_path)
    model, data = tiny_problem()
    log = fit_resumable(model, data, data, epochs=2, files=files)
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[:2] for line in lines] == [["epoch", "1/2"], ["epoch", "2/2"]]
    assert all(re.search(r"\d+\.\d s  ", line) and "seconds" not in line for line in lines)
    assert all(seconds > 0 for seconds in log["seconds"])


def test_notebook_callbacks_are_compared_setting_by_setting(tmp_path):
    import keras

    from deconv.training import describe_callbacks, resumable_callbacks

    files = TrainingFiles(tmp_path)
    same = resumable_callbacks(files, None)
    assert describe_callbacks(same) == describe_callbacks(resumable_callbacks(files, None))
    other_log = [*same[:-1], keras.callbacks.CSVLogger(str(files.log), append=False)]
    assert describe_callbacks(other_log) != describe_callbacks(same)
    higher_bar = resumable_callbacks(files, 0.9)
    assert describe_callbacks(higher_bar) != describe_callbacks(same)
