"""Reading a QR code from pixels with a real decoder (zxing-cpp).

The article's app captures the visible browser tab and the user marks the QR code with a
rectangle; phone apps look at the screen through the camera. Either way the app gets an image,
not the URI: :func:`read_otpauth` takes a PIL image of the screen (or of a whole page with text
around the QR, at any reasonable scale) and an optional rectangle, decodes it with zxing-cpp and
returns the text of the one QR code it finds. An image without a QR code, with several different
ones, or with one that does not hold an ``otpauth://`` URI is a :class:`~twofa_sim.core.errors.ScanError`
whose message says which, and never repeats the content.

What decoding costs is the benchmark's (:mod:`twofa_sim.bench.scan`).
"""

from __future__ import annotations

from typing import Sequence

import zxingcpp
from PIL import Image

from ..core.errors import ScanError

Rect = tuple[int, int, int, int]
"""A rectangle as PIL boxes are written: ``(left, top, right, bottom)`` in pixels."""

_MODES = ("L", "RGB", "RGBA")

#: The most pixels a screen shows: an 8K screen, 7680 x 4320 (33 megapixels). A screenshot or a
#: camera's picture of a screen is no larger, and an image file that claims more is refused before
#: its pixels are decoded (a PNG of a few kilobytes can claim 169 megapixels and take gigabytes).
MAX_SCREEN_PIXELS = 7680 * 4320
#: The longest side of such an image (a tall screenshot of a whole page, say).
MAX_SCREEN_SIDE = 16384


def check_screen_size(width: int, height: int) -> None:
    """Refuse an image larger than a screen can show, by its size alone (nothing decoded)."""
    if width > MAX_SCREEN_SIDE or height > MAX_SCREEN_SIDE or width * height > MAX_SCREEN_PIXELS:
        raise ScanError(f"the image is {width}x{height} pixels: larger than a screen shows "
                        f"(at most {MAX_SCREEN_PIXELS:,} pixels, {MAX_SCREEN_SIDE} on a side)")


def _check_image(image: object) -> Image.Image:
    if not isinstance(image, Image.Image):
        raise ScanError(f"expected a PIL image of the screen, got {type(image).__name__}")
    if image.width < 21 or image.height < 21:
        raise ScanError(f"the image is {image.width}x{image.height} pixels: too small to hold a QR code")
    check_screen_size(image.width, image.height)
    try:
        image.load()  # an image opened from a file decodes lazily: a damaged file fails here, not in zxing-cpp
    except Exception:  # noqa: BLE001 - any decoder failure means the pixels cannot be read
        raise ScanError("the image cannot be read: its file is truncated or damaged") from None
    return image if image.mode in _MODES else image.convert("RGB")


def crop(image: Image.Image, rect: Sequence[int] | None) -> Image.Image:
    """The part of ``image`` inside ``rect`` (the rectangle the user marks), checked to lie inside."""
    image = _check_image(image)
    if rect is None:
        return image
    if (not isinstance(rect, (tuple, list)) or len(rect) != 4
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in rect)):
        raise ScanError("the rectangle must be four whole numbers: (left, top, right, bottom)")
    left, top, right, bottom = rect
    if not (0 <= left < right <= image.width and 0 <= top < bottom <= image.height):
        raise ScanError(f"the rectangle {tuple(rect)} is empty or not inside the {image.width}x{image.height} image")
    return _check_image(image.crop((left, top, right, bottom)))


def decode_qr_texts(image: Image.Image, rect: Sequence[int] | None = None) -> list[str]:
    """The texts of every QR code zxing-cpp finds in the image (or in the rectangle), in order."""
    area = crop(image, rect)
    if area.mode == "RGB":
        # zxing-cpp reads the pixels' luminance either way; handed grey pixels it reads a page of colour
        # in a fifth of the time it takes on the colour pixels, and finds the same codes
        area = area.convert("L")
    return [b.text for b in zxingcpp.read_barcodes(area, formats=zxingcpp.BarcodeFormat.QRCode)]


def read_qr(image: Image.Image, rect: Sequence[int] | None = None) -> str:
    """The text of the one QR code in the image; :class:`ScanError` if there is none or several."""
    texts = list(dict.fromkeys(decode_qr_texts(image, rect)))
    if not texts:
        where = "the marked rectangle" if rect is not None else "the image"
        raise ScanError(f"no QR code found in {where}")
    if len(texts) > 1:
        raise ScanError(f"{len(texts)} different QR codes found: mark the one to scan with a rectangle")
    return texts[0]


def read_otpauth(image: Image.Image, rect: Sequence[int] | None = None) -> str:
    """The ``otpauth://`` URI of the one QR code in the image; :class:`ScanError` otherwise."""
    text = read_qr(image, rect)
    if not text.lower().startswith("otpauth://"):
        scheme = text.split("://", 1)[0] if "://" in text[:24] else ""
        what = f"a {scheme[:16]}:// link" if scheme else f"{len(text)} characters of plain text"
        raise ScanError(f"the QR code holds {what}, not an otpauth:// URI: it is not an authenticator QR code")
    return text


__all__ = ["Rect", "MAX_SCREEN_PIXELS", "MAX_SCREEN_SIDE", "check_screen_size", "crop", "decode_qr_texts", "read_qr", "read_otpauth"]
