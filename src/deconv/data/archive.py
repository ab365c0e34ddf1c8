"""Zip extraction that a hostile or broken archive cannot abuse.

Refused before anything is written: absolute paths, ``..`` components,
symbolic links, encrypted members or compression methods zipfile cannot
read, too many members, and a declared unpacked size over the cap (zip
bombs). A member's CRC and size are checked as it is read.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

READABLE_METHODS = frozenset({zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA})


class ArchiveError(RuntimeError):
    """The archive is broken or unsafe; nothing was extracted from it."""


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _safe_member_path(name: str) -> PurePosixPath:
    # Zip names use '/', but some tools write '\\': treat both as separators.
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise ArchiveError(f"refusing member with an absolute path: {name!r}")
    if ".." in path.parts:
        raise ArchiveError(f"refusing member that climbs out with '..': {name!r}")
    return path


def check_zip(archive: Path, *, max_total_bytes: int, max_members: int = 100_000) -> list[zipfile.ZipInfo]:
    """Return the archive's file members after checking all of them."""
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
    except zipfile.BadZipFile as error:
        raise ArchiveError(f"{archive.name} is not a readable zip file ({error})") from None
    if len(infos) > max_members:
        raise ArchiveError(f"{archive.name} has {len(infos):,} members, over the cap of {max_members:,}")
    total = 0
    for info in infos:
        _safe_member_path(info.filename)
        if _is_symlink(info):
            raise ArchiveError(f"refusing symbolic link member: {info.filename!r}")
        if info.flag_bits & 0x1:
            raise ArchiveError(f"refusing encrypted member: {info.filename!r}")
        if info.compress_type not in READABLE_METHODS:
            raise ArchiveError(
                f"{info.filename!r} uses zip compression method {info.compress_type}, "
                "which Python cannot unpack; re-pack the archive with plain deflate"
            )
        total += info.file_size
    if total > max_total_bytes:
        raise ArchiveError(
            f"{archive.name} would unpack to {total:,} bytes, over the cap of "
            f"{max_total_bytes:,} (a zip bomb, or the wrong archive)"
        )
    return [info for info in infos if not info.is_dir()]


def extract_zip(
    archive: Path,
    destination: Path,
    *,
    max_total_bytes: int,
    max_members: int = 100_000,
    progress: bool = True,
) -> list[Path]:
    """Extract every file member under ``destination``; return their paths.

    ``destination`` should be a fresh temporary directory: on an error the
    caller discards it whole.
    """
    from tqdm.auto import tqdm

    members = check_zip(archive, max_total_bytes=max_total_bytes, max_members=max_members)
    destination = destination.resolve()
    written = []
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in tqdm(members, desc="Extracting", unit="file", disable=not progress, leave=False):
                target = destination.joinpath(*_safe_member_path(info.filename).parts)
                if destination not in target.resolve().parents:
                    raise ArchiveError(f"refusing member outside the target: {info.filename!r}")
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
                written.append(target)
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, zlib.error) as error:
        raise ArchiveError(f"{archive.name} is corrupt ({error})") from None
    return written
