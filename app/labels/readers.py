"""The QR reader a cascade step hands its views to: zbar (pyzbar), the user's choice.

A step names its reader (`Step.read`), so a second decoder can be measured as a later step
without touching the others: bench/qr_decode.py --zxing does that with ZXing-C++.
"""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image
from pyzbar import pyzbar
from pyzbar.pyzbar import ZBarSymbol

Reader = Callable[[Image.Image], list[str]]  # a greyscale view -> the texts of its QR codes


def zbar(image: Image.Image) -> list[str]:
    """Return the text of every QR code zbar finds in a greyscale image."""
    return [
        symbol.data.decode("utf-8", errors="replace")
        for symbol in pyzbar.decode(image, symbols=[ZBarSymbol.QRCODE])
    ]
