"""The enrolment screen: the ``otpauth://`` URI, its QR code, and the secret as text.

The URI follows the Key URI format (issuer both as label prefix and as parameter; algorithm,
digits and period only when they differ from the defaults) and is built by pyotp. The QR image
is made by ``qrcode``; :meth:`EnrolmentScreen.page_image` draws what the login's second window
shows, so an app can scan it from pixels.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import qrcode
from PIL import Image, ImageDraw, ImageFont

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


@dataclass(frozen=True, repr=False)
class EnrolmentScreen:
    """What the second window shows at a first login. Its repr never shows the secret."""

    issuer: str
    account: str
    uri: str = field(repr=False)
    secret: str = field(repr=False)

    @classmethod
    def for_user(cls, secret: str, account: str, policy: Policy) -> "EnrolmentScreen":
        return cls(policy.issuer, account, provisioning_uri(secret, account, policy), secret)

    @property
    def secret_for_typing(self) -> str:
        return group_secret(self.secret)

    def qr_image(self, box_size: int = 6) -> Image.Image:
        return qr_image(self.uri, box_size=box_size)

    def page_image(self, width: int = 640) -> Image.Image:
        """The second window as a page: heading, the QR, the secret as text, the code field."""
        qr = self.qr_image()
        font = ImageFont.load_default(size=18)
        small = ImageFont.load_default(size=15)
        height = qr.height + 230
        page = Image.new("RGB", (width, height), "#f4f5f7")
        draw = ImageDraw.Draw(page)
        draw.rectangle([20, 20, width - 20, height - 20], fill="white", outline="#c9ccd1")
        draw.text((40, 36), f"{self.issuer}: set up two-factor authentication", fill="#1f2933", font=font)
        draw.text((40, 64), "Scan this QR code with your authenticator app.", fill="#52606d", font=small)
        page.paste(qr, ((width - qr.width) // 2, 90))
        y = 90 + qr.height + 12
        draw.text((40, y), "Or enter this key by hand:", fill="#52606d", font=small)
        draw.text((40, y + 22), self.secret_for_typing, fill="#1f2933", font=small)
        draw.text((40, y + 56), "Code from the app:", fill="#52606d", font=small)
        draw.rectangle([40, y + 80, 240, y + 110], outline="#9aa5b1", fill="white")
        return page

    def _repr_png_(self) -> bytes:
        import io
        buffer = io.BytesIO()
        self.qr_image().save(buffer, format="PNG")
        return buffer.getvalue()

    def __repr__(self) -> str:
        return f"EnrolmentScreen(issuer={self.issuer!r}, account={self.account!r})"
