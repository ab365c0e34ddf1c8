"""The dataset every notebook opens: which it is, the sample when there is none, clear errors."""

from __future__ import annotations

import shutil

import pytest

from deconv.data.sample import generate_sample
from deconv.dataset import open_dataset
from deconv.layout import REAL_PHOTOS_HINT, DatasetLayoutError
from deconv.paths import DATA_DIR_ENV


@pytest.fixture
def no_override(monkeypatch):
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


def test_absent_dataset_becomes_the_sample_and_says_so(tmp_path, no_override, capsys):
    dataset = open_dataset(tmp_path)
    out = capsys.readouterr().out
    assert dataset.is_sample and dataset.root == tmp_path / "cats_and_dogs"
    assert dataset.counts == {"train": {"cats": 200, "dogs": 200}, "validation": {"cats": 100, "dogs": 100}}
    assert "generating the synthetic sample" in out
    assert "Data: synthetic sample" in out
    assert REAL_PHOTOS_HINT in out  # how to get real photos


def test_any_folder_in_the_layout_works_through_the_environment(tmp_path, monkeypatch, capsys):
    generate_sample(tmp_path / "mine", train_per_class=3, validation_per_class=2, progress=False)
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "mine"))
    dataset = open_dataset()
    assert dataset.kind == "own" and dataset.root == tmp_path / "mine"
    assert dataset.split("validation") == tmp_path / "mine" / "validation"
    assert "Data: your own images (no manifest.json)" in capsys.readouterr().out


def test_missing_override_names_the_variable_and_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "absent"))
    with pytest.raises(DatasetLayoutError, match=DATA_DIR_ENV):
        open_dataset()
    assert not (tmp_path / "absent").exists()


def test_broken_layout_is_refused_and_left_untouched(tmp_path, no_override):
    root = tmp_path / "cats_and_dogs"
    generate_sample(root, train_per_class=3, validation_per_class=2, progress=False)
    shutil.rmtree(root / "train" / "dogs")
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    with pytest.raises(DatasetLayoutError, match="exactly the class folders"):
        open_dataset(tmp_path)
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def test_unreadable_image_in_an_own_folder_is_named_before_any_training(tmp_path, monkeypatch):
    root = tmp_path / "mine"
    generate_sample(root, train_per_class=3, validation_per_class=2, progress=False)
    broken = root / "train" / "dogs" / "dog.1.jpg"
    broken.write_bytes(broken.read_bytes()[:300])  # a truncated download
    (root / "validation" / "cats" / "cat.4.jpg").write_bytes(b"")
    monkeypatch.setenv(DATA_DIR_ENV, str(root))
    with pytest.raises(DatasetLayoutError, match=r"2 of the 10 images .*dog\.1\.jpg \(truncated") as error:
        open_dataset()
    assert "cat.4.jpg (empty file" in str(error.value)
    assert broken.stat().st_size == 300, "nothing is changed"
