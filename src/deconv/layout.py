"""The one dataset layout check, shared by the data script and the notebooks.

Keras' ``flow_from_directory`` (and ``image_dataset_from_directory``) make
one class per sub-folder. A folder that holds anything but ``cats/`` and
``dogs/`` therefore changes the labels silently: the source notes kept every
image in ``train/data/``, Keras reported "Found 20 images belonging to 1
classes" and every label was 0. This check turns such layouts into errors.
"""

from __future__ import annotations

from pathlib import Path

SPLITS = ("train", "validation")
CLASS_NAMES = ("cats", "dogs")  # sorted: flow_from_directory numbers cats 0, dogs 1
FILE_PREFIXES = {"cats": "cat", "dogs": "dog"}  # files are named like cat.17.jpg
# The files both of Keras' readers take: flow_from_directory also reads .ppm and .tif(f),
# image_dataset_from_directory also .gif; each skips the other's extras without a word.
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp"})
# Files an operating system drops into folders; harmless to Keras, not errors.
OS_JUNK_FILES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})

# How to get real photos, said wherever the sample stands in for them.
REAL_PHOTOS_HINT = (
    "For real photos run 'python3 scripts/tasks.py data' (Google's cats_and_dogs_filtered, 69 MB), or "
    "'python3 scripts/tasks.py data -- --dataset zip --archive PATH' for a zip of photos you have."
)
PREPARE_HINT = (
    "Prepare a dataset with 'python3 scripts/tasks.py data' (real photos) or "
    "'python3 scripts/tasks.py sample' (synthetic, offline)."
)


class DatasetLayoutError(ValueError):
    """The directory is not a train/validation x cats/dogs image dataset."""


def image_files(folder: Path | str, recursive: bool = False) -> list[Path]:
    """A folder's image files (``recursive``: sub-folders' too) in name order, as Keras reads them."""
    candidates = Path(folder).rglob("*") if recursive else Path(folder).iterdir()
    return sorted(p for p in candidates if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _image_count(folder: Path) -> int:
    return len(image_files(folder, recursive=True))


def _check_split(split_dir: Path) -> dict[str, int]:
    if not split_dir.is_dir():
        raise DatasetLayoutError(
            f"{split_dir} is missing: expected a '{split_dir.name}' folder holding "
            f"{' and '.join(c + '/' for c in CLASS_NAMES)}."
        )
    folders = sorted(p.name for p in split_dir.iterdir() if p.is_dir())
    stray_files = sorted(p.name for p in split_dir.iterdir() if p.is_file() and p.name not in OS_JUNK_FILES)
    expected = list(CLASS_NAMES)
    if folders != expected or stray_files:
        found = ", ".join([f + "/" for f in folders] + stray_files) or "nothing"
        message = (
            f"{split_dir} must hold exactly the class folders "
            f"{', '.join(c + '/' for c in CLASS_NAMES)} but holds: {found}."
        )
        extra = [f for f in folders if f not in CLASS_NAMES]
        if len(folders) == 1:
            message += (
                " Keras makes one class per sub-folder, so a single folder means a "
                "single class and every label would be 0."
            )
        elif extra:
            message += f" Keras would treat {', '.join(e + '/' for e in extra)} as extra classes; remove it."
        if stray_files:
            message += " Loose files belong inside a class folder."
        raise DatasetLayoutError(message)
    counts = {}
    for name in CLASS_NAMES:
        n = _image_count(split_dir / name)
        if n == 0:
            raise DatasetLayoutError(
                f"{split_dir / name} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}):"
                " every class needs examples."
            )
        counts[name] = n
    return counts


def check_layout(root: Path | str) -> dict[str, dict[str, int]]:
    """Check ``root`` and return image counts per split and class.

    Raises :class:`DatasetLayoutError` saying what was found and what is
    expected.
    """
    root = Path(root)
    if not root.exists():
        raise DatasetLayoutError(f"No dataset at {root}. {PREPARE_HINT}")
    if not root.is_dir():
        raise DatasetLayoutError(f"{root} is a file, not a dataset folder. {PREPARE_HINT}")
    return {split: _check_split(root / split) for split in SPLITS}


def format_counts(counts: dict[str, dict[str, int]]) -> str:
    """One line, e.g. 'train: 1000 cats + 1000 dogs; validation: 500 cats + 500 dogs'."""
    return "; ".join(
        f"{split}: " + " + ".join(f"{n} {name}" for name, n in classes.items())
        for split, classes in counts.items()
    )
