"""Build ``<data_dir>/cats_and_dogs`` from any source, all or nothing.

Every source ends in the same layout, ``{train,validation}/{cats,dogs}/*.jpg``
plus ``manifest.json``. The dataset is assembled in a hidden folder beside
its final place and renamed into place only once it is complete and checked,
so an interrupted or failed run leaves the previous dataset or none, never
half of one.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .archive import extract_zip
from .fetch import RetryPolicy, VerificationError, download, verify
from .images import Verdict, inspect_image, place_image
from .layout import (
    CLASS_NAMES,
    FILE_PREFIXES,
    SPLITS,
    check_layout,
    format_counts,
    image_files,
)
from .paths import DATASET_DIRNAME, DOWNLOADS_DIRNAME
from .sources import ARCHIVE_SOURCES, FILTERED, FULL, Source

MANIFEST_NAME = "manifest.json"
SAMPLE_TITLE = "synthetic sample (drawn cats and dogs, generated offline)"
BUILD_PREFIX = f".{DATASET_DIRNAME}.building-"
OLD_PREFIX = f".{DATASET_DIRNAME}.old-"
ALL = "all"
FULL_CLASS_FOLDERS = {"cats": "Cat", "dogs": "Dog"}


class DataError(RuntimeError):
    """The archive's contents cannot make the dataset that was asked for."""


@dataclass
class Request:
    dataset: str  # "filtered", "full", "sample" or "auto"
    data_dir: Path
    archive: Path | None = None
    urls: list[str] = field(default_factory=list)
    sha256: str | None = None
    seed: int = 0
    train_per_class: int | str | None = None  # None: the source's default
    validation_per_class: int | str | None = None
    force: bool = False
    progress: bool = True
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    @property
    def dataset_root(self) -> Path:
        return self.data_dir / DATASET_DIRNAME

    @property
    def downloads(self) -> Path:
        return self.data_dir / DOWNLOADS_DIRNAME


DEFAULT_PER_CLASS = {"full": (1000, 400), "sample": (200, 100)}


def _per_class(request: Request) -> tuple[int | str, int | str]:
    train_default, validation_default = DEFAULT_PER_CLASS[request.dataset]
    train = request.train_per_class if request.train_per_class is not None else train_default
    validation = (
        request.validation_per_class if request.validation_per_class is not None else validation_default
    )
    return train, validation


def _identity(request: Request) -> dict:
    """What makes two prepared datasets the same."""
    identity = {"dataset": request.dataset}
    if request.dataset in DEFAULT_PER_CLASS:
        train, validation = _per_class(request)
        identity.update(train_per_class=train, validation_per_class=validation)
    if request.dataset in ("full", "sample"):
        identity["seed"] = request.seed
    return identity


