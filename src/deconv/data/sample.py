"""A synthetic, offline stand-in for the cats-vs-dogs photos.

The tutorial trains on Google's cats_and_dogs_filtered photos, which need a
download. Tests, CI and anyone offline use this sample instead: drawn cat and
dog heads that differ only in shape. Cats have pointed upright ears, almond
eyes with slit pupils and a small nose with whiskers; dogs have long ears
hanging down, round eyes and a long snout with a big nose. Fur colours,
markings, size, pose, position, background, image size and JPEG quality are
drawn from the same distributions for both classes, so no colour or
brightness statistic gives the label away, yet the tutorial's small CNN
learns the shapes in a few epochs.

Each image has its own random generator, seeded from (seed, split, class,
index): a seed always gives byte-identical files, whatever the counts.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from tqdm import tqdm

from ..layout import CLASS_NAMES, FILE_PREFIXES, SPLITS

SIDE_RANGE = (160, 500)  # width and height in pixels, varied like photos
ASPECT_RANGE = (0.7, 1.4)  # height / width
JPEG_QUALITY_RANGE = (60, 95)
SUPERSAMPLE = 2  # the animal is drawn at twice the size and shrunk: smooth edges

# Shared by both classes, so colour says nothing about the label.
FUR_COLOURS = np.array(
    [
        (25, 22, 20),  # black
        (70, 65, 62),  # dark grey
        (128, 124, 120),  # grey
        (165, 160, 150),  # silver
        (235, 228, 215),  # cream
        (205, 120, 50),  # ginger
        (215, 175, 95),  # golden
        (190, 150, 100),  # tan
        (120, 75, 40),  # brown
        (75, 45, 30),  # chocolate
    ],
    dtype=float,
)
# green, yellow, amber, brown, blue
EYE_COLOURS = np.array([(120, 160, 50), (210, 170, 40), (190, 110, 30), (95, 60, 30), (90, 140, 200)], float)
NOSE_COLOURS = np.array([(20, 18, 18), (70, 40, 30), (200, 120, 120)], float)  # black, brown, pink
OUTLINE = (15, 12, 10)


def _jitter(rng, colour, amount=12.0):
    """A palette colour, varied a little so no two animals match exactly."""
    return tuple(int(v) for v in np.clip(colour + rng.normal(0, amount, 3), 0, 255))


def _shade(colour, factor):
    """Darker (< 1) or lighter (> 1, towards white) version of a colour."""
    c = np.asarray(colour, dtype=float)
    c = c * factor if factor < 1 else c + (255 - c) * (factor - 1)
    return tuple(int(v) for v in np.clip(c, 0, 255))


def _ellipse(cx, cy, rx, ry, angle=0.0, n=40, power=1.0):
    """Points of an ellipse; power 2 makes an almond (pointed ends)."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    x = rx * np.cos(t)
    y = ry * np.sign(np.sin(t)) * np.abs(np.sin(t)) ** power
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([cx + c * x - s * y, cy + s * x + c * y], axis=1)


class _Painter:
    """Draws shapes given in head units (head radius 1, y down) onto the canvas."""

    def __init__(self, canvas, centre, radius, rotation, squash):
        self.draw = ImageDraw.Draw(canvas)
        c, s = np.cos(rotation), np.sin(rotation)
        self.matrix = radius * np.array([[c, -s], [s, c]]) @ np.diag([squash, 1.0])
        self.centre = np.asarray(centre, dtype=float)
        self.radius = radius

    def _px(self, points):
        return [tuple(p) for p in np.asarray(points) @ self.matrix.T + self.centre]

    def shape(self, points, fill, outline=True):
        width = max(1, round(0.07 * self.radius)) if outline else 0
        self.draw.polygon(self._px(points), fill=fill, outline=OUTLINE if outline else None, width=width)

    def line(self, points, width, fill=OUTLINE):
        self.draw.line(self._px(points), fill=fill, width=max(1, round(width * self.radius)))


def _background(rng, width, height):
    """Gradient, clutter shapes, blur and noise: the same for cats and dogs."""
    top, bottom = rng.uniform(0, 255, (2, 3))
    ramp = np.linspace(0, 1, height)[:, None, None]
    pixels = np.broadcast_to(top + (bottom - top) * ramp, (height, width, 3))
    image = Image.fromarray(pixels.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.integers(2, 9)):
        colour = tuple(int(v) for v in rng.uniform(0, 255, 3))
        x0, y0 = rng.uniform(-0.2, 1.0, 2) * (width, height)
        w, h = rng.uniform(0.05, 0.5, 2) * (width, height)
        kind = rng.integers(4)
        if kind == 0:
            draw.rectangle((x0, y0, x0 + w, y0 + h), fill=colour)
        elif kind == 1:
            draw.ellipse((x0, y0, x0 + w, y0 + h), fill=colour)
        elif kind == 2:  # triangles in both classes, so "a triangle" is no cat cue
            corners = rng.uniform(0, 1, (3, 2)) * (w, h) + (x0, y0)
            draw.polygon([tuple(p) for p in corners], fill=colour)
        else:
            draw.line((x0, y0, x0 + w, y0 + h), fill=colour, width=int(rng.integers(2, 10)))
    return image.filter(ImageFilter.BoxBlur(rng.uniform(0, 2.5)))  # out of focus


def _draw_body_and_head(p, rng, fur, head_rx, head_ry):
    """Shoulders and head: the same for both classes."""
    body = _ellipse(0, rng.uniform(1.6, 2.0), rng.uniform(1.1, 1.5), rng.uniform(0.9, 1.2))
    p.shape(body, fur)
    p.shape(_ellipse(0, 0, head_rx, head_ry), fur)


def _draw_markings(p, rng, yaw):
    """Optional face markings (same odds for both classes)."""
    marking_colour = _jitter(rng, FUR_COLOURS[rng.integers(len(FUR_COLOURS))])
    kind = rng.integers(4)
    if kind == 1:  # blaze down the forehead
        p.shape(_ellipse(yaw, -0.45, 0.12, 0.4), marking_colour, outline=False)
    elif kind == 2:  # patch around one eye
        p.shape(_ellipse(yaw + rng.choice([-0.38, 0.38]), -0.1, 0.32, 0.28), marking_colour, outline=False)
    elif kind == 3:  # forehead stripes
        for dx in (-0.25, 0.0, 0.25):
            p.line([(yaw + dx, -0.85), (yaw + dx * 0.7, -0.5)], width=0.08, fill=marking_colour)


def _cat_ears(p, rng, ear_colour, inner_colour, head_rx, head_ry):
    for side in (-1, 1):
        a1, a2 = np.radians(rng.uniform(10, 22)), np.radians(rng.uniform(55, 70))
        tip_angle, tip_dist = np.radians(rng.uniform(28, 45)), rng.uniform(1.7, 2.0)
        base1 = (side * np.sin(a1) * head_rx * 0.9, -np.cos(a1) * head_ry * 0.9)
        base2 = (side * np.sin(a2) * head_rx * 0.9, -np.cos(a2) * head_ry * 0.9)
        tip = (side * np.sin(tip_angle) * tip_dist, -np.cos(tip_angle) * tip_dist)
        ear = np.array([base1, tip, base2])
        p.shape(ear, ear_colour)
        inner = ear.mean(axis=0) + 0.55 * (ear - ear.mean(axis=0))
        p.shape(inner + (0, 0.08), inner_colour, outline=False)


