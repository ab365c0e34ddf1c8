"""Decide, for one file, whether the tutorial can use it as a photo.

Real collections hold broken files: PetImages has empty files and files that
are not JPEGs at all. TensorFlow Datasets and the keras.io example drop every
file whose first bytes lack the ASCII "JFIF"; that also drops readable JPEGs
that carry an Exif header instead. Here a file is judged by decoding it:
unreadable files are dropped with the reason, readable files in an odd form
(PNG data, CMYK, grayscale, palette) are re-encoded as plain RGB JPEGs so
every reader (Pillow for ImageDataGenerator, TensorFlow's decoder for
image_dataset_from_directory) sees the same three channels.
"""

from __future__ import annotations

import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

# Far above any photo here (PetImages' largest is about 5 megapixels), far
# below what a decompression bomb asks for.
MAX_PIXELS = 40_000_000
JPEG_QUALITY = 95


@dataclass(frozen=True)
class Verdict:
    usable: bool
    reason: str = ""  # why dropped, or what was converted; "" for a plain RGB JPEG


def _header_kind(head: bytes) -> str:
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG"):
        return "PNG"
    return ""


def inspect_image(path: Path) -> Verdict:
    """Decode ``path`` fully and say whether and how it can be used."""
    from PIL import Image

    size = path.stat().st_size
    if size == 0:
        return Verdict(False, "empty file (0 bytes)")
    with open(path, "rb") as f:
        head = f.read(16)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    return Verdict(
                        False,
                        f"refused: {width}x{height} pixels is over the limit of "
                        f"{MAX_PIXELS:,} (decompression bomb guard)",
                    )
                image.load()
                fmt, mode = image.format, image.mode
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        return Verdict(False, f"refused: {error}")
    except Image.UnidentifiedImageError:
        kind = _header_kind(head)
        what = "a JPEG header but no decodable image" if kind else "not an image (no JPEG/JFIF header)"
        return Verdict(False, what)
    except (OSError, SyntaxError, ValueError) as error:
        return Verdict(False, f"truncated or corrupt image ({error})")
    notes = []
    if fmt != "JPEG":
        notes.append(f"{fmt} data in a {path.suffix} file")
    if mode != "RGB":
        notes.append(f"{mode} colour mode")
    if notes:
        return Verdict(True, ", ".join(notes) + ": re-encoded as an RGB JPEG")
    return Verdict(True)


def check_images(
    files: list[Path], label: str = "Checking images", progress: bool = True
) -> tuple[list[tuple[Path, Verdict]], list[tuple[Path, str]]]:
    """Decode every file: the usable ones with their verdicts, and the unusable ones with the reason."""
    from tqdm.auto import tqdm

    usable, unusable = [], []
    for path in tqdm(files, desc=label, unit="image", disable=not progress, leave=False):
        verdict = inspect_image(path)
        if verdict.usable:
            usable.append((path, verdict))
        else:
            unusable.append((path, verdict.reason))
    return usable, unusable


def place_image(source: Path, target: Path, verdict: Verdict) -> None:
    """Move a usable image to ``target``, re-encoding the ones in an odd form."""
    if not verdict.reason:
        shutil.move(source, target)
        return
    from PIL import Image

    with Image.open(source) as image:
        as_rgb(image).save(target, format="JPEG", quality=JPEG_QUALITY)


def as_rgb(image):
    """A Pillow image of any mode as 8-bit RGB, which is what the models read.

    Pillow's own ``convert("RGB")`` would turn transparent pixels black and
    clip 16-bit grey at 255, which leaves all but the darkest pixels white:
    here transparency is flattened onto white and 16-bit grey scaled down.
    """
    import numpy as np
    from PIL import Image

    if image.mode.startswith("I"):  # 16-bit grey: I;16 and its byte orders, or I as older Pillow opens it
        grey = np.clip(np.asarray(image, dtype="int64"), 0, 65535) // 256
        image = Image.fromarray(grey.astype("uint8"))  # 2-D uint8: mode L
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, "white")
        image.paste(rgba, mask=rgba.getchannel("A"))
    return image.convert("RGB")
