"""The grid reader: finder patterns found in a crop, the module grid mapped, glare burnt-out
modules handed on as unknown, so codes zbar gives up on under a highlight still read."""

import io
import math
import random

import pytest
import qrcode
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from app.labels import grid
from app.labels.decoder import decode_image
from app.labels.readers import zbar
from tests.labels.photos import encode, tilted

TEXT = "KURZQ909LB7,TSPR03"


def code(text: str, module_px: int, level: int = qrcode.constants.ERROR_CORRECT_M) -> Image.Image:
    made = qrcode.QRCode(error_correction=level, box_size=module_px, border=4)
    made.add_data(text)
    made.make(fit=True)
    return made.make_image().get_image().convert("L").point(lambda v: 215 if v else 30)


def on_backdrop(image: Image.Image, angle: float = 0.0, tilt: float = 0.0) -> Image.Image:
    if angle:
        image = image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=90)
    if tilt:
        image = tilted(image, tilt, 90)
    frame = Image.new("L", (image.width + 60, image.height + 60), 90)
    frame.paste(image, (30, 30))
    return frame


def burnt(image: Image.Image, centre: tuple[float, float], radius: float) -> Image.Image:
    """A saturated highlight with a washed-out halo, as a flash on a glossy sticker leaves."""
    x, y = centre[0] * image.width, centre[1] * image.height
    r = radius * image.width
    lobe = Image.new("L", image.size, 0)
    ImageDraw.Draw(lobe).ellipse((x - r, y - r * 0.7, x + r, y + r * 0.7), fill=255)
    lobe = lobe.filter(ImageFilter.GaussianBlur(r * 0.35)).point(lambda v: min(255, v * 2))
    return ImageChops.screen(image, lobe)


@pytest.mark.parametrize(("angle", "tilt"), [(0, 0), (17, 0), (45, 0.08), (200, 0.12), (301, 0)])
def test_reads_a_turned_and_tilted_code(angle: float, tilt: float) -> None:
    assert grid.read(on_backdrop(code(TEXT, 8), angle, tilt)) == [TEXT]


def test_reads_codes_under_glare_that_zbar_cannot() -> None:
    """The saturated core is unknown to the reader, not a patch of light modules: with the
    same highlights (a seventh of the code across) zbar reads none of ten and this reads
    four (at a tenth across: zbar 6, this 10; at a fifth: both none)."""
    zbar_read = read = 0
    for seed in range(10):
        rng = random.Random(seed)
        image = burnt(code(TEXT, 9), (rng.uniform(0.4, 0.6), rng.uniform(0.4, 0.6)), 0.14)
        view = on_backdrop(image, rng.uniform(0, 360), rng.uniform(0, 0.08))
        zbar_read += zbar(view) == [TEXT]
        result = grid.read(view)
        assert result in ([], [TEXT])  # never a wrong text
        read += result == [TEXT]
    assert zbar_read == 0
    assert read >= 3


def test_a_burnt_out_finder_is_guessed_from_the_other_two() -> None:
    image = code(TEXT, 8)
    # cover the bottom-left finder (the quiet zone is 4 modules) with a saturated patch
    ImageDraw.Draw(image).rectangle(
        (4 * 8, image.height - 12 * 8, 12 * 8, image.height - 4 * 8), 255
    )
    assert grid.read(on_backdrop(image, 12)) == [TEXT]


def test_a_url_label_at_level_q() -> None:
    text = "https://thingsee.com/d/TSTF02S1TZY1U2NCR"
    image = code(text, 7, qrcode.constants.ERROR_CORRECT_Q)
    assert grid.read(on_backdrop(image, 33, 0.05)) == [text]


def test_nothing_comes_out_of_a_crop_without_a_code() -> None:
    rng = random.Random(3)
    clutter = Image.new("L", (400, 400), 128)
    draw = ImageDraw.Draw(clutter)
    for _ in range(60):
        x, y = rng.randrange(400), rng.randrange(400)
        draw.rectangle(
            (x, y, x + rng.randrange(5, 60), y + rng.randrange(5, 60)), rng.randrange(256)
        )
    assert grid.read(clutter) == []
    assert grid.read(Image.new("L", (400, 400), 200)) == []
    assert grid.read(Image.new("L", (3, 3), 0)) == []


