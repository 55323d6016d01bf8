"""The server's enrolment screen: what the login's second window shows at a first login.

The back office draws it (the ``otpauth://`` URI, its QR code, the secret as text, the code
field); :meth:`EnrolmentScreen.page_image` draws it as pixels, so an app can scan it as from a
real screen.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from PIL import Image, ImageDraw, ImageFont

from ..apps.qr import group_secret, provisioning_uri, qr_image
from ..core.frozen import FrozenValue
from ..core.policy import Policy


@dataclass(frozen=True, repr=False)
class EnrolmentScreen(FrozenValue):
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
        page = _page_around(self.issuer, width, qr.height).copy()
        page.paste(qr, ((width - qr.width) // 2, 90))
        ImageDraw.Draw(page).text((40, 90 + qr.height + 34), self.secret_for_typing, fill="#1f2933",
                                  font=ImageFont.load_default(size=15))
        return page

    def _repr_png_(self) -> bytes:
        import io
        buffer = io.BytesIO()
        self.qr_image().save(buffer, format="PNG")
        return buffer.getvalue()

    def __repr__(self) -> str:
        return f"EnrolmentScreen(issuer={self.issuer!r}, account={self.account!r})"


@functools.lru_cache(maxsize=8)
def _page_around(issuer: str, width: int, qr_height: int) -> Image.Image:
    """The page without its QR and secret, the same for every user of one issuer: drawn once, as text
    costs most of a page (none of it overlaps the QR or the secret, so the page is the same)."""
    font = ImageFont.load_default(size=18)
    small = ImageFont.load_default(size=15)
    height = qr_height + 230
    page = Image.new("RGB", (width, height), "#f4f5f7")
    draw = ImageDraw.Draw(page)
    draw.rectangle([20, 20, width - 20, height - 20], fill="white", outline="#c9ccd1")
    draw.text((40, 36), f"{issuer}: set up two-factor authentication", fill="#1f2933", font=font)
    draw.text((40, 64), "Scan this QR code with your authenticator app.", fill="#52606d", font=small)
    y = 90 + qr_height + 12
    draw.text((40, y), "Or enter this key by hand:", fill="#52606d", font=small)
    draw.text((40, y + 56), "Code from the app:", fill="#52606d", font=small)
    draw.rectangle([40, y + 80, 240, y + 110], outline="#9aa5b1", fill="white")
    return page
