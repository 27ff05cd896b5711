"""Undo a blur on a sampled module grid: each module's value less what its neighbours spilt in.

A Gaussian blur of sigma s modules makes a module's centre a weighted sum of the modules
around it: at s = 0.6 the module itself gives a third of what is seen there, so a lone dark
module among light ones samples lighter than the paper's midpoint and reads wrong. In module
units the blur is a small known kernel, and the three finder patterns (with their light
separators and the quiet zone) are modules we know: the blur that fits them best is the one
the photo has. Knowing it, every module's own darkness is what is seen less its neighbours'
share, with the neighbours' darkness itself estimated: a few rounds of interference
cancellation, each module's estimate pulled towards dark or light as the noise allows (the
modules are ink or paper, nothing between), which inverts what a linear deconvolution could not
without drowning the one-module checks in noise.
"""

from __future__ import annotations

import math
from array import array
from functools import cache

from PIL import Image, ImageFilter

Grid = list[list[float]]

SIGMAS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)  # blur widths fitted, in modules
MIN_SIGMA = 0.35  # below this the grid is read as sampled: the blur spills too little
ROUNDS = 8
MIN_CONTRAST = 12.0  # grey levels between ink and paper the fit must find, or no code is there
_REACH = 2  # modules each side a kernel reaches (a Gaussian of 0.9 module leaves < 1 % past it)


@cache
def kernel(sigma: float) -> tuple[float, ...]:
    """The share of a module's centre value each module at offset -2..2 gives along one axis:
    a Gaussian of `sigma` modules integrated over each module's width."""
    if sigma <= 0:
        return (0.0, 0.0, 1.0, 0.0, 0.0)

    def cdf(x: float) -> float:
        return 0.5 * (1 + math.erf(x / (sigma * math.sqrt(2))))

    weights = [cdf(k + 0.5) - cdf(k - 0.5) for k in range(-_REACH, _REACH + 1)]
    total = sum(weights)
    return tuple(w / total for w in weights)


@cache
def _finder_truth(size: int) -> dict[tuple[int, int], float]:
    """Darkness (1 ink, 0 paper) of the modules we know: the finders, their separators, the
    quiet zone around the code (two modules of it), and the timing rows."""
    known: dict[tuple[int, int], float] = {}
    for r in range(-_REACH, size + _REACH):
        for c in range(-_REACH, size + _REACH):
            if not (0 <= r < size and 0 <= c < size):
                known[(r, c)] = 0.0
    for top, left in ((0, 0), (0, size - 7), (size - 7, 0)):
        for i in range(-1, 8):
            for j in range(-1, 8):
                r, c = top + i, left + j
                if 0 <= r < size and 0 <= c < size:
                    ring = max(abs(i - 3), abs(j - 3))
                    known[(r, c)] = 1.0 if ring in (0, 1, 3) else 0.0
    for k in range(8, size - 8):
        known[(6, k)] = known[(k, 6)] = 1.0 if k % 2 == 0 else 0.0
    return known


@cache
def _fit_cells(size: int) -> tuple[tuple[int, int], ...]:
    """Finder modules whose whole kernel reach is known: the blur is fitted on them."""
    known = _finder_truth(size)
    cells = []
    for top, left in ((0, 0), (0, size - 7), (size - 7, 0)):
        for i in range(-1, 8):
            for j in range(-1, 8):
                r, c = top + i, left + j
                if not (0 <= r < size and 0 <= c < size):
                    continue
                if all(
                    (r + a, c + b) in known
                    for a in range(-_REACH, _REACH + 1)
                    for b in range(-_REACH, _REACH + 1)
                ):
                    cells.append((r, c))
    return tuple(cells)


@cache
def _fit_model(size: int, sigma: float) -> tuple[tuple[tuple[int, int], ...], tuple[float, ...]]:
    """The fit cells and their darkness under a blur of `sigma` (1 ink, 0 paper)."""
    known = _finder_truth(size)
    k = kernel(sigma)
    cells = _fit_cells(size)
    return cells, tuple(
        sum(
            k[a + _REACH] * k[b + _REACH] * known[(r + a, c + b)]
            for a in range(-_REACH, _REACH + 1)
            for b in range(-_REACH, _REACH + 1)
        )
        for r, c in cells
    )


