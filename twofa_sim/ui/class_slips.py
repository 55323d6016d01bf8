"""What the trainer takes away from the dashboard: printable password slips and CSV files.

Each is a whole file handed to the browser as a download link (a ``data:`` address with the
``download`` attribute): the file never passes through the server, and nothing of it is shown on
the page. The slips page stands alone (no script, no address outside it): printed, it gives one
slip per trainee with the username, the password, the trainees' address and a QR code of it.
"""

from __future__ import annotations

import base64
import html
import io
import re

import pandas as pd

from ..apps.qr import qr_image
from .i18n import Texts

SLIP_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 12mm; color: #1f2933; }
h1 { font-size: 16px; margin: 0 0 6mm 0; }
.tfs-slips { display: grid; grid-template-columns: repeat(2, 1fr); gap: 6mm; }
.tfs-slip { border: 1px dashed #52606d; border-radius: 3mm; padding: 4mm; display: flex; gap: 4mm;
            align-items: center; break-inside: avoid; page-break-inside: avoid; }
.tfs-slip img { width: 32mm; height: 32mm; image-rendering: pixelated; }
.tfs-slip .tfs-slip-label { font-size: 11px; color: #52606d; }
.tfs-slip .tfs-slip-value { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 17px;
                            font-weight: 600; letter-spacing: 1px; margin-bottom: 2mm; }
.tfs-slip .tfs-slip-address { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 11px;
                              overflow-wrap: anywhere; }
@media print { body { margin: 8mm; } .tfs-print-hint { display: none; } }
"""


def png_data_uri(image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def slips_page(company: str, hand_out: list[tuple[str, str]], address: str, texts: Texts) -> str:
    """The printable slips as one HTML document, one slip per (username, password)."""
    t = texts
    qr = png_data_uri(qr_image(address, box_size=4)) if address else ""
    slips = []
    for username, password in hand_out:
        picture = f'<img class="tfs-slip-qr" src="{qr}" alt="QR">' if qr else ""
        slips.append(
            f'<div class="tfs-slip">{picture}<div>'
            f'<div class="tfs-slip-label">{html.escape(t("Open"))}</div>'
            f'<div class="tfs-slip-address">{html.escape(address)}</div>'
            f'<div class="tfs-slip-label">{html.escape(t("username"))}</div>'
            f'<div class="tfs-slip-value tfs-slip-username">{html.escape(username)}</div>'
            f'<div class="tfs-slip-label">{html.escape(t("Password"))}</div>'
            f'<div class="tfs-slip-value tfs-slip-password">{html.escape(password)}</div></div></div>')
    title = t("{company}: passwords for the trainees", company=company)
    hint = t("Print this page (Ctrl+P), cut along the lines and give each trainee their own slip.")
    return (f'<!DOCTYPE html><html lang="{html.escape(texts.language)}"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{SLIP_STYLE}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p class='tfs-print-hint'>{html.escape(hint)}</p>"
            f'<div class="tfs-slips">{"".join(slips)}</div></body></html>')


def recovery_codes_page(username: str, codes: list[str], texts: Texts) -> str:
    """One trainee's recovery codes as a page of its own, to print and hand over."""
    t = texts
    title = t("Recovery codes for {name}", name=username)
    hint = t("Each code works once, instead of the app's code. Keep this page where only you can reach it.")
    listed = "".join(f'<li class="tfs-recovery-code">{html.escape(code)}</li>' for code in codes)
    return (f'<!DOCTYPE html><html lang="{html.escape(texts.language)}"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{SLIP_STYLE} li {{ font-family: ui-monospace, monospace; "
            f"font-size: 18px; margin: 2mm 0; }}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<p>{html.escape(hint)}</p><ol>{listed}</ol></body></html>")


def csv_text(rows: list[dict], columns: list[str]) -> str:
    return pd.DataFrame(rows, columns=columns).to_csv(index=False)


def download_link(content: str, filename: str, mime: str, label: str, css_class: str) -> str:
    """A link that saves ``content`` as ``filename`` (UTF-8), without a round trip to the server."""
    encoded = base64.b64encode(content.encode("utf-8")).decode()
    return (f'<a class="{css_class}" download="{html.escape(filename)}" '
            f'href="data:{mime};charset=utf-8;base64,{encoded}">{html.escape(label)}</a>')


def file_stem(company: str) -> str:
    """A file name from a class name: letters, digits and dashes."""
    return re.sub(r"[^A-Za-z0-9]+", "-", company).strip("-").lower() or "class"
