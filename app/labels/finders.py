"""Finder patterns in a crop: the three 7-module squares a QR code is found and turned by.

Rows and columns of black/white copies are scanned for the 1:1:3:1:1 runs a finder's rings
give along any line through its centre (whatever the code's turn), each row's hit checked down
its column; hits merge into candidates, and candidates into (top-left, top-right, bottom-left)
triples. Glare can burn a finder out: triples are also guessed from two found ones.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageFilter

_RUNS = re.compile(rb"\x00+|\xff+")
_MIN_UNIT = 1.5  # px a module, at least, for a finder to be told from noise


@dataclass
class Finder:
    """A finder pattern candidate: its centre, its module size, and how many scans crossed it."""

    x: float
    y: float
    unit: float
    hits: int = 1


Triple = tuple[Finder, Finder, Finder]


def distinct(triples: list[Triple], taken: Sequence[Triple] = ()) -> list[Triple]:
    """The triples in order, less those another binarisation already found (same corners)."""
    kept: list[Triple] = []
    for triple in triples:
        if not any(_close(triple, other) for other in [*taken, *kept]):
            kept.append(triple)
    return kept


def _close(a: Triple, b: Triple) -> bool:
    return all(
        abs(p.x - q.x) < p.unit and abs(p.y - q.y) < p.unit for p, q in zip(a, b, strict=True)
    )


def binarisations(grey: Image.Image) -> Iterator[list[Finder]]:
    """Finder candidates in black/white copies against local means of three window sizes."""
    seen: list[list[Finder]] = []
    for divisor in (20, 10, 5):
        radius = max(3, max(grey.size) // divisor)
        mean = grey.filter(ImageFilter.BoxBlur(radius))
        # dark where the pixel is below its neighbourhood's mean (a little margin against noise)
        diff = ImageChops.subtract(mean, grey, 1.0, 0)
        black = diff.point(lambda v: 0 if v > 6 else 255)
        finders = _finders(black)
        if len(finders) >= 2 and not any(_same(finders, other) for other in seen):
            seen.append(finders)
            yield finders


def _same(a: list[Finder], b: list[Finder]) -> bool:
    return len(a) == len(b) and all(
        abs(p.x - q.x) < p.unit and abs(p.y - q.y) < p.unit for p, q in zip(a, b, strict=True)
    )


def _pattern(runs: Sequence[int]) -> float | None:
    """The module size if five runs (dark, light, dark, light, dark) go 1:1:3:1:1, else None."""
    total = sum(runs)
    unit = total / 7
    if unit < _MIN_UNIT:
        return None
    slack = unit * 0.7
    if all(abs(runs[i] - unit) < slack for i in (0, 1, 3, 4)) and abs(runs[2] - 3 * unit) < (
        2.2 * slack
    ):
        return unit
    return None


def _line_hits(line: bytes) -> Iterator[tuple[float, float]]:
    """(centre, unit) of every 1:1:3:1:1 crossing along one row or column of a black/white copy."""
    runs = [(m.start(), m.end() - m.start(), line[m.start()] == 0) for m in _RUNS.finditer(line)]
    for i in range(len(runs) - 4):
        if not runs[i][2]:
            continue
        five = [runs[i + k][1] for k in range(5)]
        unit = _pattern(five)
        if unit is not None:
            start, length, _ = runs[i + 2]
            yield start + length / 2, unit


def _cross(column: bytes, y: int) -> tuple[float, float] | None:
    """Check a row's crossing down its column: the centre and unit of the pattern around y."""
    runs = [
        (m.start(), m.end() - m.start(), column[m.start()] == 0) for m in _RUNS.finditer(column)
    ]
    for i, (start, length, dark) in enumerate(runs):
        if start <= y < start + length:
            if not dark or i < 2 or i + 2 >= len(runs):
                return None
            unit = _pattern([runs[i + k][1] for k in range(-2, 3)])
            return None if unit is None else (start + length / 2, unit)
    return None


