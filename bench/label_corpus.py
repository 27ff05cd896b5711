"""Seeded photos of label QR codes as a site technician's phone takes them, and non-label ones.

`POST /api/labels/decode` is the fallback when live scanning fails, so its photos are the hard
ones. Each photo is one label on a piece of device housing in a cluttered frame, then harmed by
these degradations, drawn independently (so combinations turn up as often as chance makes them):

- glare, 30 %: 1-2 bright elliptical highlights, smooth lobes 30-70 % of the code across,
  saturated at the core (a median 6 % of the code, a tenth of them over 19 %) and washed out,
  tinted by the lamp, around it (a median 24 %). Glossy stickers under flash, plant-room
  fluorescent tubes and torches: the commonest reason a technician falls back to a photo.
- far, 25 %: a code of 60-100 px in a 12 MP frame (2-4 px a module). Labels on ceilings,
  behind pipes, in cabinets photographed from where the technician can stand.
- blur, 35 %: Gaussian blur, sigma 1.5-3 px. Hand shake and autofocus on the background, the
  main reason live scanning fails on a steady label.
- low contrast, 30 %: dim light (0.25-0.5 of normal) or a faded or grey-on-grey print.
  Basements, cabinets and sun-faded stickers.

Near codes are 100-400 px (log-uniform). Every photo is also turned to any angle, 70 % of them
tilted in perspective, most carry sensor noise, all are JPEG at quality 60-95 and a quarter
have an EXIF orientation. One in ten also has another, non-label QR code elsewhere in the frame
(asset tags and Wi-Fi stickers are common in plant rooms).

The table in bench/qr_decode.py reports rows by what a photo *has*: "modules < 3 px" and
"code < 100 px" are measured from the drawn code, so a far code usually counts in both.

Non-label photos: the same scenes with a URL, a Wi-Fi code or another vendor's label instead of
a Thingsee label, at ordinary sizes (120-400 px) and with the degradations at half the rate.
The same seed and index always give the same bytes.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import qrcode
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from app.labels.device_types import TYPE_BY_IMC
from tests.labels.photos import perspective_coeffs

FRAMES: tuple[tuple[tuple[int, int], float], ...] = (
    ((4000, 3000), 0.60),
    ((3264, 2448), 0.15),
    ((2592, 1944), 0.10),
    ((2048, 1536), 0.10),
    ((1600, 1200), 0.05),
)
TWELVE_MP = (4000, 3000)
GLARE, FAR, BLUR, LOW_CONTRAST = 0.30, 0.25, 0.35, 0.30
DISTRACTOR = 0.10
FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
_NOISE_TILE = 512

# Row names of the degradation table, in its order.
ROWS = ("glare", "modules < 3 px", "code < 100 px", "blur", "low contrast")

NON_LABEL_TEXTS = (
    "https://example.com/menu?table=12",
    "https://www.example.org/manual/pump-4000.pdf",
    "WIFI:S:Plant-Guest;T:WPA;P:correct-horse-battery;;",
    "WIFI:S:Site-Office;T:WPA2;P:7yh2-k3ld;H:false;;",
    "SN:AX7-330912;MAC:00:1B:44:11:3A:B7;PN:ACME-T2",
    "NANO-TAG-12",
    "ACME:DEV:4F2A99C1",
    "BEGIN:VCARD\nVERSION:3.0\nFN:Site Office\nTEL:+358401234567\nEND:VCARD",
)


@dataclass
class Sample:
    """One generated photo and what it should decode to (`tuid` None for a non-label photo)."""

    index: int
    jpeg: bytes
    tuid: str | None
    text: str
    size: tuple[int, int]
    qr_px: int
    module_px: float
    rows: set[str] = field(default_factory=set)
    effects: list[str] = field(default_factory=list)
    box: tuple[int, int, int, int] = (0, 0, 0, 0)  # where the label is, before EXIF rotation

    @property
    def twelve_mp(self) -> bool:
        return sorted(self.size) == sorted(TWELVE_MP)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT_PATH, max(size, 6))
    except OSError:
        return ImageFont.load_default()


def random_label(rng: random.Random) -> tuple[str, str]:
    """Return (QR text, TUID) of a label in one of the spec's forms."""
    imc = rng.choice(sorted(TYPE_BY_IMC))
    psn = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(11))
    tuid = imc + psn
    form = rng.random()
    if form < 0.6:
        return f"{psn},{imc}", tuid
    if form < 0.8:
        return f"https://thingsee.com/d/{tuid}", tuid
    return f"I#{imc},W#{rng.randrange(10**5, 10**8)},S#{psn}", tuid