def fit_blur(darkness: Grid) -> tuple[float, float, float, float]:
    """(sigma, paper, ink - paper, noise) of the blur that best explains the finders: darkness
    seen = paper + contrast x blurred truth, by least squares for each candidate sigma."""
    size = len(darkness)
    best: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    best_rss = math.inf
    for sigma in SIGMAS:
        cells, xs = _fit_model(size, sigma)
        ys = [darkness[r][c] for r, c in cells]
        n = len(xs)
        mx, my = sum(xs) / n, sum(ys) / n
        sxx = sum((x - mx) ** 2 for x in xs)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
        offset = my - slope * mx
        rss = sum((y - offset - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
        if rss < best_rss:
            best_rss = rss
            best = (sigma, offset, slope, math.sqrt(rss / max(1, n - 2)))
    return best


_SCALE = 10_000  # probabilities as integers: Pillow convolves 32-bit integer images, not floats


def deblurred(darkness: Grid, sigma: float, paper: float, contrast: float, noise: float) -> Grid:
    """Each module's own darkness (0 paper, 1 ink) with its neighbours' share taken out."""
    size = len(darkness)
    side = size + 2 * _REACH
    k = kernel(sigma)
    centre = k[_REACH] * k[_REACH]
    weights = [
        0.0 if a == b == _REACH else k[a] * k[b]
        for a in range(2 * _REACH + 1)
        for b in range(2 * _REACH + 1)
    ]
    spill_of = ImageFilter.Kernel((5, 5), weights, scale=1)
    z = [(v - paper) / contrast for row in darkness for v in row]
    # the probability each module (of the grid padded with the quiet zone) is ink
    p = [0] * (side * side)
    cells: list[tuple[int, int, bool]] = []  # (index in z, index in p, known?)
    known = _finder_truth(size)
    for r in range(size):
        for c in range(size):
            at = (r + _REACH) * side + c + _REACH
            truth = known.get((r, c))
            cells.append((r * size + c, at, truth is not None))
            if truth is None:
                p[at] = round(_SCALE * min(1.0, max(0.0, z[r * size + c])))
            else:
                p[at] = round(_SCALE * truth)
    spread = max(noise / contrast, 0.02) / centre  # the noise of a module's own estimate
    own = [0.0] * (size * size)
    for round_ in range(ROUNDS):
        image = Image.frombytes("I", (side, side), array("i", p).tobytes())
        spill = array("i", image.filter(spill_of).tobytes())
        gain = min(1.0, (round_ + 1) / 4) / (2 * spread * spread)  # trust grows each round
        for i, at, fixed in cells:
            own[i] = estimate = (z[i] - spill[at] / _SCALE) / centre
            if fixed:
                continue
            llr = max(-30.0, min(30.0, gain * (estimate - 0.5)))
            p[at] = round(0.5 * p[at] + 0.5 * _SCALE / (1 + math.exp(-llr)))
    return [own[r * size : (r + 1) * size] for r in range(size)]


def unblurred(values: Grid, *, saturated: float) -> Grid | None:
    """The module brightnesses (whole grey levels, as sampled) with the blur the finders show
    taken out, or None when they show next to none (or no code: too little contrast to fit).
    Modules at or above `saturated` stay as they are: glare left nothing there to restore."""
    darkness = [[255.0 - value for value in row] for row in values]
    sigma, paper, contrast, noise = fit_blur(darkness)
    if sigma < MIN_SIGMA or contrast < MIN_CONTRAST:
        return None
    own = deblurred(darkness, sigma, paper, contrast, noise)
    top = saturated - 1
    return [
        [
            value
            if value >= saturated
            else float(round(min(top, max(0.0, 255.0 - paper - contrast * mine))))
            for value, mine in zip(row, own_row, strict=True)
        ]
        for row, own_row in zip(values, own, strict=True)
    ]
