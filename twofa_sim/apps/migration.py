"""Google Authenticator's export QR code, ``otpauth-migration://offline?data=...``, read and written.

The newer, closed-source Google Authenticator exports its accounts as QR codes holding a protocol
buffer (``MigrationPayload``: secret bytes, name, issuer, algorithm, digit count, type, counter),
base64 in the ``data`` parameter. The message is as Aegis declares it (app/src/main/proto/
google_auth.proto at tag v3.4.2); the browser add-on 8.0.x unpacks it in its import
(src/models/migration.ts) into ``otpauth://`` lines, which then go through its usual import. The
wire format (varints and length-delimited fields) is read here by hand: five fields of one message
do not warrant a protobuf dependency and generated code.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qs, quote, urlsplit

from ..core.errors import UriError
from .otpauth import build_key_uri, normalise_secret

SCHEME = "otpauth-migration"
ALGORITHMS = {0: "SHA1", 1: "SHA1", 2: "SHA256", 3: "SHA512", 4: "MD5"}
DIGITS = {0: 6, 1: 6, 2: 8}
TYPES = {0: "totp", 1: "hotp", 2: "totp"}
MAX_DATA = 64 * 1024


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if at >= len(data) or shift > 63:
            raise UriError("data", "a number in the payload is cut off")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not byte & 0x80:
            return value, at


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    """The (field number, value) pairs of one message: varints and length-delimited bytes."""
    fields, at = [], 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 2:
            length, at = _varint(data, at)
            if at + length > len(data):
                raise UriError("data", "a field of the payload is cut off")
            value, at = data[at:at + length], at + length
        else:
            raise UriError("data", f"field {number} has wire type {wire}, which the payload does not use")
        fields.append((number, value))
    return fields


def _text(value: int | bytes, what: str) -> str:
    if not isinstance(value, bytes):
        raise UriError("data", f"the {what} is not text")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise UriError("data", f"the {what} is not UTF-8") from None


def read_migration(text: str) -> list[str]:
    """The ``otpauth://`` lines an ``otpauth-migration://`` URI holds (:class:`UriError` naming what
    is wrong). The lines hold the secrets."""
    if not isinstance(text, str) or not text.startswith(f"{SCHEME}://"):
        raise UriError("scheme", f"must be {SCHEME}://")
    if len(text) > MAX_DATA:
        raise UriError("uri", f"is {len(text)} characters long; at most {MAX_DATA} are read")
    data = parse_qs(urlsplit(text).query).get("data", [""])[0]
    try:
        payload = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise UriError("data", "is not base64") from None
    lines = []
    for number, value in _fields(payload):
        if number != 1:
            continue                                    # version, batch size, index and id
        if not isinstance(value, bytes):
            raise UriError("data", "an account of the payload is not a message")
        account = dict(_fields(value))
        secret = account.get(1, b"")
        if not isinstance(secret, bytes) or not secret:
            raise UriError("data", "an account of the payload has no secret")
        kind = TYPES.get(account.get(6, 0), "totp")
        counter = account.get(7, 0) if kind == "hotp" else None
        lines.append(build_key_uri(base64.b32encode(secret).decode().rstrip("="), _text(account.get(2, b""), "name"),
                                   _text(account.get(3, b""), "issuer"),
                                   algorithm=ALGORITHMS.get(account.get(4, 0), "SHA1"),
                                   digits=DIGITS.get(account.get(5, 0), 6), counter=counter))
    return lines


def _key(number: int, wire: int) -> bytes:
    return _encode_varint(number << 3 | wire)


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _bytes_field(number: int, value: bytes) -> bytes:
    return _key(number, 2) + _encode_varint(len(value)) + value


def build_migration(accounts: list[dict]) -> str:
    """An ``otpauth-migration://`` URI for accounts given as ``{"secret", "name", "issuer",
    "algorithm", "digits", "counter"}`` (what Google Authenticator's export would show)."""
    payload = b""
    for account in accounts:
        secret = normalise_secret(account["secret"])
        algorithm = {name: number for number, name in ALGORITHMS.items() if number}[account.get("algorithm", "SHA1")]
        counter = account.get("counter")
        body = (_bytes_field(1, base64.b32decode(secret + "=" * (-len(secret) % 8)))
                + _bytes_field(2, account["name"].encode()) + _bytes_field(3, account.get("issuer", "").encode())
                + _key(4, 0) + _encode_varint(algorithm)
                + _key(5, 0) + _encode_varint(2 if account.get("digits", 6) == 8 else 1)
                + _key(6, 0) + _encode_varint(1 if counter is not None else 2)
                + (_key(7, 0) + _encode_varint(counter) if counter is not None else b""))
        payload += _bytes_field(1, body)
    payload += _key(2, 0) + _encode_varint(1) + _key(3, 0) + _encode_varint(1)
    return f"{SCHEME}://offline?data={quote(base64.b64encode(payload).decode(), safe='')}"


__all__ = ["read_migration", "build_migration", "SCHEME"]
