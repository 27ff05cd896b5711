"""A fake camera for Chromium: QR labels as a Y4M video (--use-file-for-fake-video-capture)."""

from __future__ import annotations

from pathlib import Path

import qrcode
from PIL import Image

WIDTH, HEIGHT, FPS = 640, 480, 10
BACKGROUND = (236, 236, 236)


def _frame(image: Image.Image) -> bytes:
    """Return one YUV 4:2:0 frame of an RGB image."""
    y, cb, cr = image.convert("YCbCr").split()
    half = (image.width // 2, image.height // 2)
    return (
        b"FRAME\n"
        + y.tobytes()
        + cb.resize(half, Image.BILINEAR).tobytes()
        + cr.resize(half, Image.BILINEAR).tobytes()
    )


def label_image(text: str) -> Image.Image:
    """Return a camera frame showing one QR label, centred, with a quiet zone."""
    code = qrcode.QRCode(border=4, box_size=8, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    qr = code.make_image(fill_color="black", back_color="white").convert("RGB")
    side = HEIGHT - 120
    qr = qr.resize((side, side), Image.NEAREST)
    frame = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    frame.paste(qr, ((WIDTH - side) // 2, (HEIGHT - side) // 2))
    return frame


def write_label_video(
    path: Path, texts: list[str], seconds_each: float = 0.6, gap: float = 0.3
) -> Path:
    """Write a video that shows each label for `seconds_each`, with empty frames between.

    Chromium loops the file, so the labels come round again: the app must ignore them.
    """
    blank = _frame(Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND))
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for text in texts:
            frame = _frame(label_image(text))
            out.write(frame * max(1, round(seconds_each * FPS)))
            out.write(blank * max(1, round(gap * FPS)))
    return path
