"""Notebook 08's code, as exported into deconv.beyond: the pipeline, independent augmentations, the
recipes, the networks, the scoreboard, the study script, and one training on two devices."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from deconv import beyond, scoreboard
from deconv.scoreboard import Run

REPO = Path(__file__).resolve().parents[1]
STUDY = REPO / "scripts" / "beyond_study.py"


@pytest.fixture(scope="module")
def sample_root(tmp_path_factory):
    """A small synthetic sample (80 training images: 2 full batches of 32 and a partial one), made here:
    in a fresh checkout without the notebooks in the run, nothing else has made one."""
    from deconv.data.sample import generate_sample

    root = tmp_path_factory.mktemp("sample")
    generate_sample(root, seed=0, train_per_class=40, validation_per_class=16, progress=False)
    return root


# ---------------------------------------------------------------- recipes and networks


def changed_fields(before: beyond.Recipe, after: beyond.Recipe) -> list[str]:
    return [
        field.name
        for field in dataclasses.fields(beyond.Recipe)
        if field.name not in ("name", "description")
        and getattr(before, field.name) != getattr(after, field.name)
    ]


@pytest.mark.parametrize(
    ("before", "after", "change"),
    [
        ("blog", "adamw", "optimizer"),
        ("adamw", "smoothing", "label_smoothing"),
        ("smoothing", "richer", "augmentation"),
        ("richer", "modern", "network"),
        ("modern", "modern_bf16", "precision"),
    ],
)
def test_each_step_changes_one_thing(before, after, change):
    assert changed_fields(beyond.RECIPES[before], beyond.RECIPES[after]) == [change]


def test_the_blog_network_is_notebook_02s_and_the_modern_one_stays_in_its_size_class():
    from deconv.cnn import build_cnn

    blog = beyond.blog_network(beyond.blog_augmentation())
    modern = beyond.modern_network(beyond.richer_augmentation())
    assert blog.count_params() == build_cnn().count_params() == 1_212_513
    assert modern.count_params() <= 1_300_000
    assert modern.input_shape == blog.input_shape == (None, 150, 150, 3)
    assert modern.get_layer("global_average").output.shape[1] == 192


def test_each_recipe_compiles_with_its_optimiser_and_loss():
    built = {
        name: beyond.build_recipe(beyond.RECIPES[name], 10, 5) for name in ("blog", "adamw", "smoothing")
    }
    assert type(built["blog"].optimizer).__name__ == "RMSprop"
    assert type(built["adamw"].optimizer).__name__ == "AdamW"
    assert built["adamw"].loss.get_config()["label_smoothing"] == 0
    assert built["smoothing"].loss.get_config()["label_smoothing"] == 0.1


def layer_draws(augmentation, images) -> dict[str, np.ndarray]:
    """Each random layer's first random number per image, drawn in order as in one pass of the model."""
    draws = {}
    for layer in augmentation.layers:
        drawn = layer.get_random_transformation(images, training=True)
        values = next(np.asarray(value) for value in drawn.values() if np.ndim(value) >= 1)
        draws[layer.name] = values.reshape(len(images), -1)[:, 0].astype(float)
    return draws


def largest_correlation(draws) -> float:
    names = sorted(draws)
    return max(abs(np.corrcoef(draws[a], draws[b])[0, 1]) for a in names for b in names if a < b)


@pytest.mark.parametrize("name", ["blog", "richer"])
def test_augmentation_layers_draw_independently(name):
    import keras
    import tensorflow as tf

    photo = np.random.default_rng(0).uniform(0, 255, (1, 150, 150, 3))
    copies = tf.constant(np.repeat(photo, 256, axis=0), tf.float32)
    augmentation = beyond.AUGMENTATIONS[name](7)
    assert len(augmentation.layers) >= 3
    # 256 copies: independent draws correlate by chance up to about 0.2.
    assert largest_correlation(layer_draws(augmentation, copies)) < 0.3
    # The same layers with one seed for all follow one number: the measure sees it.
    for layer in augmentation.layers:
        layer.generator = keras.random.SeedGenerator(7)
    assert largest_correlation(layer_draws(augmentation, copies)) > 0.8


