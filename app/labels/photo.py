"""Open an uploaded label photo safely and hand out greyscale copies at the sizes decoding needs.

Safety first: the format is checked by its magic bytes and opened only by the JPEG, PNG or
WebP plugin; the pixel count is checked from the header before anything is decoded; a
truncated or damaged file is a `BadImage`, never a 500.

Memory: the size the decoded image would take (width x height x bytes per pixel as Pillow
holds it, from the header) is checked before anything is decoded, so a small file that
inflates to hundreds of megabytes (a 16-bit RGBA PNG of one colour) is refused at once. A JPEG
is decoded straight to luma at a reduced size (`Image.draft`, which makes libjpeg scale the DCT
by 1/2, 1/4 or 1/8), so a small copy never needs the full-size image. At most one full-size
image is held per photo: the full-size luma, made only when a step asks for it (PNG and WebP
have no reduced decode, so they are decoded once at full size and turned to luma band by band,
never through a second full-size colour copy).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import struct
import warnings
from typing import Any

from PIL import Image, ImageChops, UnidentifiedImageError

from app.errors import DomainError

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
DEFAULT_MAX_PIXELS = 50_000_000
DEFAULT_MAX_DECODED_BYTES = 64 * 1024 * 1024  # a 16 MP RGB(A) PNG; a 50 MP JPEG (as luma)
LEAST_CHANNEL_PX = 2000  # the colour copy's long side at most: 12 MB decoded, whatever the photo
_SEND_A_PHOTO = "Send a JPEG, PNG or WebP photo of the label."

# Magic bytes of the formats people actually send by mistake, to say what the file is.
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "JPEG"),
    (b"\x89PNG\r\n\x1a\n", 0, "PNG"),
    (b"WEBP", 8, "WEBP"),
    (b"GIF87a", 0, "GIF"),
    (b"GIF89a", 0, "GIF"),
    (b"BM", 0, "BMP"),
    (b"II*\x00", 0, "TIFF"),
    (b"MM\x00*", 0, "TIFF"),
    (b"ftypheic", 4, "HEIC"),
    (b"ftypheix", 4, "HEIC"),
    (b"ftypmif1", 4, "HEIC"),
    (b"ftypavif", 4, "AVIF"),
    (b"%PDF", 0, "PDF"),
    (b"<svg", 0, "SVG"),
    (b"<?xml", 0, "SVG"),
)


class BadImage(DomainError):
    """The upload is not a photo we can read; the message says what to send instead."""

    status = 400
    code = "bad_image"


def sniff_format(data: bytes) -> str | None:
    """Name the file format from its first bytes, or None when it is not one we know."""
    for magic, offset, name in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            if name == "WEBP" and not data.startswith(b"RIFF"):
                continue
            return name
    return None


class Photo:
    """An uploaded photo, opened and checked, that yields oriented greyscale copies by size."""

    def __init__(
        self,
        data: bytes,
        *,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES,
    ) -> None:
        self._data = data
        header = _open(data)
        self.format: str = header.format or ""
        width, height = header.size
        limit = max_pixels
        if Image.MAX_IMAGE_PIXELS:
            limit = min(limit, Image.MAX_IMAGE_PIXELS)
        if width * height > limit:
            raise BadImage(
                f"The photo has too many pixels ({width}×{height}); the limit is "
                f"{limit / 1e6:.0f} megapixels. Send a normal camera photo of the label.",
                {"width": width, "height": height, "max_pixels": limit},
            )
        per_pixel = decoded_bytes_per_pixel(header.format, header.mode)
        if width * height * per_pixel > max_decoded_bytes:
            raise BadImage(
                f"The photo would take {width * height * per_pixel / 2**20:.0f} MB to open "
                f"({width}×{height} {header.mode} {header.format}); the limit is "
                f"{max_decoded_bytes / 2**20:.0f} MB. Send a JPEG camera photo of the label.",
                {
                    "width": width,
                    "height": height,
                    "mode": header.mode,
                    "decoded_bytes": width * height * per_pixel,
                    "max_decoded_bytes": max_decoded_bytes,
                },
            )
        self.orientation = _orientation(header)
        header.close()
        self.size = (height, width) if self.orientation in (5, 6, 7, 8) else (width, height)
        self._full: Image.Image | None = None
        self._cache: dict[int, Image.Image] = {}
        self.extras: dict[str, Any] = {}  # per-photo work the decoding steps share

    @property
    def long_side(self) -> int:
        return max(self.size)

    def grey(self, long_side: int | None = None) -> Image.Image:
        """Return the photo upright in greyscale, scaled so its long side is about `long_side`."""
        target = self.long_side if long_side is None else min(long_side, self.long_side)
        if target not in self._cache:
            self._cache[target] = self._make(target)
        return self._cache[target]

    def least_channel(self, long_side: int = LEAST_CHANNEL_PX) -> Image.Image:
        """Return the photo upright, each pixel its darkest colour channel, at most `long_side`.

        Glare is tinted by the lamp, so one channel often stays below full scale where luma
        saturates: in the darkest channel the modules around a highlight's core survive (a
        label is black on white: every channel holds it). A JPEG is decoded in colour at a
        reduced size only (1/2 of a 12 MP photo: 12 MB while it is made), never at full size;
        other formats have no colour copy to spare and give the greyscale one.
        """
        target = min(long_side, LEAST_CHANNEL_PX, self.long_side)
        if self.format != "JPEG":
            return self.grey(target)
        key = f"least_channel@{target}"
        if key not in self.extras:
            self.extras[key] = self._make_least_channel(target)
        image: Image.Image = self.extras[key]
        return image

    def _make_least_channel(self, target: int) -> Image.Image:
        colour = _load_colour(self._data, draft_long_side=target)
        if colour.mode != "RGB":
            colour.close()
            return self.grey(target)
        red, green, blue = colour.split()
        colour.close()
        image = _upright(ImageChops.darker(red, ImageChops.darker(green, blue)), self.orientation)
        if max(image.size) > target:
            ratio = target / max(image.size)
            size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
            image = image.resize(size, Image.Resampling.BOX)
        return image

    def _make(self, target: int) -> Image.Image:
        if target >= self.long_side:
            return self._full_grey()
        if self.format == "JPEG" and self._full is None:
            image = _upright(_load(self._data, draft_long_side=target), self.orientation)
        else:
            image = self._full_grey()  # already upright
        if max(image.size) > target:
            ratio = target / max(image.size)
            size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
            image = image.resize(size, Image.Resampling.BOX)
        return image

    def _full_grey(self) -> Image.Image:
        if self._full is None:
            self._full = _upright(_load(self._data), self.orientation)
        return self._full


def decoded_bytes_per_pixel(fmt: str | None, mode: str) -> int:
    """Return the bytes a pixel takes once decoded, as Pillow holds it (multi-band: 4).

    A colour JPEG is decoded straight to luma (see `_load`), one byte a pixel; CMYK is not.
    """
    if fmt == "JPEG" and mode in ("L", "RGB", "YCbCr"):
        return 1
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


def release_memory() -> None:
    """Hand freed heap memory back to the system (see `_bound_the_heap` for the rest)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _bound_the_heap() -> Any:
    """Serve every allocation of 2 MB or more (image buffers) by mmap, so freeing returns it.

    glibc raises its mmap threshold once a large block is freed, after which image buffers
    come from the malloc arenas, one per thread that decoded; an arena other than the main one
    never gives its top back (malloc_trim trims only the main arena's): 20 concurrent decodes
    on a threaded server left 250 MB resident for good. A fixed threshold stops that; measured
    with bench/upload_memory.py. Returns libc, or None where it is not glibc.
    """
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    if libc is None or not hasattr(libc, "mallopt") or not hasattr(libc, "malloc_trim"):
        return None
    libc.mallopt(_M_MMAP_THRESHOLD, 2 * 1024 * 1024)
    return libc


