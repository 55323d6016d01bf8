"""Authenticator apps as data: one frozen record per app and range of versions says how it reads
a QR code.

Apps differ in what they do with the Key URI: which algorithms, digit counts and periods they
honour, what they do with the rest (silently use their default, refuse the QR code, or warn and
let the user decide), which issuer they show when the parameter and the label prefix differ, what
a second scan of the same QR does, what an ``hotp`` QR becomes, how they turn the clock into a
time step, whether and how they correct their clock, and what their export leaves out. Every one
of those is a field of :class:`AppProfile`, with the repository, path and tag it was read at; the
app engine (:mod:`twofa_sim.apps.authenticator`) reads only these fields, so there is no special case
for any app anywhere else. Versions are records too: :data:`PROFILES` holds the newest modelled
version of each app, :data:`VERSIONS` every one (``2fas@5.0``), so a matrix or a what-if can put
two versions side by side.

The article's own app, the "Authenticator" browser add-on 8.0.x, drops the algorithm and the
period when it imports a QR code (always SHA1 and 30 s): a SHA256 or 60 s policy silently breaks
enrolment for users who follow the article.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas only for the table below: a kernel showing the login mask does not load it
    import pandas as pd

from ..core.errors import NotFoundError, UriError, ValidationError
from .behaviour import (ADDON_BEHAVIOUR, ADDON_LINKS, AEGIS_BEHAVIOUR, FREEOTP_2_0_BEHAVIOUR, FREEOTP_BEHAVIOUR,
                        GOOGLE_AUTHENTICATOR_BEHAVIOUR, GOOGLE_AUTHENTICATOR_LINKS, REFERENCE_BEHAVIOUR,
                        REFERENCE_LINKS, TWOFAS_BEHAVIOUR, Behaviour, LinkScheme, ManualForm, Naming, Values,
                        aegis_links, describe_values, freeotp_links, twofas_name, twofas_links)
from .otpauth import DEFAULTS, KeyUri


class Choice(enum.Enum):
    """The user's answer when an app asks before adding an entry."""

    REPLACE = "replace"
    KEEP_BOTH = "keep both"
    CANCEL = "cancel"
    ADD_ANYWAY = "add anyway"
    SAVE = "save"


class DuplicatePolicy(enum.Enum):
    """What a second scan of a QR code the app already holds does."""

    ADD_DUPLICATE = "adds a second entry"
    OVERWRITE = "replaces the existing entry"
    ASK = "asks: replace, or keep both"
    ASK_REPLACE = "asks: replace it (yes), or drop the scan (no)"
    ASK_SUFFIX = 'asks: overwrite, add with a " #2" suffix, or cancel'
    BY_ISSUER = ('with an issuer parameter replaces the entry of that issuer and name, without one adds '
                 '"name(1)"; the same secret again changes nothing')

    @property
    def choices(self) -> tuple[Choice, ...]:
        """The answers the app's question offers (none when it does not ask)."""
        return {DuplicatePolicy.ASK: (Choice.REPLACE, Choice.KEEP_BOTH, Choice.CANCEL),
                DuplicatePolicy.ASK_REPLACE: (Choice.REPLACE, Choice.CANCEL),
                DuplicatePolicy.ASK_SUFFIX: (Choice.REPLACE, Choice.KEEP_BOTH, Choice.CANCEL)}.get(self, ())


UNSAFE_CHOICES = (Choice.ADD_ANYWAY, Choice.CANCEL)
"""What a "Token is unsafe!" warning offers."""
SAVE_CHOICES = (Choice.SAVE, Choice.CANCEL)
"""What Aegis's edit screen after a scan, and Google Authenticator's "Save key for ...?", offer."""


class DuplicateMatch(enum.Enum):
    """When the app considers a new entry the same as an existing one."""

    SECRET = "same secret"
    LABEL = "same issuer and account"
    ISSUER_AND_NAME = "same issuer parameter and name"


