"""Find Thingsee label QR codes in an uploaded photo: a cheap-to-expensive cascade on pyzbar.

Each step looks at the photo in one prepared way (a size, a contrast fix, a crop...) and the
cascade stops at the first step that finds a device label, or when the time budget is spent.
Which steps are in `STEPS`, and in what order, was decided by measurement: see
bench/qr_decode.py and its per-step table.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from PIL import Image, ImageChops, ImageFilter, ImageOps
from pyzbar import pyzbar
from pyzbar.pyzbar import ZBarSymbol

from app.labels.locator import find_spots
from app.labels.parser import LabelError, ParsedLabel, parse_label
from app.labels.photo import DEFAULT_MAX_PIXELS, Photo

DEFAULT_BUDGET_S = 1.5

View = tuple[str, Image.Image]


@dataclass(frozen=True)
class DecodedCode:
    """One QR code's text and, when it is a device label, the label read from it."""

    text: str
    label: ParsedLabel | None
    error: str | None

    def to_dict(self) -> dict[str, object]:
        """Return the API's shape for one code."""
        return {
            "text": self.text,
            "label": self.label.to_dict() if self.label else None,
            "error": self.error,
        }


@dataclass
class DecodeResult:
    """Every code found, how long it took, and which steps ran (the last one found them)."""

    codes: list[DecodedCode] = field(default_factory=list)
    elapsed_ms: int = 0
    steps_tried: list[str] = field(default_factory=list)

    @property
    def labels(self) -> list[ParsedLabel]:
        return [code.label for code in self.codes if code.label is not None]


@dataclass(frozen=True)
class Step:
    """One way of looking at the photo: yields (key, image) views for zbar to scan."""

    name: str
    views: Callable[[Photo], Iterator[View]]
    whole_frame: bool = False  # looks at the whole photo, not only at the likeliest spots


def decode_image(
    data: bytes, *, budget_s: float = DEFAULT_BUDGET_S, max_pixels: int = DEFAULT_MAX_PIXELS
) -> DecodeResult:
    """Find the QR codes in a JPEG/PNG/WebP photo and read each as a device label if it is one.

    Raises BadImage for anything that is not a readable photo of an accepted format.
    """
    started = time.perf_counter()
    photo = Photo(data, max_pixels=max_pixels)
    result = DecodeResult()
    seen: dict[str, DecodedCode] = {}
    scanned: set[str] = set()
    several = False  # more than one code: a label sheet, or a label beside another code

    def over_budget() -> bool:
        return time.perf_counter() - started > budget_s

    for step in STEPS:
        if over_budget():
            break
        if several and not step.whole_frame:
            continue
        result.steps_tried.append(step.name)
        before = len(seen)
        for key, view in step.views(photo):
            if key in scanned:
                continue
            scanned.add(key)
            texts = scan(view)
            for text in texts:
                if text not in seen:
                    seen[text] = _read(text)
            if over_budget() or (not step.whole_frame and _has_label(seen, texts)):
                break  # one spot with a label is enough; whole-frame steps look again
        if not _has_label(seen, seen.keys()):
            continue
        if len(seen) <= 1 or (several and len(seen) == before):
            break  # the usual photo (one label), or a whole-frame look that added nothing
        several = True  # zbar can miss one of many codes: look at the whole photo again
    result.codes = list(seen.values())
    result.elapsed_ms = round((time.perf_counter() - started) * 1000)
    return result


def run_step(data: bytes, step: Step) -> list[str]:
    """Run one step alone on a photo and return the texts it finds (for the benchmark)."""
    photo = Photo(data)
    texts: list[str] = []
    for _key, view in step.views(photo):
        texts.extend(scan(view))
    return texts


def scan(image: Image.Image) -> list[str]:
    """Return the text of every QR code zbar finds in a greyscale image."""
    return [
        symbol.data.decode("utf-8", errors="replace")
        for symbol in pyzbar.decode(image, symbols=[ZBarSymbol.QRCODE])
    ]


def _has_label(seen: dict[str, DecodedCode], texts: Iterable[str]) -> bool:
    return any(seen[text].label is not None for text in texts)


def _read(text: str) -> DecodedCode:
    try:
        return DecodedCode(text=text, label=parse_label(text), error=None)
    except LabelError as exc:
        return DecodedCode(text=text, label=None, error=exc.message)


# ---------------------------------------------------------------------------------------------
# Preparations


def _autocontrast(image: Image.Image) -> Image.Image:
    return ImageOps.autocontrast(image, cutoff=1)


def _sharpen(image: Image.Image) -> Image.Image:
    return image.filter(ImageFilter.UnsharpMask(radius=2, percent=200, threshold=0))