_M_MMAP_THRESHOLD = -3
_LIBC = _bound_the_heap()


def _open(data: bytes) -> Any:
    """Open the header only, with nothing but the accepted plugins, or raise BadImage."""
    if not data:
        raise BadImage("The upload is empty. " + _SEND_A_PHOTO)
    sniffed = sniff_format(data)
    if sniffed is not None and sniffed not in ACCEPTED_FORMATS:
        raise BadImage(f"{sniffed} files are not supported. " + _SEND_A_PHOTO, {"format": sniffed})
    try:
        return _pil_open(data)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage(
            "The photo has too many pixels to open safely. Send a normal camera photo of the "
            "label.",
        ) from exc
    except UnidentifiedImageError as exc:
        raise BadImage("This file is not a photo. " + _SEND_A_PHOTO) from exc
    except (OSError, ValueError, SyntaxError, EOFError, struct.error) as exc:
        raise BadImage("The photo is damaged and cannot be opened. " + _SEND_A_PHOTO) from exc


def _pil_open(data: bytes) -> Any:
    """Image.open with only the accepted plugins; a corrupt EXIF block does not stop a photo."""
    try:
        return Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))
    except UserWarning:
        # Pillow warns about corrupt EXIF while opening. Where warnings are errors (the tests)
        # that arrives as an exception; open again without it, as production does.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS))