class IssuerSource(enum.Enum):
    """Which issuer the app shows when the URI's parameter and label prefix differ."""

    PARAMETER = "issuer parameter wins"
    LABEL_PREFIX = "label prefix wins"
    PARAMETER_ONLY = "issuer parameter only; a differing label prefix stays in the name"


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
    WARN = 'warns "Token is unsafe!" and adds it on "Add Anyway"'


class HotpHandling(enum.Enum):
    """What the app does with a counter-based (``otpauth://hotp/``) QR code."""

    KEEP = "keeps it counter-based (HOTP)"
    TIME_BASED = "turns it into a time-based entry (SHA1, 30 s)"
    REFUSE = "refuses it"


class ClockSource(enum.Enum):
    """Where an app that corrects its clock takes the right time from, and when."""

    NONE = "no"
    DATE_HEADER = "a web server's Date header, first from its menu, then at every opening"
    SYNC_NOW = "a web server's Date header (www.google.com) when the user starts \"Sync now\""
    NTP = "automatically: NTP time servers"


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
        if self.otherwise is Unsupported.WARN:
            return f"{text}; else warns"
        return text


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
    unsafe: tuple[str, ...] = ()
    type: str = "totp"
    counter: int | None = None


@dataclass(frozen=True)
class AppProfile:
    """One authenticator app at one range of versions: how it reads a QR code, keeps entries,
    tells the time and exports what it holds.

    ``version`` is the short name in the title; ``versions`` the range of releases the record
    holds for and ``tag`` the release its source was read at. Two versions of one app are two
    records sharing ``app`` (``2fas`` and ``2fas@5.0``).
    """

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
    clock_source: ClockSource = field(default=ClockSource.NONE, repr=False)
    weak_secret_warning_bits: int | None = field(default=None, repr=False)
    hotp: HotpHandling = field(default=HotpHandling.KEEP, repr=False)
    export_omits_defaults: bool = field(default=False, repr=False)
    password_lock: bool = field(default=False, repr=False)
    manual: ManualForm = field(default_factory=ManualForm, repr=False)
    behaviour: Behaviour = field(default_factory=Behaviour, repr=False)
    otpauth_links: LinkScheme = field(default=LinkScheme(None, ""), repr=False)
    versions: str = field(default="", repr=False)
    tag: str = field(default="", repr=False)
    notes: str = field(default="", repr=False)

    @property
    def app(self) -> str:
        """The app this record is a version of (the key without ``@version``)."""
        return self.key.split("@")[0]

    @property
    def title(self) -> str:
        return f"{self.name} {self.version}"

    @property
    def ignored_parameters(self) -> frozenset[str]:
        return frozenset(n for n in DEFAULTS if not self.support(n).reads)

    @property
    def corrects_clock(self) -> bool:
        return self.clock_correction_limit is not None

    @property
    def corrects_automatically(self) -> bool:
        return self.clock_source is ClockSource.NTP

    def support(self, name: str) -> Support:
        if name not in DEFAULTS:
            raise ValueError(f"no rule for {name!r}: algorithm, digits or period")
        return getattr(self, name)

    def shown_name(self, issuer: str, account: str) -> str:
        """How the app's list shows an entry (Google Authenticator 5.00: ``issuer (name)``)."""
        if not issuer:
            return account
        if self.issuer_source is IssuerSource.PARAMETER_ONLY:
            return f"{issuer} ({account})"
        return f"{issuer}: {account}"

    def settings_for(self, uri: KeyUri) -> Settings:
        """What this app makes of a parsed URI: raises :class:`UriError` where it refuses.

        Values the app warns about (FreeOTP's "Token is unsafe!") are kept and listed in
        ``unsafe``: the app then asks before it adds the entry.
        """
        kind, counter = uri.type, uri.counter
        adjustments: list[Adjustment] = []
        if kind == "hotp":
            if self.hotp is HotpHandling.REFUSE:
                raise UriError("type", f"{self.title} refuses counter-based (hotp) entries")
            if self.hotp is HotpHandling.TIME_BASED:
                adjustments.append(Adjustment("type", "hotp", "totp", f"{self.title} makes every scanned entry "
                                                                      "time-based"))
                kind, counter = "totp", None
            elif counter is None:
                start = self.behaviour.hotp_start
                if start is None:
                    raise UriError("counter", f"missing: {self.title} refuses an hotp QR code without a counter")
                adjustments.append(Adjustment("counter", "none", start, f"{self.title} starts at {start}"))
                counter = start
        used: dict[str, object] = {}
        unsafe: list[str] = []
        for name in DEFAULTS:
            rule = self.support(name)
            if name == "period" and kind == "hotp":
                used[name] = rule.default           # a counter-based entry has no period
                continue
            if not rule.reads:
                used[name] = rule.default
                given = getattr(uri, name)
                given_text = uri.ignored_value(name) or (None if given is None else str(given))
                if given_text is not None and given_text.upper() != str(rule.default).upper():
                    adjustments.append(Adjustment(name, given_text, rule.default, f"{self.title} ignores it on scan"))
                continue
            given = uri.setting(name)
            if name == "algorithm" and self.behaviour.algorithm_case_sensitive and uri.algorithm_text not in (
                    None, given):
                unsafe.append(f"algorithm {uri.algorithm_text!r} is not written in capitals")
                used[name] = given
                continue
            if given in rule.values:
                used[name] = given
            elif rule.otherwise is Unsupported.FORCE_DEFAULT:
                used[name] = rule.default
                adjustments.append(Adjustment(name, given, rule.default,
                                              f"{self.title} supports {describe_values(rule.values)} only"))
            elif rule.otherwise is Unsupported.WARN:
                used[name] = given
                unsafe.append(f"{name} {given} is outside {describe_values(rule.values)}")
            else:
                raise UriError(name, f"{self.title} refuses {given}: it supports {describe_values(rule.values)} only")
        account = uri.account
        if self.issuer_source is IssuerSource.PARAMETER:
            issuer = uri.issuer_param or uri.label_issuer or ""
        elif self.issuer_source is IssuerSource.PARAMETER_ONLY:
            issuer = uri.issuer_param or ""
            if uri.label_issuer and uri.label_issuer != issuer:
                account = f"{uri.label_issuer}:{uri.account}"
        else:
            issuer = uri.label_issuer or uri.issuer_param or ""
        if self.behaviour.naming is Naming.KNOWN_SERVICE:
            issuer, account = twofas_name(uri.issuer_param, uri.label_issuer, account)
        warnings = []
        if uri.issuer_mismatch:
            warnings.append(f"issuer parameter {uri.issuer_param!r} and label prefix {uri.label_issuer!r} differ; "
                            f"{self.title} shows {self.shown_name(issuer, account)!r} ({self.issuer_source.value})")
        if self.weak_secret_warning_bits and uri.secret_bits < self.weak_secret_warning_bits:
            unsafe.append(f"the secret has {uri.secret_bits} bits, under {self.weak_secret_warning_bits}")
        return Settings(issuer, account, used["algorithm"], used["digits"], used["period"],
                        tuple(adjustments), tuple(warnings), tuple(unsafe), kind, counter)

    def manual_settings(self, algorithm: str | None, digits: int, period: int) -> None:
        """Refuse options the manual form does not offer (a :class:`ValidationError` naming the field)."""
        for name, value, offered in (("algorithm", algorithm, self.manual.algorithms),
                                     ("digits", digits, self.manual.digits), ("period", period, self.manual.periods)):
            if value not in offered:
                raise ValidationError(name, f"the manual form of {self.title} offers {describe_values(offered)} only, "
                                            f"got {value!r}")

    def describe_clock_correction(self) -> str:
        limit = self.clock_correction_limit
        if limit is None:
            return "no"
        step = f"{self.clock_correction_step * 1000:g} ms" if self.clock_correction_step < 1 else \
            f"{self.clock_correction_step:g} s"
        within = "" if math.isinf(limit) else f" within ±{limit:g} s,"
        if self.clock_source is ClockSource.NONE:
            return f"yes,{within} in steps of {step}"
        return f"{self.clock_source.value},{within} in steps of {step}"

    def to_row(self) -> dict[str, object]:
        return {"app": self.title, "versions": self.versions, "platform": self.platform,
                "algorithm": self.algorithm.describe(),
                "digits": self.digits.describe(), "period (s)": self.period.describe(),
                "issuer shown": self.issuer_source.value,
                "second scan": f"{self.duplicates.value} ({self.duplicate_match.value})",
                "hotp:// QR": self.hotp.value,
                "time": self.time_rounding.value, "clock correction": self.describe_clock_correction(),
                "manual form": self.manual.describe(),
                "hotp:// QR without counter": (self.hotp.value if self.hotp is not HotpHandling.KEEP
                                               else self.behaviour.hotp_without_counter()),
                **self.behaviour.to_row(),
                "otpauth:// link": self.otpauth_links.describe(self.behaviour.links),
                "source": self.source}

    def __repr__(self) -> str:
        return f"AppProfile({self.key!r}: {self.title}, {self.platform})"


