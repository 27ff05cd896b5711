"""Make label photos for the tests in memory: a code on a sticker on a backdrop, then harm it."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Sequence

import qrcode
from PIL import Image, ImageChops, ImageDraw, ImageFilter


def code_image(text: str, module_px: int = 8, border: int = 4) -> Image.Image:
    """Return a black-on-white QR code of `text` (error correction M), L mode."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=module_px, border=border
    )
    code.add_data(text)
    code.make(fit=True)
    return code.make_image().get_image().convert("L")


def scene(
    texts: Sequence[str],
    *,
    size: tuple[int, int] = (1200, 900),
    module_px: int = 8,
    angle: float = 0.0,
    tilt: float = 0.0,
    blur: float = 0.0,
    ink: int = 0,
    paper: int = 255,
    backdrop: int = 120,
) -> Image.Image:
    """Place one code per text side by side on a grey backdrop, then rotate, tilt and blur."""
    image = Image.new("L", size, backdrop)
    draw = ImageDraw.Draw(image)
    for i in range(0, size[0], 97):  # some clutter with hard edges
        draw.line((i, 0, size[0] - i, size[1]), fill=(i * 7) % 256, width=3)
    codes = [code_image(text, module_px).point(lambda v: paper if v else ink) for text in texts]
    slot = size[0] // max(1, len(codes))
    for index, code in enumerate(codes):
        if angle:
            code = code.rotate(
                angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=backdrop
            )
        if tilt:
            code = tilted(code, tilt, backdrop)
        x = index * slot + (slot - code.width) // 2
        y = (size[1] - code.height) // 2
        image.paste(code, (x, y))
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    return image


def glare(
    image: Image.Image, centre: tuple[float, float], radius: float, gain: float, soft: float
) -> Image.Image:
    """Add a specular highlight: an elliptical lobe (sizes relative to the image's width)."""
    w = image.width
    x, y, r = centre[0] * w, centre[1] * w, radius * w
    lobe = Image.new("L", image.size, 0)
    ImageDraw.Draw(lobe).ellipse((x - r, y - r * 0.6, x + r, y + r * 0.6), fill=255)
    lobe = lobe.filter(ImageFilter.GaussianBlur(r * soft)).point(
        lambda v: min(255, round(v * gain))
    )
    return ImageChops.screen(image, lobe)


def tinted_glare(
    image: Image.Image,
    centre: tuple[float, float],
    radius: float,
    gain: float,
    soft: float,
    tint: tuple[float, float, float],
) -> Image.Image:
    """`glare` in colour: the lamp's tint scales the lobe per channel (RGB out)."""
    w = image.width
    x, y, r = centre[0] * w, centre[1] * w, radius * w
    lobe = Image.new("L", image.size, 0)
    ImageDraw.Draw(lobe).ellipse((x - r, y - r * 0.6, x + r, y + r * 0.6), fill=255)
    lobe = lobe.filter(ImageFilter.GaussianBlur(r * soft))
    layer = Image.merge(
        "RGB", [lobe.point(lambda v, t=t: min(255, round(v * gain * t))) for t in tint]
    )
    return ImageChops.screen(image.convert("RGB"), layer)


def tilted(image: Image.Image, amount: float, fill: int) -> Image.Image:
    """Perspective: the top edge shrinks by `amount` of the width, as when seen from below."""
    w, h = image.size
    inset = amount * w / 2
    # output corners -> input corners; solve the 8 coefficients
    out_pts = [(inset, 0.0), (w - inset, 0.0), (w, h), (0.0, h)]
    in_pts = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)]
    coeffs = perspective_coeffs(out_pts, in_pts)
    return image.transform(
        (w, h), Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BICUBIC, fillcolor=fill
    )


def perspective_coeffs(
    out_pts: list[tuple[float, float]], in_pts: list[tuple[float, float]]
) -> list[float]:
    """Solve the 8 coefficients mapping output points to input points (Gauss-Jordan)."""
    rows: list[list[float]] = []
    for (x, y), (u, v) in zip(out_pts, in_pts, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y, u])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y, v])
    for col in range(8):
        pivot = max(range(col, 8), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(8):
            if r != col:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    return [rows[i][8] / rows[i][i] for i in range(8)]


def encode(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    """Return the image as upload bytes (JPEG quality 85 unless told)."""
    out = io.BytesIO()
    if fmt == "JPEG":
        params.setdefault("quality", 85)
        if image.mode not in ("L", "RGB"):
            image = image.convert("RGB")
    image.save(out, fmt, **params)
    return out.getvalue()


def png_header_only(width: int, height: int, *, colour_type: int = 0, depth: int = 8) -> bytes:
    """A PNG that claims a size in its header but holds one empty IDAT (a cheap bomb).

    Colour type 0 is grey, 2 RGB, 6 RGBA; depth is bits a sample (8 or 16).
    """

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )
