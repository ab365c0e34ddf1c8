"""The synthetic sample: reproducible, laid out as promised, and not separable by colour or size.

That the tutorial's CNN learns it is checked where the tutorial trains: notebook 04, under nbval,
asserts a validation accuracy of at least 0.90 on this sample."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from deconv.data.sample import generate_sample

SMALL = {"train_per_class": 10, "validation_per_class": 5, "progress": False}


def relative_files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory):
    root = tmp_path_factory.mktemp("small") / "not" / "there" / "yet"
    counts = generate_sample(root, seed=0, **SMALL)
    return root, counts


def test_same_seed_gives_byte_identical_files(small_sample, tmp_path):
    root, _ = small_sample
    again = tmp_path / "again"
    generate_sample(str(again), seed=0, **SMALL)  # a str works as well as a Path
    names = relative_files(root)
    assert relative_files(again) == names
    assert all((root / name).read_bytes() == (again / name).read_bytes() for name in names)


def test_different_seed_gives_different_files(small_sample, tmp_path):
    root, _ = small_sample
    other = tmp_path / "other"
    generate_sample(other, seed=1, **SMALL)
    names = relative_files(root)
    assert relative_files(other) == names
    assert all((root / name).read_bytes() != (other / name).read_bytes() for name in names)


def test_each_image_is_independent_of_the_counts(small_sample, tmp_path):
    root, _ = small_sample
    fewer = tmp_path / "fewer"
    generate_sample(fewer, seed=0, train_per_class=3, validation_per_class=1, progress=False)
    for name in ("train/cats/cat.2.jpg", "train/dogs/dog.0.jpg"):
        assert (fewer / name).read_bytes() == (root / name).read_bytes()


def test_counts_and_file_names(small_sample):
    root, counts = small_sample
    assert counts == {"train": {"cats": 10, "dogs": 10}, "validation": {"cats": 5, "dogs": 5}}
    # Validation numbering continues after train's, as in cats_and_dogs_filtered.
    expected = {f"train/cats/cat.{i}.jpg" for i in range(10)}
    expected |= {f"train/dogs/dog.{i}.jpg" for i in range(10)}
    expected |= {f"validation/cats/cat.{i}.jpg" for i in range(10, 15)}
    expected |= {f"validation/dogs/dog.{i}.jpg" for i in range(10, 15)}
    assert set(relative_files(root)) == expected  # and nothing else
    on_disk = {
        split: {name: len(list((root / split / name).iterdir())) for name in ("cats", "dogs")}
        for split in ("train", "validation")
    }
    assert on_disk == counts


def test_images_are_rgb_jpegs_of_varied_photo_like_sizes(small_sample):
    root, _ = small_sample
    sizes = []
    for path in sorted(root.rglob("*.jpg")):
        with Image.open(path) as image:
            image.load()  # decodes the whole file
            assert image.format == "JPEG" and image.mode == "RGB"
            sizes.append(image.size)
    assert len(set(sizes)) > len(sizes) // 2
    assert len({w for w, _ in sizes}) > 1 and len({h for _, h in sizes}) > 1
    assert all(160 <= side <= 500 for size in sizes for side in size)  # never already 150x150


def test_progress_bar_only_when_asked(tmp_path, capsys):
    generate_sample(tmp_path / "quiet", train_per_class=1, validation_per_class=1, progress=False)
    assert capsys.readouterr() == ("", "")
    generate_sample(tmp_path / "shown", train_per_class=1, validation_per_class=1, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "4/4" in err


def best_threshold_accuracy(values, labels):
    """Accuracy of the best rule 'label = value > t' (or <= t), over all thresholds t."""
    order = np.argsort(values, kind="stable")
    values, labels = np.asarray(values)[order], np.asarray(labels)[order]
    # Correct answers of "class 1 above the cut" for a cut before each position and at the end.
    ones_above = labels.sum() - np.concatenate([[0], np.cumsum(labels)])
    zeros_below = np.concatenate([[0], np.cumsum(1 - labels)])
    accuracy = (ones_above + zeros_below) / len(labels)
    # Only cut between different values: equal values fall on the same side.
    cuttable = np.concatenate([[True], values[1:] != values[:-1], [True]])
    accuracy = accuracy[cuttable]
    return float(max(accuracy.max(), 1 - accuracy.min()))


def image_statistics(path):
    with Image.open(path) as image:
        rgb = np.asarray(image, dtype=float)
        brightness = np.asarray(image.convert("L"), dtype=float)
        saturation = np.asarray(image.convert("HSV"), dtype=float)[..., 1]
        width, height = image.size
    mean_r, mean_g, mean_b = rgb.reshape(-1, 3).mean(axis=0)
    return {
        "mean R": mean_r,
        "mean G": mean_g,
        "mean B": mean_b,
        "mean brightness": brightness.mean(),
        "brightness std": brightness.std(),
        "mean saturation": saturation.mean(),
        "width": width,
        "height": height,
        "aspect ratio": width / height,
        "file size": path.stat().st_size,
    }


def test_no_single_colour_or_size_statistic_separates_the_classes(tmp_path):
    generate_sample(tmp_path, seed=3, train_per_class=40, validation_per_class=20, progress=False)
    rows, labels = [], []
    for label, name in enumerate(("cats", "dogs")):
        for path in sorted(tmp_path.glob(f"*/{name}/*.jpg")):
            rows.append(image_statistics(path))
            labels.append(label)
    assert len(labels) == 120
    accuracies = {stat: best_threshold_accuracy([row[stat] for row in rows], labels) for stat in rows[0]}
    assert max(accuracies.values()) <= 0.70, accuracies
