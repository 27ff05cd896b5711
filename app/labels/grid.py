"""Our own QR sampler, for the codes zbar gives up on: from the finder patterns (finders.py)
map the module grid, and hand a soft value per module (with the modules glare has burnt out
marked unknown) to qr_matrix.read_grid, whose Reed-Solomon decoding corrects erased codewords
twice as well as errors.

zbar turns every module black or white before correcting: a glare highlight saturating a fifth
of a big, sharp code is then a fifth of wrong modules, past what level M corrects. Here the
modules under the highlight are *unknown*, and the least certain ones (a washed-out halo, a
blurred edge) are tried as unknown in turn.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from itertools import chain, islice

from PIL import Image, ImageChops, ImageFilter, ImageStat

from app.labels import finders, grid_deblur
from app.labels.finders import Finder, Triple
from app.labels.qr_matrix import read_grid

Point = tuple[float, float]

SATURATED = 251  # a pixel this bright inside a code is taken as the sensor's full scale
CHASE_TRIES = 6  # Reed-Solomon attempts a block, erasing more of the least sure codewords each
MAX_GRIDS = 12  # module grids read per view at most: bounds the time a view without a code costs
# A guessed triple means glare burnt a finder out, and its halo (with dim light, a faded print
# or a little blur) leaves the modules around flat: those grids are placed on the crop but read
# from an unsharp-masked copy of it. On the tuning seed that read 3 more photos; their best
# grids had a third fewer modules read wrong (99 -> 62, 65 -> 49, 164 -> 102), as many unknown.
# Same grids, so the same number of reads and false-read odds; the found triples' grids read
# nothing more from it and cost a failing view half as much again when tried both ways.
SHARPEN = ImageFilter.UnsharpMask(radius=2, percent=150, threshold=0)
# A code blurred by half a module or more reads wrong where a lone module sits among others
# (grid_deblur): after every grid fails as sampled, the first few whose finders show a blur
# are read again with it taken out. They come last so that the glare grids keep the reads and
# the time they had: tried among them, each blurred grid twice, the tuning seed read 4 more
# blurred photos and lost 3 glare ones to the cap and the budget.
MAX_UNBLURRED = 4
_FOUND, _GUESSED = 0, 1  # a triple's kind, in the order tried


def read(image: Image.Image) -> list[str]:
    """Return the text of the QR code in a greyscale crop, or nothing (a cascade Reader)."""
    grey = image if image.mode == "L" else image.convert("L")
    sets = list(finders.binarisations(grey))
    found = finders.distinct([t for found_set in sets for t in finders.triples(found_set)])
    # glare can burn out a finder: guess it from the other two, after the found ones
    guessed = finders.distinct(
        [t for found_set in sets for t in finders.guessed_triples(found_set)], found
    )
    # found before guessed, and every triple's likeliest version before any next likeliest
    tries = sorted(
        (
            (kind, rank, order, version, triple)
            for kind, triples in ((_FOUND, found), (_GUESSED, guessed))
            for order, triple in enumerate(triples)
            for rank, version in enumerate(_versions(*triple))
        ),
        key=lambda item: item[:3],
    )
    blurred: list[list[list[float]]] = []  # grids sampled as they are, to unblur if all fail
    for values, as_sampled in islice(_sampled(grey, tries), MAX_GRIDS):
        text = read_grid(_soft(values, len(values)), max_tries=CHASE_TRIES)
        if text is not None:
            return [text]
        if as_sampled:
            blurred.append(values)
    return _read_unblurred(blurred)


def _sampled(
    grey: Image.Image, tries: list[tuple[int, int, int, int, Triple]]
) -> Iterator[tuple[list[list[float]], bool]]:
    """The module grids of every try in turn, and whether each was sampled from the crop as
    it is (not from a sharpened copy, which no longer has the blur the finders show)."""
    sharp: Image.Image | None = None
    for kind, *_, version, triple in tries:
        if kind == _GUESSED and sharp is None:
            sharp = grey.filter(SHARPEN)
        sample = sharp if kind == _GUESSED else None
        for values in _grids(grey, triple, version, sample=sample):
            yield values, sample is None


def _read_unblurred(grids: list[list[list[float]]]) -> list[str]:
    """Read again, with the blur taken out, the first grids whose finders show one (see
    grid_deblur): after every grid as sampled, as it only reads blurred codes."""
    tried = 0
    for values in grids:
        if tried >= MAX_UNBLURRED:
            break
        unblurred = grid_deblur.unblurred(values, saturated=SATURATED)
        if unblurred is None:
            continue
        text = read_grid(_soft(unblurred, len(unblurred)), max_tries=CHASE_TRIES)
        if text is not None:
            return [text]
        tried += 1
    return []


def _versions(a: Finder, b: Finder, c: Finder) -> list[int]:
    """The versions the finders' spacing allows, likeliest first: blur widens a finder's dark
    rings, so its module size is a guess, and one version either side is tried too."""
    # rows and columns cross a turned code's finders on a slant: the runs are longer by
    # 1 / cos of the turn (folded into -45..45 degrees)
    turn = math.atan2(b.y - a.y, b.x - a.x)
    turn = (turn + math.pi / 4) % (math.pi / 2) - math.pi / 4
    unit = (a.unit + b.unit + c.unit) / 3 * math.cos(turn)
    span = (math.hypot(b.x - a.x, b.y - a.y) + math.hypot(c.x - a.x, c.y - a.y)) / 2
    estimate = (span / unit + 7 - 17) / 4
    centre = round(estimate)
    return sorted(
        (v for v in range(centre - 1, centre + 2) if 1 <= v <= 10), key=lambda v: abs(v - estimate)
    )


def _grids(
    grey: Image.Image, triple: Triple, version: int, *, sample: Image.Image | None = None
) -> Iterator[list[list[float]]]:
    """Module grids (the brightness at each module's centre) of one version: the bottom-right
    alignment pattern where it was found, where the grid comes out sharpest, and where the
    parallelogram of the finders puts it.
    The grid is placed on `grey`; its modules are read from `sample` (default: `grey`)."""
    a, b, c = triple
    size = 17 + 4 * version
    known = [
        ((3.5, 3.5), (a.x, a.y)),
        ((size - 3.5, 3.5), (b.x, b.y)),
        ((3.5, size - 3.5), (c.x, c.y)),
    ]
    affine = _affine(known)
    corner = _apply(affine, size - 6.5, size - 6.5)
    found = _alignment(grey, affine, size) if version >= 2 else None
    guesses = [found] if found is not None else []
    if version >= 2:  # glare can hide the pattern, or pass for one
        guesses.append(_focus(grey, known, affine, size, corner))
    guesses.append(corner)
    unit = math.hypot(affine[0], affine[3])  # px a module
    tried: list[Point] = []
    for guess in guesses:
        if any(math.dist(guess, other) < 0.3 * unit for other in tried):
            continue
        tried.append(guess)
        mapping = _homography([*known, ((size - 6.5, size - 6.5), guess)])
        yield _module_values(grey if sample is None else sample, mapping, size)


def _focus(
    grey: Image.Image,
    known: Sequence[tuple[Point, Point]],
    affine: Mapping,
    size: int,
    start: Point,
) -> Point:
    """Where the fourth point (the bottom-right alignment centre) makes the module grid
    sharpest: sampled at their centres, modules differ most from their neighbours when the
    grid sits right. Perspective moves that point by modules from the finders' parallelogram."""
    ux, uy, vx, vy = affine[0], affine[3], affine[1], affine[4]

    def sharpness(point: Point) -> float:
        mapping = _homography([*known, ((size - 6.5, size - 6.5), point)])
        centres = _warp(grey, mapping, (0.0, 0.0), size, 3).resize(
            (size, size), Image.Resampling.NEAREST
        )
        local = centres.filter(ImageFilter.BoxBlur(1))
        return ImageStat.Stat(ImageChops.difference(centres, local)).mean[0]

    best = (sharpness(start), start)
    for step, reach in ((1.0, 2), (0.25, 2)):
        x0, y0 = best[1]
        for i in range(-reach, reach + 1):
            for j in range(-reach, reach + 1):
                if i or j:
                    point = (x0 + step * (i * ux + j * vx), y0 + step * (i * uy + j * vy))
                    best = max(best, (sharpness(point), point))
    return best[1]


Mapping = tuple[float, float, float, float, float, float, float, float]  # module units -> pixels


def _apply(h: Mapping, u: float, v: float) -> Point:
    w = h[6] * u + h[7] * v + 1.0
    return (h[0] * u + h[1] * v + h[2]) / w, (h[3] * u + h[4] * v + h[5]) / w


def _affine(known: Sequence[tuple[Point, Point]]) -> Mapping:
    """The affine map taking three grid points (module units) to their image points."""
    (u0, v0), (x0, y0) = known[0]
    (u1, _), (x1, y1) = known[1]
    (_, v2), (x2, y2) = known[2]
    du, dv = u1 - u0, v2 - v0
    ax, ay = (x1 - x0) / du, (y1 - y0) / du
    bx, by = (x2 - x0) / dv, (y2 - y0) / dv
    return (ax, bx, x0 - ax * u0 - bx * v0, ay, by, y0 - ay * u0 - by * v0, 0.0, 0.0)


def _homography(pairs: Sequence[tuple[Point, Point]]) -> Mapping:
    """The projective map taking four grid points (module units) to their image points."""
    rows: list[list[float]] = []
    for (u, v), (x, y) in pairs:
        rows.append([u, v, 1.0, 0.0, 0.0, 0.0, -u * x, -v * x, x])
        rows.append([0.0, 0.0, 0.0, u, v, 1.0, -u * y, -v * y, y])
    h = _solve(rows)
    return (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])