def test_a_finder_pattern_alone_gives_nothing() -> None:
    image = code(TEXT, 8)
    image.paste(215, (13 * 8, 0, image.width, image.height))  # only the left finders remain
    assert grid.read(on_backdrop(image)) == []


def test_the_cascade_reads_glared_labels_with_the_grid_step() -> None:
    by_grid = 0
    for seed, radius in [(seed, radius) for radius in (0.14, 0.16) for seed in range(10)]:
        rng = random.Random(seed)
        image = burnt(code(TEXT, 9), (rng.uniform(0.4, 0.6), rng.uniform(0.4, 0.6)), radius)
        photo = Image.new("L", (1600, 1200), 90)
        photo.paste(on_backdrop(image, rng.uniform(0, 360), rng.uniform(0, 0.08)), (500, 300))
        result = decode_image(encode(photo))
        assert [label.tuid for label in result.labels] in ([], ["TSPR03KURZQ909LB7"])
        by_grid += bool(result.labels) and result.steps_tried[-1].startswith("grid")
    assert by_grid >= 2


@pytest.mark.parametrize(
    ("module_px", "ink", "paper", "radius", "spread", "gain", "where"),
    [
        (4, 10, 70, 0.2, 0.6, 4.0, 0.22),  # dim light
        (5, 10, 70, 0.2, 0.6, 2.5, 0.3),
        (5, 110, 176, 0.26, 0.6, 2.5, 0.3),  # a faded print
    ],
)
def test_a_finder_glare_burnt_out_is_read_from_the_sharpened_crop(
    module_px: int,
    ink: int,
    paper: int,
    radius: float,
    spread: float,
    gain: float,
    where: float,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wide highlight over the top-left finder of a small, dim, slightly blurred code: the
    triple is guessed from the other two finders, and its grid is only read from the
    unsharp-masked crop, not from the crop as it is."""
    made = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=module_px)
    made.add_data(TEXT)
    made.make(fit=True)
    image = made.make_image().get_image().convert("L").point(lambda v: paper if v else ink)
    x, y, r = where * image.width, where * image.height, radius * image.width
    lobe = Image.new("L", image.size, 0)
    ImageDraw.Draw(lobe).ellipse((x - r, y - r * 0.7, x + r, y + r * 0.7), fill=255)
    lobe = lobe.filter(ImageFilter.GaussianBlur(r * spread)).point(lambda v: min(255, v * gain))
    image = ImageChops.screen(image, lobe).filter(ImageFilter.GaussianBlur(1.0))
    with Image.open(io.BytesIO(encode(on_backdrop(image, 20), quality=70))) as stored:
        view = stored.convert("L")
    assert grid.read(view) == [TEXT]
    monkeypatch.setattr(grid, "SHARPEN", ImageFilter.UnsharpMask(radius=2, percent=0))
    assert grid.read(view) == []


@pytest.mark.parametrize(("angle", "tilt"), [(0, 0.1), (60, 0.15), (200, 0.2)])
def test_a_tilted_code_whose_alignment_pattern_glare_burnt_out(
    angle: float, tilt: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the pattern the three finders give a parallelogram, off by modules at the far
    corner of a tilted code; the corner where the grid comes out sharpest is right."""
    text = "https://thingsee.com/d/TSTF02S1TZY1U2NCR"
    image = code(text, 8)
    start = (4 + 29 - 9) * 8  # the bottom-right alignment pattern of a 29-module code
    ImageDraw.Draw(image).rectangle((start, start, start + 40, start + 40), 255)
    view = on_backdrop(image, angle, tilt)
    assert grid.read(view) == [text]
    monkeypatch.setattr(grid, "_focus", lambda grey, known, affine, size, start: start)
    assert grid.read(view) == []


def test_modules_glare_washed_out_count_for_less_but_keep_their_sign() -> None:
    """A halo that leaves the paper a sixth of its darkness (not saturated) keeps ink darker
    than paper, a few grey levels apart where JPEG noise is as large: the reader says so with
    a small confidence, so the Chase retries erase those codewords first."""
    made = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    made.add_data(TEXT)
    made.make(fit=True)
    modules = made.modules
    size = len(modules)

    centre = size // 2

    def left(r: int, c: int) -> float:
        """The share of the paper's darkness a smooth highlight in the middle leaves."""
        return 1 - 0.83 * math.exp(-((r - centre) ** 2 + (c - centre) ** 2) / 18)

    def washed(r: int, c: int) -> bool:
        return max(abs(r - centre), abs(c - centre)) <= 1

    values = [
        [255 - (255 - (30.0 if dark else 215.0)) * left(r, c) for c, dark in enumerate(row)]
        for r, row in enumerate(modules)
    ]
    soft = grid._soft(values, size)
    inside = [soft[r][c] for r in range(size) for c in range(size) if washed(r, c)]
    outside = [soft[r][c] for r in range(size) for c in range(size) if left(r, c) > 0.95]
    assert all(
        (soft[r][c] > 0) == modules[r][c] for r in range(size) for c in range(size) if washed(r, c)
    )
    mean = lambda values: sum(abs(v) for v in values) / len(values)  # noqa: E731
    assert mean(inside) < 0.4 * mean(outside)


def per_module_soft(values: list[list[float]], size: int) -> list[list[float]]:
    """grid._soft as it was written first: every module's window counted and sorted in Python."""
    dark = [[math.log1p(max(0.0, 255.0 - value)) for value in row] for row in values]
    burnt = [[value >= grid.SATURATED for value in row] for row in values]

    def window(r: int, c: int, reach: int) -> list[tuple[int, int]]:
        rows = range(max(0, r - reach), min(size, r + reach + 1))
        return [(y, x) for y in rows for x in range(max(0, c - reach), min(size, c + reach + 1))]

    def share(r: int, c: int, reach: int) -> float:
        cells = window(r, c, reach)
        return sum(burnt[y][x] for y, x in cells) / len(cells)

    def paper(r: int, c: int) -> float | None:
        for reach in (2, 3, 4):
            usable = sorted(dark[y][x] for y, x in window(r, c, reach) if not burnt[y][x])
            if len(usable) >= 12:
                return usable[len(usable) // 4]
        return None

    contrast = grid._finder_contrast(dark, size)
    if contrast <= 0.05:
        return [[0.0] * size for _ in range(size)]
    half = contrast / 2
    paper_dark = math.expm1(grid._finder_paper(dark, size))
    soft = [[0.0] * size for _ in range(size)]
    for r in range(size):
        for c in range(size):
            if burnt[r][c] and share(r, c, 2) >= 0.7:
                continue
            level = paper(r, c)
            if level is None:
                continue
            value = (dark[r][c] - level - half) / half
            if share(r, c, 1) > 0:
                value /= 2
            left = math.expm1(level) / paper_dark if paper_dark > 0 else 1.0
            value *= min(1.0, max(0.05, left))
            soft[r][c] = max(-2.0, min(2.0, value)) or 1e-3
    return soft


@pytest.mark.parametrize("glare", [False, True])
def test_soft_values_ranked_in_c_are_those_of_the_per_module_sort(glare: bool) -> None:
    """The paper's level is ranked by Pillow and the saturated modules counted from running
    sums where that gives the same answer: the soft values must be exactly the per-module
    computation's, with and without glare patches (and on grids not of whole grey levels)."""
    rng = random.Random(5)
    for trial in range(40):
        size = rng.choice([21, 25, 29, 33])
        values = [
            [float(max(0, min(250, rng.choice([30, 200]) + rng.randint(-60, 60)))) for _ in row]
            for row in [[0] * size] * size
        ]
        if glare:
            for _ in range(rng.randint(1, 3)):
                top, left, side = rng.randrange(size), rng.randrange(size), rng.randint(1, 9)
                for r in range(top, min(size, top + side)):
                    for c in range(left, min(size, left + side)):
                        values[r][c] = 255.0
        if trial % 5 == 0:
            values[size // 2][size // 2] += 0.5
        assert grid._soft(values, size) == per_module_soft(values, size)