def _adaptive_threshold(image: Image.Image) -> Image.Image:
    """Black/white against the local mean, which removes uneven light and glare gradients."""
    radius = max(4, max(image.size) // 60)
    mean = image.filter(ImageFilter.BoxBlur(radius))
    # image - mean + 128, then cut a little below the mean so flat paper stays white
    diff = ImageChops.add(image, ImageChops.invert(mean), scale=1.0, offset=-127)
    return diff.point(lambda v: 255 if v >= 120 else 0)


def _otsu(image: Image.Image) -> Image.Image:
    histogram = image.histogram()
    total = sum(histogram)
    sum_all = sum(i * h for i, h in enumerate(histogram))
    best, threshold, weight_b, sum_b = -1.0, 127, 0, 0.0
    for i, h in enumerate(histogram):
        weight_b += h
        if weight_b == 0:
            continue
        weight_f = total - weight_b
        if weight_f == 0:
            break
        sum_b += i * h
        mean_b, mean_f = sum_b / weight_b, (sum_all - sum_b) / weight_f
        between = weight_b * weight_f * (mean_b - mean_f) ** 2
        if between > best:
            best, threshold = between, i
    return image.point(lambda v: 255 if v > threshold else 0)


def _frame(long_side: int | None, prepare: Callable[[Image.Image], Image.Image] | None, tag: str):
    """The whole photo at one size."""

    def views(photo: Photo) -> Iterator[View]:
        image = photo.grey(long_side)
        yield f"{tag}@{max(image.size)}", (prepare(image) if prepare else image)

    return views


def _rotate(angle: float) -> Callable[[Image.Image], Image.Image]:
    def prepare(image: Image.Image) -> Image.Image:
        fill = image.getpixel((0, 0))
        return image.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)

    return prepare


def _then(*prepares: Callable[[Image.Image], Image.Image]) -> Callable[[Image.Image], Image.Image]:
    def prepare(image: Image.Image) -> Image.Image:
        for each in prepares:
            image = each(image)
        return image

    return prepare


LOCATOR_PX = 1000
SPOT_COUNT = 3


def spot_crops(photo: Photo, side: int) -> list[Image.Image]:
    """Crop the likeliest code spots from the sharpest copy needed, scaled to `side` px."""
    cache = photo.extras.setdefault("spot_crops", {})
    if side in cache:
        return cache[side]
    small = photo.grey(LOCATOR_PX)
    ratio = photo.long_side / max(small.size)
    crops: list[Image.Image] = []
    for x0, y0, x1, y1 in find_spots(small, count=SPOT_COUNT):
        margin = max(x1 - x0, y1 - y0) * 0.35 + 8
        box = (
            max(0.0, x0 - margin),
            max(0.0, y0 - margin),
            min(small.width, x1 + margin),
            min(small.height, y1 + margin),
        )
        extent = max(box[2] - box[0], box[3] - box[1]) * ratio  # in full-size pixels
        # the smallest copy in which the spot still has `side` pixels
        needed = photo.long_side * side / max(extent, 1)
        source = photo.grey(None if needed > 2000 else (1000 if needed <= 1000 else 2000))
        scale = max(source.size) / photo.long_side * ratio
        crop = source.crop(tuple(round(v * scale) for v in box))
        factor = side / max(crop.size)
        size = (max(1, round(crop.width * factor)), max(1, round(crop.height * factor)))
        method = Image.Resampling.BICUBIC if factor > 1 else Image.Resampling.BOX
        crops.append(crop.resize(size, method))
    cache[side] = crops
    return crops


def _spots(side: int, prepare: Callable[[Image.Image], Image.Image] | None, tag: str):
    """The likeliest code spots, cropped and scaled to `side` px."""

    def views(photo: Photo) -> Iterator[View]:
        for index, crop in enumerate(spot_crops(photo, side)):
            yield f"{tag}:spot{index}@{side}", (prepare(crop) if prepare else crop)

    return views


CANDIDATE_STEPS: tuple[Step, ...] = (
    Step("frame 1000", _frame(1000, None, "grey"), whole_frame=True),
    Step("spots 400", _spots(400, None, "grey")),
    Step("spots 400 autocontrast", _spots(400, _autocontrast, "ac")),
    Step("spots 400 threshold", _spots(400, _adaptive_threshold, "thr")),
    Step("spots 400 sharpen", _spots(400, _sharpen, "sharp")),
    Step("spots 400 rot30", _spots(400, _rotate(30), "r30")),
    Step("spots 400 rot60", _spots(400, _rotate(60), "r60")),
    Step("spots 400 rot30 thr", _spots(400, _then(_rotate(30), _adaptive_threshold), "r30t")),
    Step("spots 400 rot60 thr", _spots(400, _then(_rotate(60), _adaptive_threshold), "r60t")),
    Step("spots 600", _spots(600, None, "grey")),
    Step("spots 600 threshold", _spots(600, _adaptive_threshold, "thr")),
    Step("spots 600 rot45 thr", _spots(600, _then(_rotate(45), _adaptive_threshold), "r45t")),
    Step("spots 250", _spots(250, None, "grey")),
    Step("spots 250 threshold", _spots(250, _adaptive_threshold, "thr")),
    Step("frame 2000", _frame(2000, None, "grey"), whole_frame=True),
    Step("frame 2000 threshold", _frame(2000, _adaptive_threshold, "thr"), whole_frame=True),
    Step("frame 2000 sharpen", _frame(2000, _sharpen, "sharp"), whole_frame=True),
    Step("frame 1000 threshold", _frame(1000, _adaptive_threshold, "thr"), whole_frame=True),
    Step("frame full", _frame(None, None, "grey"), whole_frame=True),
)

STEPS: tuple[Step, ...] = CANDIDATE_STEPS
