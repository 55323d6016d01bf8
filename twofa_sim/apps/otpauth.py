"""The Key URI format: reading and writing the ``otpauth://`` URI inside an enrolment QR code.

``otpauth://TYPE/LABEL?PARAMETERS`` as Google Authenticator's wiki defines it:

- TYPE is ``totp`` or ``hotp`` (``hotp`` needs a ``counter``);
- LABEL is ``accountname`` or ``issuer ":" *"%20" accountname``; the colon may be literal or
  percent-encoded (``%3A``), spaces may precede the account name, and neither issuer nor account
  may contain a colon;
- ``secret`` is required: base32 (RFC 4648), padding not required; lower case is accepted here
  and normalised to upper case, as every app in the simulation does;
- ``issuer`` is strongly recommended and should equal the label prefix;
- ``algorithm`` (SHA1, SHA256, SHA512), ``digits`` and ``period`` are optional, defaults SHA1, 6, 30.
  Apps accept more algorithms (MD5, SHA224, SHA384): the parser reads those names too and the
  app profiles decide.

:func:`parse_key_uri` reads the structure and checks every parameter, raising
:class:`~twofa_sim.core.errors.UriError` with the field name for each invalid case; it never puts
the secret into a message or a repr. What an app then *does* with the values (honour, force a
default, refuse) is the app profile's business (:mod:`twofa_sim.apps.profiles`); parameters an app
never reads can be skipped with ``ignore`` so that, like the real app, it does not even look at
them.

Where this differs from ``pyotp.parse_uri`` (pyotp 2.12), and why:

- pyotp splits the label on a literal ``:`` only, so ``Issuer%3Aalice`` has no issuer for it; the
  Key URI format's grammar allows ``%3A`` as the separator, and so does this parser.
- pyotp refuses an issuer parameter that differs from the label prefix; the format says they
  *should* be equal, and real apps pick one of them (``issuer_source`` in the app profile).
  ``parse_key_uri(..., require_matching_issuer=True)`` gives pyotp's strictness.
- pyotp accepts digits 6, 7 or 8 only and a case-sensitive algorithm name; apps differ (Aegis
  takes 1 to 10 digits, the add-on turns anything outside 1 to 10 into 6, FreeOTP and 2FAS take
  any case), so the parser accepts any whole number of digits from 1 to 99 and any case, and the
  profiles decide.
- pyotp refuses secrets under 112 bits and periods over 120 s when it builds the generator;
  that is a limit of the arithmetic, not of the format, and is checked where codes are made
  (:mod:`twofa_sim.apps.authenticator`).

:func:`build_key_uri` writes URIs the way pyotp does (the backend's QR), so a URI an app exports
reads back the same.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from ..core.errors import UriError
from ..core.policy import ALGORITHMS

MAX_URI = 4096
TYPES = ("totp", "hotp")
ALGORITHM_NAMES = tuple(ALGORITHMS)
"""The algorithms the back office issues (SHA1, SHA256, SHA512)."""
URI_ALGORITHMS = ("MD5", "SHA1", "SHA224", "SHA256", "SHA384", "SHA512")
"""Every algorithm name the reader accepts: some app takes each; the app profiles decide."""
DEFAULTS = {"algorithm": "SHA1", "digits": 6, "period": 30}
DIGITS_RANGE = range(1, 100)         # syntax only: which counts an app honours is its profile's business
PERIOD_RANGE = range(1, 2_147_484)   # Aegis's limit (the period in ms fits a Java int); apps narrow it further
KNOWN_PARAMETERS = ("secret", "issuer", "algorithm", "digits", "period", "counter")
_BASE32 = re.compile(r"[A-Z2-7]*")
_WHOLE = re.compile(r"[0-9]{1,12}")
_BAD_REMAINDERS = {1, 3, 6}          # base32 text cannot end with 1, 3 or 6 characters of a group


def _short(text: str, limit: int = 24) -> str:
    """A value for a message: quoted if short, else only its length, so no part of a pasted secret
    can reach a message."""
    return repr(text) if len(text) <= limit else f"{len(text)} characters"


def normalise_secret(text: object, *, field: str = "secret", allow_spaces: bool = False) -> str:
    """A base32 secret in upper case without padding, or :class:`UriError` saying what is wrong.

    Lower case is accepted; padding is accepted when it is the right amount for the length (the
    format says it is not required and should be omitted). ``allow_spaces`` is for secrets typed
    by hand from the grouped text on the enrolment page (``JBSW Y3DP ...``). Messages name the
    position of a bad character, never the secret.
    """
    if not isinstance(text, str):
        raise UriError(field, f"must be text, got {type(text).__name__}")
    secret = text.replace(" ", "").replace("-", "") if allow_spaces else text
    if not secret:
        raise UriError(field, "missing: the Key URI format requires a base32 secret")
    body = secret.rstrip("=")
    padding = len(secret) - len(body)
    body = body.upper()
    match = _BASE32.match(body)
    if match.end() != len(body):
        position = match.end() + 1
        raise UriError(field, f"character {position} of {len(body)} is not base32 (letters A-Z and digits 2-7)")
    if not body:
        raise UriError(field, "missing: only padding was given")
    if len(body) % 8 in _BAD_REMAINDERS:
        raise UriError(field, f"has {len(body)} characters: base32 text cannot end with 1, 3 or 6 "
                              "characters after the last group of 8 (a character is missing or extra)")
    if padding and (len(secret) % 8 != 0 or padding > 6):
        raise UriError(field, f"has {padding} '=' of padding, which does not fit its length "
                              "(padding is not required: leave it out)")
    return body


def secret_bytes(secret: str) -> bytes:
    """The key a normalised base32 secret stands for."""
    try:
        return base64.b32decode(secret + "=" * (-len(secret) % 8))
    except (binascii.Error, ValueError):  # pragma: no cover - normalise_secret rules this out
        raise UriError("secret", "is not valid base32") from None


def parse_algorithm(text: str) -> str:
    name = text.strip().upper()
    if name not in URI_ALGORITHMS:
        raise UriError("algorithm", f"must be one of {', '.join(URI_ALGORITHMS)}, got {_short(text, 8)}")
    return name


def _whole(field_name: str, text: str, allowed: range, what: str) -> int:
    if not _WHOLE.fullmatch(text) or int(text) not in allowed:
        raise UriError(field_name, f"must be {what} from {allowed.start} to {allowed.stop - 1}, got {_short(text, 8)}")
    return int(text)


def parse_digits(text: str) -> int:
    return _whole("digits", text, DIGITS_RANGE, "a whole number of digits")


def parse_period(text: str) -> int:
    return _whole("period", text, PERIOD_RANGE, "a whole number of seconds")


def parse_counter(text: str) -> int:
    return _whole("counter", text, range(0, 10 ** 12), "a whole number")


@dataclass(frozen=True, repr=False)
class KeyUri:
    """The content of an ``otpauth://`` URI. ``None`` means the URI did not give that parameter
    (or the reader chose to ignore it, see ``ignored``). The repr never shows the secret."""

    type: str
    account: str
    label_issuer: str | None
    issuer_param: str | None
    secret: str = field(repr=False)
    algorithm: str | None = None
    digits: int | None = None
    period: int | None = None
    counter: int | None = None
    ignored: tuple[tuple[str, str], ...] = ()
    algorithm_text: str | None = None
    """The algorithm as written in the URI (an app may compare it case-sensitively)."""

    def ignored_value(self, name: str) -> str | None:
        """The text the URI gave for a parameter the reader chose not to read (up to 8 characters)."""
        return dict(self.ignored).get(name)

    @property
    def issuer(self) -> str:
        """The issuer as the format says to read it: the parameter, else the label prefix."""
        return self.issuer_param or self.label_issuer or ""

    @property
    def issuer_mismatch(self) -> bool:
        """Both an issuer parameter and a label prefix, and they differ."""
        return bool(self.issuer_param and self.label_issuer and self.issuer_param != self.label_issuer)

    @property
    def secret_bits(self) -> int:
        return len(secret_bytes(self.secret)) * 8

    def setting(self, name: str):
        """``algorithm``, ``digits`` or ``period`` as given, or the format's default when absent."""
        value = getattr(self, name)
        return DEFAULTS[name] if value is None else value

    def __repr__(self) -> str:
        issuer = f"issuer={self.issuer!r}, " if self.issuer else ""
        given = ", ".join(f"{n}={getattr(self, n)}" for n in ("algorithm", "digits", "period")
                          if getattr(self, n) is not None)
        return f"KeyUri({self.type}, {issuer}account={self.account!r}{', ' + given if given else ''})"