def read_manifest(dataset_root: Path) -> dict | None:
    try:
        return json.loads((dataset_root / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return None


def _present_and_matching(request: Request, log) -> bool:
    root = request.dataset_root
    if not root.exists():
        return False
    manifest = read_manifest(root)
    if manifest is None:
        log(f"{root} exists but has no readable {MANIFEST_NAME}: rebuilding it.")
        return False
    try:
        counts = check_layout(root)
    except ValueError as error:
        log(f"The dataset at {root} is damaged ({error}): rebuilding it.")
        return False
    if counts != manifest.get("counts"):
        log(f"The dataset at {root} no longer matches its manifest: rebuilding it.")
        return False
    if request.dataset == "auto":
        log(f"Using the {manifest.get('title', 'dataset')} already at {root}: {format_counts(counts)}.")
        return True
    same = manifest.get("request") == _identity(request)
    if same and request.sha256:
        same = (manifest.get("source") or {}).get("archive_sha256") == request.sha256.lower()
    if same:
        log(
            f"The {manifest.get('title', request.dataset)} dataset is already at {root} "
            f"({format_counts(counts)}); nothing to do. Use --force to rebuild it."
        )
        return True
    log(
        f"The {manifest.get('title', 'dataset')} at {root} will be replaced by the "
        f"{request.dataset} dataset once that is complete."
    )
    return False


@contextlib.contextmanager
def _exclusive(data_dir: Path):
    """Keep two runs from building the same dataset at once."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here; carry on without one
        yield
        return
    with open(data_dir / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataError(f"another run is preparing data in {data_dir}; wait for it to finish") from None
        yield


def _remove_leftovers(data_dir: Path, log) -> None:
    """Clean up after a killed run: half-built datasets go, a complete one comes back."""
    root = data_dir / DATASET_DIRNAME
    for leftover in sorted(data_dir.glob(f".{DATASET_DIRNAME}.*-*")):
        if not leftover.is_dir():
            continue
        if leftover.name.startswith(OLD_PREFIX) and not root.exists():
            # Killed between moving the old dataset aside and moving the new one in.
            log(f"Restoring the previous dataset from {leftover.name}, moved aside by an interrupted run.")
            os.replace(leftover, root)
        elif leftover.name.startswith((BUILD_PREFIX, OLD_PREFIX)):
            log(f"Removing {leftover.name}, left over from an interrupted run.")
            shutil.rmtree(leftover, ignore_errors=True)


def _swap_into_place(built: Path, root: Path) -> None:
    old = None
    if root.exists():
        old = root.with_name(f"{OLD_PREFIX}{os.getpid()}")
        os.replace(root, old)
    os.replace(built, root)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _extraction_cap(archive: Path) -> int:
    # JPEGs barely compress, so a photo archive unpacks to about its own size.
    return max(256 << 20, 4 * archive.stat().st_size)


def _obtain_archive(request: Request, source: Source, log) -> tuple[Path, dict]:
    """A verified archive on disk, and what the manifest should say of it."""
    # A checksum given by the user replaces the registered size and checksum:
    # it is how a re-packed or mirrored archive is accepted.
    size = None if request.sha256 else source.size
    sha256 = request.sha256 or source.sha256
    if request.archive is not None:
        archive = request.archive.expanduser().resolve()
        if not archive.is_file():
            raise DataError(f"--archive {archive}: no such file")
        log(f"Verifying {archive} ...")
        digest = verify(archive, size=size, sha256=sha256)
        return archive, {"archive": str(archive), "url": None, "archive_sha256": digest}
    cached = request.downloads / source.archive_name
    urls = request.urls or list(source.urls)
    if cached.exists():
        log(f"Verifying the archive already downloaded at {cached} ...")
        try:
            digest = verify(cached, size=size, sha256=sha256)
            return cached, {"archive": str(cached), "url": None, "archive_sha256": digest}
        except VerificationError as error:
            log(f"  it does not verify ({error}); downloading it again.")
            cached.unlink()
    digest, url = download(
        urls,
        cached,
        size=size,
        sha256=sha256,
        policy=request.policy,
        progress=request.progress,
        log=log,
    )
    log(f"Downloaded and verified {cached.name} ({cached.stat().st_size:,} bytes).")
    return cached, {"archive": str(cached), "url": url, "archive_sha256": digest}


def _find_folder(extracted: Path, relative: str) -> Path:
    """The folder ending in ``relative`` (archives wrap it in a top folder)."""
    for candidate in [extracted, *sorted(p for p in extracted.iterdir() if p.is_dir())]:
        if (candidate / relative).is_dir():
            return candidate / relative
    raise DataError(f"the archive has no {relative}/ folder; is it the right archive?")


def _numeric_key(path: Path):
    digits = re.findall(r"\d+", path.stem)
    return (int(digits[-1]) if digits else -1, path.name)


class _Sorter:
    """Inspects images and places the usable ones; keeps the manifest's lists."""

    def __init__(self, extracted: Path, progress: bool):
        self.extracted = extracted
        self.progress = progress
        self.dropped: list[dict] = []
        self.converted: list[dict] = []

    def usable(self, files: list[Path], label: str) -> list[tuple[Path, Verdict]]:
        from tqdm.auto import tqdm

        kept = []
        for path in tqdm(files, desc=f"Checking {label}", unit="img", disable=not self.progress, leave=False):
            verdict = inspect_image(path)
            name = path.relative_to(self.extracted).as_posix()
            if verdict.usable:
                kept.append((path, verdict))
                if verdict.reason:
                    self.converted.append({"file": name, "reason": verdict.reason})
            else:
                self.dropped.append({"file": name, "reason": verdict.reason})
        return kept

    def place(self, items: list[tuple[Path, Verdict]], target_dir: Path, prefix: str = "") -> None:
        """Move images into ``target_dir``, named ``<prefix>.<stem>.jpg`` or as they were."""
        target_dir.mkdir(parents=True, exist_ok=True)
        for path, verdict in items:
            name = f"{prefix}.{path.stem}.jpg" if prefix else path.with_suffix(".jpg").name
            place_image(path, target_dir / name, verdict)


def _build_filtered(extracted: Path, built: Path, progress: bool) -> _Sorter:
    sorter = _Sorter(extracted, progress)
    for split in SPLITS:
        for name in CLASS_NAMES:
            folder = _find_folder(extracted, f"{split}/{name}")
            kept = sorter.usable(image_files(folder), f"{split}/{name}")
            sorter.place(kept, built / split / name)
    return sorter


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


def _build_full(extracted: Path, built: Path, request: Request) -> _Sorter:
    sorter = _Sorter(extracted, request.progress)
    train, validation = _per_class(request)
    for name in CLASS_NAMES:
        folder = _find_folder(extracted, f"PetImages/{FULL_CLASS_FOLDERS[name]}")
        kept = sorter.usable(sorted(image_files(folder), key=_numeric_key), name)
        # Deterministic: the same seed picks the same photos for each split.
        random.Random(f"{request.seed}-{name}").shuffle(kept)
        train_items, validation_items = _split(kept, train, validation, name)
        for split, items in (("train", train_items), ("validation", validation_items)):
            in_order = sorted(items, key=lambda item: _numeric_key(item[0]))
            sorter.place(in_order, built / split / name, FILE_PREFIXES[name])
    return sorter


def _write_manifest(built: Path, manifest: dict) -> None:
    (built / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")


def _resolve_auto(request: Request, log) -> Request:
    for source in (FILTERED, FULL):
        if (request.downloads / source.archive_name).exists():
            log(f"Found {source.archive_name} in {request.downloads}: preparing the {source.name} dataset.")
            request.dataset = source.name
            return request
    log(
        "No photos downloaded: generating the synthetic sample, so everything runs offline. "
        "For real photos run 'python3 scripts/download_data.py'."
    )
    request.dataset = "sample"
    return request


def prepare(request: Request, log=print) -> dict:
    """Make sure the requested dataset is in place; return its manifest."""
    request.data_dir = request.data_dir.expanduser().resolve()
    request.data_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive(request.data_dir):
        _remove_leftovers(request.data_dir, log)
        if not request.force and _present_and_matching(request, log):
            return read_manifest(request.dataset_root)
        if request.dataset == "auto":
            request = _resolve_auto(request, log)
        built = request.data_dir / f"{BUILD_PREFIX}{os.getpid()}"
        shutil.rmtree(built, ignore_errors=True)
        built.mkdir()
        started = time.time()
        try:
            manifest = _build(request, built, log)
            manifest["seconds"] = round(time.time() - started, 1)
            _write_manifest(built, manifest)
            _swap_into_place(built, request.dataset_root)
        finally:
            shutil.rmtree(built, ignore_errors=True)
    log(f"Dataset ready at {request.dataset_root}: {format_counts(manifest['counts'])}.")
    if manifest.get("dropped"):
        log(
            f"  {len(manifest['dropped'])} unusable files left out; "
            f"{MANIFEST_NAME} lists them with the reason."
        )
    return manifest


def _build(request: Request, built: Path, log) -> dict:
    manifest = {
        "dataset": request.dataset,
        "request": _identity(request),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "generator": f"scripts/download_data.py (deconv {__version__}, Python {sys.version.split()[0]})",
        "seed": request.seed,
    }
    if request.dataset == "sample":
        from .sample import generate_sample

        train, validation = _per_class(request)
        log(
            f"Generating the synthetic sample: {train} train + {validation} validation images "
            f"per class (seed {request.seed})."
        )
        generate_sample(
            built,
            seed=request.seed,
            train_per_class=train,
            validation_per_class=validation,
            progress=request.progress,
        )
        manifest.update(title=SAMPLE_TITLE, source=None, dropped=[], converted=[])
    else:
        source = ARCHIVE_SOURCES[request.dataset]
        archive, source_info = _obtain_archive(request, source, log)
        source_info["archive_size"] = archive.stat().st_size
        extracted = built / ".extracted"
        log(f"Extracting {archive.name} ...")
        extract_zip(archive, extracted, max_total_bytes=_extraction_cap(archive), progress=request.progress)
        if request.dataset == "filtered":
            sorter = _build_filtered(extracted, built, request.progress)
        else:
            sorter = _build_full(extracted, built, request)
        shutil.rmtree(extracted)
        manifest.update(
            title=source.title,
            source={"name": source.name, **source_info},
            dropped=sorter.dropped,
            converted=sorter.converted,
        )
    counts = check_layout(built)
    if request.dataset == "filtered" and counts != FILTERED.expected_counts:
        raise DataError(
            f"expected {format_counts(FILTERED.expected_counts)} but found {format_counts(counts)}"
        )
    manifest["counts"] = counts
    return manifest