AEGIS_MAX_PERIOD = 2_147_483          # Integer.MAX_VALUE / 1000: the period in milliseconds fits an int
APP_PERIOD_LIMIT = AEGIS_MAX_PERIOD   # the simulation's own limit for any period (its URI reader stops there)
ADDON_GOST = ("GOST3411_2012_256", "GOST3411_2012_512")
SHA_FAMILY = ("SHA1", "SHA224", "SHA256", "SHA384", "SHA512")

REFERENCE = AppProfile(
    key="reference", name="Reference app", version="1.0", platform="any",
    source="Key URI format (google/google-authenticator wiki) and RFC 6238 read literally; "
           "digits and period limited to what pyotp computes, time-based only (the back office issues TOTP)",
    algorithm=Support("SHA1", ("SHA1", "SHA256", "SHA512")),
    digits=Support(6, range(6, 11)),
    period=Support(30, range(1, 121)),
    issuer_source=IssuerSource.PARAMETER, duplicates=DuplicatePolicy.ASK, duplicate_match=DuplicateMatch.LABEL,
    time_rounding=TimeRounding.TRUNCATE,
    hotp=HotpHandling.REFUSE,
    manual=ManualForm(("SHA1", "SHA256", "SHA512"), range(6, 11), range(1, 121)),
    behaviour=REFERENCE_BEHAVIOUR, otpauth_links=REFERENCE_LINKS,
    versions="-", tag="-",
    notes="honours every parameter the format defines; the yardstick the real apps are measured against",
)

