"""deconv.layout.check_layout: the one layout check, called directly."""

from __future__ import annotations

from pathlib import Path

import pytest

from deconv.layout import (
    CLASS_NAMES,
    IMAGE_SUFFIXES,
    PREPARE_HINT,
    DatasetLayoutError,
    check_layout,
    format_counts,
    image_files,
)

COUNTS = {"train": {"cats": 3, "dogs": 2}, "validation": {"cats": 1, "dogs": 2}}


def touch(path: Path, data: bytes = b"\xff\xd8\xff") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def make_dataset(root: Path, counts=COUNTS) -> Path:
    for split, classes in counts.items():
        for name, n in classes.items():
            for i in range(n):
                touch(root / split / name / f"{name[:-1]}.{i}.jpg")
    (root / "manifest.json").write_text("{}")
    return root


def layout_error(root: Path) -> str:
    with pytest.raises(DatasetLayoutError) as caught:
        check_layout(root)
    return str(caught.value)


def test_a_good_layout_returns_counts_per_split_and_class(tmp_path):
    root = make_dataset(tmp_path / "cats_and_dogs")
    assert check_layout(root) == COUNTS
    assert check_layout(str(root)) == COUNTS
    assert format_counts(COUNTS) == "train: 3 cats + 2 dogs; validation: 1 cats + 2 dogs"


def test_counts_only_image_files_and_tolerates_os_junk(tmp_path):
    root = make_dataset(tmp_path / "d")
    touch(root / "train/cats/extra.JPEG")  # suffixes in any case
    touch(root / "train/cats/notes.txt", b"not an image")
    touch(root / "train/Thumbs.db", b"junk")
    touch(root / "validation/.DS_Store", b"junk")
    assert check_layout(root)["train"]["cats"] == 4
    assert check_layout(root)["validation"] == COUNTS["validation"]


def test_missing_dataset_says_how_to_make_one(tmp_path):
    message = layout_error(tmp_path / "cats_and_dogs")
    assert f"No dataset at {tmp_path / 'cats_and_dogs'}" in message
    assert PREPARE_HINT in message
    # tasks.py runs the data script inside the environment; run directly, outside it, the script fails.
    assert "scripts/tasks.py data" in message and "download_data.py" not in message


def test_a_file_instead_of_a_folder(tmp_path):
    touch(tmp_path / "cats_and_dogs", b"")
    assert "is a file, not a dataset folder" in layout_error(tmp_path / "cats_and_dogs")


def test_single_folder_like_the_source_notes(tmp_path):
    # The source notes kept every image in train/data/: Keras saw one class.
    root = tmp_path / "d"
    for split in ("train", "validation"):
        for i in range(3):
            touch(root / split / "data" / f"{i}.jpg")
    message = layout_error(root)
    assert f"{root / 'train'} must hold exactly the class folders cats/, dogs/" in message
    assert "holds: data/" in message
    assert "single class" in message and "every label would be 0" in message


def test_stray_ipynb_checkpoints_folder(tmp_path):
    root = make_dataset(tmp_path / "d")
    (root / "validation" / ".ipynb_checkpoints").mkdir()
    message = layout_error(root)
    assert str(root / "validation") in message
    assert "holds: .ipynb_checkpoints/, cats/, dogs/" in message
    assert "extra classes" in message and ".ipynb_checkpoints/" in message


def test_empty_class_folder(tmp_path):
    root = make_dataset(
        tmp_path / "d", {"train": {"cats": 2, "dogs": 2}, "validation": {"cats": 1, "dogs": 0}}
    )
    (root / "validation" / "dogs").mkdir(parents=True)
    touch(root / "validation/dogs/readme.txt", b"no photos here")
    message = layout_error(root)
    assert f"{root / 'validation' / 'dogs'} holds no images" in message
    assert "every class needs examples" in message


def test_missing_split(tmp_path):
    root = make_dataset(tmp_path / "d", {"train": {"cats": 1, "dogs": 1}})
    message = layout_error(root)
    assert f"{root / 'validation'} is missing" in message
    assert "cats/ and dogs/" in message


def test_missing_class_folder(tmp_path):
    root = make_dataset(tmp_path / "d", {"train": {"cats": 1, "dogs": 1}, "validation": {"cats": 1}})
    message = layout_error(root)
    assert "holds: cats/." in message
    assert "cats/, dogs/" in message


def test_loose_file_in_a_split(tmp_path):
    root = make_dataset(tmp_path / "d")
    touch(root / "train" / "cat.999.jpg")
    message = layout_error(root)
    assert "holds: cats/, dogs/, cat.999.jpg" in message
    assert "Loose files belong inside a class folder" in message


def test_empty_split_folder(tmp_path):
    root = make_dataset(tmp_path / "d", {"train": {"cats": 1, "dogs": 1}})
    (root / "validation").mkdir()
    assert "holds: nothing" in layout_error(root)


def test_image_files_lists_a_folders_images_in_name_order(tmp_path):
    from deconv.layout import image_files

    for name in ("dog.10.jpg", "dog.2.JPG", "notes.txt", "dog.1.png"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "nested.jpg").mkdir()
    assert [p.name for p in image_files(tmp_path)] == ["dog.1.png", "dog.10.jpg", "dog.2.JPG"]


@pytest.mark.filterwarnings("ignore:Using .* files with multiple bands")
def test_the_layout_counts_the_files_both_keras_readers_take(tmp_path):
    """flow_from_directory and image_dataset_from_directory read different suffixes; the check counts
    only the ones both read, so its counts are what either pipeline trains on."""
    import keras
    import tensorflow as tf
    from PIL import Image

    candidates = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".ppm", ".tif", ".tiff", ".webp")
    for name in CLASS_NAMES:
        (tmp_path / name).mkdir()
        for suffix in candidates:
            Image.new("RGB", (8, 8), "white").save(tmp_path / name / f"one{suffix}")
    flow = tf.keras.preprocessing.image.ImageDataGenerator().flow_from_directory(tmp_path, target_size=(8, 8))
    dataset = keras.utils.image_dataset_from_directory(tmp_path, image_size=(8, 8), verbose=False)
    read_by_flow = {Path(name).suffix for name in flow.filenames}
    read_by_dataset = {Path(path).suffix for path in dataset.file_paths}
    assert read_by_flow != read_by_dataset  # else the check below would not tell them apart
    assert IMAGE_SUFFIXES == read_by_flow & read_by_dataset
    assert {path.suffix for path in image_files(tmp_path / "cats")} == IMAGE_SUFFIXES
