"""scripts/download_data.py end to end: a real subprocess, real HTTP on
127.0.0.1, real zips and JPEGs. Plus direct tests of the download code where a
direct call says more than the CLI can.

A filtered-shaped archive holds 3,000 photos, because the script checks that
count; the tests whose point is not the filtered dataset (resuming, fallback,
rebuilding, replacing) use a PetImages-shaped archive with a few dozen photos,
which goes through the same download and build code.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import archives
import pytest
from PIL import Image

from conftest import REPO_ROOT, SCRIPT, SCRIPT_TIMEOUT, run_script
from deconv.data.fetch import DownloadError, RetryPolicy, VerificationError, download
from deconv.dataset import open_dataset
from deconv.paths import DATA_DIR_ENV
from deconv.training import BLOG_EPOCHS, EPOCHS_ENV, epochs_for

FILTERED_PATH = "/mledu-datasets/cats_and_dogs_filtered.zip"
FULL_PATH = "/download/kagglecatsanddogs_5340.zip"
FAST = ("--retries", "2", "--timeout", "1", "--backoff", "0.05")  # quick failures
SMALL_FULL = ("--train-per-class", "10", "--validation-per-class", "4")  # of the 30-odd per class
SMALL_FULL_COUNTS = {"train": {"cats": 10, "dogs": 10}, "validation": {"cats": 4, "dogs": 4}}
FILTERED_COUNTS = archives.FILTERED_COUNTS


# ---------------------------------------------------------------- helpers


def dataset_files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def image_files(root: Path) -> list[str]:
    return [f for f in dataset_files(root) if f != "manifest.json"]


def manifest_of(data_dir: Path) -> dict:
    return json.loads((data_dir / "cats_and_dogs" / "manifest.json").read_text())


def error_line(result: subprocess.CompletedProcess) -> str:
    """The one line the script writes to stderr when it fails (run with --quiet)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("download_data.py: error: "), lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


def leftovers(data_dir: Path) -> list[str]:
    return sorted(p.name for p in data_dir.glob(".cats_and_dogs.*"))


def assert_no_dataset(data_dir: Path) -> None:
    assert not (data_dir / "cats_and_dogs").exists()
    assert leftovers(data_dir) == []


def downloads(data_dir: Path) -> list[str]:
    folder = data_dir / "downloads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def assert_all_rgb_jpegs(root: Path) -> None:
    files = [root / f for f in image_files(root)]
    assert files
    for path in files:
        assert path.suffix == ".jpg"
        with Image.open(path) as image:
            assert image.format == "JPEG", path
            assert image.mode == "RGB", path
            image.load()


def filtered_image_names() -> list[str]:
    """The files the filtered dataset must hold, as the test zip lays them out."""
    return sorted(
        name.removeprefix(archives.FILTERED_TOP + "/")
        for name, _ in archives.filtered_members([b""])
        if name.endswith(".jpg")
    )


@pytest.fixture
def filtered_served(server, test_archives):
    """The filtered-shaped zip served normally; (address, sha256, bytes)."""
    body = test_archives["filtered"].read_bytes()
    url = server.serve(FILTERED_PATH, body)
    return url, test_archives["filtered_sha256"], body


@pytest.fixture
def full_served(server, test_archives):
    """The small PetImages-shaped zip served normally; (address, sha256, bytes)."""
    body = test_archives["full"].read_bytes()
    url = server.serve(FULL_PATH, body)
    return url, test_archives["full_sha256"], body


def run_full(data_dir: Path, *args) -> subprocess.CompletedProcess:
    """Run the script for a small full dataset (--url or --archive in ``args``)."""
    return run_script("--dataset", "full", "--data-dir", data_dir, *SMALL_FULL, *args)


def run_with_archive(data_dir: Path, test_archives, dataset: str, *extra) -> subprocess.CompletedProcess:
    """Run the script on a test archive already on disk (no server)."""
    return run_script(
        "--dataset",
        dataset,
        "--data-dir",
        data_dir,
        "--archive",
        test_archives[dataset],
        "--sha256",
        test_archives[f"{dataset}_sha256"],
        *extra,
    )


def prepare_filtered(data_dir: Path, test_archives, *extra) -> None:
    result = run_with_archive(data_dir, test_archives, "filtered", "--quiet", *extra)
    assert result.returncode == 0, result.stderr


def prepare_full(data_dir: Path, test_archives, *extra) -> subprocess.CompletedProcess:
    return run_with_archive(data_dir, test_archives, "full", "--quiet", *extra)


# ---------------------------------------------------------------- filtered over HTTP


def test_filtered_download_builds_dataset_and_manifest(tmp_path, server, filtered_served):
    url, sha256, body = filtered_served
    data_dir = tmp_path / "data"
    result = run_script("--data-dir", data_dir, "--url", url, "--sha256", sha256)
    assert result.returncode == 0, result.stderr
    assert "Dataset ready at" in result.stdout

    root = data_dir / "cats_and_dogs"
    assert image_files(root) == filtered_image_names()
    # Files arrive unchanged: a photo in the dataset is the zip member's bytes.
    with zipfile.ZipFile(data_dir / "downloads/cats_and_dogs_filtered.zip") as zf:
        member = f"{archives.FILTERED_TOP}/validation/dogs/dog.2999.jpg"
        assert (root / "validation/dogs/dog.2999.jpg").read_bytes() == zf.read(member)
    assert_all_rgb_jpegs(root)

    manifest = manifest_of(data_dir)
    assert manifest["dataset"] == "filtered"
    assert manifest["source"]["name"] == "filtered"
    assert manifest["source"]["url"] == url
    assert manifest["source"]["archive_size"] == len(body)
    assert manifest["source"]["archive_sha256"] == sha256
    assert manifest["counts"] == FILTERED_COUNTS
    assert manifest["dropped"] == []
    assert manifest["seed"] == 0
    created = datetime.datetime.strptime(manifest["created"], "%Y-%m-%dT%H:%M:%SZ")
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    assert abs(now - created) < datetime.timedelta(days=1)  # a UTC time stamp, not a duration check

    # The verified archive is kept for next time, with no .part beside it.
    assert downloads(data_dir) == ["cats_and_dogs_filtered.zip"]
    assert archives.sha256_of(data_dir / "downloads/cats_and_dogs_filtered.zip") == sha256
    assert leftovers(data_dir) == []
    assert [seen.range for seen in server.seen(FILTERED_PATH)] == [None]


