"""deconv.data.archive: safe zip extraction, on real zips written here."""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import archives
import pytest

from deconv.data.archive import ArchiveError, check_zip, extract_zip

CAP = 10 << 20


def files_under(folder: Path) -> list[str]:
    if not folder.exists():
        return []
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def extract(archive: Path, destination: Path, **options):
    options.setdefault("max_total_bytes", CAP)
    return extract_zip(archive, destination, progress=False, **options)


def test_extracts_every_file_member_and_returns_their_paths(tmp_path):
    archive = archives.write_zip(
        tmp_path / "ok.zip",
        [
            ("top/", b""),
            ("top/a/", b""),
            ("top/a/one.jpg", b"1" * 100),
            ("top/b/two.txt", b"two"),
            ("three", b""),
        ],
        compression=zipfile.ZIP_DEFLATED,
    )
    destination = tmp_path / "out"
    written = extract(archive, destination)
    assert sorted(p.relative_to(destination.resolve()).as_posix() for p in written) == [
        "three",
        "top/a/one.jpg",
        "top/b/two.txt",
    ]
    assert (destination / "top/a/one.jpg").read_bytes() == b"1" * 100
    assert (destination / "top/b/two.txt").read_bytes() == b"two"
    assert (destination / "three").read_bytes() == b""
    assert [info.filename for info in check_zip(archive, max_total_bytes=CAP)] == [
        "top/a/one.jpg",
        "top/b/two.txt",
        "three",
    ]


@pytest.mark.parametrize(
    "name, says",
    [
        ("../escaped.txt", "'..'"),
        ("top/../../escaped.txt", "'..'"),
        ("top\\..\\..\\escaped.txt", "'..'"),
        ("/tmp/escaped.txt", "absolute path"),
        ("\\escaped.txt", "absolute path"),
        ("C:/escaped.txt", "absolute path"),
    ],
)
def test_refuses_members_that_leave_the_target(tmp_path, name, says):
    archive = archives.write_zip(tmp_path / "bad.zip", [("top/fine.txt", b"fine"), (name, b"escaped")])
    destination = tmp_path / "deep" / "out"
    with pytest.raises(ArchiveError, match=says):
        extract(archive, destination)
    assert files_under(tmp_path) == ["bad.zip"]  # nothing written, not even the fine member


def test_refuses_symbolic_links(tmp_path):
    sentinel = tmp_path / "sentinel.txt"
    sentinel.write_text("untouched")
    link = zipfile.ZipInfo("top/link.jpg")
    link.external_attr = 0o120777 << 16
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # duplicate name, on purpose
        archive = archives.write_zip(
            tmp_path / "link.zip", [(link, str(sentinel)), ("top/link.jpg", b"written through the link")]
        )
    with pytest.raises(ArchiveError, match="symbolic link"):
        extract(archive, tmp_path / "out")
    assert sentinel.read_text() == "untouched"
    assert not (tmp_path / "out").exists()


def test_refuses_a_declared_size_over_the_cap(tmp_path):
    # 12 MiB of zeros deflate to about 12 kB: the cap applies to the unpacked size.
    archive = archives.zero_bomb(tmp_path / "bomb.zip", 12)
    assert archive.stat().st_size < 100_000
    with pytest.raises(ArchiveError, match="zip bomb") as caught:
        extract(archive, tmp_path / "out")
    assert f"{12 << 20:,} bytes" in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_the_cap_counts_all_members_together(tmp_path):
    archive = archives.write_zip(tmp_path / "two.zip", [("a", b"x" * 600), ("b", b"y" * 600)])
    with pytest.raises(ArchiveError, match="1,200 bytes, over the cap of 1,000"):
        check_zip(archive, max_total_bytes=1000)
    assert len(check_zip(archive, max_total_bytes=1200)) == 2


def test_refuses_too_many_members(tmp_path):
    archive = archives.write_zip(tmp_path / "many.zip", [(f"f{i}", b"") for i in range(5)])
    with pytest.raises(ArchiveError, match="5 members, over the cap of 4"):
        extract(archive, tmp_path / "out", max_members=4)
    assert not (tmp_path / "out").exists()
    assert len(extract(archive, tmp_path / "out", max_members=5)) == 5


def test_a_member_that_inflates_past_its_declared_size_is_corrupt(tmp_path):
    archive = archives.write_zip(tmp_path / "lie.zip", [("big.bin", bytes(100_000))], zipfile.ZIP_DEFLATED)
    archives.patch_declared_size(archive, "big.bin", 1000)
    assert check_zip(archive, max_total_bytes=2000)[0].file_size == 1000  # passes the cap...
    with pytest.raises(ArchiveError, match="corrupt"):  # ...but the CRC check catches it
        extract(archive, tmp_path / "out", max_total_bytes=2000)
    written = tmp_path / "out" / "big.bin"
    assert not written.exists() or written.stat().st_size <= 1000


@pytest.mark.parametrize(
    "compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED], ids=["stored", "deflated"]
)
def test_damaged_member_data_is_an_archive_error(tmp_path, compression):
    archive = archives.write_zip(
        tmp_path / "damaged.zip", [("ok.txt", b"fine"), ("bad.bin", b"photo bytes " * 1000)], compression
    )
    archives.corrupt_member_data(archive, "bad.bin")
    with pytest.raises(ArchiveError, match="damaged.zip is corrupt"):
        extract(archive, tmp_path / "out")


def test_refuses_encrypted_members_before_writing(tmp_path):
    archive = archives.write_zip(tmp_path / "secret.zip", [("a.txt", b"a"), ("secret.jpg", b"locked")])
    archives.patch_member_header(archive, "secret.jpg", flag_bits=0x1)
    with pytest.raises(ArchiveError, match="encrypted member: 'secret.jpg'"):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_refuses_compression_methods_python_cannot_unpack(tmp_path):
    # Method 9 is Deflate64, which Windows' "Send to compressed folder" writes for big files.
    archive = archives.write_zip(tmp_path / "d64.zip", [("a.txt", b"a"), ("big.jpg", b"data")])
    archives.patch_member_header(archive, "big.jpg", method=9)
    with pytest.raises(ArchiveError, match="compression method 9"):
        extract(archive, tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kind", ["html", "truncated-zip", "empty"])
def test_not_a_zip_is_an_archive_error(tmp_path, kind):
    path = tmp_path / "download.zip"
    if kind == "html":
        path.write_bytes(b"<!DOCTYPE html><html><body>Please sign in</body></html>")
    elif kind == "truncated-zip":
        whole = archives.write_zip(tmp_path / "whole.zip", [("a.bin", bytes(range(256)) * 100)])
        path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    else:
        path.write_bytes(b"")
    with pytest.raises(ArchiveError, match="download.zip is not a readable zip file"):
        extract(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()
