"""What an enrolment QR code holds and looks like: the ``otpauth://`` URI, its QR image, the secret
grouped for typing.

The URI follows the Key URI format (issuer both as label prefix and as parameter; algorithm,
digits and period only when they differ from the defaults) and is built by pyotp. The QR image
is made by ``qrcode``. The server's screen that shows them is the login's
(:class:`twofa_sim.login.screen.EnrolmentScreen`).
"""

from __future__ import annotations

import functools

import qrcode
from PIL import Image

from ..core.otp import totp
from ..core.policy import Policy


def provisioning_uri(secret: str, account: str, policy: Policy) -> str:
    """The Key URI for ``account`` under ``policy`` (pyotp builds and encodes it)."""
    generator = totp(secret, algorithm=policy.algorithm, digits=policy.digits, period=policy.period)
    return generator.provisioning_uri(name=account, issuer_name=policy.issuer)


def qr_image(text: str, *, box_size: int = 6, border: int = 4) -> Image.Image:
    """A black-on-white PIL image of a QR code holding ``text`` (error correction M); a fresh copy each call."""
    return _qr_image(text, box_size, border).copy()


@functools.lru_cache(maxsize=64)
def _qr_image(text: str, box_size: int, border: int) -> Image.Image:
    # Encoding takes tens of ms; widgets and scans draw the same screen many times.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(text)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def group_secret(secret: str) -> str:
    """The secret in groups of four for typing by hand: ``JBSW Y3DP ...``."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
