"""What an app does around its entries, as data: its screens, an hotp QR without a counter, links,
names, exports and imports.

:mod:`twofa_sim.apps.profiles` says how an app reads the parameters of a QR code; this module says
the rest a trainee meets with the app in hand: Aegis opens an editable screen after a scan and
saves nothing until Save, FreeOTP shows a code only after a tap, Google Authenticator asks before it
saves the key of a link but not of a scan, 2FAS names an entry after a known service, what an
export holds and who can read it, and what an import does with an entry the app holds already.

Each :class:`Behaviour` carries its ``source`` (repository, path, tag) and ``seen_on_device``:
``False`` means the behaviour was read in the source and not watched on a phone.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass


Values = tuple | range


def describe_values(values: Values) -> str:
    """``1 to 10`` for a range, ``10, 30, 60 or 90`` for a tuple."""
    if isinstance(values, range):
        return f"{values.start:,} to {values.stop - 1:,}" if len(values) > 1 else f"{values.start:,}"
    items = [f"{v:,}" if isinstance(v, int) else str(v) for v in values]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


@dataclass(frozen=True)
class ManualForm:
    """What the app's "enter a key by hand" form offers, and the algorithm it starts on."""

    algorithms: tuple[str, ...] = ("SHA1",)
    digits: Values = (6,)
    periods: Values = (30,)
    default_algorithm: str = "SHA1"
    source: str = ""

    def describe(self) -> str:
        return (f"{describe_values(self.algorithms)} (starts on {self.default_algorithm}); "
                f"{describe_values(self.digits)} digits; {describe_values(self.periods)} s")


class ExportFormat(enum.Enum):
    """What an app's export writes, and so who can read it."""

    OTPAUTH_TEXT = "otpauth:// lines (any app that imports text reads them)"
    OWN_ENCRYPTED = "a password-encrypted backup only the same app restores"
    NONE = "no export at all"


class ImportDuplicates(enum.Enum):
    """What an import does with an entry the app holds already."""

    ADD_ALL = "adds every entry (no duplicate check)"
    UNTICK = "unticks entries with the same issuer and secret: imported only if the user ticks them"
    REPLACE_SAME_SECRET = "replaces an entry with the same secret, without a word"
    SKIP_SAME_SECRET = "keeps the entry it holds and drops the imported one with the same secret, without a word"
    NO_IMPORT = "imports nothing: it has no import"


class LockedExport(enum.Enum):
    """What a password-locked app's backup page does."""

    REFUSED = "refuses"
    LEAVES_OUT_LOCKED = "exports without the accounts it could not decrypt, and says so"


class Naming(enum.Enum):
    """How an app names a new entry."""

    PLAIN = "issuer and account as read"
    KNOWN_SERVICE = ("a known service's built-in name first, else the issuer, else the label prefix unless it "
                     "holds '@' ('Unknown'); the name cut to 30 characters, the account to 50")


class LinkHandling(enum.Enum):
    """What the app does with an ``otpauth://`` link opened from another app (a mail, a web page)."""

    LIKE_A_SCAN = "as a scan"
    ASKS_FIRST = "asks 'Save key for <account>?' first (a scan saves without asking)"
    ADDS_AT_ONCE = ("adds it at once, without the question a scan asks: an entry with the same secret is replaced; "
                    "a link it refuses is dropped without a word")
    NOT_HANDLED = "does not open otpauth:// links"


@dataclass(frozen=True)
class LinkScheme:
    """Whether a tapped ``otpauth://`` link opens the app: its manifest registers the scheme (an
    intent filter for ``android.intent.action.VIEW``), as read at a tag. ``registered`` is None
    where no source says (the trainee page then names the app neither way)."""

    registered: bool | None
    source: str

    def describe(self, handling: "LinkHandling") -> str:
        """Whether a tapped link opens the app, and what the app then does with it."""
        if self.registered is False:
            return LinkHandling.NOT_HANDLED.value
        opens = "a tapped link opens it" if self.registered else "not known whether a tapped link opens it"
        return f"{opens}: {handling.value}"


LINK_QUESTION = "Save key for"
EDITOR_QUESTION = "the new entry is shown pre-filled and editable"
AUTOMATIC_TIME_WARNING = ("It looks like your device is not configured to automatically synchronize the time. Would "
                          "you like to do so now?")
LOCKED_EXPORT_WARNING = "Accounts that were not able to be decrypted will not be included in this backup."

#: A few entries of 2FAS's built-in service list (parsers/src/main/assets/services.json at tag
#: 5.3.5, 1,432 services), by an issuer each lists (compared ignoring case): the name the app shows.
TWOFAS_KNOWN_SERVICES = {"github": "GitHub", "google": "Google", "dropbox": "Dropbox", "protonmail": "Proton",
                         "telekom": "T-Mobile / Telekom", "hub.docker.com": "Docker"}
