"""Real JPEGs and zips shaped like the archives the data script downloads.

The photos are tiny and few: a handful of distinct JPEGs is made once with
Pillow and their bytes are reused for every member, so a 3,000-member
filtered-shaped zip takes well under a second to write.
"""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zipfile
import zlib
from pathlib import Path

from PIL import Image

FILTERED_TOP = "cats_and_dogs_filtered"
FILTERED_COUNTS = {"train": {"cats": 1000, "dogs": 1000}, "validation": {"cats": 500, "dogs": 500}}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def encode(image: Image.Image, format: str = "JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def noise_image(seed: int, size=(24, 24), mode="RGB") -> Image.Image:
    rng = random.Random(seed)
    channels = len(mode)
    data = bytes(rng.randrange(256) for _ in range(size[0] * size[1] * channels))
    return Image.frombytes(mode, size, data)


def rgb_jpegs(count: int = 6) -> list[bytes]:
    """``count`` distinct small RGB JPEGs (JFIF)."""
    return [encode(noise_image(seed), quality=80) for seed in range(count)]


def strip_jfif(jpeg: bytes) -> bytes:
    """The same JPEG without its APP0/JFIF segment (as Exif-only camera files are)."""
    assert jpeg[:2] == b"\xff\xd8"
    if jpeg[2:4] != b"\xff\xe0":
        return jpeg
    length = struct.unpack(">H", jpeg[4:6])[0]
    return jpeg[:2] + jpeg[4 + length :]


def odd_images() -> dict[str, bytes]:
    """Files a real photo collection holds, by kind."""
    big = encode(noise_image(99, size=(64, 64)), quality=90)
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    exif_jpeg = strip_jfif(encode(noise_image(98), quality=90, exif=exif.tobytes()))
    return {
        "empty": b"",
        "html": b"<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>\n",
        "text": b"This is not a photo.\n" * 20,
        "truncated": big[: len(big) // 2],
        "png": encode(noise_image(97), format="PNG"),
        "cmyk": encode(noise_image(96, mode="CMYK"), quality=90),
        "gray": encode(noise_image(95, mode="L"), quality=90),
        "exif_only": exif_jpeg,
    }


def write_zip(path: Path, members, compression=zipfile.ZIP_STORED) -> Path:
    """``members``: (name or ZipInfo, bytes) pairs; a name ending in '/' is a folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression) as zf:
        for member, data in members:
            zf.writestr(member, data)
    return path


def filtered_members(jpegs: list[bytes], counts=FILTERED_COUNTS, top: str = FILTERED_TOP):
    """Members of a zip laid out as cats_and_dogs_filtered.zip: under ``top``, or at the top level if ""."""
    folder = f"{top}/" if top else ""
    members = [(folder, b"")] if top else []
    members.append((f"{folder}vectorize.py", b"# not a photo\n"))
    number = 0
    for split, classes in counts.items():
        members.append((f"{folder}{split}/", b""))
        for name, n in classes.items():
            members.append((f"{folder}{split}/{name}/", b""))
            for _ in range(n):
                photo = f"{folder}{split}/{name}/{name[:-1]}.{number}.jpg"
                members.append((photo, jpegs[number % len(jpegs)]))
                number += 1
    return members


# PetImages' broken files, where they go and what the dataset must make of them.
# kind -> (class folder, file name)
PETIMAGES_ODD = {
    "empty": ("Cat", "666.jpg"),
    "html": ("Cat", "5000.jpg"),
    "png": ("Cat", "5001.jpg"),
    "cmyk": ("Cat", "5002.jpg"),
    "exif_only": ("Cat", "5003.jpg"),
    "truncated": ("Dog", "5000.jpg"),
    "text": ("Dog", "5001.jpg"),
    "gray": ("Dog", "5002.jpg"),
    "empty_dog": ("Dog", "11702.jpg"),
}
PETIMAGES_DROPPED = {
    "PetImages/Cat/666.jpg": "empty",
    "PetImages/Cat/5000.jpg": "not an image",
    "PetImages/Dog/5000.jpg": "truncated",
    "PetImages/Dog/5001.jpg": "not an image",
    "PetImages/Dog/11702.jpg": "empty",
}
PETIMAGES_CONVERTED = {"PetImages/Cat/5001.jpg", "PetImages/Cat/5002.jpg", "PetImages/Dog/5002.jpg"}


def petimages_members(jpegs: list[bytes], odd: dict[str, bytes], good_per_class: int = 30):
    """Members of a zip laid out as kagglecatsanddogs_5340.zip (PetImages)."""
    members = [
        ("CDLA-Permissive-2.0.pdf", b"%PDF-1.4 licence\n"),
        ("readme[1].txt", b"Dogs vs. cats\n"),
        ("PetImages/", b""),
    ]
    for folder in ("Cat", "Dog"):
        members.append((f"PetImages/{folder}/", b""))
        for number in range(good_per_class):
            jpeg = jpegs[(number + (folder == "Dog")) % len(jpegs)]
            members.append((f"PetImages/{folder}/{number}.jpg", jpeg))
        members.append((f"PetImages/{folder}/Thumbs.db", b"\xd0\xcf\x11\xe0 thumbnail cache"))
    for kind, (folder, name) in PETIMAGES_ODD.items():
        members.append((f"PetImages/{folder}/{name}", odd[kind.removesuffix("_dog")]))
    return members


def png_bytes(width: int, height: int) -> bytes:
    """A valid 1-bit black PNG of any size; huge ones compress to a few kB."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed pixels
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def zero_bomb(path: Path, megabytes: int, name: str = "bomb/zeros.bin") -> Path:
    """A zip whose one member honestly declares ``megabytes`` MiB of zeros (deflated to ~1/1000)."""
    zero = bytes(1 << 20)
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w", force_zip64=True) as out:
            for _ in range(megabytes):
                out.write(zero)
    return path


def _central_header(data: bytes, member: str) -> int:
    """Offset of ``member``'s central directory header."""
    encoded = member.encode()
    at = 0
    while True:
        at = data.index(b"PK\x01\x02", at)
        name_length = struct.unpack("<H", data[at + 28 : at + 30])[0]
        if data[at + 46 : at + 46 + name_length] == encoded:
            return at
        at += 4


def patch_declared_size(path: Path, member: str, size: int) -> None:
    """Make the central directory lie about ``member``'s uncompressed size."""
    data = bytearray(Path(path).read_bytes())
    at = _central_header(data, member)
    data[at + 24 : at + 28] = struct.pack("<I", size)
    Path(path).write_bytes(bytes(data))


def corrupt_member_data(path: Path, member: str) -> None:
    """Overwrite ``member``'s compressed bytes with 0xFF (an invalid deflate stream)."""
    data = bytearray(Path(path).read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo(member)
    local = info.header_offset
    name_length, extra_length = struct.unpack("<HH", data[local + 26 : local + 30])
    start = local + 30 + name_length + extra_length
    data[start : start + info.compress_size] = b"\xff" * info.compress_size
    Path(path).write_bytes(bytes(data))


def patch_member_header(
    path: Path, member: str, *, flag_bits: int | None = None, method: int | None = None
) -> None:
    """Set ``member``'s flag bits and/or compression method in both its headers."""
    data = bytearray(Path(path).read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo(member)
    central = _central_header(data, member)
    for at, flag_offset in ((info.header_offset, 6), (central, 8)):
        if flag_bits is not None:
            data[at + flag_offset : at + flag_offset + 2] = struct.pack("<H", flag_bits)
        if method is not None:
            data[at + flag_offset + 2 : at + flag_offset + 4] = struct.pack("<H", method)
    Path(path).write_bytes(bytes(data))
