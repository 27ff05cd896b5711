"""Print replacement device labels: A4 pages at 300 dpi, 18 labels a page, as one PDF.

Each label is a QR code of the legacy label text (``PSN,IMC``, which every Thingsee app reads)
at least 25 mm wide without its quiet zone, so a phone reads it at arm's length, with the TUID
and the device type under it. Dashed lines between the labels are the cut guides.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from dataclasses import dataclass

import qrcode
from PIL import Image, ImageDraw, ImageFont

from app.errors import Unprocessable
from app.labels.parser import LabelError, ParsedLabel, format_label_text, parse_label

DPI = 300
MM = DPI / 25.4
PAGE_PX = (round(210 * MM), round(297 * MM))  # A4 portrait
MARGIN_PX = round(10 * MM)
COLUMNS, ROWS = 3, 6
LABELS_PER_PAGE = COLUMNS * ROWS
CODE_MM = 25  # the symbol without its quiet zone; 25 mm scans from arm's length
MAX_LABELS = 1000

_FONT_FILES = ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf")
_FONT_DIR = "/usr/share/fonts/truetype/dejavu/"


class LabelSheetError(Unprocessable):
    """Some lines are not device IDs; `details["lines"]` lists each with what is wrong."""

    code = "invalid_tuids"


@dataclass(frozen=True)
class _Cell:
    left: int
    top: int
    width: int
    height: int


def render_label_sheet(tuids: Iterable[str]) -> bytes:
    """Return an A4 PDF (300 dpi) with one label per TUID, as many pages as needed."""
    pages = render_label_pages(tuids)
    out = io.BytesIO()
    pages[0].save(
        out,
        "PDF",
        save_all=True,
        append_images=pages[1:],
        resolution=DPI,
        title="Thingsee device labels",
        producer="Fieldhand",
    )
    return out.getvalue()


def render_label_pages(tuids: Iterable[str]) -> list[Image.Image]:
    """Return the sheet's pages as 1-bit images, 300 dpi, 18 labels a page."""
    labels = validate_tuids(tuids)
    pages: list[Image.Image] = []
    for start in range(0, len(labels), LABELS_PER_PAGE):
        batch = labels[start : start + LABELS_PER_PAGE]
        page_number = start // LABELS_PER_PAGE + 1
        page_count = -(-len(labels) // LABELS_PER_PAGE)
        pages.append(_render_page(batch, f"{page_number}/{page_count}"))
    return pages


def validate_tuids(tuids: Iterable[str]) -> list[ParsedLabel]:
    """Read each line as a device label; raise LabelSheetError listing every line that is not."""
    labels: list[ParsedLabel] = []
    bad: list[dict[str, object]] = []
    for line_number, text in enumerate(tuids, start=1):
        try:
            labels.append(parse_label(text))
        except LabelError as exc:
            bad.append({"line": line_number, "text": text[:80], "reason": exc.reason})
    if bad:
        shown = ", ".join(f"line {b['line']} ({b['text']!r})" for b in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        raise LabelSheetError(
            f"{len(bad)} of the lines are not device IDs: {shown}{more}. "
            "A device ID has 17 letters and digits, e.g. TSPR04EZU31901021.",
            {"lines": bad},
        )
    if not labels:
        raise LabelSheetError("There are no device IDs to print.", {"lines": []})
    if len(labels) > MAX_LABELS:
        raise LabelSheetError(
            f"{len(labels)} labels is too many for one sheet; print at most {MAX_LABELS} at once.",
            {"lines": []},
        )
    return labels


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in _FONT_FILES:
        for path in (name, _FONT_DIR + name):
            try:
                return ImageFont.truetype(path, size)
            except OSError:
                continue
    return ImageFont.load_default(size)


def _cells() -> list[_Cell]:
    width = (PAGE_PX[0] - 2 * MARGIN_PX) // COLUMNS
    height = (PAGE_PX[1] - 2 * MARGIN_PX) // ROWS
    return [
        _Cell(MARGIN_PX + col * width, MARGIN_PX + row * height, width, height)
        for row in range(ROWS)
        for col in range(COLUMNS)
    ]


def _qr(text: str) -> Image.Image:
    """Return the code (error correction Q) at whole pixels per module, >= CODE_MM wide."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=4)
    code.add_data(text)
    code.make(fit=True)
    code.box_size = math.ceil(CODE_MM * MM / code.modules_count)
    return code.make_image().get_image().convert("L")


def _render_page(labels: list[ParsedLabel], page_label: str) -> Image.Image:
    page = Image.new("L", PAGE_PX, 255)
    draw = ImageDraw.Draw(page)
    tuid_font, type_font, small_font = _font(44), _font(32), _font(26)
    cells = _cells()
    for label, cell in zip(labels, cells, strict=False):
        code = _qr(format_label_text(label.tuid))
        x = cell.left + (cell.width - code.width) // 2
        y = cell.top + round(0.5 * MM)
        page.paste(code, (x, y))
        text_y = y + code.height
        for text, font in ((label.tuid, tuid_font), (label.device_type, type_font)):
            box = draw.textbbox((0, 0), text, font=font)
            draw.text(
                (cell.left + (cell.width - (box[2] - box[0])) // 2 - box[0], text_y - box[1]),
                text,
                fill=0,
                font=font,
            )
            text_y += round(box[3] - box[1]) + round(1.5 * MM)
    _cut_guides(draw, cells)
    draw.text(
        (MARGIN_PX, PAGE_PX[1] - MARGIN_PX + round(3 * MM)),
        f"Thingsee device labels, page {page_label}. Cut along the dashed lines.",
        fill=0,
        font=small_font,
    )
    return page.point(lambda v: 255 if v >= 128 else 0, mode="1")


def _cut_guides(draw: ImageDraw.ImageDraw, cells: list[_Cell]) -> None:
    """Dashed lines along every cell edge, shared edges drawn once."""
    dash, gap, width = round(3 * MM), round(2 * MM), 2
    right = max(c.left + c.width for c in cells)
    bottom = max(c.top + c.height for c in cells)
    xs = sorted({c.left for c in cells} | {right})
    ys = sorted({c.top for c in cells} | {bottom})
    for x in xs:
        for y in range(ys[0], bottom, dash + gap):
            draw.line((x, y, x, min(y + dash, bottom)), fill=0, width=width)
    for y in ys:
        for x in range(xs[0], right, dash + gap):
            draw.line((x, y, min(x + dash, right), y), fill=0, width=width)