TWOFAS_NAME_LIMIT, TWOFAS_ACCOUNT_LIMIT = 30, 50


@dataclass(frozen=True)
class Behaviour:
    """What one app does around its entries (one record per app and range of versions)."""

    hotp_start: int | None = None
    scan_opens_editor: bool = False
    warns_without_automatic_time: bool = False
    code_on_tap: bool = False
    naming: Naming = Naming.PLAIN
    links: LinkHandling = LinkHandling.LIKE_A_SCAN
    export: ExportFormat = ExportFormat.OTPAUTH_TEXT
    import_duplicates: ImportDuplicates = ImportDuplicates.ADD_ALL
    own_backup_duplicates: ImportDuplicates = ImportDuplicates.ADD_ALL
    locked_export: LockedExport = LockedExport.REFUSED
    algorithm_case_sensitive: bool = False
    crashes_past_the_digest: bool = False
    imports_migration: bool = False
    source: str = ""
    seen_on_device: bool = False

    def hotp_without_counter(self) -> str:
        """What an ``hotp`` QR without ``counter`` becomes, in words."""
        return "refuses it" if self.hotp_start is None else f"starts the counter at {self.hotp_start}"

    def describe_export(self) -> str:
        return self.export.value

    def describe_import(self) -> str:
        if self.import_duplicates is self.own_backup_duplicates:
            return self.import_duplicates.value
        return (f"another app's export: {self.import_duplicates.value}; its own backup: "
                f"{self.own_backup_duplicates.value}")

    def evidence(self) -> str:
        return "seen on a device" if self.seen_on_device else "read in the source, not seen on a device"

    def to_row(self) -> dict[str, str]:
        """The columns of the app table this record fills."""
        locked = "" if self.locked_export is LockedExport.REFUSED else f"; locked: {self.locked_export.value}"
        return {"after a scan": ("opens an editable screen, saves on Save" if self.scan_opens_editor
                                 else "saves at once"),
                "code shown": "after a tap" if self.code_on_tap else "always",
                "otpauth:// link": self.links.value,
                "export": self.export.value + locked,
                "import: an entry it holds": self.describe_import() + (
                    "; also reads Google Authenticator's otpauth-migration:// export" if self.imports_migration else ""),
                "names": self.naming.value,
                "warns": ("when the phone's automatic time is off" if self.warns_without_automatic_time else "-"),
                "evidence": self.evidence()}


def twofas_name(issuer_param: str | None, label_issuer: str | None, account: str) -> tuple[str, str]:
    """The name and account 2FAS shows (ServiceParser.parseService): a known service's own name
    (matched on the issuer parameter) first, else the issuer parameter, else the label prefix unless it holds an '@'; "Unknown" when
    nothing is left; the name cut to 30 characters and the account to 50."""
    known = TWOFAS_KNOWN_SERVICES.get((issuer_param or "").strip().casefold())
    name = known or issuer_param or ""
    first_part = account if label_issuer is None else label_issuer
    if not name and "@" not in first_part:
        name = first_part
    name = name[:TWOFAS_NAME_LIMIT] if name.strip() else "Unknown"
    return name, account[:TWOFAS_ACCOUNT_LIMIT]




# -- the records ------------------------------------------------------------------------------------

REFERENCE_BEHAVIOUR = Behaviour(
    export=ExportFormat.OTPAUTH_TEXT,
    source="the Key URI format read literally: an hotp URI without counter is invalid (the format requires it)",
)

ADDON_BEHAVIOUR = Behaviour(
    hotp_start=None,                 # never reached: every scanned entry becomes time-based
    links=LinkHandling.NOT_HANDLED,
    export=ExportFormat.OTPAUTH_TEXT, import_duplicates=ImportDuplicates.ADD_ALL,
    own_backup_duplicates=ImportDuplicates.ADD_ALL, locked_export=LockedExport.LEAVES_OUT_LOCKED,
    imports_migration=True,
    source="Authenticator-Extension/Authenticator at tag v8.0.2: src/components/Popup/BackupPage.vue (the "
           "authenticator.txt export, shown only without Steam or Battle.net accounts, 'otp_unsupported_warn'; "
           "while locked the page still exports and warns 'phrase_incorrect_export': accounts it could not "
           "decrypt are left out, the encrypted authenticator.json still holds them), src/popup.ts (the password "
           "is asked when the popup opens), src/import.ts getEntryDataFromOTPAuthPerLine (text import: "
           "otpauth-migration:// lines of Google Authenticator are unpacked by src/models/migration.ts, a period "
           "kept only when it divides 60) and src/components/Import/FileImport.vue (a JSON backup goes through "
           "the same src/models/storage.ts EntryStorage.import as a scan: type and algorithm read with parseInt, "
           "so an HOTP, SHA256 or 60 s entry comes back time-based, SHA1, 30 s; a random id per entry, no "
           "duplicate check); src/background.ts getTotp (a scanned otpauth-migration:// QR code is unpacked too); "
           "manifests/ declare no protocol_handlers, so the add-on opens no otpauth:// link; _locales/en/messages.json "
           "for the wording",
)