def _qr_matrix(rng: random.Random, text: str) -> tuple[Image.Image, int]:
    """Return the code as an L image, one pixel a module, with a 2-4 module quiet zone."""
    level = rng.choice([qrcode.constants.ERROR_CORRECT_M, qrcode.constants.ERROR_CORRECT_Q])
    border = rng.choice([2, 3, 4])
    code = qrcode.QRCode(error_correction=level, box_size=1, border=border)
    code.add_data(text)
    code.make(fit=True)
    return code.make_image().get_image().convert("L"), border


def _glare(
    rng: random.Random, size: tuple[int, int], code: tuple[float, float, float]
) -> Image.Image:
    """An RGB highlight layer for Image screen: a smooth elliptical lobe, saturated at its core.

    A specular highlight's brightness falls off smoothly from its centre; where the lobe times
    the exposure passes full scale the sensor saturates (every channel) and the modules there
    are lost; in the halo around it they are washed out but still there, tinted by the lamp.
    """
    cx, cy, side = code
    layer = Image.new("L", size, 0)
    draw = ImageDraw.Draw(layer)
    for _ in range(rng.choice([1, 1, 2])):
        a = side * rng.uniform(0.15, 0.35)
        b = a * rng.uniform(0.4, 0.9)
        x = cx + rng.uniform(-0.3, 0.3) * side
        y = cy + rng.uniform(-0.3, 0.3) * side
        turn = rng.uniform(0, math.pi)
        points = [
            (
                x + a * math.cos(t) * math.cos(turn) - b * math.sin(t) * math.sin(turn),
                y + a * math.cos(t) * math.sin(turn) + b * math.sin(t) * math.cos(turn),
            )
            for t in (2 * math.pi * k / 48 for k in range(48))
        ]
        draw.polygon(points, fill=255)
        lobe = b * 0.6
    soft = layer.filter(ImageFilter.GaussianBlur(lobe))
    gain = rng.uniform(1.2, 2.5)  # exposure: how much of the lobe passes full scale
    tint = rng.choice([(1.0, 1.0, 1.0), (1.0, 0.9, 0.75), (0.85, 0.93, 1.0)])
    return Image.merge(
        "RGB", [soft.point(lambda v, t=t: min(255, round(v * gain * t))) for t in tint]
    )


def _label_patch(
    rng: random.Random,
    text: str,
    tuid: str,
    qr_px: int,
    ink: int,
    paper: int,
    light: float,
    glare: bool,
) -> tuple[Image.Image, int]:
    """Draw a sticker (code + TUID) on a piece of housing, lit and maybe glared; RGBA."""
    matrix, border = _qr_matrix(rng, text)
    modules = matrix.width - 2 * border
    full = round(qr_px * matrix.width / modules)  # the drawn code is qr_px without quiet zone
    code = matrix.resize((full, full), Image.Resampling.NEAREST)
    code = code.point(lambda v: paper if v > 127 else ink)
    text_px = max(qr_px // 9, 6)
    sticker = Image.new("L", (int(full * 1.1), int(full * 1.1 + text_px * 2.2)), paper)
    offset = (sticker.width - full) // 2
    sticker.paste(code, (offset, offset))
    ImageDraw.Draw(sticker).text(
        (offset + full // 12, offset + full), tuid, fill=ink, font=_font(text_px)
    )
    body = rng.choice([(235, 235, 230), (200, 200, 205), (60, 62, 70), (30, 30, 35)])
    pad = int(full * rng.uniform(0.2, 0.6))
    patch = Image.new("RGB", (sticker.width + 2 * pad, sticker.height + 2 * pad), (0, 0, 0))
    mask = Image.new("L", patch.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, patch.width - 1, patch.height - 1), pad, 255)
    ImageDraw.Draw(patch).rectangle((0, 0, patch.width, patch.height), fill=body)
    patch.paste(sticker.convert("RGB"), (pad, pad))
    if light < 1.0:
        patch = patch.point(lambda v: round(v * light))
    if glare:
        centre = pad + offset + full / 2
        patch = ImageChops.screen(patch, _glare(rng, patch.size, (centre, centre, qr_px)))
    patch.putalpha(mask)
    return patch, modules


def _warp(rng: random.Random, patch: Image.Image, effects: list[str]) -> Image.Image:
    """Rotate by any angle and tilt in perspective, as a hand-held phone does."""
    angle = rng.uniform(0, 360)
    patch = patch.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    effects.append(f"rot{angle:.0f}")
    if rng.random() < 0.7:
        w, h = patch.size
        tilt = rng.uniform(0.03, 0.15)
        effects.append(f"persp{tilt:.2f}")
        src = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)]
        dst = [(x + rng.uniform(-tilt, tilt) * w, y + rng.uniform(-tilt, tilt) * h) for x, y in src]
        min_x, min_y = min(p[0] for p in dst), min(p[1] for p in dst)
        dst = [(x - min_x, y - min_y) for x, y in dst]
        out = (int(max(p[0] for p in dst)) + 1, int(max(p[1] for p in dst)) + 1)
        coeffs = perspective_coeffs(dst, src)
        patch = patch.transform(out, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC)
    return patch