def _solve(rows: list[list[float]]) -> list[float]:
    """Gaussian elimination with partial pivoting on an augmented n x (n + 1) system."""
    n = len(rows)
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        lead = rows[col][col] or 1e-12
        for r in range(n):
            if r != col:
                factor = rows[r][col] / lead
                if factor:
                    rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    return [rows[i][n] / (rows[i][i] or 1e-12) for i in range(n)]


def _warp(grey: Image.Image, h: Mapping, origin: Point, modules: int, scale: int) -> Image.Image:
    """The code's grid as an upright image, `scale` px a module, `modules` across from `origin`
    (in module units): Pillow resamples in C what a Python loop would take 100 times longer."""
    u0, v0 = origin
    # output pixel x' (Pillow passes its centre) is module u = u0 + x' / scale
    a, b, c, d, e, f, g, k = h
    w0 = g * u0 + k * v0 + 1.0
    coeffs = (
        a / scale / w0,
        b / scale / w0,
        (a * u0 + b * v0 + c) / w0,
        d / scale / w0,
        e / scale / w0,
        (d * u0 + e * v0 + f) / w0,
        g / scale / w0,
        k / scale / w0,
    )
    side = modules * scale
    return grey.transform(
        (side, side), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR, fillcolor=128
    )


def _module_values(grey: Image.Image, h: Mapping, size: int) -> list[list[float]]:
    """The brightness at each module's centre: the mean of its middle 3 x 3 of 5 x 5 pixels."""
    warped = _warp(grey, h, (0.0, 0.0), size, 5).filter(ImageFilter.BoxBlur(1))
    centres = warped.resize((size, size), Image.Resampling.NEAREST).tobytes()
    return [[float(v) for v in centres[r * size : (r + 1) * size]] for r in range(size)]


