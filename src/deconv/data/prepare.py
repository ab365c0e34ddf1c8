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
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..layout import REAL_PHOTOS_HINT, check_layout, format_counts
from ..paths import DATASET_DIRNAME, DOWNLOADS_DIRNAME
from .archive import extract_zip
from .arrange import DataError, arrange_full, arrange_split
from .fetch import RetryPolicy, VerificationError, download, sha256_of, verify
from .sources import ARCHIVE_SOURCES, FILTERED, FULL, Source

MANIFEST_NAME = "manifest.json"
SAMPLE_TITLE = "synthetic sample (drawn cats and dogs, generated offline)"
ZIP = "zip"  # any zip of photos laid out as train/validation x cats/dogs, not registered
BUILD_PREFIX = f".{DATASET_DIRNAME}.building-"
OLD_PREFIX = f".{DATASET_DIRNAME}.old-"


@dataclass
class Request:
    dataset: str  # "filtered", "full", "zip", "sample" or "auto"
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
    if same and request.dataset == ZIP:
        # Nothing registered names the zip: the same file is the same dataset.
        same = (manifest.get("source") or {}).get("archive_sha256") == sha256_of(_archive_file(request))
    if same and request.sha256:
        same = (manifest.get("source") or {}).get("archive_sha256") == request.sha256.lower()
    if same:
        log(
            f"The {manifest.get('title', request.dataset)} dataset is already at {root} "
            f"({format_counts(counts)}); nothing to do. Use --force to rebuild it."
        )
        return True
    wanted = f"photos from {request.archive.name}" if request.dataset == ZIP else f"{request.dataset} dataset"
    log(
        f"The {manifest.get('title', 'dataset')} at {root} will be replaced by the {wanted} "
        "once that is complete."
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


def _archive_file(request: Request) -> Path:
    archive = request.archive.expanduser().resolve()
    if not archive.is_file():
        raise DataError(f"--archive {archive}: no such file")
    return archive


def _verified_archive_file(request: Request, size: int | None, sha256: str | None, log) -> tuple[Path, dict]:
    """The zip given with --archive, checked, and what the manifest should say of it."""
    archive = _archive_file(request)
    log(f"Verifying {archive} ...")
    digest = verify(archive, size=size, sha256=sha256)
    return archive, {"archive": str(archive), "url": None, "archive_sha256": digest}


def _obtain_archive(request: Request, source: Source, log) -> tuple[Path, dict]:
    """A verified archive on disk, and what the manifest should say of it."""
    # A checksum given by the user replaces the registered size and checksum:
    # it is how a re-packed or mirrored archive is accepted.
    size = None if request.sha256 else source.size
    sha256 = request.sha256 or source.sha256
    if request.archive is not None:
        return _verified_archive_file(request, size, sha256, log)
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


def _zip_title(archive_name: str, source_info: dict) -> str:
    """A zip's own name, size and checksum: nothing else vouches for what it holds."""
    size, sha256 = source_info["archive_size"], source_info["archive_sha256"]
    return f"photos from {archive_name} ({size:,} bytes, sha256 {sha256[:12]}…)"


def _write_manifest(built: Path, manifest: dict) -> None:
    (built / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")


def _resolve_auto(request: Request, log) -> Request:
    for source in (FILTERED, FULL):
        if (request.downloads / source.archive_name).exists():
            log(f"Found {source.archive_name} in {request.downloads}: preparing the {source.name} dataset.")
            request.dataset = source.name
            return request
    log(
        f"No photos prepared: generating the synthetic sample, so everything runs offline. {REAL_PHOTOS_HINT}"
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
        source = ARCHIVE_SOURCES.get(request.dataset)  # None for a zip of photos
        if source is None:
            archive, source_info = _verified_archive_file(request, None, request.sha256, log)
        else:
            archive, source_info = _obtain_archive(request, source, log)
        source_info["archive_size"] = archive.stat().st_size
        extracted = built / ".extracted"
        log(f"Extracting {archive.name} ...")
        extract_zip(archive, extracted, max_total_bytes=_extraction_cap(archive), progress=request.progress)
        if request.dataset == "full":
            train, validation = _per_class(request)
            placer = arrange_full(extracted, built, train, validation, request.seed, request.progress)
        else:
            placer = arrange_split(extracted, built, archive.name, request.progress)
        shutil.rmtree(extracted)
        manifest.update(
            title=source.title if source else _zip_title(archive.name, source_info),
            source={"name": request.dataset, **source_info},
            dropped=placer.dropped,
            converted=placer.converted,
        )
    counts = check_layout(built)
    if request.dataset == "filtered" and counts != FILTERED.expected_counts:
        raise DataError(
            f"expected {format_counts(FILTERED.expected_counts)} but found {format_counts(counts)}"
        )
    manifest["counts"] = counts
    return manifest