AUTHENTICATOR_ADDON = AppProfile(
    key="authenticator-addon", name="Authenticator (browser add-on)", version="8.0.x", platform="browser",
    source="Authenticator-Extension/Authenticator at tag v8.0.2: src/background.ts getTotp (QR import: the issuer "
           "parameter replaces the label prefix; digits 0 or not a number -> 6), src/models/storage.ts "
           "EntryStorage.import (type and algorithm read with parseInt, so 'totp', 'hotp' and 'SHA256' fall back to "
           "a time-based SHA1 entry, and the period is kept only for the numeric totp type, so it becomes 30; "
           "digits outside 1 to 10 -> 6; a random id per import, no duplicate check; the scan is refused with "
           "'You cannot add a new account until all accounts are decrypted' while a password-protected add-on is "
           "locked), src/models/key-utilities.ts (Math.round of the time plus the stored offset), src/syncTime.ts "
           "(offset from the Date header of google.com, applied only within 300 s), src/components/Popup/MenuPage.vue "
           "syncClock (the user starts it and grants access to google.com) and src/popup.ts (with that access, "
           "a sync at every opening of the popup), src/components/Popup/EntryComponent.vue getQrUrl "
           "and BackupPage.vue (export: period, digits and algorithm written only when not 30, 6 and SHA1), "
           "src/components/Popup/AddAccountPage.vue (manual form); tracker issues #1442 and #1508",
    algorithm=Support.ignored("SHA1"),
    digits=Support(6, range(1, 11), Unsupported.FORCE_DEFAULT),
    period=Support.ignored(30),
    issuer_source=IssuerSource.PARAMETER, duplicates=DuplicatePolicy.ADD_DUPLICATE,
    duplicate_match=DuplicateMatch.SECRET, time_rounding=TimeRounding.NEAREST,
    clock_correction_limit=300.0, clock_correction_step=1.0, clock_source=ClockSource.DATE_HEADER,
    hotp=HotpHandling.TIME_BASED, export_omits_defaults=True, password_lock=True,
    manual=ManualForm(("SHA1", "SHA256", "SHA512") + ADDON_GOST, (6, 8), range(1, APP_PERIOD_LIMIT + 1),
                      source="src/components/Popup/AddAccountPage.vue at tag v8.0.2: SHA-1, SHA-256, SHA-512, "
                             "GOST 34.11 256 and 512; 6 or 8 digits; the period a number field with min=\"1\" and "
                             "no maximum (2,147,483 s is the simulation's own limit, and scenario files stop at "
                             "86,400 s)"),
    behaviour=ADDON_BEHAVIOUR, otpauth_links=ADDON_LINKS,
    versions="8.0.0 to 8.0.2", tag="v8.0.2",
    notes="the article's app; a manual entry keeps the chosen algorithm and period (issue #1442), a scan does not; "
          "GOST entries can be made by hand but this simulation computes no GOST codes",
)

