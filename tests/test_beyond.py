"""Notebook 08's tested copy: the pipeline, the recipes, the networks, the scoreboard, the study script,
and the same training on two devices through MirroredStrategy."""

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
    """The synthetic sample at its full size (400 training images), made here: in a fresh checkout
    without the notebooks in the run, nothing else has made one."""
    from deconv.data.sample import generate_sample

    root = tmp_path_factory.mktemp("sample")
    generate_sample(root, seed=0, progress=False)
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


def test_the_first_recipe_is_the_blogs():
    blog = beyond.RECIPES["blog"]
    assert (blog.network, blog.augmentation, blog.optimizer, blog.label_smoothing) == (
        "blog",
        "blog",
        "rmsprop",
        0,
    )
    assert blog.precision == "float32"


def test_the_blog_network_is_notebook_02s_and_the_modern_one_stays_in_its_size_class():
    from deconv.model import build_cnn

    blog = beyond.blog_network(beyond.blog_augmentation())
    modern = beyond.modern_network(beyond.richer_augmentation())
    assert blog.count_params() == build_cnn().count_params() == 1_212_513
    assert modern.count_params() <= 1_300_000
    assert modern.input_shape == blog.input_shape == (None, 150, 150, 3)
    assert modern.get_layer("global_average").output.shape[1] == 192


def test_architecture_sees_a_changed_setting_anywhere_even_in_a_nested_model():
    first = beyond.modern_network(beyond.richer_augmentation())
    assert beyond.architecture(first) == beyond.architecture(
        beyond.modern_network(beyond.richer_augmentation())
    )
    assert beyond.architecture(first) != beyond.architecture(
        beyond.modern_network(beyond.blog_augmentation())
    )
    assert beyond.architecture(first) != beyond.architecture(
        beyond.modern_network(beyond.richer_augmentation(), dropout_rate=0.5)
    )


def test_training_setup_tells_the_recipes_apart():
    setups = {
        name: beyond.training_setup(beyond.build_recipe(beyond.RECIPES[name], 10, 5))
        for name in ("blog", "adamw")
    }
    assert setups["blog"]["optimizer"][0] == "RMSprop"
    assert setups["adamw"]["optimizer"][0] == "AdamW"
    smoothing = beyond.training_setup(beyond.build_recipe(beyond.RECIPES["smoothing"], 10, 5))
    assert smoothing["optimizer"] == setups["adamw"]["optimizer"]
    assert smoothing["loss"] != setups["adamw"]["loss"]


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
    assert sum(len(batch) for batch in first) == 400


# ---------------------------------------------------------------- scoreboard


def make_run(recipe="richer", seed=0, accuracy=(0.6, 0.81, 0.86, 0.84), seconds=(10, 10, 10, 10), tta=0.87):
    return Run(recipe, seed, len(accuracy), 1000, list(accuracy), list(seconds), tta)


def test_run_summaries():
    run = make_run()
    assert (run.best, run.best_epoch, run.final, run.seconds_per_epoch) == (0.86, 3, 0.84, 10)
    assert run.first_reached(0.80) == (2, 20)
    assert run.first_reached(0.90) is None


def test_runs_are_saved_whole_and_read_back(tmp_path):
    run = make_run(seed=2)
    path = run.save(tmp_path / "beyond")
    assert path.name == "richer_4epochs_seed2.json"
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert scoreboard.load_runs(path.parent) == [run]
    assert json.loads(path.read_text())["tta_accuracy"] == 0.87


def test_table_row_gives_mean_and_spread_over_seeds_and_times_of_the_first_seed():
    runs = [make_run(seed=1, accuracy=(0.5, 0.9), seconds=(5, 5)), make_run(seed=0, accuracy=(0.7, 0.8))]
    row = scoreboard.table_row("richer", runs)
    assert row["seeds"] == 2
    assert row["best"] == "0.850 ± 0.071"
    assert (row["epoch to 0.80"], row["seconds to 0.80"]) == (2, 20)
    assert "|---|" in scoreboard.markdown_table([row])


