"""Arrange an extracted archive's photos as ``{train,validation}/{cats,dogs}/*.jpg``.

Every image is decoded first: unreadable files are left out, odd ones
re-encoded, and both are listed for the manifest with the reason.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

from ..layout import CLASS_NAMES, FILE_PREFIXES, IMAGE_SUFFIXES, SPLITS, image_files
from .images import Verdict, check_images, place_image

SPLIT_LAYOUT = "[top folder/]{train,validation}/{cats,dogs}/"
ALL = "all"  # a split that takes every usable photo the other split leaves
FULL_CLASS_FOLDERS = {"cats": "Cat", "dogs": "Dog"}  # PetImages' own names


class DataError(RuntimeError):
    """The archive's contents cannot make the dataset that was asked for."""


class ImagePlacer:
    """Checks images, moves the usable ones into the dataset, and lists what it dropped or converted."""

    def __init__(self, extracted: Path, progress: bool):
        self.extracted = extracted
        self.progress = progress
        self.dropped: list[dict] = []
        self.converted: list[dict] = []

    def usable(self, files: list[Path], label: str) -> list[tuple[Path, Verdict]]:
        """The files that decode, with their verdicts; the others go on the dropped list."""
        kept, unreadable = check_images(files, label=f"Checking {label}", progress=self.progress)
        self.dropped += [{"file": self._name(path), "reason": reason} for path, reason in unreadable]
        return kept

    def place(self, items: list[tuple[Path, Verdict]], target_dir: Path, prefix: str = "") -> None:
        """Move images into ``target_dir``, named ``<prefix>.<stem>.jpg`` or as they were."""
        target_dir.mkdir(parents=True, exist_ok=True)
        for path, verdict in items:
            name = f"{prefix}.{path.stem}.jpg" if prefix else path.with_suffix(".jpg").name
            target = target_dir / name
            if target.exists():
                # cat.1.jpeg beside cat.1.jpg (or .png) would overwrite it: keep the first, say so.
                reason = f"another image already became {name}"
                self.dropped.append({"file": self._name(path), "reason": reason})
                continue
            place_image(path, target, verdict)
            if verdict.reason:
                self.converted.append({"file": self._name(path), "reason": verdict.reason})

    def _name(self, path: Path) -> str:
        """How the manifest names a file: its path in the archive."""
        return path.relative_to(self.extracted).as_posix()


def _find_folder(extracted: Path, relative: str) -> Path:
    """The folder ending in ``relative`` (archives wrap it in a top folder)."""
    for candidate in [extracted, *sorted(p for p in extracted.iterdir() if p.is_dir())]:
        if (candidate / relative).is_dir():
            return candidate / relative
    raise DataError(f"the archive has no {relative}/ folder; is it the right archive?")


def _numeric_key(path: Path):
    digits = re.findall(r"\d+", path.stem)
    return (int(digits[-1]) if digits else -1, path.name)


def _split_root(extracted: Path) -> Path | None:
    """The folder holding {train,validation}/{cats,dogs}/: the zip's top level or one folder down."""
    for candidate in [extracted, *sorted(p for p in extracted.iterdir() if p.is_dir())]:
        if all((candidate / split / name).is_dir() for split in SPLITS for name in CLASS_NAMES):
            return candidate
    return None


def _contents(extracted: Path, listed: int = 8) -> str:
    """Each folder of an extracted zip that holds files, and how many: what an error shows."""
    files = Counter(p.parent.relative_to(extracted).as_posix() for p in extracted.rglob("*") if p.is_file())
    folders = [
        f"{'the top level' if folder == '.' else folder + '/'} ({n} file{'' if n == 1 else 's'})"
        for folder, n in sorted(files.items())
    ]
    if len(folders) > listed:
        folders[listed:] = [f"{len(folders) - listed} more folders"]
    return ", ".join(folders) or "no files"


def arrange_split(extracted: Path, built: Path, archive_name: str, progress: bool) -> ImagePlacer:
    """Arrange a zip that comes split already: filtered, or any zip of photos in that layout.

    Only train/ and validation/ x cats/ and dogs/ make the dataset; other folders are not read.
    """
    root = _split_root(extracted)
    if root is None:
        raise DataError(
            f"{archive_name} is not laid out as {SPLIT_LAYOUT} with photos in each class folder; "
            f"it holds {_contents(extracted)}"
        )
    placer = ImagePlacer(extracted, progress)
    for split in SPLITS:
        for name in CLASS_NAMES:
            files = image_files(root / split / name)
            kept = placer.usable(files, f"{split}/{name}")
            if not kept:
                if files:
                    last = placer.dropped[-1]
                    found = (
                        f"none of its {len(files)} images can be read, e.g. {last['file']}: {last['reason']}"
                    )
                else:
                    found = f"it holds no {', '.join(sorted(IMAGE_SUFFIXES))} files"
                raise DataError(
                    f"{archive_name}: {split}/{name}/ has no usable photo ({found}); every class needs photos"
                )
            placer.place(kept, built / split / name)
    return placer


def _split(items: list, train: int | str, validation: int | str, label: str):
    available = len(items)
    if validation == ALL:
        if train >= available:
            raise DataError(
                f"asked for {train} training {label} but only {available} are usable, "
                "which leaves none for validation"
            )
        return items[:train], items[train:]
    if train == ALL:
        if validation >= available:
            raise DataError(
                f"asked for {validation} validation {label} but only {available} are usable, "
                "which leaves none for training"
            )
        return items[validation:], items[:validation]
    if train + validation > available:
        raise DataError(
            f"asked for {train} + {validation} {label} but only {available} are usable; "
            "lower --train-per-class / --validation-per-class"
        )
    return items[validation : validation + train], items[:validation]


def arrange_full(
    extracted: Path, built: Path, train: int | str, validation: int | str, seed: int, progress: bool
) -> ImagePlacer:
    """Split PetImages' two class folders into ``train`` and ``validation`` photos per class, by ``seed``."""
    placer = ImagePlacer(extracted, progress)
    for name in CLASS_NAMES:
        folder = _find_folder(extracted, f"PetImages/{FULL_CLASS_FOLDERS[name]}")
        kept = placer.usable(sorted(image_files(folder), key=_numeric_key), name)
        # Deterministic: the same seed picks the same photos for each split.
        random.Random(f"{seed}-{name}").shuffle(kept)
        train_items, validation_items = _split(kept, train, validation, name)
        for split, items in (("train", train_items), ("validation", validation_items)):
            in_order = sorted(items, key=lambda item: _numeric_key(item[0]))
            placer.place(in_order, built / split / name, FILE_PREFIXES[name])
    return placer