_AEGIS_SOURCE = ("beemdevelopment/Aegis at tag {tag}: app/src/main/java/com/beemdevelopment/aegis/otp/"
                 "GoogleAuthInfo.java parseUri (label prefix used, the issuer parameter only when the label has "
                 "none; hotp kept), OtpInfo.java isAlgorithmValid (SHA1, SHA256, SHA512, MD5) and isDigitsValid "
                 "(1 to 10), TotpInfo.java isPeriodValid (1 to Integer.MAX_VALUE / 1000 s), "
                 "TOTP.java (currentTimeMillis / 1000, rounded down); ui/EditEntryActivity.java onSave {dup}")

AEGIS = AppProfile(
    key="aegis", name="Aegis", version="3.4", platform="Android",
    source=_AEGIS_SOURCE.format(tag="v3.4", dup="(a new entry with the same name and issuer as an existing one "
                                                "opens showDuplicateBottomSheet: overwrite, add with a ' #2' suffix, "
                                                "or cancel)"),
    algorithm=Support("SHA1", ("MD5", "SHA1", "SHA256", "SHA512")),
    digits=Support(6, range(1, 11)),
    period=Support(30, range(1, AEGIS_MAX_PERIOD + 1)),
    issuer_source=IssuerSource.LABEL_PREFIX, duplicates=DuplicatePolicy.ASK_SUFFIX,
    duplicate_match=DuplicateMatch.LABEL, time_rounding=TimeRounding.TRUNCATE,
    manual=ManualForm(("SHA1", "SHA256", "SHA512"), range(1, 11), range(1, AEGIS_MAX_PERIOD + 1),
                      source="app/src/main/res/values/arrays.xml otp_algo_array at tag v3.4.2 (SHA1, SHA256, SHA512; "
                             "MD5 only with the mOTP type); ui/EditEntryActivity.java fills the field from a scan, so "
                             "a scanned MD5 entry keeps MD5"),
    behaviour=AEGIS_BEHAVIOUR, otpauth_links=aegis_links(tag="v3.4 (the same at v3.4.2)"),
    versions="3.4 to 3.4.2", tag="v3.4",
    notes="with MD5 (16 bytes) the truncation in crypto/otp/HOTP.java reads hash[offset + 3] past the digest when "
          "the offset is 13 to 15, and ui/views/EntryHolder.java catches only OtpInfoException: at 3 of 16 time "
          "steps the app most likely stops (modelled as the app stopping; read in the source, not run); on "
          "reloading its vault, Aegis resets MD5 on a time-based entry to SHA1 (OtpInfo.fromJson, a workaround for "
          "an old bug); that reload is not modelled",
)