def test_second_run_does_nothing_and_contacts_no_server(tmp_path, server, full_served):
    url, sha256, _ = full_served
    data_dir = tmp_path / "data"
    args = ("--url", url, "--sha256", sha256)
    assert run_full(data_dir, *args, "--quiet").returncode == 0
    before = manifest_of(data_dir)
    assert len(server.seen()) == 1

    again = run_full(data_dir, *args)
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stdout
    assert len(server.seen()) == 1
    assert manifest_of(data_dir) == before

    # Without the dataset, the kept archive rebuilds it: still no request.
    shutil.rmtree(data_dir / "cats_and_dogs")
    rebuilt = run_full(data_dir, *args)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "already downloaded" in rebuilt.stdout
    assert len(server.seen()) == 1
    assert manifest_of(data_dir)["counts"] == SMALL_FULL_COUNTS


def test_resume_after_dropped_connection(tmp_path, server, test_archives):
    body = test_archives["full"].read_bytes()
    cut = len(body) // 2
    url = server.serve(FULL_PATH, body, mode="drop", after=cut)
    data_dir = tmp_path / "data"
    retries = ("--retries", "3", "--timeout", "10", "--backoff", "0.05")
    result = run_full(data_dir, "--url", url, "--sha256", test_archives["full_sha256"], *retries)
    assert result.returncode == 0, result.stderr
    assert [seen.range for seen in server.seen(FULL_PATH)] == [None, f"bytes={cut}-"]
    assert f"Resuming {url} at {cut:,} bytes" in result.stdout
    assert downloads(data_dir) == ["kagglecatsanddogs_5340.zip"]
    assert (data_dir / "downloads/kagglecatsanddogs_5340.zip").read_bytes() == body
    assert manifest_of(data_dir)["counts"] == SMALL_FULL_COUNTS


def test_partial_download_is_kept_and_resumed_by_the_next_run(tmp_path, server, test_archives):
    body = test_archives["full"].read_bytes()
    cut = len(body) // 3
    url = server.serve(FULL_PATH, body, mode="drop", after=cut)
    data_dir = tmp_path / "data"
    args = ("--url", url, "--sha256", test_archives["full_sha256"], "--quiet", "--retries", "1")

    first = run_full(data_dir, *args)
    assert first.returncode == 1
    assert url in error_line(first)
    assert_no_dataset(data_dir)
    part = data_dir / "downloads/kagglecatsanddogs_5340.zip.part"
    assert downloads(data_dir) == [part.name]
    assert part.read_bytes() == body[:cut]

    second = run_full(data_dir, *args)
    assert second.returncode == 0, second.stderr
    assert [seen.range for seen in server.seen(FULL_PATH)] == [None, f"bytes={cut}-"]
    assert downloads(data_dir) == ["kagglecatsanddogs_5340.zip"]
    assert manifest_of(data_dir)["counts"] == SMALL_FULL_COUNTS


@pytest.mark.parametrize(
    "mode, options, says, requests",
    [
        ("status", {"status": 404}, "HTTP 404", 1),  # permanent: not retried
        ("status", {"status": 500}, "HTTP 500", 2),  # retried, --retries 2
        ("stall", {}, "timed out", 2),  # accepts, never answers
        ("stall_body", {"after": 1000}, "timed out", 2),  # headers, some bytes, then silence
    ],
    ids=["404", "500", "stall", "stall-after-headers"],
)
def test_download_failure_exits_1_with_one_clear_line(
    tmp_path, server, test_archives, mode, options, says, requests
):
    url = server.serve(FILTERED_PATH, test_archives["filtered"].read_bytes(), mode=mode, **options)
    data_dir = tmp_path / "data"
    result = run_script(
        "--data-dir", data_dir, "--url", url, "--sha256", test_archives["filtered_sha256"], "--quiet", *FAST
    )
    assert result.returncode == 1
    line = error_line(result)
    assert url in line
    assert says in line
    assert "--archive" in line  # says what to do offline
    assert len(server.seen(FILTERED_PATH)) == requests
    assert_no_dataset(data_dir)
    assert not (data_dir / "downloads/cats_and_dogs_filtered.zip").exists()


def test_404_falls_back_to_the_next_address(tmp_path, server, full_served):
    good, sha256, _ = full_served
    missing = server.url("/gone/kagglecatsanddogs_5340.zip")
    data_dir = tmp_path / "data"
    result = run_full(data_dir, "--url", missing, "--url", good, "--sha256", sha256, *FAST)
    assert result.returncode == 0, result.stderr
    assert [seen.path for seen in server.seen()] == ["/gone/kagglecatsanddogs_5340.zip", FULL_PATH]
    manifest = manifest_of(data_dir)
    assert manifest["source"]["url"] == good
    assert manifest["counts"] == SMALL_FULL_COUNTS


