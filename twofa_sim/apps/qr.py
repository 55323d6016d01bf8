"""What an enrolment QR code holds and looks like: the ``otpauth://`` URI, its QR image, the secret
grouped for typing.

The URI follows the Key URI format (issuer both as label prefix and as parameter; algorithm,
digits and period only when they differ from the defaults) and is built by pyotp. The QR image
is made by ``qrcode``, which picks the mask the standard's penalty rules prefer; the eight masks are
scored at once (:class:`_Code`), the same choice in a third of the time. The server's screen that shows
them is the login's (:class:`twofa_sim.login.screen.EnrolmentScreen`).
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
    code = _Code(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(text)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


#: ISO/IEC 18004's finder-like pattern (1:1:3:1:1 with four light modules on one side), as qrcode looks
#: for it: 11 modules, dark = 1, read left to right or top to bottom.
_FINDER_LIKE = (0b10111010000, 0b00001011101)


class _Code(qrcode.QRCode):
    """``qrcode.QRCode`` whose mask search scores all eight masks on arrays at once.

    qrcode lays the symbol out eight times and scores each with the four penalty rules of ISO/IEC
    18004 section 7.8.3 in Python loops (most of an encoding's time). Laid out once, the data modules
    are known, and each mask is that layout with the data modules flipped where the masks differ; the
    four rules, counted as qrcode counts them, then pick the same mask (the first of the lowest).
    """

    def map_data(self, data, mask_pattern):
        self._data_area = [[module is None for module in row] for row in self.modules]  # before the data
        super().map_data(data, mask_pattern)

    def best_mask_pattern(self) -> int:
        import numpy as np

        self.makeImpl(True, 0)
        laid_out = np.array(self.modules, dtype=bool)
        data = np.array(self._data_area, dtype=bool)
        n = self.modules_count
        i, j = np.indices((n, n))
        masks = np.stack([(i + j) % 2 == 0, i % 2 == 0, j % 3 == 0, (i + j) % 3 == 0, (i // 2 + j // 3) % 2 == 0,
                          (i * j) % 2 + (i * j) % 3 == 0, ((i * j) % 2 + (i * j) % 3) % 2 == 0,
                          ((i * j) % 3 + (i + j) % 2) % 2 == 0])
        symbols = laid_out ^ (data & (masks ^ masks[0]))          # the eight symbols as the search lays them out
        lost = [_penalty(symbol) for symbol in symbols]
        return lost.index(min(lost))


def _penalty(symbol) -> int:
    """qrcode's ``util.lost_point`` of one symbol (a square bool array)."""
    import numpy as np

    n = len(symbol)
    both = (symbol, symbol.T)
    # rule 1: a run of five or more modules of one colour in a row or column, 3 + (length - 5) each
    runs = 0
    for lines in both:
        marked = np.concatenate([lines.astype(np.int8), np.full((n, 1), 2, np.int8)], axis=1).ravel()
        edges = np.flatnonzero(np.diff(marked)) + 1
        lengths = np.diff(np.concatenate([[0], edges, [marked.size]]))
        runs += int((lengths[lengths >= 5] - 2).sum())
    # rule 2: each 2x2 block of one colour, 3
    top, bottom = symbol[:-1], symbol[1:]
    blocks = int(((top[:, :-1] == top[:, 1:]) & (top[:, :-1] == bottom[:, :-1]) & (top[:, :-1] == bottom[:, 1:])).sum())
    # rule 3: the finder-like pattern in a row or column, 40 each
    finders = 0
    for lines in both:
        windows = sum(lines[:, k:n - 10 + k].astype(np.int64) << (10 - k) for k in range(11))
        finders += int(np.isin(windows, _FINDER_LIKE).sum())
    # rule 4: 10 for each 5 % the dark modules are off half
    percent = float(int(symbol.sum())) / (n ** 2)
    return runs + 3 * blocks + 40 * finders + int(abs(percent * 100 - 50) / 5) * 10


def group_secret(secret: str) -> str:
    """The secret in groups of four for typing by hand: ``JBSW Y3DP ...``."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