def test_warmup_then_cosine_decay():
    schedule = beyond.warmup_cosine(1e-3, total_steps=100, warmup_steps=20)
    values = {step: float(schedule(step)) for step in (0, 10, 20, 60, 100)}
    assert values[0] == 0
    assert values[10] == pytest.approx(5e-4)
    assert values[20] == pytest.approx(1e-3)
    assert values[60] == pytest.approx(5e-4)  # halfway through the decay
    assert values[100] == pytest.approx(0, abs=1e-9)


def test_bfloat16_recipe_computes_in_bfloat16_and_answers_in_float32():
    import keras

    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = beyond.modern_network(beyond.richer_augmentation())
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert model.get_layer("stage2_conv").compute_dtype == "bfloat16"
    assert model.get_layer("stage2_conv").kernel.dtype == "float32"
    assert model.get_layer("p_dog").compute_dtype == "float32"
    assert model(np.zeros((1, 150, 150, 3), "float32")).dtype == "float32"


# ---------------------------------------------------------------- the input pipeline


def test_datasets_give_raw_pixels_and_labels_and_reshuffle_every_epoch(sample_root):
    train, validation = beyond.image_datasets(sample_root, seed=0)
    images, labels = next(iter(train))
    assert images.dtype.name == "uint8" and tuple(images.shape) == (32, 150, 150, 3)
    assert int(np.asarray(images).max()) > 1  # 0-255, not scaled
    all_labels = np.concatenate([np.asarray(batch) for _, batch in validation])
    assert sorted(set(all_labels.ravel())) == [0.0, 1.0]
    assert all_labels[0] == 0 and all_labels[-1] == 1  # validation keeps the folders' order
    first, second = ([np.asarray(batch) for _, batch in train] for _ in range(2))
    assert not all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert sum(len(batch) for batch in first) == 80


# ---------------------------------------------------------------- scoreboard


def make_run(recipe="richer", seed=0, accuracy=(0.6, 0.81, 0.86, 0.84), seconds=(10, 10, 40, 10), tta=0.87):
    return Run(recipe, seed, len(accuracy), 1000, list(accuracy), list(seconds), tta, data="photos")


def test_run_summaries():
    run = make_run()
    assert (run.best, run.best_epoch, run.final, run.median_seconds) == (0.86, 3, 0.84, 10)
    assert run.first_reached(0.80) == 2
    assert run.first_reached(0.90) is None


def test_runs_are_saved_whole_and_read_back_with_the_photos_they_were_trained_on(tmp_path):
    run = make_run(seed=2)
    other = make_run(seed=3)
    other.data = "other photos"
    path = run.save(tmp_path / "beyond")
    other.save(tmp_path / "beyond")
    assert path.name == "richer_4epochs_seed2.json"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name, "richer_4epochs_seed3.json"]
    assert scoreboard.load_runs(path.parent, "photos") == ([run], [other])
    assert json.loads(path.read_text())["tta_accuracy"] == 0.87


