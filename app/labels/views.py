"""Views: the prepared images (a whole frame, or crops of the likeliest code spots) that a
cascade step hands to the QR reader, each under a key so it is scanned once per photo."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice

from PIL import Image

from app.labels.locator import Box, find_spots
from app.labels.photo import LEAST_CHANNEL_PX, Photo
from app.labels.prepare import Prepare, turned

View = tuple[str, Image.Image]
Region = tuple[float, float, float, float]  # left, top, right, bottom in full-size photo pixels

LOCATOR_PX = 1000
SPOT_COUNT = 4  # spots most steps look at
MORE_SPOTS = 4  # and the next ones, which a late step looks at (clutter can outscore a code)


Views = Callable[[Photo], Iterator[View]]


def frame(long_side: int | None, prepare: Prepare | None = None, tag: str = "grey") -> Views:
    """The whole photo, its long side scaled to `long_side` (None: full size)."""

    def views(photo: Photo) -> Iterator[View]:
        image = photo.grey(long_side)
        yield f"frame:{tag}@{max(image.size)}", (prepare(image) if prepare else image)

    return views


@dataclass(frozen=True)
class Margin:
    """How much of the photo around a spot a crop takes, in locator pixels."""

    relative: float  # of the spot's long side, plus 8 px
    least: float = 0.0

    @property
    def tag(self) -> str:
        return f"{self.relative:g}/{self.least:g}"


# The locator's spot is often a little smaller than the code (the edges of a blurred code
# score below the grow cut), and for a code of a few cells it can sit off centre: the costlier
# steps take more margin, which costs them resolution but rarely cuts the code off.
TIGHT = Margin(0.35)
LOOSE = Margin(0.35, least=24)
WIDE = Margin(0.7, least=24)


def spots(
    side: int,
    prepares: dict[str, Prepare | None],
    *,
    margin: Margin = TIGHT,
    locate_px: int = LOCATOR_PX,
    more: bool = False,
    least_channel: bool = False,
) -> Views:
    """The likeliest code spots, each cropped, scaled to `side` px and prepared in turn.

    `locate_px` is the size of the copy the spots are looked for in: codes of a few modules
    per pixel there only stand out in a larger copy. `more` takes the next, less likely spots.
    `least_channel` crops them from the darkest-channel copy (glare), not from luma.
    """
    where = "" if (margin, locate_px) == (TIGHT, LOCATOR_PX) else f"[{margin.tag}@{locate_px}]"
    where += "[least channel]" if least_channel else ""
    first = SPOT_COUNT if more else 0

    def views(photo: Photo) -> Iterator[View]:
        crops = spot_crops(
            photo,
            side,
            margin=margin,
            locate_px=locate_px,
            more=more,
            least_channel=least_channel,
        )
        regions: dict[str, Region] = photo.extras.setdefault("spot_regions", {})
        for tag, prepare in prepares.items():
            for index, (region, crop) in enumerate(crops, start=first):
                if _holds_other_code(photo, region):
                    continue
                key = f"spot{index}{where}:{tag}@{side}"
                regions[key] = region
                yield key, (prepare(crop) if prepare else crop)

    return views


def read_other_code(photo: Photo, key: str) -> None:
    """Note that the spot view `key` held a code that is not a label and no label: later
    steps skip that spot (and any spot found over it in another copy) so that the short
    search for a label beside the other code is spent elsewhere. Other views are ignored."""
    region = photo.extras.get("spot_regions", {}).get(key)
    if region is not None:
        photo.extras.setdefault("other_code_regions", []).append(region)


def _holds_other_code(photo: Photo, region: Region) -> bool:
    """Whether most of the spot lies on a spot where another code was read."""
    left, top, right, bottom = region
    area = max(1.0, (right - left) * (bottom - top))
    for x0, y0, x1, y1 in photo.extras.get("other_code_regions", ()):
        width = max(0.0, min(right, x1) - max(left, x0))
        height = max(0.0, min(bottom, y1) - max(top, y0))
        overlap = width * height
        if overlap > 0.5 * min(area, (x1 - x0) * (y1 - y0)):
            return True
    return False


def spot_crops(
    photo: Photo,
    side: int,
    *,
    margin: Margin = TIGHT,
    locate_px: int = LOCATOR_PX,
    more: bool = False,
    least_channel: bool = False,
) -> list[tuple[Region, Image.Image]]:
    """Crop the likeliest code spots from the smallest copy that is sharp enough, at `side` px:
    each with the spot's region in the full-size photo (the locator's box, without margin).

    `least_channel`: from the photo's darkest-channel copy (at most LEAST_CHANNEL_PX across).
    """
    cache: dict[tuple[int, Margin, int, bool, bool], list[tuple[Region, Image.Image]]]
    cache = photo.extras.setdefault("spot_crops", {})
    key = (side, margin, locate_px, more, least_channel)
    if key in cache:
        return cache[key]
    small = photo.grey(locate_px)
    found: dict[int, list[Box]] = photo.extras.setdefault("spots", {})
    if locate_px not in found:
        found[locate_px] = find_spots(small, count=SPOT_COUNT + MORE_SPOTS)
    boxes = found[locate_px][SPOT_COUNT:] if more else found[locate_px][:SPOT_COUNT]
    ratio = photo.long_side / max(small.size)
    crops: list[tuple[Region, Image.Image]] = []
    for x0, y0, x1, y1 in boxes:
        pad = max(max(x1 - x0, y1 - y0) * margin.relative + 8, margin.least)
        box = (
            max(0.0, x0 - pad),
            max(0.0, y0 - pad),
            min(small.width, x1 + pad),
            min(small.height, y1 + pad),
        )
        extent = max(box[2] - box[0], box[3] - box[1]) * ratio  # in full-size pixels
        needed = photo.long_side * side / max(extent, 1.0)  # long side that gives `side` px
        source_px = 1000 if needed <= 1000 else 2000 if needed <= 2000 else None
        if least_channel:
            source = photo.least_channel(source_px or LEAST_CHANNEL_PX)
        else:
            source = photo.grey(source_px)
        scale = max(source.size) / photo.long_side * ratio
        left, top, right, bottom = (round(v * scale) for v in box)
        crop = source.crop((left, top, right, bottom))
        factor = side / max(crop.size)
        size = (max(1, round(crop.width * factor)), max(1, round(crop.height * factor)))
        method = Image.Resampling.BICUBIC if factor > 1 else Image.Resampling.BOX
        region = (x0 * ratio, y0 * ratio, x1 * ratio, y1 * ratio)
        crops.append((region, crop.resize(size, method)))
    cache[key] = crops
    return crops


def turns(prepare: Prepare) -> dict[str, Prepare | None]:
    """The preparation, then every quarter turn's worth of angles 15 degrees apart."""
    return {f"{prepare.__name__}+turn{angle}": turned(angle, prepare) for angle in range(0, 90, 15)}


def leading(count: int, part: Views) -> Views:
    """Only the first `count` views of a views function (the likeliest spots)."""

    def views(photo: Photo) -> Iterator[View]:
        yield from islice(part(photo), count)

    return views


def joined(*parts: Views) -> Views:
    """Several views functions as one: each one's views in turn."""

    def views(photo: Photo) -> Iterator[View]:
        for part in parts:
            yield from part(photo)

    return views
