"""Authenticator apps as data: one frozen record per app says how it reads a QR code.

Apps differ in what they do with the Key URI: which algorithms, digit counts and periods they
honour, what they do with the rest (silently use their default, or refuse the QR code), which
issuer they show when the parameter and the label prefix differ, what a second scan of the same
QR does, how they turn the clock into a time step, and whether they correct their clock. Every
one of those is a field of :class:`AppProfile`, with the source it was read from; the app engine
(:mod:`twofa_sim.authenticator`) reads only these fields, so there is no special case for any app
anywhere else.

The article's own app, the "Authenticator" browser add-on 8.0.x, drops the algorithm and the
period when it imports a QR code (always SHA1 and 30 s): a SHA256 or 60 s policy silently breaks
enrolment for users who follow the article.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

import pandas as pd

from .errors import NotFoundError, UriError, ValidationError
from .otpauth import DEFAULTS, KeyUri


class DuplicatePolicy(enum.Enum):
    """What a second scan of a QR code the app already holds does."""

    ADD_DUPLICATE = "adds a second entry"
    OVERWRITE = "replaces the existing entry"
    ASK = "asks: replace, or keep both"


class DuplicateMatch(enum.Enum):
    """When the app considers a new entry the same as an existing one."""

    SECRET = "same secret"
    LABEL = "same issuer and account"


class IssuerSource(enum.Enum):
    """Which issuer the app shows when the URI's parameter and label prefix differ."""

    PARAMETER = "issuer parameter wins"
    LABEL_PREFIX = "label prefix wins"


class TimeRounding(enum.Enum):
    """How the app turns its clock (with fractions of a second) into whole seconds."""

    TRUNCATE = "rounds down (RFC 6238)"
    NEAREST = "rounds to the nearest second (codes turn over 0.5 s early)"

    def whole_seconds(self, t: float) -> int:
        # JavaScript's Math.round rounds halves up: floor(t + 0.5)
        return math.floor(t + 0.5) if self is TimeRounding.NEAREST else math.floor(t)


class Unsupported(enum.Enum):
    """What the app does with a parameter value it does not support."""

    FORCE_DEFAULT = "silently uses its default"
    REFUSE = "refuses the QR code"


Values = tuple | range


def describe_values(values: Values) -> str:
    """``1 to 10`` for a range, ``10, 30, 60 or 90`` for a tuple."""
    if isinstance(values, range):
        return f"{values.start} to {values.stop - 1}" if len(values) > 1 else str(values.start)
    items = [str(v) for v in values]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


@dataclass(frozen=True)
class Support:
    """How an app treats one URI parameter (algorithm, digits or period) when it scans.

    ``values`` are kept as given; any other value gets ``otherwise``. ``reads=False`` means the
    app never looks at the parameter: whatever the URI says, the default is used.
    """

    default: object
    values: Values
    otherwise: Unsupported = Unsupported.REFUSE
    reads: bool = True

    @classmethod
    def ignored(cls, default: object) -> "Support":
        return cls(default, (default,), Unsupported.FORCE_DEFAULT, reads=False)

    def describe(self) -> str:
        if not self.reads:
            return f"ignored: always {self.default}"
        text = describe_values(self.values)
        if self.otherwise is Unsupported.FORCE_DEFAULT:
            return f"{text}; else {self.default}"
        return text


@dataclass(frozen=True)
class ManualForm:
    """What the app's "enter a key by hand" form offers."""

    algorithms: tuple[str, ...] = ("SHA1",)
    digits: Values = (6,)
    periods: Values = (30,)


@dataclass(frozen=True)
class Adjustment:
    """A value the app used instead of what the URI asked for, and why."""

    field: str
    given: object
    used: object
    why: str

    def __str__(self) -> str:
        return f"{self.field} {self.given} -> {self.used} ({self.why})"