AEGIS_BEHAVIOUR = Behaviour(
    hotp_start=None, scan_opens_editor=True, warns_without_automatic_time=True,
    export=ExportFormat.OTPAUTH_TEXT, import_duplicates=ImportDuplicates.UNTICK,
    own_backup_duplicates=ImportDuplicates.UNTICK, crashes_past_the_digest=True,
    source="beemdevelopment/Aegis at tag v3.4.2 (the same at v3.0 and v3.3.4): app/src/main/java/com/"
           "beemdevelopment/aegis/otp/GoogleAuthInfo.java parseUri ('Parameter 'counter' is not present'), "
           "ui/MainActivity.java importScannedEntries (one scanned entry opens startEditEntryActivityForNew: "
           "nothing is saved until Save) and checkTimeSyncSetting (Settings.Global.AUTO_TIME off: "
           "'time_sync_warning_message'), ui/EditEntryActivity.java (the algorithm field is filled from the scan, "
           "so a scanned MD5 stays MD5; Cancel on the duplicate sheet goes back to the edit screen), "
           "ui/ImportEntriesActivity.java findDuplicates (same issuer and secret: unticked, 'Unchecked %d potential "
           "duplicates'), crypto/otp/HOTP.java (hash[offset + 3] with offset up to 15 on MD5's 16 bytes) and "
           "ui/views/EntryHolder.java (catches OtpInfoException only: the ArrayIndexOutOfBoundsException is not "
           "caught, so the app most likely stops); its scanner also reads Google Authenticator's otpauth-migration:// "
           "export (MainActivity.java, GoogleAuthInfo.parseExportUri), not modelled here",
)

FREEOTP_BEHAVIOUR = Behaviour(
    hotp_start=0, code_on_tap=True, export=ExportFormat.OWN_ENCRYPTED,
    import_duplicates=ImportDuplicates.NO_IMPORT, own_backup_duplicates=ImportDuplicates.ADD_ALL,
    source="freeotp/freeotp-android at tag v2.0.6: mobile/src/main/java/org/fedorahosted/freeotp/Token.java "
           "(counter absent -> 0), main/Activity.java onActivate (the code is generated and shown when the "
           "token is tapped), BACKUP.md and BackupsFragment.java (backup and restore of an .xml encrypted with the "
           "master password; no otpauth export, no import of other apps' files)",
)

FREEOTP_2_0_BEHAVIOUR = dataclasses.replace(
    FREEOTP_BEHAVIOUR, algorithm_case_sensitive=True,
    source=FREEOTP_BEHAVIOUR.source.replace("v2.0.6", "v2.0") + "; Token.java parseUnsafe compares the algorithm "
           "with equals (equalsIgnoreCase from v2.0.1), so a lower-case 'sha256' is unsafe there",
)

TWOFAS_BEHAVIOUR = Behaviour(
    hotp_start=1, naming=Naming.KNOWN_SERVICE, links=LinkHandling.ADDS_AT_ONCE, export=ExportFormat.OTPAUTH_TEXT,
    import_duplicates=ImportDuplicates.REPLACE_SAME_SECRET, own_backup_duplicates=ImportDuplicates.SKIP_SAME_SECRET,
    source="twofas/2fas-android at tag 5.3.5 (the same at 5.0.0 and 5.5.3): data/services/.../otp/ServiceParser.kt "
           "(SupportedServices matched on the issuer; name.take(30), account take(50); a label prefix with '@' is "
           "skipped, 'Unknown'), otp/ServiceCodeGenerator.kt (hotpCounter ?: 1), BackupRepositoryImpl.kt import "
           "(its own backup: services whose secret is already there are filtered out), ServicesRepositoryImpl.kt "
           "addService (another app's export through feature/externalimport: the service with the same secret is "
           "deleted first). The external import reads Aegis, Google Authenticator, andOTP, Raivo, LastPass and "
           "Authenticator Pro files; the simulation hands it otpauth lines. A link: app/.../ui/main/StartActivity.kt "
           "queues the link (onAuthenticated), feature/home/.../ui/services/ServicesViewModel.kt handleIncomingData "
           "returns without a word when isServiceValid refuses it and otherwise calls addService, which deletes the "
           "service with the same secret first (no question, unlike AddServiceScanViewModel's)",
)