def _background(rng: random.Random, size: tuple[int, int], light: float) -> Image.Image:
    """A smooth, uneven backdrop with clutter: boxes, lines, text."""
    w, h = size
    cells = [tuple(int(rng.randrange(40, 230) * light) for _ in range(3)) for _ in range(4 * 3)]
    small = Image.new("RGB", (4, 3))
    small.putdata(cells)
    image = small.resize(size, Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randrange(15, 50)):
        colour = tuple(int(rng.randrange(256) * light) for _ in range(3))
        x, y = rng.randrange(w), rng.randrange(h)
        kind = rng.random()
        if kind < 0.4:
            draw.rectangle(
                (x, y, x + rng.randrange(20, w // 4), y + rng.randrange(20, h // 4)), fill=colour
            )
        elif kind < 0.7:
            draw.line(
                (x, y, rng.randrange(w), rng.randrange(h)), fill=colour, width=rng.randrange(1, 12)
            )
        else:
            draw.text(
                (x, y),
                "Thingsee 2024 ROOM 3.14 CE FCC",
                fill=colour,
                font=_font(rng.randrange(14, 90)),
            )
    return image


def _noise_layer(rng: random.Random, size: tuple[int, int], sigma: float) -> Image.Image:
    """Grey sensor noise centred on 128 with about this sigma, tiled from one seeded tile.

    (Image.effect_noise would be simpler but draws from C's rand(), not from our seed.) The mean
    of two uniform tiles is triangular noise with sigma 255/sqrt(24), about 52.
    """
    area = _NOISE_TILE * _NOISE_TILE
    first, second = (
        Image.frombytes("L", (_NOISE_TILE, _NOISE_TILE), rng.randbytes(area)) for _ in range(2)
    )
    tile = ImageChops.add(first, second, scale=2.0).point(
        lambda v: max(0, min(255, round(128 + (v - 127.5) * sigma / 52)))
    )
    layer = Image.new("L", size)
    for y in range(0, size[1], _NOISE_TILE):
        for x in range(0, size[0], _NOISE_TILE):
            layer.paste(tile.rotate(90 * rng.randrange(4)), (x, y))
    return layer


def _place(
    rng: random.Random,
    image: Image.Image,
    patch: Image.Image,
    avoid: tuple[int, int, int, int] | None = None,
) -> tuple[int, int, int, int] | None:
    """Paste the patch somewhere in the frame, clear of `avoid`; None when there is no room."""
    for _ in range(20):
        x = rng.randrange(0, max(1, image.width - patch.width))
        y = rng.randrange(0, max(1, image.height - patch.height))
        box = (x, y, x + patch.width, y + patch.height)
        if avoid is None or not _overlap(box, avoid):
            image.paste(patch, (x, y), patch)
            return box
    return None


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


_ORIENTATION_STORE = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}


def make_sample(seed: int, index: int, *, label: bool = True) -> Sample:
    """Make photo `index` of the label (or non-label) corpus for `seed`: same inputs, same bytes."""
    kind = "labels" if label else "other"
    rng = random.Random(f"fieldhand-{kind}:{seed}:{index}")
    rate = 1.0 if label else 0.5
    glare = rng.random() < GLARE * rate
    far = label and rng.random() < FAR
    blur = rng.random() < BLUR * rate
    low = rng.random() < LOW_CONTRAST * rate
    frames, weights = zip(*FRAMES, strict=True)
    size = TWELVE_MP if far else rng.choices(frames, weights)[0]
    if rng.random() < 0.33:
        size = (size[1], size[0])
    effects: list[str] = []
    light, ink, paper = rng.uniform(0.75, 1.0), rng.randrange(0, 50), rng.randrange(215, 256)
    if low:
        if rng.random() < 0.5:
            light = rng.uniform(0.25, 0.5)
            effects.append(f"dark{light:.2f}")
        else:
            ink, paper = rng.randrange(70, 121), rng.randrange(150, 201)
            effects.append(f"faded{ink}/{paper}")
    image = _background(rng, size, light)
    if label:
        text, tuid = random_label(rng)
        qr_px = (
            rng.randrange(60, 101)
            if far
            else round(math.exp(rng.uniform(math.log(100), math.log(400))))
        )
    else:
        text, tuid = rng.choice(NON_LABEL_TEXTS), None
        qr_px = round(math.exp(rng.uniform(math.log(120), math.log(400))))
    patch, modules = _label_patch(rng, text, tuid or "", qr_px, ink, paper, light, glare)
    if glare:
        effects.append("glare")
    box = _place(rng, image, _warp(rng, patch, effects))
    assert box is not None  # the first patch always fits
    if label and rng.random() < DISTRACTOR:
        other, _ = _label_patch(
            rng, rng.choice(NON_LABEL_TEXTS), "ACME", rng.randrange(150, 300), 20, 235, light, False
        )
        if _place(rng, image, _warp(rng, other, []), avoid=box):  # beside the label, not over it
            effects.append("distractor")
    if blur:
        sigma = rng.uniform(1.5, 3.0)
        margin = round(4 * sigma)
        region = (
            max(0, box[0] - margin),
            max(0, box[1] - margin),
            min(size[0], box[2] + margin),
            min(size[1], box[3] + margin),
        )
        image.paste(image.crop(region).filter(ImageFilter.GaussianBlur(sigma)), region[:2])
        effects.append(f"blur{sigma:.1f}")
    if rng.random() < 0.7 or light < 0.75:
        sigma = rng.uniform(2, 6) * (1.5 if light < 0.75 else 1.0)
        noise = _noise_layer(rng, size, sigma)
        image = ImageChops.add(image, Image.merge("RGB", (noise,) * 3), 1.0, -128)
        effects.append(f"noise{sigma:.0f}")
    exif = Image.Exif()
    if rng.random() < 0.25:
        orientation = rng.choice(sorted(_ORIENTATION_STORE))
        image = image.transpose(_ORIENTATION_STORE[orientation])
        exif[0x0112] = orientation
        effects.append(f"exif{orientation}")
    quality = rng.randrange(60, 96)  # phones save at 85-95; re-encoding apps go lower
    effects.append(f"q{quality}")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, exif=exif.tobytes())
    module_px = qr_px / modules
    rows = {
        name
        for name, has in (
            ("glare", glare),
            ("modules < 3 px", module_px < 3),
            ("code < 100 px", qr_px < 100),
            ("blur", blur),
            ("low contrast", low),
        )
        if has
    }
    return Sample(
        index, out.getvalue(), tuid, text, image.size, qr_px, module_px, rows, effects, box
    )


def _make_other(seed: int, index: int) -> Sample:
    return make_sample(seed, index, label=False)


def make_corpus(count: int, seed: int, jobs: int = 1, *, label: bool = True) -> Iterator[Sample]:
    """Yield a corpus in index order, generated on `jobs` processes."""
    make = make_sample if label else _make_other
    if jobs <= 1:
        yield from (make(seed, index) for index in range(count))
        return
    with ProcessPoolExecutor(jobs) as pool:
        yield from pool.map(make, [seed] * count, range(count), chunksize=4)