def _finders(black: Image.Image) -> list[Finder]:
    """Candidates crossed both ways, merged; the most often crossed first."""
    width, height = black.size
    rows = black.tobytes()
    columns = black.transpose(Image.Transpose.TRANSPOSE).tobytes()
    found: list[Finder] = []
    for y in range(0, height, 2):
        for x, unit in _line_hits(rows[y * width : (y + 1) * width]):
            column = columns[round(x) * height : (round(x) + 1) * height]
            down = _cross(column, y)
            if down is None or not 0.6 < down[1] / unit < 1.6:
                continue
            cy, unit_y = down
            _merge(found, Finder(x, cy, (unit + unit_y) / 2))
    found.sort(key=lambda f: f.hits, reverse=True)
    return [f for f in found if f.hits >= 2][:8]


def _merge(found: list[Finder], new: Finder) -> None:
    for f in found:
        if abs(f.x - new.x) < 2 * f.unit and abs(f.y - new.y) < 2 * f.unit:
            n = f.hits
            f.x = (f.x * n + new.x) / (n + 1)
            f.y = (f.y * n + new.y) / (n + 1)
            f.unit = (f.unit * n + new.unit) / (n + 1)
            f.hits = n + 1
            return
    found.append(new)


def triples(finders: list[Finder]) -> Iterator[tuple[Finder, Finder, Finder]]:
    """(top-left, top-right, bottom-left) triples that could be one code's finders, best first."""
    scored: list[tuple[float, tuple[Finder, Finder, Finder]]] = []
    n = len(finders)
    for i in range(n):
        for j in range(n):
            for k in range(j + 1, n):
                if i in (j, k):
                    continue
                a, b, c = finders[i], finders[j], finders[k]
                ab = (b.x - a.x, b.y - a.y)
                ac = (c.x - a.x, c.y - a.y)
                la, lc = math.hypot(*ab), math.hypot(*ac)
                if min(la, lc) < 7 * a.unit or not 0.7 < la / lc < 1.43:
                    continue
                cos = (ab[0] * ac[0] + ab[1] * ac[1]) / (la * lc)
                if abs(cos) > 0.4:
                    continue
                units = (a.unit, b.unit, c.unit)
                if max(units) / min(units) > 1.6:
                    continue
                a, b, c = oriented(a, b, c)
                score = a.hits + b.hits + c.hits - 20 * abs(cos) - 10 * abs(math.log(la / lc))
                scored.append((score, (a, b, c)))
    scored.sort(key=lambda item: item[0], reverse=True)
    for _, triple in scored[:4]:
        yield triple


def oriented(a: Finder, b: Finder, c: Finder) -> tuple[Finder, Finder, Finder]:
    """(corner, right, down): with y growing down, `right` is clockwise of `down` from a."""
    if (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x) < 0:
        return a, c, b
    return a, b, c


def guessed_triples(finders: list[Finder]) -> Iterator[tuple[Finder, Finder, Finder]]:
    """Triples with one finder guessed from two found ones: the two are a side of the code
    (either one the corner, the third on either side) or its diagonal (the corner on either
    side). Wrong guesses cost a read that fails its checks."""
    for i, p in enumerate(finders[:4]):
        for q in finders[i + 1 : 4]:
            if not 0.7 < p.unit / q.unit < 1.43:
                continue
            dx, dy = q.x - p.x, q.y - p.y
            if math.hypot(dx, dy) < 10 * p.unit:
                continue
            unit = (p.unit + q.unit) / 2
            for corner, other, sign in ((p, q, 1), (p, q, -1), (q, p, 1), (q, p, -1)):
                ox, oy = other.x - corner.x, other.y - corner.y
                third = Finder(corner.x - sign * oy, corner.y + sign * ox, unit, 0)
                yield oriented(corner, other, third)
            mx, my = (p.x + q.x) / 2, (p.y + q.y) / 2
            for sign in (1, -1):
                corner = Finder(mx - sign * dy / 2, my + sign * dx / 2, unit, 0)
                yield oriented(corner, p, q)