def _load(data: bytes, *, draft_long_side: int | None = None) -> Image.Image:
    """Decode to greyscale, at a reduced size for JPEG when asked; damaged data is BadImage.

    A JPEG is decoded by libjpeg straight to luma (and DCT-scaled when reduced), so not even
    the full-size decode makes a colour image first.
    """
    try:
        image = _pil_open(data)
        if image.format == "JPEG":
            ratio = max(1, max(image.size) // draft_long_side) if draft_long_side else 1
            image.draft("L", (image.width // ratio, image.height // ratio))
        image.load()
        return _to_grey(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage("The photo has too many pixels to open safely.") from exc
    except (OSError, ValueError, SyntaxError, EOFError, struct.error) as exc:
        raise BadImage(
            "The photo is incomplete or damaged (the upload may have been cut off). "
            "Take or send it again."
        ) from exc


def _load_colour(data: bytes, *, draft_long_side: int) -> Image.Image:
    """Decode a JPEG in RGB, DCT-scaled (1/2, 1/4, 1/8) to about `draft_long_side` or less."""
    try:
        image = _pil_open(data)
        ratio = -(-max(image.size) // draft_long_side)  # rounded up: never above the long side
        image.draft("RGB", (image.width // ratio, image.height // ratio))
        image.load()
        return image if image.mode in ("RGB", "L") else image.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadImage("The photo has too many pixels to open safely.") from exc
    except (OSError, ValueError, SyntaxError, EOFError, struct.error) as exc:
        raise BadImage(
            "The photo is incomplete or damaged (the upload may have been cut off). "
            "Take or send it again."
        ) from exc


def _to_grey(image: Image.Image) -> Image.Image:
    """Flatten transparency onto white (codes on transparent PNGs) and convert to 8-bit luma.

    Band by band, so no second full-size colour image is made: luma and alpha are one byte a
    pixel each, where an RGBA copy is four.
    """
    if image.mode == "L":
        return image
    if image.mode.startswith("I;16") or image.mode == "I":
        return image.point(lambda v: v * (1 / 256), "L")
    if image.mode in ("P", "PA") or "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode not in ("RGBA", "LA"):
        return image.convert("L")
    alpha = image.getchannel("A")
    grey = image.convert("L")
    image.close()  # frees the colour pixels now, though the caller still holds the object
    # on white: 255 - (255 - grey) * alpha / 255
    return ImageChops.invert(ImageChops.multiply(ImageChops.invert(grey), alpha))


def _orientation(image: Image.Image) -> int:
    try:
        value = image.getexif().get(0x0112, 1)
    except (OSError, ValueError, SyntaxError, struct.error, UserWarning):
        # Unreadable EXIF: take the pixels as they are. (Pillow warns about corrupt EXIF;
        # where warnings are errors, as in the tests, the warning arrives here instead.)
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


# EXIF orientation -> the transpose that makes the pixels upright (as ImageOps.exif_transpose
# does; done here on the small greyscale copies, so the EXIF block is read only once).
_UPRIGHT: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    """Apply the EXIF orientation; a mirrored code (2, 4, 5, 7) only decodes once flipped back."""
    method = _UPRIGHT.get(orientation)
    return image if method is None else image.transpose(method)