def _dog_ears(p, rng, ear_colour, head_rx):
    for side in (-1, 1):
        length, half_width = rng.uniform(1.3, 1.7), rng.uniform(0.38, 0.5)
        tilt = np.radians(rng.uniform(0, 20))  # hangs down, a little outwards
        top = np.array([side * head_rx * rng.uniform(0.6, 0.8), -0.75])
        centre = top + (length / 2) * np.array([side * np.sin(tilt), np.cos(tilt)])
        p.shape(_ellipse(*centre, half_width, length / 2, angle=-side * tilt), ear_colour)


def _cat_face(p, rng, eye_colour, nose_colour, yaw):
    size = rng.uniform(0.15, 0.2)
    for side in (-1, 1):
        x, y = yaw + side * rng.uniform(0.36, 0.44), rng.uniform(-0.2, -0.05)
        slant = -side * np.radians(rng.uniform(8, 20))  # outer corner higher
        p.shape(_ellipse(x, y, size * 1.5, size * 0.8, slant, power=2), eye_colour)
        p.shape(_ellipse(x, y, size * 0.15, size * 0.7), OUTLINE, outline=False)
    nose_y = rng.uniform(0.22, 0.3)
    p.shape([(yaw - 0.1, nose_y), (yaw + 0.1, nose_y), (yaw, nose_y + 0.1)], nose_colour)
    mouth_y = nose_y + 0.22
    p.line(
        [
            (yaw - 0.16, mouth_y),
            (yaw - 0.08, mouth_y + 0.04),
            (yaw, nose_y + 0.1),
            (yaw + 0.08, mouth_y + 0.04),
            (yaw + 0.16, mouth_y),
        ],
        width=0.035,
    )
    for side in (-1, 1):
        for k in range(3):
            start = (yaw + side * 0.2, nose_y + 0.1 + 0.05 * k)
            end = (yaw + side * rng.uniform(1.05, 1.3), nose_y - 0.1 + 0.15 * k)
            p.line([start, end], width=0.02, fill=(235, 235, 230))


def _dog_face(p, rng, fur, eye_colour, nose_colour, yaw):
    size = rng.uniform(0.13, 0.17)
    for side in (-1, 1):
        x, y = yaw + side * rng.uniform(0.34, 0.42), rng.uniform(-0.25, -0.1)
        p.shape(_ellipse(x, y, size, size), eye_colour)
        p.shape(_ellipse(x, y, size * 0.6, size * 0.6), OUTLINE, outline=False)
        p.shape(
            _ellipse(x - size * 0.3, y - size * 0.3, size * 0.2, size * 0.2), (250, 250, 250), outline=False
        )
    snout_colour = _shade(fur, rng.uniform(1.0, 1.35))
    snout_y = rng.uniform(0.5, 0.65)
    p.shape(_ellipse(yaw, snout_y, rng.uniform(0.38, 0.46), rng.uniform(0.38, 0.46)), snout_colour)
    nose_y = snout_y - rng.uniform(0.12, 0.2)
    p.shape(_ellipse(yaw, nose_y, rng.uniform(0.2, 0.25), rng.uniform(0.13, 0.16)), nose_colour)
    p.line([(yaw, nose_y + 0.14), (yaw, snout_y + 0.22)], width=0.035)
    p.line([(yaw - 0.22, snout_y + 0.18), (yaw, snout_y + 0.24), (yaw + 0.22, snout_y + 0.18)], width=0.035)