def test_the_fingerprint_changes_with_the_photos(sample_root, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(sample_root, copy)
    assert scoreboard.dataset_fingerprint(copy) == scoreboard.dataset_fingerprint(sample_root)
    next((copy / "train" / "cats").iterdir()).unlink()
    assert scoreboard.dataset_fingerprint(copy) != scoreboard.dataset_fingerprint(sample_root)


def test_table_row_gives_final_and_best_over_seeds_and_median_times():
    runs = [
        make_run(seed=1, accuracy=(0.5, 0.9), seconds=(5, 5)),
        make_run(accuracy=(0.8, 0.8), seconds=(10, 10)),
    ]
    row = scoreboard.table_row("richer", runs)
    assert row["seeds"] == 2
    assert row["final epoch"] == "0.850 ± 0.071"
    assert row["best epoch (picked on validation)"] == "0.850 ± 0.071"
    assert row["epoch to 0.80"] == "1.5"
    assert row["s per epoch (quietest seed)"] == 5
    assert row["final, with TTA"] == "0.870 ± 0.000"
    assert "|---|" in scoreboard.markdown_table([row])
    without_tta = [make_run(accuracy=(0.8, 0.8), seconds=(10, 10), tta=None)]
    assert scoreboard.table_row("notebook 04", without_tta)["final, with TTA"] == ""


NETWORKS = {name: recipe.network for name, recipe in beyond.RECIPES.items()}


def seeds_of(recipe, finals, **kwargs):
    return [
        make_run(recipe, seed, accuracy=(0.7, 0.82, final), **kwargs) for seed, final in enumerate(finals)
    ]


def test_goals_need_three_seeds_and_an_interval_clear_of_the_goal():
    runs = [
        *seeds_of("richer", (0.86, 0.87, 0.865)),  # clearly above 0.85
        *seeds_of("modern", (0.87, 0.89, 0.88)),  # the interval spans 0.88
        *seeds_of("blog", (0.95, 0.95, 0.95)),  # the starting point never counts for goal 1
    ]
    goal1, goal2, _ = scoreboard.goal_verdicts(runs, [], NETWORKS, epochs=3)
    assert goal1.startswith("Goal 1, 0.85 with the blog network: reached.") and "'richer'" in goal1
    assert "cannot tell with 3 seeds" in goal2
    low = scoreboard.goal_verdicts(seeds_of("modern", (0.80, 0.81, 0.80)), [], NETWORKS, epochs=3)[1]
    assert "not reached" in low
    one = scoreboard.goal_verdicts(seeds_of("modern", (0.95,)), [], NETWORKS, epochs=3)[1]
    assert "no verdict: 1 seed(s)" in one
    assert "no training" in scoreboard.goal_verdicts(seeds_of("blog", (0.9,)), [], NETWORKS, epochs=3)[1]


def test_goal_three_uses_median_epochs_over_the_blog_seeds_and_stays_a_hint():
    blog = [
        make_run(
            "notebook 04", seed, accuracy=[0.5] * (epoch - 1) + [0.8], seconds=[15] * (epoch - 1) + [500]
        )
        for seed, epoch in enumerate((9, 10, 12))  # median epoch 10 x 15 s
    ]
    runs = seeds_of("modern", (0.85, 0.85, 0.85), seconds=(10, 10, 10))  # epoch 2 x 10 s
    goal3 = scoreboard.goal_verdicts(runs, blog, NETWORKS, epochs=3)[2]
    assert (
        "'modern' needs 0.13 of the blog recipe's time" in goal3 and "over 3 seed(s) of notebook 04" in goal3
    )
    assert "within the goal, a hint rather than a verdict" in goal3
    slow = seeds_of("modern", (0.85, 0.85, 0.85), seconds=(80, 80, 80))  # 160 s of 150: outside
    assert "needs 1.07 of" in scoreboard.goal_verdicts(slow, blog, NETWORKS, epochs=3)[2]
    assert "outside the goal" in scoreboard.goal_verdicts(slow, blog, NETWORKS, epochs=3)[2]


def test_goal_three_counts_a_blog_seed_that_never_got_there_as_a_lower_bound():
    never = [make_run("notebook 04", seed, accuracy=[0.7] * 10, seconds=[15] * 10) for seed in range(3)]
    runs = seeds_of("modern", (0.85, 0.85, 0.85), seconds=(10, 10, 10))  # 20 s against at least 150 s
    goal3 = scoreboard.goal_verdicts(runs, never, NETWORKS, epochs=3)[2]
    assert "needs at most 0.13" in goal3 and "3 of which never reached 0.80" in goal3
    assert "within the goal" in goal3
    slow = seeds_of("modern", (0.85, 0.85, 0.85), seconds=(80, 80, 80))
    assert "cannot tell" in scoreboard.goal_verdicts(slow, never, NETWORKS, epochs=3)[2]
    assert "no training of notebook 04" in scoreboard.goal_verdicts(runs, [], NETWORKS, epochs=3)[2]


def test_notebook04_runs_gathers_its_seeds_made_on_these_photos(tmp_path):
    from deconv.training import mark_finished, seed_files

    def write_log(folder, finals):
        folder.mkdir(parents=True, exist_ok=True)
        rows = ["epoch,seconds,val_accuracy"] + [f"{i},15,{value}" for i, value in enumerate(finals)]
        (folder / "training_log.csv").write_text("\n".join(rows) + "\n")

    assert scoreboard.notebook04_runs(tmp_path, "photos A", "aaa", 1000) == ([], [])  # nothing trained yet
    write_log(tmp_path, (0.6, 0.78))
    (tmp_path / "metrics.json").write_text(json.dumps({"dataset_title": "photos A", "seed": 0}))
    for seed, photos, epochs in ((1, "aaa", 2), (2, "bbb", 2), (3, "aaa", 5)):
        files = seed_files(tmp_path, seed)
        write_log(files.folder, (0.6, 0.70 + seed / 100))
        mark_finished(files, seed, epochs, photos)
    runs, left_out = scoreboard.notebook04_runs(tmp_path, "photos A", "aaa", 1000)
    assert [(run.seed, run.final) for run in runs] == [(0, 0.78), (1, 0.71)]
    assert left_out == [
        "notebook 04's seed2: trained on other photos",
        "notebook 04's seed3: 5 epochs, not 2",
    ]
    runs, left_out = scoreboard.notebook04_runs(tmp_path, "photos B", "bbb", 1000)
    assert runs == [] and left_out == ["notebook 04's run: trained on photos A"]


def test_steps_get_an_interval_and_a_verdict_only_with_three_seeds():
    runs = [*seeds_of("blog", (0.76, 0.80, 0.77)), *seeds_of("richer", (0.76, 0.77, 0.78))]
    runs += [*seeds_of("modern", (0.85, 0.86, 0.85)), *seeds_of("modern_bf16", (0.87,))]
    lines = scoreboard.step_lines(runs, list(beyond.RECIPES), epochs=3)
    assert len(lines) == 3
    assert "blog -> richer (3 steps)" in lines[0] and lines[0].endswith("cannot tell with 3 and 3 seeds")
    assert "richer -> modern " in lines[1] and lines[1].endswith("better")
    assert "modern -> modern_bf16" in lines[2] and "no verdict: 3 and 1 seed(s)" in lines[2]


# ---------------------------------------------------------------- training


@pytest.mark.slow
def test_train_recipe_measures_every_epoch_and_tta_matches_a_hand_count(sample_root):
    model, run = beyond.train_recipe(beyond.RECIPES["richer"], sample_root, epochs=2, show=False)
    assert run.epochs == 2 and len(run.seconds) == 2 and all(s > 0 for s in run.seconds)
    assert run.parameters == model.count_params()
    assert run.data == scoreboard.dataset_fingerprint(sample_root)
    _, validation = beyond.image_datasets(sample_root)
    run.tta_accuracy = beyond.tta_accuracy(model, validation)
    images = np.concatenate([np.asarray(batch) for batch, _ in validation]).astype("float32")
    labels = np.concatenate([np.asarray(batch) for _, batch in validation])[:, 0]
    p_dog = (model.predict(images, verbose=0) + model.predict(images[:, :, ::-1], verbose=0))[:, 0] / 2
    assert run.tta_accuracy == round(float(np.mean((p_dog > 0.5) == (labels > 0.5))), 4)


TWO_DEVICES = """
import sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from deconv import beyond
strategy = beyond.distribution_strategy(["/cpu:0", "/cpu:1"])
recipe = beyond.RECIPES["modern"]
model, run = beyond.train_recipe(recipe, sys.argv[1], epochs=1, show=False, strategy=strategy)
kernel = model.get_layer("stage1_conv").kernel
print(strategy.num_replicas_in_sync, type(strategy).__name__, type(kernel.value).__name__, run.epochs)
print(sorted({v.device.split(":")[-1] for v in kernel.value.values}))
"""


@pytest.mark.slow
def test_the_same_training_runs_mirrored_over_two_devices(sample_root, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", TWO_DEVICES, str(sample_root)], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    replicas, strategy, variable, epochs = result.stdout.splitlines()[-2].split()
    assert (replicas, strategy, variable, epochs) == ("2", "MirroredStrategy", "MirroredVariable", "1")
    assert result.stdout.splitlines()[-1] == "['0', '1']"  # a copy of the weights on each device


def test_one_device_gets_the_default_strategy():
    import tensorflow as tf

    strategy = beyond.distribution_strategy()
    assert strategy is tf.distribute.get_strategy()
    assert strategy.num_replicas_in_sync == 1


# ---------------------------------------------------------------- the study script


def study_environment(results: Path, data: Path | None = None) -> dict[str, str]:
    import os

    env = {**os.environ, "DECONV_RESULTS_DIR": str(results), "TF_CPP_MIN_LOG_LEVEL": "2"}
    if data is not None:
        env["DECONV_DATA_DIR"] = str(data)
    return env


def study(*args, results: Path, data: Path | None = None):
    return subprocess.run(
        [sys.executable, str(STUDY), *map(str, args)],
        capture_output=True,
        text=True,
        env=study_environment(results, data),
        cwd=REPO,
    )


def test_study_refuses_an_unknown_recipe_and_zero_epochs(tmp_path):
    result = study("--recipes", "bigger", results=tmp_path)
    assert result.returncode == 2 and "unknown recipe bigger" in result.stderr
    result = study("--epochs", "0", results=tmp_path)
    assert result.returncode == 2 and "--epochs: must be 1 or more, not 0" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_study_trains_writes_and_skips_what_it_has(sample_root, tmp_path):
    first = study("--recipes", "blog", "--seeds", "3", "--epochs", "1", results=tmp_path, data=sample_root)
    assert first.returncode == 0, first.stderr[-3000:]
    saved = Run.load(tmp_path / "beyond" / "blog_1epochs_seed3.json")
    assert (saved.recipe, saved.seed, saved.epochs) == ("blog", 3, 1)
    assert saved.tta_accuracy is not None and saved.data
    again = study("--recipes", "blog", "--seeds", "3", "--epochs", "1", results=tmp_path, data=sample_root)
    assert again.returncode == 0 and "already in" in again.stdout
    assert Run.load(tmp_path / "beyond" / "blog_1epochs_seed3.json") == saved
    saved.data = "other photos"
    saved.save(tmp_path / "beyond")
    third = study("--recipes", "blog", "--seeds", "3", "--epochs", "1", results=tmp_path, data=sample_root)
    assert third.returncode == 0 and "trained on other photos; training again" in third.stdout
    assert Run.load(tmp_path / "beyond" / "blog_1epochs_seed3.json").data != "other photos"


@pytest.mark.slow
def test_study_says_which_training_failed_and_keeps_nothing_half_written(sample_root, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(sample_root, broken)
    # The manifest vouches for the images, so the study meets the broken one only while training.
    (broken / "validation" / "dogs" / "dog.0.jpg").write_bytes(b"not a JPEG")
    (broken / "manifest.json").write_text('{"dataset": "sample", "title": "a broken sample"}')
    result = study("--recipes", "blog", "--seeds", "0", "--epochs", "1", results=tmp_path / "r", data=broken)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "training blog with seed 0 failed" in result.stderr
    assert not list((tmp_path / "r").rglob("*.json")) and not list((tmp_path / "r").rglob("*.partial"))


@pytest.mark.slow
def test_an_interrupted_study_exits_130_and_keeps_the_finished_trainings(sample_root, tmp_path):
    import signal
    import time

    command = [sys.executable, str(STUDY), "--recipes", "blog", "--seeds", "0", "1", "--epochs", "1"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=study_environment(tmp_path, sample_root),
        cwd=REPO,
    )
    lines = []
    for line in process.stdout:  # the first training finishes, the second starts: stop it there
        lines.append(line)
        if line.startswith("[2/2]"):
            time.sleep(2)
            process.send_signal(signal.SIGTERM)
            break
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr[-2000:]
    assert "interrupted; finished trainings are kept" in stderr
    assert [path.name for path in (tmp_path / "beyond").glob("*.json")] == ["blog_1epochs_seed0.json"]