def _split_label(path: str) -> tuple[str | None, str]:
    if not path.startswith("/") or not path[1:]:
        raise UriError("label", "missing: expected otpauth://TYPE/LABEL?secret=...")
    try:
        label = unquote(path[1:], errors="strict")
    except UnicodeDecodeError:
        raise UriError("label", "is not valid percent-encoded UTF-8") from None
    if not label.isprintable():
        raise UriError("label", "contains control characters")
    parts = label.split(":")
    if len(parts) > 2:
        raise UriError("label", f"has {len(parts) - 1} colons: neither issuer nor account may contain a ':'")
    if len(parts) == 1:
        issuer, account = None, parts[0]
    else:
        issuer, account = parts[0], parts[1].lstrip(" ")
        if not issuer.strip():
            raise UriError("label", "the issuer before ':' is empty")
    if not account.strip():
        raise UriError("label", "the account name is empty")
    return issuer, account


def _query(query: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise UriError("parameters", "are not valid percent-encoded UTF-8") from None
    values: dict[str, str] = {}
    for key, value in pairs:
        if key in KNOWN_PARAMETERS:
            if key in values:
                raise UriError(key, "appears twice")
            values[key] = value
    return values


def parse_key_uri(text: object, *, ignore: frozenset[str] | set[str] = frozenset(),
                  require_matching_issuer: bool = False, counter_optional: bool = False) -> KeyUri:
    """Read an ``otpauth://`` URI; :class:`UriError` names the field of the first problem.

    ``ignore`` lists parameters among ``algorithm``, ``digits``, ``period`` that the reader never
    looks at (an app that drops them): they are not checked and read as absent; their text is
    kept in ``ignored`` so a result can say what was dropped.
    ``require_matching_issuer`` refuses an issuer parameter that differs from the label prefix,
    as pyotp does. ``counter_optional`` reads an hotp URI without ``counter`` (its ``counter`` is
    then None): the format requires the counter, apps differ (the profile's behaviour decides).
    """
    unknown = set(ignore) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"only algorithm, digits and period can be ignored, not {sorted(unknown)}")
    if not isinstance(text, str):
        raise UriError("uri", f"must be text, got {type(text).__name__}")
    if len(text) > MAX_URI:
        raise UriError("uri", f"is {len(text)} characters long; at most {MAX_URI} are read")
    if not text.strip() or not text.isprintable():
        raise UriError("uri", "is empty or contains control characters")
    try:
        parts = urlsplit(text.strip())
    except ValueError:  # urllib refuses an unbalanced '[' or ']' where a host would be ("Invalid IPv6 URL")
        raise UriError("uri", "is not a well-formed URI: a '[' or ']' after '//' is not closed") from None
    if parts.scheme != "otpauth":
        if "://" not in text[:64] or not parts.scheme:
            shown = "no scheme"
        else:  # a long "scheme" could be a pasted secret: name only short ones
            shown = f"{parts.scheme}://" if len(parts.scheme) <= 10 else "an unknown scheme"
        raise UriError("scheme", f"must be otpauth://, got {shown}")
    kind = parts.netloc.lower()
    if kind not in TYPES:
        raise UriError("type", f"must be totp or hotp, got {_short(parts.netloc, 8) if parts.netloc else 'nothing'}")
    label_issuer, account = _split_label(parts.path)
    values = _query(parts.query)

    secret = normalise_secret(values.get("secret", ""))
    issuer_param = values.get("issuer", "").strip() or None
    if issuer_param is not None and ":" in issuer_param:
        raise UriError("issuer", "must not contain ':' (it should equal the label prefix)")
    if require_matching_issuer and issuer_param and label_issuer and issuer_param != label_issuer:
        raise UriError("issuer", f"the parameter {_short(issuer_param)} differs from the label prefix "
                                 f"{_short(label_issuer)}; the Key URI format says they should be equal")

    def read(name: str, parse):
        raw = values.get(name, "")
        return None if name in ignore or not raw.strip() else parse(raw.strip())

    counter = None
    if kind == "hotp":
        if values.get("counter", "").strip():
            counter = parse_counter(values["counter"].strip())
        elif not counter_optional:
            raise UriError("counter", "missing: an hotp URI needs the initial counter")
    skipped = tuple((name, text if len(text) <= 8 else f"{len(text)} characters")
                    for name in DEFAULTS if name in ignore and (text := values.get(name, "").strip()))
    return KeyUri(type=kind, account=account, label_issuer=label_issuer, issuer_param=issuer_param,
                  secret=secret, algorithm=read("algorithm", parse_algorithm), digits=read("digits", parse_digits),
                  period=read("period", parse_period), counter=counter, ignored=skipped,
                  algorithm_text=None if "algorithm" in ignore else values.get("algorithm", "").strip()[:8] or None)