GOOGLE_AUTHENTICATOR_BEHAVIOUR = Behaviour(
    hotp_start=0, links=LinkHandling.ASKS_FIRST, export=ExportFormat.NONE,
    import_duplicates=ImportDuplicates.NO_IMPORT, own_backup_duplicates=ImportDuplicates.NO_IMPORT,
    source="google/google-authenticator-android at tag v5.00 (the open-source tree; the 5.00 build of the store "
           "is closed and was not compared with it): java/com/google/android/apps/authenticator/"
           "AuthenticatorActivity.java handleIntent (ACTION_VIEW, a link: interpretScanResult(uri, true)) and "
           "parseSecret (confirmBeforeSave: DIALOG_ID_SAVE_KEY 'Save key for'; the camera: saved at once; counter "
           "absent -> AccountDb.DEFAULT_HOTP_COUNTER, 0); no export or import anywhere in the tree",
)


# -- a tapped otpauth:// link: which manifests register the scheme -------------------------------------

_AEGIS_LINKS = ("beemdevelopment/Aegis at tag {tag}: app/src/main/AndroidManifest.xml (ui.MainActivity: an "
                "intent-filter for android.intent.action.VIEW, categories DEFAULT and BROWSABLE, scheme otpauth); "
                "app/src/main/java/com/beemdevelopment/aegis/ui/MainActivity.java handleIncomingIntent (ACTION_VIEW: "
                "GoogleAuthInfo.parseUri, then startEditEntryActivityForNew, the edit screen a scan opens)")

_FREEOTP_LINKS = ("freeotp/freeotp-android at tag {tag}: mobile/src/main/AndroidManifest.xml (.main.Activity: an "
                  "intent-filter for android.intent.action.VIEW, categories DEFAULT and BROWSABLE, scheme otpauth with "
                  "host totp or hotp); mobile/src/main/java/org/fedorahosted/freeotp/main/Activity.java onNewIntent "
                  "(the link's URI goes to addToken(uri, true), as a scan from ScanDialogFragment does)")

_TWOFAS_LINKS = ("twofas/2fas-android at tag {tag}: app/src/main/AndroidManifest.xml (.ui.main.StartActivity: an "
                 "intent-filter for android.intent.action.VIEW, categories DEFAULT and BROWSABLE, scheme otpauth); "
                 "app/src/main/java/com/twofasapp/ui/main/StartActivity.kt onAuthenticated (the link is queued) and "
                 "feature/home/src/main/java/com/twofasapp/feature/home/ui/services/ServicesViewModel.kt "
                 "handleIncomingData (added at once through ServicesRepositoryImpl.addService)")


def aegis_links(tag: str) -> LinkScheme:
    """The manifest and the link handler at ``tag``."""
    return LinkScheme(True, _AEGIS_LINKS.format(tag=tag))


def freeotp_links(tag: str) -> LinkScheme:
    """The manifest and the link handler at ``tag``."""
    return LinkScheme(True, _FREEOTP_LINKS.format(tag=tag))


def twofas_links(tag: str) -> LinkScheme:
    """The manifest and the link handler at ``tag``."""
    return LinkScheme(True, _TWOFAS_LINKS.format(tag=tag))


REFERENCE_LINKS = LinkScheme(None, "the Key URI format says nothing of links, and the reference app is installed on "
                                   "no phone")
ADDON_LINKS = LinkScheme(False, "Authenticator-Extension/Authenticator at tag v8.0.2: manifests/ declare no "
                               "protocol_handlers")
GOOGLE_AUTHENTICATOR_LINKS = LinkScheme(True, (
    "google/google-authenticator-android at tag v5.00 (the open-source tree): java/com/google/android/apps/"
    "authenticator/AndroidManifest.xml (AuthenticatorActivity: an intent-filter for android.intent.action.VIEW, "
    "categories DEFAULT and BROWSABLE, scheme otpauth); AuthenticatorActivity.java handleIntent"))


__all__ = ["Behaviour", "REFERENCE_BEHAVIOUR", "ADDON_BEHAVIOUR", "AEGIS_BEHAVIOUR", "FREEOTP_BEHAVIOUR",
           "FREEOTP_2_0_BEHAVIOUR", "TWOFAS_BEHAVIOUR", "GOOGLE_AUTHENTICATOR_BEHAVIOUR", "ExportFormat", "ImportDuplicates", "LockedExport", "Naming", "LinkHandling",
           "LINK_QUESTION", "EDITOR_QUESTION", "AUTOMATIC_TIME_WARNING", "LOCKED_EXPORT_WARNING",
           "TWOFAS_KNOWN_SERVICES", "twofas_name", "ManualForm", "Values", "describe_values", "LinkScheme",
           "ADDON_LINKS", "REFERENCE_LINKS", "GOOGLE_AUTHENTICATOR_LINKS", "aegis_links", "freeotp_links", "twofas_links"]
