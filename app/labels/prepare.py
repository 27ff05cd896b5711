"""Preparations for the decoder's views: a greyscale image in, a greyscale image out.

Each one undoes one kind of harm a phone photo does to a code (blur, uneven light, glare, a
tilt that zbar does not follow); bench/qr_decode.py measures which ones pay for their time.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PIL import Image, ImageChops, ImageFilter, ImageOps

from app.labels.locator import code_angle

Prepare = Callable[[Image.Image], Image.Image]


def sharpen(image: Image.Image) -> Image.Image:
    """Unsharp mask: steeper module edges in a blurred code."""
    return image.filter(ImageFilter.UnsharpMask(radius=2, percent=200, threshold=0))


def sharpen_hard(image: Image.Image) -> Image.Image:
    """A wider, stronger unsharp mask for badly blurred codes."""
    return image.filter(ImageFilter.UnsharpMask(radius=3, percent=300, threshold=0))


def denoise_sharpen(image: Image.Image) -> Image.Image:
    """Median filter (sensor noise, JPEG ringing), then a strong unsharp mask."""
    return image.filter(ImageFilter.MedianFilter(3)).filter(
        ImageFilter.UnsharpMask(radius=2, percent=300, threshold=0)
    )


def threshold(image: Image.Image) -> Image.Image:
    """Black/white against the local mean, which removes uneven light and glare gradients."""
    radius = max(4, max(image.size) // 60)
    mean = image.filter(ImageFilter.BoxBlur(radius))
    # image - mean + 128, then cut a little below the mean so flat paper stays white
    diff = ImageChops.add(image, ImageChops.invert(mean), scale=1.0, offset=-127)
    return diff.point(lambda v: 255 if v >= 120 else 0)


def turned(angle: float, then: Prepare | None = None) -> Prepare:
    """Rotate by `angle` degrees first: zbar reads along rows and columns, and a code near 45
    degrees, blurred or tilted, often only reads once turned closer to square."""

    def prepare(image: Image.Image) -> Image.Image:
        if then is not None:
            image = then(image)
        fill = image.getpixel((0, 0))
        return image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)

    return prepare


def upright(then: Prepare | None = None) -> Prepare:
    """Turn the code square first (its angle measured, see locator.code_angle), then prepare.

    zbar misses many tilted, blurred codes turned near 45 degrees that it reads once they are
    square. On the benchmark's hardest photos one measured turn read most of what a sweep of
    six fixed angles read, at a sixth of the scans.
    """

    def prepare(image: Image.Image) -> Image.Image:
        fill = image.getpixel((0, 0))
        square = image.rotate(
            -code_angle(image), resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill
        )
        return then(square) if then is not None else square

    prepare.__name__ = f"upright+{then.__name__}" if then is not None else "upright"
    return prepare


def deblur(module_px: float) -> Prepare:
    """Undo a defocus of about half a module: a light Gaussian against noise, then Van Cittert.

    An unsharp mask only steepens edges; a few Van Cittert iterations (x += observed - blur(x))
    invert a Gaussian blur of the given width, which brings back the single-module gaps that
    defocus fills in, and unlike a strong unsharp mask it does not drown them in sensor noise.
    On the benchmark corpus a blur of half a module and three iterations read the most codes;
    nearby values (0.4-0.7 module, 2-4 iterations) read nearly as many.
    """
    sigma = 0.5 * module_px
    smooth = ImageFilter.GaussianBlur(0.3 * module_px)

    def prepare(image: Image.Image) -> Image.Image:
        observed = image.filter(smooth)
        estimate = observed
        for _ in range(3):
            residual = ImageChops.subtract(
                observed, estimate.filter(ImageFilter.GaussianBlur(sigma)), 1.0, 128
            )
            estimate = ImageChops.add(estimate, residual, 1.0, -128)
        return estimate

    prepare.__name__ = "deblur"
    return prepare


def normalise(modules: float) -> Prepare:
    """Local contrast normalisation: the image less its mean over about two modules, stretched.

    Glare washes out the modules around its saturated core: a brightness ramp bigger than the
    code's contrast, which zbar's own threshold cannot follow. Against a local mean two modules
    wide the ramp is gone and the modules stand out again. `modules` is how many module widths
    the image is across (a spot crop is about 1.7 times its code, of 25-33 modules).
    """

    def prepare(image: Image.Image) -> Image.Image:
        radius = max(2, round(2 * max(image.size) / modules))
        mean = image.filter(ImageFilter.BoxBlur(radius))
        flat = ImageChops.subtract(image, mean, 1.0, 128)
        return ImageOps.autocontrast(flat, cutoff=1)

    prepare.__name__ = "normalise"
    return prepare


def enlarge_sharpen(image: Image.Image) -> Image.Image:
    """A code of 2-3 px a module, enlarged: a strong narrow unsharp mask, then a threshold.

    Bicubic enlarging leaves soft module edges that zbar's sampler misreads; steepening them
    before black and white keeps the one-module gaps.
    """
    return threshold(image.filter(ImageFilter.UnsharpMask(radius=3, percent=250, threshold=0)))


# Darkness (255 - grey) on a log scale and back: dividing two images is subtracting their logs.
_LOG_DARKNESS = [round(255 * math.log1p(255 - v) / math.log(256)) for v in range(256)]
_FROM_LOG_RATIO = [
    min(255, round(255 * math.exp((v - 255) * math.log(256) / 255))) for v in range(256)
]


def flatten(modules: float) -> Prepare:
    """Take the light out: each pixel's darkness divided by the local paper's darkness.

    A highlight adds light the way a screen blend does: 255 - seen = (255 - print) x (1 -
    glare), so the print is the darkness seen over the darkness of white paper in the same
    light, whatever the glare. The paper's level is the brightest pixel within about five
    modules (a finder's dark core is three), smoothed. Where glare saturated the sensor both
    are 0 and the pixel is white: those modules are lost. `modules` as for `normalise`.
    """

    def prepare(image: Image.Image) -> Image.Image:
        step = max(1, round(max(image.size) / modules))  # about one module a pixel
        small = image.resize(
            (max(1, image.width // step), max(1, image.height // step)), Image.Resampling.BOX
        )
        paper = small.filter(ImageFilter.MaxFilter(5)).filter(ImageFilter.GaussianBlur(3))
        paper = paper.resize(image.size, Image.Resampling.BILINEAR)
        # log(paper darkness) - log(darkness) + 255: 255 on paper, lower on ink
        ratio = ImageChops.subtract(
            paper.point(_LOG_DARKNESS), image.point(_LOG_DARKNESS), 1.0, 255
        )
        return ImageOps.autocontrast(ratio.point(_FROM_LOG_RATIO), cutoff=1)

    prepare.__name__ = "flatten"
    return prepare


def chained(*prepares: Prepare) -> Prepare:
    """Apply the preparations in turn (named after them, for the benchmark's tables)."""

    def prepare(image: Image.Image) -> Image.Image:
        for step in prepares:
            image = step(image)
        return image

    prepare.__name__ = "+".join(step.__name__ for step in prepares)
    return prepare
