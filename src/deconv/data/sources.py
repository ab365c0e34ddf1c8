"""The datasets the tutorial can use, registered once with what verifies them.

Addresses rot; a source lists its mirrors in the order they are tried.
Google publishes no checksum for cats_and_dogs_filtered, so its archive is
checked by size, zip integrity and file counts; PetImages by sha256.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    urls: tuple[str, ...]
    archive_name: str
    size: int | None = None
    sha256: str | None = None
    # Counts the prepared dataset must have, when fixed by the archive itself.
    expected_counts: dict[str, dict[str, int]] | None = field(default=None, hash=False)


FILTERED = Source(
    name="filtered",
    title="cats_and_dogs_filtered (Google; 2,000 train + 1,000 validation photos)",
    urls=(
        "https://download.mlcc.google.com/mledu-datasets/cats_and_dogs_filtered.zip",
        "https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip",
    ),
    archive_name="cats_and_dogs_filtered.zip",
    size=68_606_236,
    expected_counts={
        "train": {"cats": 1000, "dogs": 1000},
        "validation": {"cats": 500, "dogs": 500},
    },
)

FULL = Source(
    name="full",
    title="Microsoft PetImages (Kaggle dogs-vs-cats; 25,000 photos)",
    urls=(
        "https://download.microsoft.com/download/3/E/1/"
        "3E1C3F21-ECDB-4869-8368-6DEBA77B919F/kagglecatsanddogs_5340.zip",
    ),
    archive_name="kagglecatsanddogs_5340.zip",
    size=824_887_076,
    sha256="b7974bd00a84a99921f36ee4403f089853777b5ae8d151c76a86e64900334af9",
)

ARCHIVE_SOURCES = {source.name: source for source in (FILTERED, FULL)}
