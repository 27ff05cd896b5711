"""The QR readers a cascade step can hand its views to: zbar first, ZXing-C++ for what it misses.

zbar (pyzbar) is the decoder the cheap steps use. ZXing-C++ (the `zxing-cpp` package) samples a
code by its finder patterns and alignment grid rather than along scan lines, so it reads some
prepared crops of glare-broken, far or blurred codes that zbar gives up on, at a few
milliseconds a 400 px crop; bench/qr_decode.py measures what it adds.
"""

from __future__ import annotations

from collections.abc import Callable

import zxingcpp
from PIL import Image
from pyzbar import pyzbar
from pyzbar.pyzbar import ZBarSymbol

Reader = Callable[[Image.Image], list[str]]
_QR_CODES = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


def zbar(image: Image.Image) -> list[str]:
    """Return the text of every QR code zbar finds in a greyscale image."""
    return [
        symbol.data.decode("utf-8", errors="replace")
        for symbol in pyzbar.decode(image, symbols=[ZBarSymbol.QRCODE])
    ]


def zxing(image: Image.Image) -> list[str]:
    """Return the text of every QR code ZXing-C++ finds in a greyscale image.

    Only QR codes, no downscaled retries (the views are already at the size that reads best).
    """
    found = zxingcpp.read_barcodes(image, formats=_QR_CODES, try_downscale=False)
    return [code.text for code in found if code.valid]


READERS: dict[str, Reader] = {"zbar": zbar, "zxing": zxing}
