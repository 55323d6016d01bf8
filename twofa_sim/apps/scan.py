"""Reading a QR code from pixels with a real decoder (zxing-cpp).

The article's app captures the visible browser tab and the user marks the QR code with a
rectangle; phone apps look at the screen through the camera. Either way the app gets an image,
not the URI: :func:`read_otpauth` takes a PIL image of the screen (or of a whole page with text
around the QR, at any reasonable scale) and an optional rectangle, decodes it with zxing-cpp and
returns the text of the one QR code it finds. An image without a QR code, with several different
ones, or with one that does not hold an ``otpauth://`` URI is a :class:`~twofa_sim.core.errors.ScanError`
whose message says which, and never repeats the content.

``python -m twofa_sim.apps.scan`` prints :func:`decode_timings` (median decode time per image kind).
"""

from __future__ import annotations

import random
import statistics
import time
from typing import TYPE_CHECKING, Sequence

import zxingcpp
from PIL import Image

from ..core.errors import ScanError

if TYPE_CHECKING:  # pandas only for the timings table: scanning a QR code does not load it
    import pandas as pd

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


def _sample_images(seed: int) -> dict[str, tuple[Image.Image, Rect | None]]:
    from ..core.policy import Policy
    from .qr import EnrolmentScreen
    from ..core.secret_source import SeededSecretSource, new_base32_secret

    secret = new_base32_secret(SeededSecretSource(seed), 160)
    screen = EnrolmentScreen.for_user(secret, "alice", Policy(algorithm="SHA256", digits=8, period=60))
    page = screen.page_image()
    qr = screen.qr_image()
    left = (page.width - qr.width) // 2
    rect = (left - 10, 80, left + qr.width + 10, 100 + qr.height)
    return {
        "QR image": (qr, None),
        "page": (page, None),
        "page, marked rectangle": (page, rect),
        "page x0.5": (page.resize((page.width // 2, page.height // 2), Image.LANCZOS), None),
        "page x2": (page.resize((page.width * 2, page.height * 2), Image.NEAREST), None),
        "page without QR": (Image.new("RGB", page.size, "white"), None),
    }


def decode_timings(repeats: int = 25, seed: int = 7) -> pd.DataFrame:
    """Time zxing-cpp on the images an app meets: one row per kind, median and 90th percentile in ms.

    The images are the backend's own enrolment screen (SHA256, 8 digits, 60 s: a larger QR code),
    the whole page, the page with the rectangle a user marks, the page scaled by 0.5 and by 2, and a
    page without a QR code. ``decoded`` says whether each kind gave the expected result.
    """
    if not isinstance(repeats, int) or isinstance(repeats, bool) or not 1 <= repeats <= 1000:
        raise ValueError("repeats must be a whole number from 1 to 1000")
    samples = _sample_images(seed)
    order = [name for name in samples for _ in range(repeats)]
    random.Random(seed).shuffle(order)
    times: dict[str, list[float]] = {name: [] for name in samples}
    found: dict[str, bool] = {}
    for name in order:
        image, rect = samples[name]
        start = time.perf_counter()
        texts = decode_qr_texts(image, rect)
        times[name].append((time.perf_counter() - start) * 1000)
        found[name] = bool(texts) and texts[0].startswith("otpauth://")
    rows = []
    for name, (image, rect) in samples.items():
        ms = sorted(times[name])
        area = (rect[2] - rect[0], rect[3] - rect[1]) if rect else image.size
        rows.append({"image": name, "pixels": f"{area[0]}x{area[1]}", "runs": len(ms),
                     "median ms": round(statistics.median(ms), 2),
                     "p90 ms": round(ms[min(len(ms) - 1, int(0.9 * len(ms)))], 2),
                     "decoded": found[name] == (name != "page without QR")})
    import pandas as pd

    frame = pd.DataFrame(rows).set_index("image")
    frame.attrs["samples_ms"] = times
    return frame


def median_decode_ms(timings: pd.DataFrame) -> float:
    """The median over every single decode of an image that holds a QR code (the benchmark's headline)."""
    samples = timings.attrs.get("samples_ms")
    if not samples:
        raise ValueError("pass the table decode_timings() returned: it carries the single timings")
    return float(statistics.median(ms for name, runs in samples.items() if name != "page without QR" for ms in runs))


def main() -> None:  # pragma: no cover - exercised by the benchmark
    timings = decode_timings()
    print(timings.to_string())
    print(f"\nmedian QR decode time: {median_decode_ms(timings):.2f} ms (goal: 20 ms or less)")


if __name__ == "__main__":  # pragma: no cover
    main()


__all__ = ["Rect", "MAX_SCREEN_PIXELS", "MAX_SCREEN_SIDE", "check_screen_size", "crop", "decode_qr_texts", "read_qr", "read_otpauth", "decode_timings", "median_decode_ms"]