NETWORKS = {name: recipe.network for name, recipe in beyond.RECIPES.items()}


def test_goal_verdicts_reached_and_not():
    blog = make_run("notebook 04", accuracy=[0.5] * 9 + [0.8], seconds=[15] * 10)  # 0.80 after 150 s
    runs = [
        make_run("richer", accuracy=(0.7, 0.8, 0.86, 0.85), seconds=(10, 10, 10, 10)),  # 0.80 after 20 s
        make_run("modern", accuracy=(0.7, 0.75, 0.87, 0.85)),
        make_run("blog", accuracy=(0.5, 0.5, 0.9, 0.9)),  # the starting point never counts for goal 1
    ]
    goal1, goal2, goal3 = scoreboard.goal_verdicts(runs, blog, NETWORKS, epochs=4)
    assert "reached" in goal1 and "not reached" not in goal1 and "'richer'" in goal1
    assert "not reached" in goal2 and "0.870" in goal2
    assert "reached" in goal3 and "not reached" not in goal3 and "0.13 of its time" in goal3


def test_goal_three_against_a_blog_run_that_never_reached_the_target():
    blog = make_run("notebook 04", accuracy=[0.7] * 10, seconds=[15] * 10)
    slow = [make_run("modern", accuracy=(0.7, 0.7, 0.7, 0.81), seconds=(50, 50, 50, 50))]
    *_, goal3 = scoreboard.goal_verdicts(slow, blog, NETWORKS, epochs=4)
    assert "not reached" in goal3 and "never reached 0.80 in 10 epochs (150 s)" in goal3
    *_, goal3 = scoreboard.goal_verdicts([make_run("modern")], None, NETWORKS, epochs=4)
    assert "log is missing" in goal3


def test_a_longer_training_counts_under_its_own_name():
    runs = [make_run("modern", accuracy=(0.8, 0.85)), make_run("modern", accuracy=(0.8, 0.9, 0.89, 0.88))]
    assert len(scoreboard.grouped(runs)) == 2
    goal2 = scoreboard.goal_verdicts(runs, None, NETWORKS, epochs=2)[1]
    assert "reached" in goal2 and "not reached" not in goal2 and "'modern, 4 epochs'" in goal2
    assert "no training" in scoreboard.goal_verdicts([make_run("blog")], None, NETWORKS, epochs=4)[1]


# ---------------------------------------------------------------- training


@pytest.mark.slow
def test_train_recipe_measures_every_epoch_and_tta_matches_a_hand_count(sample_root):
    model, run = beyond.train_recipe(beyond.RECIPES["richer"], sample_root, epochs=2, show=False)
    assert run.epochs == 2 and len(run.seconds) == 2 and all(s > 0 for s in run.seconds)
    assert run.parameters == model.count_params()
    _, validation = beyond.image_datasets(sample_root)
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


def study(*args, results: Path):
    import os

    env = {**os.environ, "DECONV_RESULTS_DIR": str(results), "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, str(STUDY), *map(str, args)], capture_output=True, text=True, env=env, cwd=REPO
    )


def test_study_refuses_an_unknown_recipe_and_zero_epochs(tmp_path):
    result = study("--recipes", "bigger", results=tmp_path)
    assert result.returncode == 2 and "unknown recipe bigger" in result.stderr
    result = study("--epochs", "0", results=tmp_path)
    assert result.returncode == 2 and "--epochs" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_study_trains_writes_and_skips_what_it_has(tmp_path):
    first = study("--recipes", "blog", "--seeds", "3", "--epochs", "1", results=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    saved = Run.load(tmp_path / "beyond" / "blog_1epochs_seed3.json")
    assert (saved.recipe, saved.seed, saved.epochs) == ("blog", 3, 1)
    again = study("--recipes", "blog", "--seeds", "3", "--epochs", "1", results=tmp_path)
    assert again.returncode == 0 and "already in" in again.stdout
    assert Run.load(tmp_path / "beyond" / "blog_1epochs_seed3.json") == saved
