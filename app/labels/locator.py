"""Guess where QR codes are in a small greyscale photo, so zbar can work on crops, not frames.

A QR code is a patch with many dark/light edges in both directions. Per cell of the image we
take the mean horizontal and the mean vertical gradient and score the cell by the smaller of
the two: the edge of a box or a line scores low (one direction only), a code scores high.
The best cells, grown into the connected cells scoring at least 0.6 of the peak, are the
spots. On the benchmark corpora (bench/qr_decode.py, seeds 1 to 3; 1000 px images, 16 px
cells) the label overlaps the first spot in 89-93 % of photos and one of the first four in
98-99 %; the decoder's whole-frame steps cover the rest.
"""

from __future__ import annotations

import math

from PIL import Image, ImageFilter, ImageStat

Box = tuple[int, int, int, int]

_GRADIENT_X = ImageFilter.Kernel((3, 3), [0, 0, 0, -1, 0, 1, 0, 0, 0], scale=1, offset=128)
_GRADIENT_Y = ImageFilter.Kernel((3, 3), [0, -1, 0, 0, 0, 0, 0, 1, 0], scale=1, offset=128)
_MAGNITUDE = [min(255, abs(v - 128) * 2) for v in range(256)]


def find_spots(
    image: Image.Image, *, cell: int = 16, count: int = 3, grow: float = 0.6
) -> list[Box]:
    """Return up to `count` boxes (in `image` pixels), most code-like first."""
    grid = (max(1, image.width // cell), max(1, image.height // cell))
    gx = _cells(image.filter(_GRADIENT_X).point(_MAGNITUDE), grid)
    gy = _cells(image.filter(_GRADIENT_Y).point(_MAGNITUDE), grid)
    scores = [min(a, b) for a, b in zip(gx.tobytes(), gy.tobytes(), strict=True)]
    width, height = grid
    taken = bytearray(len(scores))
    spots: list[Box] = []
    for start in sorted(range(len(scores)), key=scores.__getitem__, reverse=True):
        if len(spots) == count or scores[start] == 0:
            break
        if taken[start]:
            continue
        # grow the spot over connected cells scoring at least `grow` times its peak
        floor = scores[start] * grow
        taken[start] = 1
        stack = [start]
        x0 = x1 = start % width
        y0 = y1 = start // width
        while stack:
            index = stack.pop()
            x, y = index % width, index // width
            x0, x1, y0, y1 = min(x0, x), max(x1, x), min(y0, y), max(y1, y)
            for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
                if 0 <= nx < width and 0 <= ny < height:
                    neighbour = ny * width + nx
                    if not taken[neighbour] and scores[neighbour] >= floor:
                        taken[neighbour] = 1
                        stack.append(neighbour)
        spots.append((x0 * cell, y0 * cell, (x1 + 1) * cell, (y1 + 1) * cell))
        # the cells around a spot are the same code (or its sticker): not a spot of their own
        for y in range(max(0, y0 - 1), min(height, y1 + 2)):
            for x in range(max(0, x0 - 1), min(width, x1 + 2)):
                taken[y * width + x] = 1
    return spots


def _cells(magnitude: Image.Image, grid: tuple[int, int]) -> Image.Image:
    """Average a gradient magnitude over the grid's cells, leaving out the 1 px frame.

    Pillow's 3x3 kernels copy the border pixels unfiltered, so the frame holds brightness, not
    gradient: in a dark photo the corner cells outscored the code.
    """
    width, height = magnitude.size
    if width <= 2 or height <= 2:
        return magnitude.resize(grid, Image.Resampling.BOX)
    inner = (1, 1, width - 1, height - 1)
    return magnitude.resize(grid, Image.Resampling.BOX, box=inner)


# Sobel derivatives along 12 directions, 15 degrees apart; scale 8 keeps them within a byte
# (a hard black-white edge along a diagonal clips a little, which does not move the angle).
_DIRECTIONS = 12
_SOBEL_X = (-1, 0, 1, -2, 0, 2, -1, 0, 1)
_SOBEL_Y = (-1, -2, -1, 0, 0, 0, 1, 2, 1)
_DERIVATIVES = [
    (
        math.radians(4 * degrees),
        ImageFilter.Kernel(
            (3, 3),
            [
                math.cos(math.radians(degrees)) * x + math.sin(math.radians(degrees)) * y
                for x, y in zip(_SOBEL_X, _SOBEL_Y, strict=True)
            ],
            scale=8,
            offset=128,
        ),
    )
    for degrees in range(0, 180, 180 // _DIRECTIONS)
]
_ABSOLUTE = [abs(v - 128) for v in range(256)]


def code_angle(image: Image.Image, *, long_side: int = 200) -> float:
    """Return how far the code in a crop is turned from square, in degrees (-45 to 45).

    A code's edges run in two perpendicular directions, so the mean absolute derivative taken
    along a direction is lowest along the edges' normals and highest 45 degrees from them; its
    90-degree period (the fourth harmonic over the directions) gives the angle. Modules only
    need a few pixels, so a small copy is enough.
    """
    if max(image.size) > long_side:
        ratio = long_side / max(image.size)
        size = (max(3, round(image.width * ratio)), max(3, round(image.height * ratio)))
        image = image.resize(size, Image.Resampling.BOX)
    inner = (1, 1, image.width - 1, image.height - 1)  # the kernels leave the frame unfiltered
    real = imaginary = 0.0
    for phase, kernel in _DERIVATIVES:
        mean = ImageStat.Stat(image.filter(kernel).crop(inner).point(_ABSOLUTE)).mean[0]
        real += mean * math.cos(phase)
        imaginary += mean * math.sin(phase)
    peak = math.degrees(math.atan2(imaginary, real)) / 4  # where the derivative is highest
    return (peak + 90) % 90 - 45