AEGIS_3_3 = dataclasses.replace(
    AEGIS, key="aegis@3.3", version="3.0 to 3.3", otpauth_links=aegis_links(tag="v3.3.4 (the same at v3.0)"),
    source=_AEGIS_SOURCE.format(tag="v3.3.4", dup="(no duplicate check: a second scan adds a second entry; "
                                                  "the same at v3.0)"),
    duplicates=DuplicatePolicy.ADD_DUPLICATE, versions="3.0 to 3.3.4", tag="v3.3.4",
)

FREEOTP = AppProfile(
    key="freeotp", name="FreeOTP", version="2.x", platform="Android",
    source="freeotp/freeotp-android at tag v2.0.6 (the same at v2.0): mobile/src/main/java/org/fedorahosted/freeotp/"
           "Token.java parse (a secret under 16 bytes, digits outside Code.Factory's 6 to 9 and algorithms other "
           "than SHA1/224/256/384/512 throw UnsafeUriException; a period under 5 is invalid; getIssuer: label "
           "prefix, else parameter; hotp kept), main/Activity.java addToken ('Token is unsafe!' with 'Add Anyway' or "
           "Cancel, then parseUnsafe), res/values/strings.xml; a new token per scan, no duplicate check",
    algorithm=Support("SHA1", SHA_FAMILY, Unsupported.WARN),
    digits=Support(6, range(6, 10), Unsupported.WARN),
    period=Support(30, range(5, AEGIS_MAX_PERIOD + 1)),
    issuer_source=IssuerSource.LABEL_PREFIX, duplicates=DuplicatePolicy.ADD_DUPLICATE,
    duplicate_match=DuplicateMatch.SECRET, time_rounding=TimeRounding.TRUNCATE, weak_secret_warning_bits=128,
    manual=ManualForm(SHA_FAMILY, (6, 8), (15, 30, 60, 120, 300), default_algorithm="SHA256",
                      source="mobile/src/main/res/values/strings.xml at tag v2.0.6 (algorithms_array, intervals_array "
                             "15/30/60/120/300, the digit buttons 6 and 8) and ManualAdd.java (starts on SHA256 and "
                             "30 s; the form builds an otpauth URI read like a scan)"),
    behaviour=FREEOTP_BEHAVIOUR, otpauth_links=freeotp_links(tag="v2.0.6"),
    versions="2.0.1 to 2.0.6", tag="v2.0.6",
    notes="a period has no upper bound in FreeOTP; the simulation's URI reader stops at 2,147,483 s",
)

_TWOFAS_SOURCE = ("twofas/2fas-android at tag {tag}: data/services/src/main/java/com/twofasapp/data/services/"
                  "ServicesRepositoryImpl.kt isServiceValid (algorithm SHA1/224/256/384/512, digits {digits}, "
                  "period {periods}; anything else refused) and isServiceExists (same secret, any case); "
                  "feature/home/.../add/scan/AddServiceScanViewModel.kt (an existing secret opens the question "
                  "'Service with this Secret Key already exists. Do you want to override it?'); "
                  "data/services/.../otp/ServiceParser.kt (name from the issuer parameter, else the label prefix; "
                  "hotp kept); "
                  "data/services/.../otp/ServiceCodeGenerator.kt (milliseconds / period: rounded down); "
                  "app/.../workmanager/SyncTimeWork.kt (TrueTime against public NTP servers){extra}")

FREEOTP_2_0 = dataclasses.replace(
    FREEOTP, key="freeotp@2.0", version="2.0", versions="2.0", tag="v2.0", otpauth_links=freeotp_links("v2.0"),
    behaviour=FREEOTP_2_0_BEHAVIOUR, source=FREEOTP.source.replace("at tag v2.0.6 (the same at v2.0)", "at tag v2.0"),
)

