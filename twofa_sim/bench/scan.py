"""What reading a QR code from pixels costs: zxing-cpp on the images an app meets.

``python -m twofa_sim.bench.scan`` prints :func:`decode_timings` (median decode time per image
kind); ``make bench`` reports the median (section 4).
"""

from __future__ import annotations

import random
import statistics
import time

import pandas as pd
from PIL import Image

from ..apps.scan import Rect, decode_qr_texts
from ..core.policy import Policy
from ..core.secret_source import SeededSecretSource, new_base32_secret
from ..login.screen import EnrolmentScreen


def _sample_images(seed: int) -> dict[str, tuple[Image.Image, Rect | None]]:
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
