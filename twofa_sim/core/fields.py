"""Typed checks of plain data read back (a snapshot from a session file or a database row).

Every class that restores itself from plain data checks each value here first, for its kind and
for the range the domain can use, so that what restores also works. Each check takes the value
and its place (``session.users[3].enrolment.drift``) and raises :class:`ValidationError` naming that
place; no message repeats a value, which may be a secret.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Any, Callable, Iterable, TypeVar

from .clock import to_epoch
from .errors import ValidationError

MAX_TEXT = 65536
_BASE32 = re.compile(r"[A-Z2-7]+")
T = TypeVar("T")


def kind_of(value: Any) -> str:
    """What a JSON value is, in words (never the value itself)."""
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null",
            int: "a whole number", float: "a number"}.get(type(value), type(value).__name__)


def read_object(value: Any, where: str, required: Iterable[str]) -> dict:
    """An object with exactly the ``required`` entries: the first missing one, or an unknown one, is named."""
    if not isinstance(value, dict):
        raise ValidationError(where, f"must be an object, got {kind_of(value)}")
    required = list(required)
    missing = [k for k in required if k not in value]
    if missing:
        raise ValidationError(f"{where}.{missing[0]}" if where else missing[0], "is missing")
    extra = sorted(set(value) - set(required))
    if extra:
        raise ValidationError(where or "file", f"has an unknown entry {extra[0][:40]!r}")
    return value


def read_list(value: Any, where: str, limit: int = 10_000_000) -> list:
    if not isinstance(value, list):
        raise ValidationError(where, f"must be a list, got {kind_of(value)}")
    if len(value) > limit:
        raise ValidationError(where, f"has more than {limit} items")
    return value


def read_text(value: Any, where: str, limit: int = MAX_TEXT, allow_empty: bool = True) -> str:
    if not isinstance(value, str):
        raise ValidationError(where, f"must be text, got {kind_of(value)}")
    if len(value) > limit:
        raise ValidationError(where, f"must be at most {limit} characters")
    if not allow_empty and not value:
        raise ValidationError(where, "must not be empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(where, "is not valid Unicode text") from None
    return value


def read_flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(where, f"must be true or false, got {kind_of(value)}")
    return value


def read_whole(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(where, f"must be a whole number, got {kind_of(value)}")
    if not low <= value <= high:
        raise ValidationError(where, f"must be between {low} and {high}")
    return value


def read_number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError(where, f"must be a finite number, got {kind_of(value)}")
    return value


def read_time(value: Any, where: str) -> float:
    """A time the clock can show (1970 to the end of 9998)."""
    number = read_number(value, where)
    try:
        to_epoch(number, field=where)
    except ValidationError as problem:
        raise ValidationError(where, problem.problem) from None
    return number


def read_between(value: Any, where: str, low: float, high: float, unit: str = "seconds") -> float:
    number = read_number(value, where)
    if not low <= number <= high:
        raise ValidationError(where, f"must be between {low:g} and {high:g} {unit}")
    return number


def read_optional(value: Any, read: Callable[..., T], *args: Any) -> T | None:
    """None stays None; anything else is read by ``read(value, *args)``."""
    return None if value is None else read(value, *args)


def read_bytes(value: Any, where: str, low: int, high: int) -> bytes:
    """Bytes written as base64 text, ``low`` to ``high`` of them."""
    text = read_text(value, where, limit=4 * high)
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ValidationError(where, "must be base64") from None
    if not low <= len(raw) <= high:
        raise ValidationError(where, f"must hold {low} to {high} bytes, holds {len(raw)}")
    return raw


def read_base32_secret(value: Any, where: str) -> str:
    """A shared secret as the QR shows it: upper-case base32 without padding, 112 to 512 bits."""
    text = read_text(value, where, limit=200)
    if not _BASE32.fullmatch(text):
        raise ValidationError(where, "must be base32 (A-Z, 2-7, no padding)")
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise ValidationError(where, "must be base32 (A-Z, 2-7, no padding)") from None
    if not 14 <= len(raw) <= 64:
        raise ValidationError(where, f"must hold 112 to 512 bits, holds {len(raw) * 8}")
    return text


def encode_bytes(raw: bytes) -> str:
    """Bytes as a snapshot writes them (base64): the one encoding of bytes in plain data."""
    return base64.b64encode(raw).decode("ascii")


__all__ = ["MAX_TEXT", "kind_of", "read_object", "read_list", "read_text", "read_flag", "read_whole", "read_number",
           "read_time", "read_between", "read_optional", "read_bytes", "read_base32_secret", "encode_bytes"]