TWOFAS = AppProfile(
    key="2fas", name="2FAS", version="5.3.5+", platform="Android",
    source=_TWOFAS_SOURCE.format(tag="5.3.5", digits="5 to 8", periods="10, 30, 60 or 90",
                                 extra="; commit 'Support 10s periods' (first in 5.3.5). The iOS app also takes MD5 "
                                       "(reported, not modelled)"),
    algorithm=Support("SHA1", SHA_FAMILY),
    digits=Support(6, range(5, 9)),
    period=Support(30, (10, 30, 60, 90)),
    issuer_source=IssuerSource.PARAMETER, duplicates=DuplicatePolicy.ASK_REPLACE,
    duplicate_match=DuplicateMatch.SECRET, time_rounding=TimeRounding.TRUNCATE,
    clock_correction_limit=math.inf, clock_correction_step=0.001, clock_source=ClockSource.NTP,
    manual=ManualForm(SHA_FAMILY, range(5, 9), (10, 30, 60, 90)),
    behaviour=TWOFAS_BEHAVIOUR, otpauth_links=twofas_links(tag="5.3.5 (the same at 5.5.3)"),
    versions="5.3.5 to 5.5.3", tag="5.3.5",
)

TWOFAS_5_1 = dataclasses.replace(
    TWOFAS, key="2fas@5.1", version="5.1 to 5.3.0",
    source=_TWOFAS_SOURCE.format(tag="5.3.0", digits="5 to 8 (from 5.1.0)", periods="30, 60 or 90", extra=""),
    period=Support(30, (30, 60, 90)), manual=ManualForm(SHA_FAMILY, range(5, 9), (30, 60, 90)),
    versions="5.1.0 to 5.3.0", tag="5.3.0", otpauth_links=twofas_links(tag="5.3.0"),
)

TWOFAS_5_0 = dataclasses.replace(
    TWOFAS, key="2fas@5.0", version="5.0",
    source=_TWOFAS_SOURCE.format(tag="5.0.0", digits="6 to 8", periods="30, 60 or 90", extra=""),
    digits=Support(6, range(6, 9)), period=Support(30, (30, 60, 90)),
    manual=ManualForm(SHA_FAMILY, range(6, 9), (30, 60, 90)),
    versions="5.0.0 to 5.0.4", tag="5.0.0", otpauth_links=twofas_links(tag="5.0.0"),
)

GOOGLE_AUTHENTICATOR = AppProfile(
    key="google-authenticator", name="Google Authenticator", version="5.00 (open source)", platform="Android",
    source="google/google-authenticator-android at tag v5.00: java/com/google/android/apps/authenticator/"
           "AuthenticatorActivity.java parseSecret (reads type, label, issuer parameter and secret only: algorithm, "
           "digits and period are never read; the same secret under the same name and issuer: 'nothing to update'), "
           "otp/AccountDb.java add (with an issuer parameter the entry of that issuer and name is overwritten; "
           "without one a new 'name(1)' is added) and AccountIndex.getStrippedName (the label prefix is dropped "
           "only when it equals the issuer parameter), util/Utilities.java "
           "getCombinedTextForIssuerAndAccountName ('issuer (name)'), otp/TotpClock.java (time correction in whole "
           "minutes), timesync/SyncNowController.java and NetworkTimeProvider.java (the Date header of "
           "https://www.google.com, when the user taps 'Sync now' under 'Time correction for codes'). The newer closed-source versions are reported to honour SHA256/512 and 8 digits, with "
           "conflicting reports and no source to read: not modelled",
    algorithm=Support.ignored("SHA1"),
    digits=Support.ignored(6),
    period=Support.ignored(30),
    issuer_source=IssuerSource.PARAMETER_ONLY, duplicates=DuplicatePolicy.BY_ISSUER,
    duplicate_match=DuplicateMatch.ISSUER_AND_NAME, time_rounding=TimeRounding.TRUNCATE,
    clock_correction_limit=math.inf, clock_correction_step=60.0, clock_source=ClockSource.SYNC_NOW,
    manual=ManualForm(("SHA1",), (6,), (30,)),
    behaviour=GOOGLE_AUTHENTICATOR_BEHAVIOUR, otpauth_links=GOOGLE_AUTHENTICATOR_LINKS,
    versions="5.00", tag="v5.00",
)

