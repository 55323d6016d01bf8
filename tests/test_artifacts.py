"""The QR PNGs that ``--artifacts`` writes, checked without the app's own tools.

They are decoded with OpenCV's QR detector (the app uses zxing-cpp), the otpauth URI is parsed
with the standard library, and the secret goes through an RFC 6238 calculation written out in
tests/helpers.py (not pyotp): at the instant of every code the scenario shows accepted, it gives
that code.
"""

from __future__ import annotations

import csv
import pathlib
import re

import cv2
import numpy as np
import pytest
from PIL import Image

from twofa_sim.io.cli import main
from twofa_sim.spec.scenario import load_scenario, run_scenario

from helpers import independent_totp, parse_key_uri

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "data" / "scenarios").glob("*.yaml"))


def opencv_decode(path: pathlib.Path) -> str:
    """OpenCV's classic QR detector; where it finds nothing (it misses about one of these images in
    twenty), OpenCV's ArUco-based QR detector. Neither shares code with zxing-cpp."""
    pixels = np.array(Image.open(path).convert("L"))
    for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
        text, points, _ = detector.detectAndDecode(pixels)
        if points is not None and text:
            return text
    raise AssertionError(f"OpenCV found no QR code in {path.name}")


def code_params(uri: str) -> dict:
    parts = parse_key_uri(uri)
    assert parts["scheme"] == "otpauth" and parts["type"] == "totp"
    return {"secret": parts["secret"], "algorithm": parts.get("algorithm", "SHA1"),
            "digits": int(parts.get("digits", 6)), "period": int(parts.get("period", 30)), "label": parts["label"]}


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("artifacts")
    assert main(["run", "--quiet", *map(str, SCENARIOS), "--artifacts", str(folder)]) == 0
    return folder


@pytest.fixture(scope="module")
def results():
    """The same runs again (runs are deterministic), for the steps and codes the timeline shows."""
    return {path.stem: run_scenario(load_scenario(path)) for path in SCENARIOS}


@pytest.fixture(scope="module")
def decoded(artifacts):
    """Every PNG written, decoded by OpenCV: {(scenario, file name): text}."""
    return {(png.parent.name, png.name): opencv_decode(png) for png in sorted(artifacts.glob("*/qr-*.png"))}


def test_every_qr_shown_is_a_png_and_the_event_log_a_csv(artifacts):
    for path in SCENARIOS:
        folder = artifacts / path.stem
        with open(folder / "events.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        shown = [r["user"] for r in rows if r["kind"] == "QR shown"]
        expected = sorted(f"qr-{user}-{shown[:i + 1].count(user)}.png" for i, user in enumerate(shown))
        assert sorted(p.name for p in folder.glob("qr-*.png")) == expected, path.name
        assert rows[0].keys() >= {"seq", "time", "kind", "actor", "user", "outcome", "reason"}


def test_opencv_reads_every_png_as_the_uri_the_login_showed(results, decoded):
    checked = 0
    for stem, result in results.items():
        for qr in result.qrs:
            uri = decoded[(stem, qr.filename)]
            assert uri == qr.screen.uri
            params = code_params(uri)
            assert params["label"] == f"plenigo:{qr.user}" and params["algorithm"] == result.scenario.policy.algorithm
            checked += 1
    assert checked >= 20


def test_the_png_secret_gives_every_code_the_scenario_shows_accepted(results, decoded):
    accepted = 0
    timelines = {stem: result.timeline() for stem, result in results.items()}
    for stem, result in results.items():
        window = result.scenario.policy.window
        drift_tracked = result.scenario.policy.drift_tracking
        latest_png: dict[str, str] = {}
        for record in result.records:
            if record.qr is not None:
                latest_png[record.qr.user] = record.qr.filename
            if not (record.code_accepted and record.device is not None):
                continue
            user = record.actor
            assert f"{user:<14}  types {record.code} from {record.device}" in timelines[stem]
            params = code_params(decoded[(stem, latest_png[user])])
            period = params["period"]
            # the app's code for the instant its own clock showed...
            assert independent_totp(params["secret"], record.code_time, params["algorithm"], params["digits"],
                                    period) == record.code, f"{stem} step {record.number}"
            # ...which, on a device whose clock is right, is the scenario's time
            if abs(record.code_time - record.time) < 1:
                assert independent_totp(params["secret"], record.time, params["algorithm"], params["digits"],
                                        period) == record.code
            # and it is inside the server's window around the scenario's time (wider where drift is tracked)
            reach = window + (3 if drift_tracked else 0)
            inside = [independent_totp(params["secret"], record.time + k * period, params["algorithm"],
                                       params["digits"], period) for k in range(-reach, reach + 1)]
            assert record.code in inside
            accepted += 1
    assert accepted >= 30


def test_the_demo_png_gives_the_codes_the_demo_prints(tmp_path):
    import io
    out = io.StringIO()
    assert main(["demo", "--seed", "11", "--out", str(tmp_path)], out=out) == 0
    params = code_params(opencv_decode(tmp_path / "qr-alice-1.png"))
    typed = re.findall(r"^  (\d\d):(\d\d):(\d\d)  alice +types (\d{6}) from alice-browser +accepted", out.getvalue(),
                       re.MULTILINE)
    assert len(typed) == 2
    days = [0, 1]  # the second login is the next morning (the timeline prints the date line)
    start = 1767603600  # 2026-01-05T00:00:00Z + 9 h, the demo's pinned start
    for (h, m, s, code), day in zip(typed, days):
        t = start - 9 * 3600 + day * 86400 + int(h) * 3600 + int(m) * 60 + int(s)
        assert independent_totp(params["secret"], t, params["algorithm"], params["digits"], params["period"]) == code