def test_size_mismatch_with_the_registered_archive_exits_3(tmp_path, server, filtered_served):
    url, _, body = filtered_served
    data_dir = tmp_path / "data"
    result = run_script("--data-dir", data_dir, "--url", url, "--quiet", *FAST)
    assert result.returncode == 3
    line = error_line(result)
    assert f"{len(body):,} bytes, expected 68,606,236" in line
    assert_no_dataset(data_dir)
    assert downloads(data_dir) == []  # neither the .zip nor a .part


def test_checksum_mismatch_exits_3(tmp_path, server, filtered_served):
    url, actual, _ = filtered_served
    wrong = "0123456789abcdef" * 4
    data_dir = tmp_path / "data"
    result = run_script("--data-dir", data_dir, "--url", url, "--sha256", wrong, "--quiet", *FAST)
    assert result.returncode == 3
    line = error_line(result)
    assert wrong in line and actual in line
    assert_no_dataset(data_dir)
    assert downloads(data_dir) == []


def test_cached_archive_that_no_longer_verifies_is_downloaded_again(tmp_path, server, full_served):
    url, sha256, body = full_served
    data_dir = tmp_path / "data"
    cached = data_dir / "downloads/kagglecatsanddogs_5340.zip"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(body[:-10] + b"corrupted!")
    result = run_full(data_dir, "--url", url, "--sha256", sha256)
    assert result.returncode == 0, result.stderr
    assert "does not verify" in result.stdout
    assert cached.read_bytes() == body
    assert len(server.seen(FULL_PATH)) == 1


# ---------------------------------------------------------------- --archive (offline)


def test_archive_offline_with_sha256(tmp_path, test_archives):
    data_dir = tmp_path / "data"
    prepare_filtered(data_dir, test_archives)
    manifest = manifest_of(data_dir)
    assert manifest["source"]["archive"] == str(test_archives["filtered"])
    assert manifest["source"]["url"] is None
    assert manifest["source"]["archive_sha256"] == test_archives["filtered_sha256"]
    assert manifest["counts"] == FILTERED_COUNTS
    assert image_files(data_dir / "cats_and_dogs") == filtered_image_names()
    assert test_archives["filtered"].exists()  # the user's file is left where it was
    assert downloads(data_dir) == []


def test_archive_with_wrong_sha256_exits_3_and_keeps_the_users_file(tmp_path, test_archives):
    data_dir = tmp_path / "data"
    mine = tmp_path / "mine.zip"
    mine.write_bytes(test_archives["filtered"].read_bytes())
    result = run_script("--data-dir", data_dir, "--archive", mine, "--sha256", "f" * 64, "--quiet")
    assert result.returncode == 3
    assert "mine.zip" in error_line(result)
    assert mine.exists()
    assert_no_dataset(data_dir)


def test_missing_archive_file_exits_5(tmp_path):
    data_dir = tmp_path / "data"
    result = run_script("--data-dir", data_dir, "--archive", tmp_path / "nope.zip", "--quiet")
    assert result.returncode == 5
    assert "nope.zip" in error_line(result)
    assert_no_dataset(data_dir)


# ---------------------------------------------------------------- unsafe or corrupt archives