PROFILES: dict[str, AppProfile] = {p.key: p for p in (REFERENCE, AUTHENTICATOR_ADDON, AEGIS, FREEOTP, TWOFAS,
                                                       GOOGLE_AUTHENTICATOR)}
"""The newest modelled version of every app by key, the reference app first."""

VERSIONS: dict[str, AppProfile] = {p.key: p for p in (REFERENCE, AUTHENTICATOR_ADDON, AEGIS_3_3, AEGIS, FREEOTP_2_0,
                                                       FREEOTP, TWOFAS_5_0, TWOFAS_5_1, TWOFAS, GOOGLE_AUTHENTICATOR)}
"""Every modelled version of every app by key (older versions as ``app@version``), oldest first."""


def profile(key: "str | AppProfile") -> AppProfile:
    """A profile by its key (``"aegis"``, ``"2fas@5.0"``), or the profile itself."""
    if isinstance(key, AppProfile):
        return key
    try:
        return VERSIONS[key]
    except (KeyError, TypeError):
        raise NotFoundError(f"no app profile {str(key)[:40]!r} (known: {', '.join(VERSIONS)})") from None


def versions_of(app: str) -> list[AppProfile]:
    """Every modelled version of one app, oldest first (``versions_of("2fas")``)."""
    found = [p for p in VERSIONS.values() if p.app == app]
    if not found:
        known = ", ".join(dict.fromkeys(p.app for p in VERSIONS.values()))
        raise NotFoundError(f"no app {str(app)[:40]!r} (known: {known})")
    return found


def profiles_frame(profiles: "list[AppProfile | str] | None" = None) -> pd.DataFrame:
    """The profiles as a table, one row per app (what the README and the notebooks show)."""
    rows = [profile(p).to_row() for p in (profiles or PROFILES.values())]
    import pandas as pd
    return pd.DataFrame(rows).set_index("app")


README_COLUMNS = ["versions", "algorithm", "digits", "period (s)", "issuer shown", "second scan", "hotp:// QR",
                  "time", "clock correction", "manual form", "hotp:// QR without counter"]
BEHAVIOUR_COLUMNS = ["after a scan", "code shown", "otpauth:// link", "names", "warns", "export",
                     "import: an entry it holds", "evidence"]
"""The README's second app table: what the app does around its entries (``apps/behaviour.py``)."""


def profiles_markdown(profiles: "list[AppProfile | str] | None" = None, columns: list[str] | None = None) -> str:
    """The README's app tables, rendered from the profiles (a test keeps the README equal to them):
    ``README_COLUMNS`` by default, ``BEHAVIOUR_COLUMNS`` for the second."""
    frame = profiles_frame(profiles or list(VERSIONS.values()))
    columns = columns or README_COLUMNS
    lines = ["| app | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for title, row in frame.iterrows():
        cells = [str(title)] + [str(row[c]).replace("|", "\\|") for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


__all__ = ["AppProfile", "Support", "ManualForm", "Adjustment", "Settings", "DuplicatePolicy", "DuplicateMatch",
           "IssuerSource", "TimeRounding", "Unsupported", "HotpHandling", "ClockSource", "Choice", "UNSAFE_CHOICES", "SAVE_CHOICES",
           "PROFILES", "VERSIONS", "REFERENCE", "AUTHENTICATOR_ADDON", "AEGIS", "AEGIS_3_3", "FREEOTP", "FREEOTP_2_0", "TWOFAS",
           "TWOFAS_5_0", "TWOFAS_5_1", "GOOGLE_AUTHENTICATOR", "profile", "versions_of", "profiles_frame",
           "profiles_markdown", "README_COLUMNS", "BEHAVIOUR_COLUMNS", "describe_values"]
