"""deconv.data.images: judging files by decoding them, and re-encoding odd ones."""

from __future__ import annotations

import math
from pathlib import Path

import archives
import pytest
from PIL import Image

from deconv.data.images import MAX_PIXELS, Verdict, inspect_image, place_image


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_plain_rgb_jpeg_is_usable_as_it_is(tmp_path, jpegs):
    assert inspect_image(write(tmp_path, "cat.1.jpg", jpegs[0])) == Verdict(True, "")


def test_jpeg_without_jfif_header_is_kept(tmp_path, odd_images):
    # Exif-only camera files lack the "JFIF" bytes that a header check demands.
    data = odd_images["exif_only"]
    assert b"JFIF" not in data[:32] and b"Exif" in data[:32]
    assert inspect_image(write(tmp_path, "cam.jpg", data)) == Verdict(True, "")


@pytest.mark.parametrize(
    "kind, says",
    [
        ("empty", "empty file (0 bytes)"),
        ("html", "not an image (no JPEG/JFIF header)"),
        ("text", "not an image (no JPEG/JFIF header)"),
        ("truncated", "truncated or corrupt image"),
    ],
)
def test_unusable_files_are_dropped_with_a_reason(tmp_path, odd_images, kind, says):
    verdict = inspect_image(write(tmp_path, f"{kind}.jpg", odd_images[kind]))
    assert not verdict.usable
    assert says in verdict.reason


def test_jpeg_header_with_garbage_after_it(tmp_path):
    verdict = inspect_image(write(tmp_path, "x.jpg", b"\xff\xd8\xff" + b"\x00garbage" * 50))
    assert verdict == Verdict(False, "a JPEG header but no decodable image")


@pytest.mark.parametrize(
    "kind, says",
    [
        ("png", "PNG data in a .jpg file"),
        ("cmyk", "CMYK colour mode"),
        ("gray", "L colour mode"),
    ],
)
def test_odd_but_readable_images_are_kept_and_re_encoded(tmp_path, odd_images, kind, says):
    source = write(tmp_path, f"{kind}.jpg", odd_images[kind])
    verdict = inspect_image(source)
    assert verdict.usable
    assert says in verdict.reason and verdict.reason.endswith("re-encoded as an RGB JPEG")
    with Image.open(source) as original:
        size = original.size
    target = tmp_path / "out" / f"{kind}.jpg"
    target.parent.mkdir()
    place_image(source, target, verdict)
    with Image.open(target) as placed:
        assert (placed.format, placed.mode, placed.size) == ("JPEG", "RGB", size)
        placed.load()
    assert inspect_image(target) == Verdict(True, "")


@pytest.mark.parametrize("mode", ["P", "RGBA", "LA"])
def test_palette_and_alpha_pngs_become_rgb_jpegs(tmp_path, mode):
    base = archives.noise_image(5, mode="RGBA" if "A" in mode else "RGB")
    image = base.convert(mode)
    source = write(tmp_path, "odd.jpg", archives.encode(image, format="PNG"))
    verdict = inspect_image(source)
    assert verdict.usable and f"{mode} colour mode" in verdict.reason
    target = tmp_path / "placed.jpg"
    place_image(source, target, verdict)
    with Image.open(target) as placed:
        assert (placed.format, placed.mode) == ("JPEG", "RGB")


def test_plain_jpeg_is_moved_unchanged(tmp_path, jpegs):
    source = write(tmp_path, "cat.7.jpg", jpegs[1])
    target = tmp_path / "train" / "cat.7.jpg"
    target.parent.mkdir()
    place_image(source, target, inspect_image(source))
    assert target.read_bytes() == jpegs[1]
    assert not source.exists()


@pytest.mark.parametrize(
    "side",
    [
        math.isqrt(MAX_PIXELS) + 1,  # just over this module's limit, under Pillow's
        math.isqrt(Image.MAX_IMAGE_PIXELS) + 1,  # over Pillow's warning limit
        math.isqrt(2 * Image.MAX_IMAGE_PIXELS) + 1,  # over Pillow's error limit
    ],
    ids=["over-MAX_PIXELS", "pillow-warning", "pillow-error"],
)
def test_decompression_bomb_is_refused_without_decoding(tmp_path, side):
    data = archives.png_bytes(side, side)  # one colour: a few kB declaring side x side pixels
    assert len(data) < 100_000 and side * side > MAX_PIXELS
    path = write(tmp_path, "bomb.jpg", data)
    verdict = inspect_image(path)
    assert not verdict.usable
    assert verdict.reason.startswith("refused:")


def test_an_image_at_the_limit_is_accepted(tmp_path):
    # The guard is on pixels, not on file size: a wide, short image under the limit passes.
    width = MAX_PIXELS // 8
    path = write(tmp_path, "wide.png", archives.png_bytes(width, 8))
    verdict = inspect_image(path)
    assert verdict.usable
    assert "PNG data" in verdict.reason


def test_transparent_pixels_become_white_without_warnings(tmp_path, recwarn):
    image = Image.new("RGBA", (8, 8), (0, 0, 0, 0))  # fully transparent black
    image.putpixel((0, 0), (200, 10, 10, 255))
    source = write(tmp_path, "transparent.jpg", archives.encode(image.convert("P"), format="PNG"))
    target = tmp_path / "placed.jpg"
    place_image(source, target, inspect_image(source))
    with Image.open(target) as placed:
        assert min(placed.getpixel((7, 7))) >= 245  # white, not black
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]