def _render(rng, is_dog):
    """One image: the same random draws for both classes except the face shapes."""
    width = int(rng.integers(SIDE_RANGE[0], SIDE_RANGE[1] + 1))
    height = int(np.clip(width * rng.uniform(*ASPECT_RANGE), *SIDE_RANGE))
    background = _background(rng, width, height)
    # Nearest + reduce() below gives the background back unchanged.
    canvas = background.resize((width * SUPERSAMPLE, height * SUPERSAMPLE), Image.NEAREST)

    radius = min(width, height) * rng.uniform(0.22, 0.32)
    # Roughly centred, like a pet photo; head and ears stay in the frame.
    centre = rng.uniform((0.35, 0.4), (0.65, 0.6)) * (width, height)
    centre[1] = max(centre[1], 2.1 * radius)
    radius, centre = radius * SUPERSAMPLE, centre * SUPERSAMPLE
    p = _Painter(canvas, centre, radius, np.radians(rng.uniform(-25, 25)), rng.uniform(0.8, 1.0))
    yaw = rng.uniform(-0.12, 0.12)  # facial features off-centre: head a little turned
    fur = _jitter(rng, FUR_COLOURS[rng.integers(len(FUR_COLOURS))])
    # Ears clearly darker or lighter than the head, so their outline shows.
    ear_colour = _shade(fur, rng.choice([0.6, 1.4]) + rng.uniform(-0.1, 0.1))
    eye_colour = _jitter(rng, EYE_COLOURS[rng.integers(len(EYE_COLOURS))])
    nose_colour = _jitter(rng, NOSE_COLOURS[rng.integers(len(NOSE_COLOURS))], 10)
    head_rx, head_ry = rng.uniform(0.95, 1.1), rng.uniform(0.85, 1.0)

    if is_dog:  # ears are drawn over the head: they hang in front of it
        _draw_body_and_head(p, rng, fur, head_rx, head_ry)
        _draw_markings(p, rng, yaw)
        _dog_ears(p, rng, ear_colour, head_rx)
        _dog_face(p, rng, fur, eye_colour, nose_colour, yaw)
    else:  # ears are drawn under the head: it covers their base
        inner_ear_colour = _shade(nose_colour, 1.3)
        _cat_ears(p, rng, ear_colour, inner_ear_colour, head_rx, head_ry)
        _draw_body_and_head(p, rng, fur, head_rx, head_ry)
        _draw_markings(p, rng, yaw)
        _cat_face(p, rng, eye_colour, nose_colour, yaw)

    image = canvas.reduce(SUPERSAMPLE)
    # Camera: exposure, white balance and sensor noise.
    gain = rng.uniform(0.75, 1.2) * rng.uniform(0.93, 1.07, 3)
    pixels = np.asarray(image, dtype=np.float32) * gain.astype(np.float32)
    pixels += (rng.random(pixels.shape, dtype=np.float32) - 0.5) * rng.uniform(0, 20)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def generate_sample(dest, *, seed=0, train_per_class=200, validation_per_class=100, progress=True) -> dict:
    """Write dest/{train,validation}/{cats,dogs}/*.jpg; return counts.

    Files are named like Google's cats_and_dogs_filtered: train holds cat.0 ..
    cat.{n-1}, validation continues the numbering. Returns
    {"train": {"cats": n, "dogs": n}, "validation": {"cats": m, "dogs": m}}.
    """
    dest = Path(dest)
    per_class = {"train": train_per_class, "validation": validation_per_class}
    first_index = {"train": 0, "validation": train_per_class}
    counts = {}
    total = 2 * (train_per_class + validation_per_class)
    with tqdm(total=total, desc="sample images", unit="img", file=sys.stderr, disable=not progress) as bar:
        for split_id, split in enumerate(SPLITS):
            counts[split] = {}
            for class_id, class_name in enumerate(CLASS_NAMES):
                folder = dest / split / class_name
                folder.mkdir(parents=True, exist_ok=True)
                for index in range(first_index[split], first_index[split] + per_class[split]):
                    rng = np.random.default_rng([seed, split_id, class_id, index])
                    image = _render(rng, is_dog=class_name == "dogs")
                    quality = int(rng.integers(JPEG_QUALITY_RANGE[0], JPEG_QUALITY_RANGE[1] + 1))
                    path = folder / f"{FILE_PREFIXES[class_name]}.{index}.jpg"
                    image.save(path, "JPEG", quality=quality, subsampling=2, optimize=False)
                    bar.update()
                counts[split][class_name] = per_class[split]
    return counts
