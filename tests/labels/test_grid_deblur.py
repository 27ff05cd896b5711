"""Blur taken out of a sampled module grid: the blur fitted on the finder patterns, then each
module's own darkness with its neighbours' share removed, so a code blurred by half a module
or more, which neither zbar nor the grid as sampled reads, still reads."""

import io
import random

import pytest
import qrcode
from PIL import Image, ImageFilter

from app.labels import grid, grid_deblur
from app.labels.readers import zbar
from tests.labels.photos import encode
from tests.labels.test_grid import TEXT, code, on_backdrop


def modules(text: str = TEXT) -> list[list[bool]]:
    made = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    made.add_data(text)
    made.make(fit=True)
    return [list(row) for row in made.modules]


def blurred_darkness(
    truth: list[list[bool]], sigma: float, noise: float, seed: int = 1
) -> list[list[float]]:
    """Darkness at each module centre of a code blurred by `sigma` modules: paper 40, ink 190."""
    rng = random.Random(seed)
    size = len(truth)
    k = grid_deblur.kernel(sigma)

    def ink(r: int, c: int) -> bool:
        return 0 <= r < size and 0 <= c < size and truth[r][c]

    return [
        [
            40
            + 150
            * sum(
                k[a + 2] * k[b + 2] * ink(r + a, c + b) for a in range(-2, 3) for b in range(-2, 3)
            )
            + rng.gauss(0, noise)
            for c in range(size)
        ]
        for r in range(size)
    ]


def wrong(darkness: list[list[float]], truth: list[list[bool]], paper: float, contrast: float):
    size = len(truth)
    return sum(
        ((darkness[r][c] - paper) / contrast > 0.5) != truth[r][c]
        for r in range(size)
        for c in range(size)
    )


@pytest.mark.parametrize("sigma", [0.0, 0.4, 0.6, 0.8])
def test_the_blur_is_fitted_on_the_finder_patterns(sigma: float) -> None:
    fitted, paper, contrast, noise = grid_deblur.fit_blur(blurred_darkness(modules(), sigma, 3))
    assert fitted == sigma
    assert abs(paper - 40) < 5 and abs(contrast - 150) < 8 and 2 < noise < 4


@pytest.mark.parametrize(("sigma", "noise"), [(0.6, 2), (0.6, 6), (0.7, 2)])
def test_each_module_is_restored_where_the_grid_as_sampled_has_dozens_wrong(
    sigma: float, noise: float
) -> None:
    truth = modules()
    darkness = blurred_darkness(truth, sigma, noise)
    fitted, paper, contrast, fit_noise = grid_deblur.fit_blur(darkness)
    own = grid_deblur.deblurred(darkness, fitted, paper, contrast, fit_noise)
    assert wrong(darkness, truth, paper, contrast) > 30
    assert wrong(own, truth, 0.0, 1.0) == 0


def test_a_sharp_grid_is_left_as_sampled() -> None:
    truth = modules()
    values = [[255 - v for v in row] for row in blurred_darkness(truth, 0.0, 3)]
    assert grid_deblur.unblurred(values, saturated=grid.SATURATED) is None


def test_a_grid_without_a_code_is_left_alone() -> None:
    rng = random.Random(3)
    flat = [[rng.uniform(120, 130) for _ in range(25)] for _ in range(25)]
    assert grid_deblur.unblurred(flat, saturated=grid.SATURATED) is None


def view_of(module_px: int, blur_modules: float, angle: float) -> Image.Image:
    image = on_backdrop(code(TEXT, module_px), angle)
    image = image.filter(ImageFilter.GaussianBlur(blur_modules * module_px))
    with Image.open(io.BytesIO(encode(image, quality=80))) as stored:
        return stored.convert("L")


@pytest.mark.parametrize(
    ("module_px", "blur_modules", "angle"), [(5, 0.5, 0), (5, 0.6, 20), (6, 0.6, 0), (6, 0.7, 0)]
)
def test_a_code_blurred_by_over_half_a_module_reads_once_unblurred(
    module_px: int, blur_modules: float, angle: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = view_of(module_px, blur_modules, angle)
    assert zbar(view) == []
    assert grid.read(view) == [TEXT]
    monkeypatch.setattr(grid, "MAX_UNBLURRED", 0)
    assert grid.read(view) == []


def test_codes_blurred_past_reading_give_no_wrong_text() -> None:
    """At 0.8 module the fitted blur leaves too many modules in doubt: no read, and never a
    text the code does not hold."""
    for module_px, angle in ((5, 0), (5, 33), (6, 0), (6, 71)):
        assert grid.read(view_of(module_px, 0.8, angle)) in ([], [TEXT])


def test_a_glared_module_stays_as_sampled() -> None:
    truth = modules()
    values = [[255 - v for v in row] for row in blurred_darkness(truth, 0.6, 2)]
    values[12][12] = 255.0
    unblurred = grid_deblur.unblurred(values, saturated=grid.SATURATED)
    assert unblurred is not None
    assert unblurred[12][12] == 255.0
    assert all(
        v < grid.SATURATED
        for r, row in enumerate(unblurred)
        for c, v in enumerate(row)
        if (r, c) != (12, 12)
    )