@dataclass(frozen=True)
class Settings:
    """What an entry will actually use, after the profile's rules."""

    issuer: str
    account: str
    algorithm: str
    digits: int
    period: int
    adjustments: tuple[Adjustment, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class AppProfile:
    """One authenticator app: how it reads a QR code, keeps entries and tells the time."""

    key: str
    name: str
    version: str
    platform: str
    source: str = field(repr=False)
    algorithm: Support = field(repr=False)
    digits: Support = field(repr=False)
    period: Support = field(repr=False)
    issuer_source: IssuerSource = field(repr=False)
    duplicates: DuplicatePolicy = field(repr=False)
    duplicate_match: DuplicateMatch = field(repr=False)
    time_rounding: TimeRounding = field(repr=False)
    clock_correction_limit: float | None = field(default=None, repr=False)
    clock_correction_step: float = field(default=1.0, repr=False)
    weak_secret_warning_bits: int | None = field(default=None, repr=False)
    manual: ManualForm = field(default_factory=ManualForm, repr=False)
    notes: str = field(default="", repr=False)

    @property
    def title(self) -> str:
        return f"{self.name} {self.version}"

    @property
    def ignored_parameters(self) -> frozenset[str]:
        return frozenset(n for n in DEFAULTS if not self.support(n).reads)

    @property
    def corrects_clock(self) -> bool:
        return self.clock_correction_limit is not None

    def support(self, name: str) -> Support:
        if name not in DEFAULTS:
            raise ValueError(f"no rule for {name!r}: algorithm, digits or period")
        return getattr(self, name)

    def settings_for(self, uri: KeyUri) -> Settings:
        """What this app makes of a parsed URI: raises :class:`UriError` where it refuses."""
        if uri.type != "totp":
            raise UriError("type", f"{self.title} is modelled for time-based (totp) entries only, got {uri.type}")
        adjustments: list[Adjustment] = []
        used: dict[str, object] = {}
        for name in DEFAULTS:
            rule = self.support(name)
            if not rule.reads:
                used[name] = rule.default
                given_text = uri.ignored_value(name) or (None if getattr(uri, name) is None else str(getattr(uri, name)))
                if given_text is not None and given_text.upper() != str(rule.default).upper():
                    adjustments.append(Adjustment(name, given_text, rule.default, f"{self.title} ignores it on scan"))
                continue
            given = uri.setting(name)
            if given in rule.values:
                used[name] = given
            elif rule.otherwise is Unsupported.FORCE_DEFAULT:
                used[name] = rule.default
                adjustments.append(Adjustment(name, given, rule.default,
                                              f"{self.title} supports {describe_values(rule.values)} only"))
            else:
                raise UriError(name, f"{self.title} refuses {given}: it supports {describe_values(rule.values)} only")
        if self.issuer_source is IssuerSource.PARAMETER:
            issuer = uri.issuer_param or uri.label_issuer or ""
        else:
            issuer = uri.label_issuer or uri.issuer_param or ""
        warnings = []
        if uri.issuer_mismatch:
            warnings.append(f"issuer parameter {uri.issuer_param!r} and label prefix {uri.label_issuer!r} differ; "
                            f"{self.title} shows {issuer!r} ({self.issuer_source.value})")
        if self.weak_secret_warning_bits and uri.secret_bits < self.weak_secret_warning_bits:
            warnings.append(f"the secret has {uri.secret_bits} bits, under {self.weak_secret_warning_bits}: "
                            f"{self.title} warns that the token is unsafe")
        return Settings(issuer, uri.account, used["algorithm"], used["digits"], used["period"],
                        tuple(adjustments), tuple(warnings))

    def manual_settings(self, algorithm: str, digits: int, period: int) -> None:
        """Refuse options the manual form does not offer (a :class:`ValidationError` naming the field)."""
        for name, value, offered in (("algorithm", algorithm, self.manual.algorithms),
                                     ("digits", digits, self.manual.digits), ("period", period, self.manual.periods)):
            if value not in offered:
                raise ValidationError(name, f"the manual form of {self.title} offers {describe_values(offered)} only, "
                                            f"got {value!r}")

    def to_row(self) -> dict[str, object]:
        limit = self.clock_correction_limit
        if limit is None:
            correction = "no"
        elif math.isinf(limit):
            correction = f"yes, in steps of {self.clock_correction_step:g} s"
        else:
            correction = f"within ±{limit:g} s, in steps of {self.clock_correction_step:g} s"
        return {"app": self.title, "platform": self.platform, "algorithm": self.algorithm.describe(),
                "digits": self.digits.describe(), "period (s)": self.period.describe(),
                "issuer shown": self.issuer_source.value,
                "second scan": f"{self.duplicates.value} ({self.duplicate_match.value})",
                "time": self.time_rounding.value, "clock correction": correction, "source": self.source}

    def __repr__(self) -> str:
        return f"AppProfile({self.key!r}: {self.title}, {self.platform})"


REFERENCE = AppProfile(
    key="reference", name="Reference app", version="1.0", platform="any",
    source="Key URI format (google/google-authenticator wiki) and RFC 6238 read literally; "
           "digits and period limited to what pyotp computes",
    algorithm=Support("SHA1", ("SHA1", "SHA256", "SHA512")),
    digits=Support(6, range(6, 11)),
    period=Support(30, range(1, 121)),
    issuer_source=IssuerSource.PARAMETER, duplicates=DuplicatePolicy.ASK, duplicate_match=DuplicateMatch.LABEL,
    time_rounding=TimeRounding.TRUNCATE,
    manual=ManualForm(("SHA1", "SHA256", "SHA512"), range(6, 11), range(1, 121)),
    notes="honours every parameter the format defines; the yardstick the real apps are measured against",
)

AUTHENTICATOR_ADDON = AppProfile(
    key="authenticator-addon", name="Authenticator (browser add-on)", version="8.0.x", platform="browser",
    source="Authenticator-Extension/Authenticator 8.0.x: src/background.ts getTotp (QR import), "
           "src/models/storage.ts EntryStorage.import (algorithm read with parseInt, so 'SHA256' becomes SHA1; "
           "a random id per import, no duplicate check), src/models/key-utilities.ts (Math.round of the time plus "
           "the stored offset), src/syncTime.ts (offset from a Date header, applied only within 300 s), "
           "src/components/Popup/AddAccountPage.vue (manual form: SHA-1/256/512, 6 or 8 digits, any period); "
           "tracker issues #1442 and #1508 (algorithm and period lost on QR import); product brief",
    algorithm=Support.ignored("SHA1"),
    digits=Support(6, range(1, 11), Unsupported.FORCE_DEFAULT),
    period=Support.ignored(30),
    issuer_source=IssuerSource.PARAMETER, duplicates=DuplicatePolicy.ADD_DUPLICATE,
    duplicate_match=DuplicateMatch.SECRET, time_rounding=TimeRounding.NEAREST,
    clock_correction_limit=300.0, clock_correction_step=1.0,
    manual=ManualForm(("SHA1", "SHA256", "SHA512"), (6, 8), range(1, 86_401)),
    notes="the article's app; a manual entry keeps the chosen algorithm and period (issue #1442), a scan does not",
)

AEGIS = AppProfile(
    key="aegis", name="Aegis", version="3.x", platform="Android",
    source="beemdevelopment/Aegis: otp/GoogleAuthInfo.java parseUri (label prefix used, the issuer parameter only "
           "when the label has none; a bad algorithm, digits or period throws), OtpInfo setters; "
           "product brief (1 to 10 digits, any period, asks on duplicates)",
    algorithm=Support("SHA1", ("SHA1", "SHA256", "SHA512")),
    digits=Support(6, range(1, 11)),
    period=Support(30, range(1, 86_401)),
    issuer_source=IssuerSource.LABEL_PREFIX, duplicates=DuplicatePolicy.ASK, duplicate_match=DuplicateMatch.LABEL,
    time_rounding=TimeRounding.TRUNCATE,
    manual=ManualForm(("SHA1", "SHA256", "SHA512"), range(1, 11), range(1, 86_401)),
)

FREEOTP = AppProfile(
    key="freeotp", name="FreeOTP", version="2.x", platform="Android",
    source="freeotp/freeotp-android mobile/.../Token.java: parse (secret under 16 bytes is 'unsafe', digits "
           "outside Code.Factory's 6 to 9 are 'unsafe', period under 5 is invalid), getIssuer (label prefix, else "
           "parameter), a new token per scan; product brief (warns on short secrets, no duplicate check)",
    algorithm=Support("SHA1", ("SHA1", "SHA256", "SHA512")),
    digits=Support(6, range(6, 10)),
    period=Support(30, range(5, 86_401)),
    issuer_source=IssuerSource.LABEL_PREFIX, duplicates=DuplicatePolicy.ADD_DUPLICATE,
    duplicate_match=DuplicateMatch.SECRET, time_rounding=TimeRounding.TRUNCATE,
    weak_secret_warning_bits=128,
    manual=ManualForm(("SHA1", "SHA256", "SHA512"), range(6, 10), range(5, 86_401)),
)

TWOFAS = AppProfile(
    key="2fas", name="2FAS", version="5.x", platform="Android",
    source="twofas/2fas-android ServicesRepositoryImpl.kt: isServiceValid (a link with another algorithm, digits or "
           "period is refused), addService ('Delete duplicate, if any': same secret replaced); product brief "
           "(periods 10/30/60/90; the Android version read accepts 30/60/90)",
    algorithm=Support("SHA1", ("SHA1", "SHA256", "SHA512")),
    digits=Support(6, (6, 7, 8)),
    period=Support(30, (10, 30, 60, 90)),
    issuer_source=IssuerSource.PARAMETER, duplicates=DuplicatePolicy.OVERWRITE,
    duplicate_match=DuplicateMatch.SECRET, time_rounding=TimeRounding.TRUNCATE,
    manual=ManualForm(("SHA1", "SHA256", "SHA512"), (6, 7, 8), (10, 30, 60, 90)),
    notes="2FAS also syncs a time delta with its own server; that is not modelled",
)

GOOGLE_AUTHENTICATOR = AppProfile(
    key="google-authenticator", name="Google Authenticator", version="(as its wiki states)", platform="Android",
    source="Key URI format wiki (google/google-authenticator): algorithm and period 'ignored by the Google "
           "Authenticator implementations', digits 'ignored on Android'; issuer parameter used for internal "
           "disambiguation, not displayed. google-authenticator-android: saveSecret -> AccountDb.update replaces an "
           "account of the same name; TotpClock adds a time correction in whole minutes. Newer versions may differ",
    algorithm=Support.ignored("SHA1"),
    digits=Support.ignored(6),
    period=Support.ignored(30),
    issuer_source=IssuerSource.LABEL_PREFIX, duplicates=DuplicatePolicy.OVERWRITE,
    duplicate_match=DuplicateMatch.LABEL, time_rounding=TimeRounding.TRUNCATE,
    clock_correction_limit=math.inf, clock_correction_step=60.0,
    manual=ManualForm(("SHA1",), (6,), (30,)),
)

PROFILES: dict[str, AppProfile] = {p.key: p for p in (REFERENCE, AUTHENTICATOR_ADDON, AEGIS, FREEOTP, TWOFAS,
                                                       GOOGLE_AUTHENTICATOR)}
"""Every profile by key, the reference app first."""


def profile(key: "str | AppProfile") -> AppProfile:
    """A profile by its key (``"aegis"``), or the profile itself."""
    if isinstance(key, AppProfile):
        return key
    try:
        return PROFILES[key]
    except (KeyError, TypeError):
        raise NotFoundError(f"no app profile {str(key)[:40]!r} (known: {', '.join(PROFILES)})") from None


def profiles_frame(profiles: "list[AppProfile] | None" = None) -> pd.DataFrame:
    """The profiles as a table, one row per app (what the README and the notebooks show)."""
    rows = [p.to_row() for p in (profiles or PROFILES.values())]
    return pd.DataFrame(rows).set_index("app")


__all__ = ["AppProfile", "Support", "ManualForm", "Adjustment", "Settings", "DuplicatePolicy", "DuplicateMatch",
           "IssuerSource", "TimeRounding", "Unsupported", "PROFILES", "REFERENCE", "AUTHENTICATOR_ADDON", "AEGIS",
           "FREEOTP", "TWOFAS", "GOOGLE_AUTHENTICATOR", "profile", "profiles_frame", "describe_values"]