def build_key_uri(secret: str, account: str, issuer: str = "", *, algorithm: str = "SHA1", digits: int = 6,
                  period: int = 30, explicit: bool = False, counter: int | None = None) -> str:
    """A TOTP Key URI (HOTP with a ``counter``): issuer as label prefix and parameter; algorithm,
    digits and period only when they differ from the defaults (or always, with ``explicit``).
    Same text as pyotp's ``provisioning_uri`` for the same values."""
    secret = normalise_secret(secret)
    if ":" in account or ":" in issuer:
        raise UriError("label", "neither issuer nor account may contain a ':'")
    if not account:
        raise UriError("label", "the account name is empty")
    args: dict[str, str | int] = {"secret": secret}
    label = quote(account)
    if issuer:
        label = quote(issuer) + ":" + label
        args["issuer"] = issuer
    algorithm = parse_algorithm(algorithm)
    if explicit or algorithm != "SHA1":
        args["algorithm"] = algorithm
    if explicit or digits != 6:
        args["digits"] = parse_digits(str(digits))
    if counter is not None:
        args["counter"] = parse_counter(str(counter))
    elif explicit or period != 30:
        args["period"] = parse_period(str(period))
    kind = "totp" if counter is None else "hotp"
    return f"otpauth://{kind}/{label}?{urlencode(args).replace('+', '%20')}"


__all__ = ["KeyUri", "parse_key_uri", "build_key_uri", "normalise_secret", "secret_bytes", "ALGORITHM_NAMES",
           "URI_ALGORITHMS",
           "DEFAULTS"]