_LIGHT_RING = [(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1) if (i, j) != (0, 0)]
_DARK_RING = [(i, j) for i in range(-2, 3) for j in range(-2, 3) if max(abs(i), abs(j)) == 2]


def _alignment(grey: Image.Image, affine: Mapping, size: int) -> Point | None:
    """Where the bottom-right alignment pattern is, searched within three modules of where
    the three finders put it (perspective moves it); None if nothing there looks like one."""
    scale, reach = 4, 3
    span = 2 * (reach + 3) + 1  # modules warped: the pattern (5) anywhere within reach
    origin = (size - 6.5 - span / 2, size - 6.5 - span / 2)
    warped = _warp(grey, affine, origin, span, scale).filter(ImageFilter.BoxBlur(1))
    side = span * scale
    pixels = warped.tobytes()
    low, high = sorted(pixels)[side * side // 20], sorted(pixels)[-side * side // 20]

    def score(x: int, y: int) -> float:
        light = sum(pixels[(y + j * scale) * side + x + i * scale] for i, j in _LIGHT_RING)
        dark = pixels[y * side + x] + sum(
            pixels[(y + j * scale) * side + x + i * scale] for i, j in _DARK_RING
        )
        return light / 8 - dark / 17

    middle = side // 2
    lo, hi = middle - reach * scale, middle + reach * scale
    best = max(
        ((score(x, y), x, y) for y in range(lo, hi + 1) for x in range(lo, hi + 1)),
        key=lambda item: item[0],
    )
    if best[0] < 0.3 * (high - low):
        return None
    # pixel x holds module u = origin + (x + 0.5) / scale
    u = origin[0] + (best[1] + 0.5) / scale
    v = origin[1] + (best[2] + 0.5) / scale
    return _apply(affine, u, v)


def _soft(values: list[list[float]], size: int) -> list[list[float]]:
    """A soft value per module: > 0 dark, < 0 light, 0.0 unknown (burnt out by glare).

    Glare adds light as a screen blend: 255 - seen = (255 - printed) x (1 - glare), so on a log
    scale of darkness (255 - seen) ink and paper stay the same distance apart however washed
    out the halo is: a module is dark when it is half that distance darker than the paper
    around it. Where the sensor saturated, nothing is left: those modules are unknown.
    """
    dark = [[math.log1p(max(0.0, 255.0 - value)) for value in row] for row in values]
    burnt = [[value >= SATURATED for value in row] for row in values]
    contrast = _finder_contrast(dark, size)
    if contrast <= 0.05:
        return [[0.0] * size for _ in range(size)]
    half = contrast / 2
    paper_dark = math.expm1(_finder_paper(dark, size))  # the paper's darkness where no glare is
    shares = _Shares(burnt, size)
    papers = _papers(values, size)
    soft = [[0.0] * size for _ in range(size)]
    for r in range(size):
        for c in range(size):
            if burnt[r][c] and shares.around(r, c, 2) >= 0.7:
                continue  # inside a saturated patch: unknown
            paper = papers[r][c] if papers is not None and not shares.any(r, c, 2) else None
            if paper is None:
                paper = _paper(dark, burnt, shares, r, c)
            if paper is None:
                continue
            value = (dark[r][c] - paper - half) / half
            if shares.any(r, c, 1):
                value /= 2  # at the rim of a saturated patch even the paper level is a guess
            # where glare left the paper a fraction of its darkness, ink and paper are a few
            # grey levels apart and JPEG noise is as large: the reading is worth that fraction
            left = math.expm1(paper) / paper_dark if paper_dark > 0 else 1.0
            value *= min(1.0, max(0.05, left))
            soft[r][c] = max(-2.0, min(2.0, value)) or 1e-3
    return soft


class _Shares:
    """How many of the modules within a reach of (r, c) are saturated, from running sums
    (a count per module and reach was a tenth of a failing glare view's time)."""

    def __init__(self, burnt: list[list[bool]], size: int) -> None:
        self.size = size
        self.sums = [[0] * (size + 1) for _ in range(size + 1)]
        for r in range(size):
            running = 0
            for c in range(size):
                running += burnt[r][c]
                self.sums[r + 1][c + 1] = self.sums[r][c + 1] + running

    def _window(self, r: int, c: int, reach: int) -> tuple[int, int]:
        top, bottom = max(0, r - reach), min(self.size, r + reach + 1)
        left, right = max(0, c - reach), min(self.size, c + reach + 1)
        s = self.sums
        count = s[bottom][right] - s[top][right] - s[bottom][left] + s[top][left]
        return count, (bottom - top) * (right - left)

    def around(self, r: int, c: int, reach: int) -> float:
        """The share of saturated modules within `reach` of (r, c)."""
        count, cells = self._window(r, c, reach)
        return count / cells

    def any(self, r: int, c: int, reach: int) -> bool:
        return self._window(r, c, reach)[0] > 0


def _papers(values: list[list[float]], size: int) -> list[list[float | None]] | None:
    """What `_paper` gives for each module with no saturated one within two, the rank taken by
    Pillow in C (a Python sort per module was a quarter of a failing view's time): the paper's
    darkness is the 7th lowest of the 25 around a module, so the 7th brightest of them. Modules
    within two of the edge (a smaller window) are left None for `_paper`; None for a grid whose
    values are not whole grey levels, which a byte image would round."""
    if any(value != int(value) for row in values for value in row):
        return None
    image = Image.frombytes("L", (size, size), bytes(int(value) for row in values for value in row))
    ranked = image.filter(ImageFilter.RankFilter(5, 25 - 7)).tobytes()
    inner = range(2, size - 2)
    return [
        [
            math.log1p(255 - ranked[r * size + c]) if r in inner and c in inner else None
            for c in range(size)
        ]
        for r in range(size)
    ]


def _paper(
    dark: list[list[float]], burnt: list[list[bool]], shares: _Shares, r: int, c: int
) -> float | None:
    """The paper's darkness around (r, c): the lower quartile of the modules near it that are
    not saturated, from a wider window where too few are left (a quartile of a handful could
    be the module itself)."""
    size = shares.size
    for reach in (2, 3, 4):
        top, bottom = max(0, r - reach), min(size, r + reach + 1)
        left, right = max(0, c - reach), min(size, c + reach + 1)
        if not shares.any(r, c, reach):  # most calls (the edge modules): nothing to leave out
            usable = sorted(chain.from_iterable(row[left:right] for row in dark[top:bottom]))
        else:
            usable = sorted(
                value
                for y in range(top, bottom)
                for value, gone in zip(dark[y][left:right], burnt[y][left:right], strict=True)
                if not gone
            )
        if len(usable) >= 12:
            return usable[len(usable) // 4]
    return None


def _finder_paper(dark: list[list[float]], size: int) -> float:
    """The median log darkness of the finders' light rings: the paper away from the glare."""
    papers = sorted(
        dark[top + i][left + j]
        for top, left in ((0, 0), (0, size - 7), (size - 7, 0))
        for i in range(7)
        for j in range(7)
        if max(abs(i - 3), abs(j - 3)) == 2
    )
    return papers[len(papers) // 2]


def _finder_contrast(dark: list[list[float]], size: int) -> float:
    """How much darker ink is than paper on the log scale, from the three finder patterns."""
    inks: list[float] = []
    papers: list[float] = []
    for top, left in ((0, 0), (0, size - 7), (size - 7, 0)):
        for i in range(7):
            for j in range(7):
                ring = max(abs(i - 3), abs(j - 3))
                (papers if ring == 2 else inks).append(dark[top + i][left + j])
    inks.sort()
    papers.sort()
    return inks[len(inks) // 2] - papers[len(papers) // 2]