def hostile_zip(tmp_path: Path, kind: str, jpegs) -> Path:
    """A filtered-shaped zip (a few photos) with one hostile member."""
    members = archives.filtered_members(
        jpegs, counts={"train": {"cats": 2, "dogs": 2}, "validation": {"cats": 2, "dogs": 2}}
    )
    path = tmp_path / f"{kind}.zip"
    if kind == "dotdot":
        members.append((f"{archives.FILTERED_TOP}/../../../escaped.txt", b"escaped"))
    elif kind == "absolute":
        members.append((str(tmp_path / "escaped-absolute.txt"), b"escaped"))
    elif kind == "symlink":
        link = zipfile.ZipInfo(f"{archives.FILTERED_TOP}/train/cats/link.jpg")
        link.external_attr = 0o120777 << 16
        members.append((link, str(tmp_path / "sentinel.txt")))
        # A second member of the same name would write through the link.
        members.append((f"{archives.FILTERED_TOP}/train/cats/link.jpg", b"overwritten"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # zipfile: "Duplicate name"
            return archives.write_zip(path, members)
    elif kind == "bomb":
        return archives.zero_bomb(path, 300, f"{archives.FILTERED_TOP}/train/cats/bomb.jpg")
    elif kind in ("lying-size", "corrupt-deflate"):
        members.append((f"{archives.FILTERED_TOP}/train/cats/big.jpg", b"\0" * 100_000))
        archives.write_zip(path, members, compression=zipfile.ZIP_DEFLATED)
        if kind == "lying-size":  # declares 1 kB, inflates to 100 kB
            archives.patch_declared_size(path, f"{archives.FILTERED_TOP}/train/cats/big.jpg", 1000)
        else:
            archives.corrupt_member_data(path, f"{archives.FILTERED_TOP}/train/cats/big.jpg")
        return path
    elif kind == "not-a-zip":
        path.write_bytes(b"<html>Sign in to continue</html>\n" * 100)
        return path
    return archives.write_zip(path, members)


@pytest.mark.parametrize(
    "kind, says",
    [
        ("dotdot", "'..'"),
        ("absolute", "absolute path"),
        ("symlink", "symbolic link"),
        ("bomb", "zip bomb"),
        ("lying-size", "corrupt"),
        ("corrupt-deflate", "corrupt"),
        ("not-a-zip", "not a readable zip"),
    ],
)
def test_unsafe_or_corrupt_archive_exits_4_and_writes_nothing(tmp_path, jpegs, kind, says):
    sentinel = tmp_path / "sentinel.txt"
    sentinel.write_text("untouched")
    archive = hostile_zip(tmp_path, kind, jpegs)
    before = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    data_dir = tmp_path / "data"
    result = run_script(
        "--data-dir", data_dir, "--archive", archive, "--sha256", archives.sha256_of(archive), "--quiet"
    )
    assert result.returncode == 4, result.stderr
    line = error_line(result)
    assert says in line
    assert sentinel.read_text() == "untouched"
    assert not sentinel.is_symlink()
    # Nothing appeared outside data/, and inside it only the lock file.
    after = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert [p for p in after if not p.startswith("data")] == before
    assert sorted(p.name for p in data_dir.iterdir()) == [".lock"]


# ---------------------------------------------------------------- full (PetImages)


def test_full_drops_broken_files_and_converts_odd_ones(tmp_path, server, test_archives, odd_images):
    url = server.serve(FULL_PATH, test_archives["full"].read_bytes())
    data_dir = tmp_path / "data"
    result = run_script(
        "--dataset",
        "full",
        "--data-dir",
        data_dir,
        "--url",
        url,
        "--sha256",
        test_archives["full_sha256"],
        "--train-per-class",
        "all",
        "--validation-per-class",
        "5",
    )
    assert result.returncode == 0, result.stderr
    assert "5 unusable files left out" in result.stdout
    manifest = manifest_of(data_dir)
    assert manifest["dataset"] == "full"
    assert manifest["source"]["url"] == url
    assert manifest["source"]["archive_sha256"] == test_archives["full_sha256"]

    dropped = {entry["file"]: entry["reason"] for entry in manifest["dropped"]}
    assert set(dropped) == set(archives.PETIMAGES_DROPPED)
    for name, reason in archives.PETIMAGES_DROPPED.items():
        assert reason in dropped[name], (name, dropped[name])
    converted = {entry["file"]: entry["reason"] for entry in manifest["converted"]}
    assert set(converted) == archives.PETIMAGES_CONVERTED
    assert "PNG" in converted["PetImages/Cat/5001.jpg"]
    assert "CMYK" in converted["PetImages/Cat/5002.jpg"]
    assert "L colour mode" in converted["PetImages/Dog/5002.jpg"]

    # 30 good photos per class, plus PNG, CMYK and the Exif-only JPEG (cats)
    # and the grayscale one (dogs); 5 of each for validation, the rest to train.
    expected = {"train": {"cats": 28, "dogs": 26}, "validation": {"cats": 5, "dogs": 5}}
    assert manifest["counts"] == expected
    root = data_dir / "cats_and_dogs"
    files = image_files(root)
    assert len(files) == 64
    assert not any("Thumbs.db" in f or f.endswith((".pdf", ".txt")) for f in files)
    assert_all_rgb_jpegs(root)

    def placed(stem: str) -> Path:
        (hit,) = [root / f for f in files if f.endswith(f"/{stem}.jpg")]
        return hit

    for name in ("cat.5001", "cat.5002", "dog.5002"):  # re-encoded
        assert placed(name).read_bytes()[:3] == b"\xff\xd8\xff"
    # A readable JPEG without a JFIF header is kept as it was, not dropped.
    assert placed("cat.5003").read_bytes() == odd_images["exif_only"]
    for name in archives.PETIMAGES_DROPPED:
        stem = ("cat." if "/Cat/" in name else "dog.") + Path(name).stem
        assert not any(f.endswith(f"/{stem}.jpg") for f in files)


def test_full_split_is_deterministic_for_a_seed(tmp_path, test_archives):
    lists = {}
    for run, seed in (("a", 7), ("b", 7), ("c", 8)):
        data_dir = tmp_path / run
        result = prepare_full(
            data_dir, test_archives, "--seed", seed, "--train-per-class", 10, "--validation-per-class", 4
        )
        assert result.returncode == 0, result.stderr
        lists[run] = image_files(data_dir / "cats_and_dogs")
        assert manifest_of(data_dir)["counts"] == {
            "train": {"cats": 10, "dogs": 10},
            "validation": {"cats": 4, "dogs": 4},
        }
        assert manifest_of(data_dir)["seed"] == seed
    assert lists["a"] == lists["b"]
    assert lists["a"] != lists["c"]
    names = [f.split("/")[-1] for f in lists["a"]]
    assert len(names) == len(set(names))  # no photo in both splits


def test_full_asking_for_more_than_usable_exits_5(tmp_path, test_archives):
    data_dir = tmp_path / "data"
    result = prepare_full(data_dir, test_archives, "--train-per-class", 30, "--validation-per-class", 5)
    assert result.returncode == 5
    line = error_line(result)
    assert "asked for 30 + 5 cats but only 33 are usable" in line
    assert_no_dataset(data_dir)


@pytest.mark.parametrize(
    "train, validation, says",
    [
        ("31", "all", "asked for 31 training dogs but only 31 are usable, which leaves none for validation"),
        ("all", "31", "asked for 31 validation dogs but only 31 are usable, which leaves none for training"),
    ],
)
def test_full_all_but_nothing_left_for_the_other_split_exits_5(
    tmp_path, test_archives, train, validation, says
):
    data_dir = tmp_path / "data"
    result = prepare_full(
        data_dir, test_archives, "--train-per-class", train, "--validation-per-class", validation
    )
    assert result.returncode == 5
    assert says in error_line(result)
    assert_no_dataset(data_dir)


# ---------------------------------------------------------------- any zip of photos (--dataset zip)

PHOTOS_TOP = "my_photos"
PHOTOS_COUNTS = {"train": {"cats": 3, "dogs": 3}, "validation": {"cats": 2, "dogs": 2}}


def photos_zip(path: Path, jpegs, top: str = PHOTOS_TOP, extra=()) -> Path:
    """A small zip of photos in the standard layout, plus ``extra`` members."""
    return archives.write_zip(path, [*archives.filtered_members(jpegs, PHOTOS_COUNTS, top), *extra])


def prepare_zip(data_dir: Path, archive: Path, *extra) -> subprocess.CompletedProcess:
    return run_script("--dataset", "zip", "--archive", archive, "--data-dir", data_dir, *extra)


def zip_title(archive: Path) -> str:
    return (
        f"photos from {archive.name} ({archive.stat().st_size:,} bytes, "
        f"sha256 {archives.sha256_of(archive)[:12]}…)"
    )


@pytest.mark.parametrize("top", [PHOTOS_TOP, ""], ids=["top-folder", "no-top-folder"])
def test_zip_of_photos_is_prepared_and_named_by_its_file(tmp_path, jpegs, top, monkeypatch, capsys):
    archive = photos_zip(tmp_path / "my_photos.zip", jpegs, top)
    data_dir = tmp_path / "data"
    result = prepare_zip(data_dir, archive)
    assert result.returncode == 0, result.stderr
    assert "Dataset ready at" in result.stdout

    root = data_dir / "cats_and_dogs"
    assert image_files(root) == sorted(
        name.removeprefix(f"{top}/")
        for name, _ in archives.filtered_members(jpegs, PHOTOS_COUNTS, top)
        if name.endswith(".jpg")
    )
    assert_all_rgb_jpegs(root)
    manifest = manifest_of(data_dir)
    assert manifest["dataset"] == "zip"
    assert manifest["title"] == zip_title(archive)
    assert manifest["source"] == {
        "name": "zip",
        "archive": str(archive),
        "url": None,
        "archive_sha256": archives.sha256_of(archive),
        "archive_size": archive.stat().st_size,
    }
    assert manifest["counts"] == PHOTOS_COUNTS
    assert manifest["dropped"] == [] and manifest["converted"] == []
    assert downloads(data_dir) == [] and leftovers(data_dir) == []

    # What the first cell of every notebook says, and how long they train on it.
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)
    monkeypatch.delenv(EPOCHS_ENV, raising=False)
    dataset = open_dataset(data_dir)
    assert dataset.kind == "zip" and not dataset.is_sample
    assert f"Data: {zip_title(archive)} at {root}: train: 3 cats + 3 dogs" in capsys.readouterr().out
    assert epochs_for(dataset.kind) == BLOG_EPOCHS == 50


def test_zip_again_does_nothing_and_another_zip_replaces_it(tmp_path, jpegs):
    first = photos_zip(tmp_path / "first.zip", jpegs)
    data_dir = tmp_path / "data"
    assert prepare_zip(data_dir, first, "--quiet").returncode == 0
    before = manifest_of(data_dir)

    again = prepare_zip(data_dir, first)
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stdout
    assert manifest_of(data_dir) == before

    # The same layout with other photos: another file, so another dataset.
    second = photos_zip(tmp_path / "second.zip", list(reversed(jpegs)))
    replaced = prepare_zip(data_dir, second)
    assert replaced.returncode == 0, replaced.stderr
    assert "will be replaced by the photos from second.zip" in replaced.stdout
    assert manifest_of(data_dir)["title"] == zip_title(second)
    assert manifest_of(data_dir)["counts"] == PHOTOS_COUNTS
    assert leftovers(data_dir) == []


def test_zip_leaves_out_broken_images_lists_them_and_converts_odd_ones(tmp_path, jpegs, odd_images):
    archive = photos_zip(
        tmp_path / "my_photos.zip",
        jpegs,
        extra=[
            (f"{PHOTOS_TOP}/train/cats/cat.broken.jpg", odd_images["truncated"]),
            (f"{PHOTOS_TOP}/validation/dogs/dog.empty.jpg", odd_images["empty"]),
            (f"{PHOTOS_TOP}/train/dogs/dog.png.jpg", odd_images["png"]),
            (f"{PHOTOS_TOP}/train/dogs/dog.3.png", odd_images["png"]),  # would overwrite dog.3.jpg
        ],
    )
    data_dir = tmp_path / "data"
    result = prepare_zip(data_dir, archive)
    assert result.returncode == 0, result.stderr
    assert "3 unusable files left out" in result.stdout
    manifest = manifest_of(data_dir)
    dropped = {entry["file"]: entry["reason"] for entry in manifest["dropped"]}
    assert dropped.keys() == {
        f"{PHOTOS_TOP}/train/cats/cat.broken.jpg",
        f"{PHOTOS_TOP}/validation/dogs/dog.empty.jpg",
        f"{PHOTOS_TOP}/train/dogs/dog.3.png",
    }
    assert "truncated" in dropped[f"{PHOTOS_TOP}/train/cats/cat.broken.jpg"]
    assert "empty" in dropped[f"{PHOTOS_TOP}/validation/dogs/dog.empty.jpg"]
    assert dropped[f"{PHOTOS_TOP}/train/dogs/dog.3.png"] == "another image already became dog.3.jpg"
    assert [entry["file"] for entry in manifest["converted"]] == [f"{PHOTOS_TOP}/train/dogs/dog.png.jpg"]
    assert manifest["counts"] == {"train": {"cats": 3, "dogs": 4}, "validation": {"cats": 2, "dogs": 2}}
    root = data_dir / "cats_and_dogs"
    assert not (root / "train/cats/cat.broken.jpg").exists()
    assert_all_rgb_jpegs(root)


def without_dogs(members):
    return [(name, data) for name, data in members if "/dogs/" not in name]


def in_one_data_folder(members):
    return [
        (name.replace("/cats/", "/data/").replace("/dogs/", "/data/"), data)
        for name, data in members
        if not name.endswith("/")
    ]


def with_unreadable_validation_dogs(members):
    return [
        (name, b"<html>not a photo</html>" if "validation/dogs/" in name and name.endswith(".jpg") else data)
        for name, data in members
    ]


@pytest.mark.parametrize(
    "change, says",
    [
        (
            without_dogs,
            "is not laid out as [top folder/]{train,validation}/{cats,dogs}/ with photos in each class "
            f"folder; it holds {PHOTOS_TOP}/ (1 file), {PHOTOS_TOP}/train/cats/ (3 files), "
            f"{PHOTOS_TOP}/validation/cats/ (2 files)",
        ),
        (in_one_data_folder, f"it holds {PHOTOS_TOP}/ (1 file), {PHOTOS_TOP}/train/data/ (6 files)"),
        (
            with_unreadable_validation_dogs,
            "validation/dogs/ has no usable photo (none of its 2 images can be read, "
            f"e.g. {PHOTOS_TOP}/validation/dogs/dog.9.jpg: not an image",
        ),
    ],
    ids=["no-dogs", "single-data-folder", "unreadable-class"],
)
def test_zip_not_in_the_layout_exits_5_and_leaves_the_dataset_alone(tmp_path, jpegs, change, says):
    data_dir = tmp_path / "data"
    assert prepare_zip(data_dir, photos_zip(tmp_path / "good.zip", jpegs), "--quiet").returncode == 0
    before, files = manifest_of(data_dir), image_files(data_dir / "cats_and_dogs")

    members = change(archives.filtered_members(jpegs, PHOTOS_COUNTS, PHOTOS_TOP))
    result = prepare_zip(data_dir, archives.write_zip(tmp_path / "bad.zip", members), "--quiet")
    assert result.returncode == 5
    line = error_line(result)
    assert line.startswith("download_data.py: error: bad.zip")
    assert says in line
    assert manifest_of(data_dir) == before
    assert image_files(data_dir / "cats_and_dogs") == files
    assert leftovers(data_dir) == []


def test_zip_with_a_member_that_climbs_out_exits_4(tmp_path, jpegs):
    archive = photos_zip(tmp_path / "hostile.zip", jpegs, extra=[("../evil.jpg", jpegs[0])])
    data_dir = tmp_path / "data"
    result = prepare_zip(data_dir, archive, "--quiet")
    assert result.returncode == 4
    assert "'..'" in error_line(result)
    assert not list(tmp_path.rglob("evil.jpg"))
    assert sorted(p.name for p in data_dir.iterdir()) == [".lock"]


def test_zip_with_a_wrong_sha256_exits_3(tmp_path, jpegs):
    archive = photos_zip(tmp_path / "my_photos.zip", jpegs)
    data_dir = tmp_path / "data"
    result = prepare_zip(data_dir, archive, "--sha256", "f" * 64, "--quiet")
    assert result.returncode == 3
    assert "it is not the file --sha256 names" in error_line(result)
    assert_no_dataset(data_dir)


def test_zip_of_photos_given_as_filtered_suggests_dataset_zip(tmp_path, jpegs):
    archive = photos_zip(tmp_path / "my_photos.zip", jpegs)
    data_dir = tmp_path / "data"
    result = run_script("--archive", archive, "--data-dir", data_dir, "--quiet")
    assert result.returncode == 3
    line = error_line(result)
    assert "expected 68,606,236; it is not the registered filtered archive" in line
    assert f"--dataset zip --archive {archive}" in line
    assert_no_dataset(data_dir)


def test_dataset_zip_without_archive_is_a_usage_error(tmp_path):
    result = run_script("--dataset", "zip", "--data-dir", tmp_path / "data")
    assert result.returncode == 2
    assert "--dataset zip reads a zip already on disk: --archive PATH" in result.stderr
    assert not (tmp_path / "data").exists()


# ---------------------------------------------------------------- replacing a dataset


def test_force_rebuilds(tmp_path, test_archives):
    data_dir = tmp_path / "data"
    assert prepare_full(data_dir, test_archives, *SMALL_FULL).returncode == 0
    marker = data_dir / "cats_and_dogs" / "marker.txt"
    marker.write_text("from the first build")

    same = run_with_archive(data_dir, test_archives, "full", *SMALL_FULL)
    assert same.returncode == 0
    assert "nothing to do" in same.stdout
    assert marker.exists()

    assert prepare_full(data_dir, test_archives, *SMALL_FULL, "--force").returncode == 0
    assert not marker.exists()
    assert manifest_of(data_dir)["counts"] == SMALL_FULL_COUNTS
    assert leftovers(data_dir) == []


def test_damaged_dataset_is_rebuilt(tmp_path, test_archives):
    data_dir = tmp_path / "data"
    assert prepare_full(data_dir, test_archives, *SMALL_FULL).returncode == 0
    files = image_files(data_dir / "cats_and_dogs")
    (data_dir / "cats_and_dogs" / files[0]).unlink()
    result = run_with_archive(data_dir, test_archives, "full", *SMALL_FULL)
    assert result.returncode == 0, result.stderr
    assert "no longer matches its manifest" in result.stdout
    assert image_files(data_dir / "cats_and_dogs") == files


def test_dataset_of_another_kind_is_replaced_only_by_a_complete_one(tmp_path, server, test_archives, jpegs):
    data_dir = tmp_path / "data"
    assert prepare_zip(data_dir, photos_zip(tmp_path / "photos.zip", jpegs), "--quiet").returncode == 0
    zip_files = image_files(data_dir / "cats_and_dogs")
    zip_manifest = manifest_of(data_dir)

    # A full dataset that cannot be made, and one that cannot be downloaded.
    too_many = prepare_full(data_dir, test_archives, "--train-per-class", 100)
    assert too_many.returncode == 5
    url = server.serve(FULL_PATH, mode="status", status=404)
    missing = run_script("--dataset", "full", "--data-dir", data_dir, "--url", url, "--quiet", *FAST)
    assert missing.returncode == 1
    for _ in (too_many, missing):
        assert manifest_of(data_dir) == zip_manifest
        assert image_files(data_dir / "cats_and_dogs") == zip_files
    assert leftovers(data_dir) == []

    replaced = prepare_full(data_dir, test_archives, *SMALL_FULL)
    assert replaced.returncode == 0, replaced.stderr
    manifest = manifest_of(data_dir)
    assert manifest["dataset"] == "full"
    assert manifest["counts"] == SMALL_FULL_COUNTS
    assert len(image_files(data_dir / "cats_and_dogs")) == 28
    assert leftovers(data_dir) == []


def test_auto_uses_the_dataset_in_place(tmp_path, test_archives):
    data_dir = tmp_path / "data"
    assert prepare_full(data_dir, test_archives, *SMALL_FULL).returncode == 0
    before = manifest_of(data_dir)
    result = run_script("--dataset", "auto", "--data-dir", data_dir)
    assert result.returncode == 0, result.stderr
    assert f"Using the {before['title']} already at" in result.stdout
    assert manifest_of(data_dir) == before


# ---------------------------------------------------------------- interrupted runs


def start_until_extracting(data_dir: Path, archive: Path, sha256: str, stderr_file: Path) -> subprocess.Popen:
    """Start a filtered build and return once it reports that it is extracting."""
    with open(stderr_file, "w") as err:
        process = subprocess.Popen(
            [
                sys.executable,
                str(SCRIPT),
                "--data-dir",
                str(data_dir),
                "--archive",
                str(archive),
                "--sha256",
                sha256,
            ],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line.startswith("Extracting"):
            break
    else:
        process.wait(timeout=SCRIPT_TIMEOUT)
        pytest.fail(f"never reported extracting: {seen} {stderr_file.read_text()}")
    return process


@pytest.mark.parametrize("previous", [None, "full"])
def test_run_killed_during_extraction_leaves_no_half_dataset(tmp_path, test_archives, previous):
    data_dir = tmp_path / "data"
    if previous:
        assert prepare_full(data_dir, test_archives, *SMALL_FULL).returncode == 0
        previous_files = image_files(data_dir / "cats_and_dogs")
        previous_manifest = manifest_of(data_dir)

    process = start_until_extracting(
        data_dir, test_archives["filtered"], test_archives["filtered_sha256"], tmp_path / "stderr.txt"
    )
    assert process.poll() is None, "finished before it could be killed"
    process.kill()
    process.stdout.close()
    assert process.wait(timeout=SCRIPT_TIMEOUT) == -signal.SIGKILL

    building = leftovers(data_dir)
    assert len(building) == 1 and building[0].startswith(".cats_and_dogs.building-")
    if previous:
        assert manifest_of(data_dir) == previous_manifest
        assert image_files(data_dir / "cats_and_dogs") == previous_files
    else:
        assert not (data_dir / "cats_and_dogs").exists()

    result = run_with_archive(data_dir, test_archives, "filtered")
    assert result.returncode == 0, result.stderr
    assert f"Removing {building[0]}" in result.stdout
    assert leftovers(data_dir) == []
    assert manifest_of(data_dir)["counts"] == FILTERED_COUNTS


def test_sigterm_during_extraction_exits_130_and_cleans_up(tmp_path, test_archives):
    data_dir = tmp_path / "data"
    stderr_file = tmp_path / "stderr.txt"
    process = start_until_extracting(
        data_dir, test_archives["filtered"], test_archives["filtered_sha256"], stderr_file
    )
    assert process.poll() is None, "finished before it could be stopped"
    process.terminate()
    process.stdout.read()
    assert process.wait(timeout=SCRIPT_TIMEOUT) == 130
    assert "interrupted" in stderr_file.read_text().splitlines()[-1]
    assert_no_dataset(data_dir)


# ---------------------------------------------------------------- arguments and locking


@pytest.mark.parametrize(
    "args",
    [
        ("--train-per-class", "5"),  # filtered comes split already
        ("--sha256", "abc"),
        ("--dataset", "sample", "--url", "http://127.0.0.1:9/x.zip"),
        ("--dataset", "full", "--train-per-class", "all", "--validation-per-class", "all"),
        ("--retries", "0"),
        ("--dataset", "full", "--train-per-class", "0"),
        ("--dataset", "zip", "--url", "http://127.0.0.1:9/photos.zip"),  # a zip is read from disk
        ("--dataset", "zip", "--archive", "photos.zip", "--train-per-class", "5"),  # comes split already
    ],
)
def test_bad_arguments_exit_2(tmp_path, args):
    result = run_script("--data-dir", tmp_path / "data", *args)
    assert result.returncode == 2
    assert "error:" in result.stderr
    assert not (tmp_path / "data").exists()


def test_a_run_refuses_to_start_while_another_holds_the_lock(tmp_path, test_archives):
    fcntl = pytest.importorskip("fcntl", reason="the data script locks with flock, which Windows lacks")
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    with open(data_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run_with_archive(data_dir, test_archives, "filtered", "--quiet")
    assert result.returncode == 5
    assert "another run" in error_line(result)
    assert_no_dataset(data_dir)


# ---------------------------------------------------------------- deconv.fetch directly


def test_fetch_starts_over_when_the_server_ignores_range(tmp_path, server):
    body = os.urandom(300_000)
    url = server.serve("/f.bin", body, mode="ignore_range")
    destination = tmp_path / "f.bin"
    part = tmp_path / "f.bin.part"
    part.write_bytes(body[:1000])
    got = download([url], destination, policy=RetryPolicy(1, 5, 0), progress=False, log=lambda *a: None)
    assert destination.read_bytes() == body
    assert got == (hashlib.sha256(body).hexdigest(), url)
    assert [seen.range for seen in server.seen()] == ["bytes=1000-"]
    assert not part.exists()


def test_fetch_restarts_when_the_server_resumes_at_the_wrong_place(tmp_path, server):
    body = os.urandom(300_000)
    url = server.serve("/f.bin", body, mode="wrong_range")
    destination = tmp_path / "f.bin"
    (tmp_path / "f.bin.part").write_bytes(body[:1000])
    messages = []
    download([url], destination, policy=RetryPolicy(2, 5, 0), progress=False, log=messages.append)
    assert destination.read_bytes() == body
    assert [seen.range for seen in server.seen()] == ["bytes=1000-", None]
    assert any("wrong place" in m for m in messages)


def test_fetch_complete_part_is_verified_without_downloading_again(tmp_path, server):
    body = os.urandom(50_000)
    url = server.serve("/f.bin", body)
    destination = tmp_path / "f.bin"
    (tmp_path / "f.bin.part").write_bytes(body)
    sha = hashlib.sha256(body).hexdigest()
    assert download(
        [url], destination, sha256=sha, policy=RetryPolicy(1, 5, 0), progress=False, log=lambda *a: None
    ) == (sha, url)
    assert destination.read_bytes() == body
    assert [seen.range for seen in server.seen()] == [f"bytes={len(body)}-"]  # answered 416


def test_fetch_bad_part_fails_verification_and_is_deleted(tmp_path, server):
    body = os.urandom(50_000)
    url = server.serve("/f.bin", body)
    destination = tmp_path / "f.bin"
    part = tmp_path / "f.bin.part"
    part.write_bytes(body + b"extra bytes from another file")
    with pytest.raises(VerificationError, match="expected 50,000"):
        download(
            [url],
            destination,
            size=len(body),
            policy=RetryPolicy(1, 5, 0),
            progress=False,
            log=lambda *a: None,
        )
    assert not part.exists() and not destination.exists()


def test_fetch_retries_with_backoff_and_reports_every_address(tmp_path, server):
    url_500 = server.serve("/a.bin", mode="status", status=503)
    url_404 = server.serve("/b.bin", mode="status", status=404)
    messages = []
    with pytest.raises(DownloadError) as caught:
        download(
            [url_500, url_404],
            tmp_path / "f.bin",
            policy=RetryPolicy(3, 5, 0.01),
            progress=False,
            log=messages.append,
        )
    assert f"{url_500}: HTTP 503" in str(caught.value)
    assert f"{url_404}: HTTP 404" in str(caught.value)
    assert [seen.path for seen in server.seen()] == ["/a.bin"] * 3 + ["/b.bin"]
    assert [m for m in messages if "retrying in" in m] == [
        "  HTTP 503 Service Unavailable; retrying in 0.01 s",
        "  HTTP 503 Service Unavailable; retrying in 0.02 s",
    ]
    assert not (tmp_path / "f.bin").exists()


def test_fetch_connection_refused_is_a_download_error(tmp_path, server):
    url = server.url("/f.bin")
    server.close()  # nothing listens on the port any more
    with pytest.raises(DownloadError, match="127.0.0.1"):
        download([url], tmp_path / "f.bin", policy=RetryPolicy(2, 2, 0), progress=False, log=lambda *a: None)


# ---------------------------------------------------------------- the synthetic sample


def test_sample_second_run_is_a_no_op(tmp_path):
    data_dir = tmp_path / "data"
    args = (
        "--dataset",
        "sample",
        "--data-dir",
        data_dir,
        "--train-per-class",
        3,
        "--validation-per-class",
        2,
    )
    first = run_script(*args)
    assert first.returncode == 0, first.stderr
    counts = {"train": {"cats": 3, "dogs": 3}, "validation": {"cats": 2, "dogs": 2}}
    manifest = manifest_of(data_dir)
    assert manifest["counts"] == counts and manifest["dataset"] == "sample"
    files = image_files(data_dir / "cats_and_dogs")
    assert len(files) == 10

    second = run_script(*args)
    assert second.returncode == 0, second.stderr
    assert "nothing to do" in second.stdout
    assert manifest_of(data_dir) == manifest
    assert image_files(data_dir / "cats_and_dogs") == files
    assert downloads(data_dir) == []


def test_dataset_moved_aside_by_a_killed_swap_is_restored(tmp_path):
    """A run killed between moving the old dataset aside and moving the new one in loses nothing."""
    from deconv.data.prepare import OLD_PREFIX, Request, prepare
    from deconv.layout import check_layout

    data_dir = tmp_path / "data"
    prepare(
        Request(
            dataset="sample", data_dir=data_dir, train_per_class=3, validation_per_class=2, progress=False
        ),
        log=lambda *_: None,
    )
    root = data_dir / "cats_and_dogs"
    counts = check_layout(root)
    moved_aside = data_dir / f"{OLD_PREFIX}12345"
    root.rename(moved_aside)

    messages = []
    prepare(
        Request(
            dataset="sample", data_dir=data_dir, train_per_class=3, validation_per_class=2, progress=False
        ),
        log=messages.append,
    )

    assert check_layout(root) == counts
    assert not moved_aside.exists()
    assert any("Restoring the previous dataset" in m for m in messages)
    assert any("nothing to do" in m for m in messages)
