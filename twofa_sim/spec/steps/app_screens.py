"""Steps about what an app shows and asks around its entries: its edit screen after a scan, a
link opened on the phone, an answer to the question the app asks, a tap on an entry, the phone's
automatic time.

They act on a device declared in the file's header, as the steps of :mod:`.devices` do; what the
app then shows is looked at with the expectations ``question``, ``entries``, ``newest_entry``,
``code_shown`` and ``app_warning``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import yaml

from ...apps.otpauth import MAX_URI
from ...apps.qr import qr_image
from ...core.errors import ScanError, UriError, ValidationError
from ..records import DEFAULT_TAB, StepFailed, StepRecord
from .devices import CHOICES, DeviceStep

if TYPE_CHECKING:
    from ..runner import ScenarioRun
    from ..scenario_file import StepParser


@dataclass(frozen=True, kw_only=True)
class ScanUnsavedStep(DeviceStep, key="scan_unsaved"):
    """The device's app scans the QR code the user's login shows and the user looks at what the app
    shows before saving anything (Aegis's edit screen); an ``answer`` step saves or cancels."""

    user: str
    tab: str = DEFAULT_TAB
    image: str = "page"

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> "ScanUnsavedStep":
        device, user, entries = parser.device_step(node, "scan_unsaved", ["device", "user", "tab", "image"])
        image = "page"
        if "image" in entries:
            image = parser.reader.choice(entries["image"][1], "image", {"page": "page", "qr": "qr"})
        return cls(device=device.name, user=user, tab=parser.tab(entries), image=image, **common)

    def describe(self) -> str:
        return f"scans {'the QR alone' if self.image == 'qr' else 'the page'} with {self.device}, nothing saved yet"

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.actor = self.user
        screen = run.shown_screen(self.user, self.tab)
        image = screen.page_image() if self.image == "page" else screen.qr_image()
        try:
            result = run.devices[self.device].scan(image, save=False)
        except (ScanError, UriError) as error:
            run.note_scan(self.device, "failed", ())
            record.outcome = f"scan failed: {error}"
            return
        run.note_import(self.device, result, record)


@dataclass(frozen=True, kw_only=True)
class OpenLinkStep(DeviceStep, key="open_link"):
    """The user opens the ``otpauth://`` link of the QR code the login shows on the device (sent to
    the phone as a link, by mail or chat) instead of scanning it."""

    user: str
    tab: str = DEFAULT_TAB

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> "OpenLinkStep":
        device, user, entries = parser.device_step(node, "open_link", ["device", "user", "tab"])
        return cls(device=device.name, user=user, tab=parser.tab(entries), **common)

    def describe(self) -> str:
        return f"opens the QR code's otpauth:// link on {self.device}"

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.actor = self.user
        screen = run.shown_screen(self.user, self.tab)
        try:
            result = run.devices[self.device].open_link(screen.uri)
        except (UriError, ValidationError) as error:
            run.note_scan(self.device, "failed", ())
            record.outcome = f"link refused: {error}"
            return
        run.note_import(self.device, result, record)


@dataclass(frozen=True, kw_only=True)
class AnswerStep(DeviceStep, key="answer"):
    """The user answers the question the device's app asks now (the newest): ``save`` or ``cancel``
    on an edit screen or a "Save key for ...?", or any answer a duplicate or an unsafe token offers."""

    choice: str

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> "AnswerStep":
        entries = parser.reader.mapping(node, "answer", known=["device", "choice"], required=["device", "choice"])
        device = parser.known_device(entries["device"][1])
        choice = parser.reader.choice(entries["choice"][1], "choice", CHOICES)
        return cls(device=device.name, choice=choice, **common)

    def describe(self) -> str:
        return f"answers '{self.choice}' on {self.device}"

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.actor = run.device_spec(self.device).owner
        device = run.devices[self.device]
        if not device.app.pending:
            raise StepFailed(f"{self.device}'s app asks nothing now")
        run.note_import(self.device, device.confirm(device.app.pending[-1], self.choice), record)


@dataclass(frozen=True, kw_only=True)
class TapStep(DeviceStep, key="tap"):
    """The user taps an entry (FreeOTP shows its code only then, until the code changes)."""

    entry: int | None = None

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> "TapStep":
        if isinstance(node, yaml.ScalarNode):
            return cls(device=parser.known_device(node).name, **common)
        entries = parser.reader.mapping(node, "tap", known=["device", "entry"], required=["device"])
        entry = parser.reader.integer(entries["entry"][1], "entry", 1, 1000) if "entry" in entries else None
        return cls(device=parser.known_device(entries["device"][1]).name, entry=entry, **common)

    def describe(self) -> str:
        which = "the newest entry" if self.entry is None else f"entry {self.entry}"
        return f"taps {which} on {self.device}"

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.actor = run.device_spec(self.device).owner
        device = run.devices[self.device]
        entries = device.app.entries
        if not entries or (self.entry is not None and self.entry > len(entries)):
            raise StepFailed(f"{self.device} has {len(entries)} entries")
        reading = device.tap(entries[-1 if self.entry is None else self.entry - 1])
        record.outcome = "the code is shown" if reading.shown else "done"


@dataclass(frozen=True, kw_only=True)
class AutomaticTimeStep(DeviceStep, key="automatic_time"):
    """The phone's "set time automatically" is switched on or off (Aegis warns when it is off)."""

    on: bool

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> "AutomaticTimeStep":
        entries = parser.reader.mapping(node, "automatic_time", known=["device", "on"], required=["device", "on"])
        device = parser.known_device(entries["device"][1])
        return cls(device=device.name, on=parser.reader.boolean(entries["on"][1], "on"), **common)

    def describe(self) -> str:
        return f"{self.device}'s automatic time is switched {'on' if self.on else 'off'}"

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.actor = run.device_spec(self.device).owner
        warnings = run.devices[self.device].set_automatic_time(self.on)
        record.outcome = "; ".join(f"the app warns: {w}" for w in warnings) or "done"



@dataclass(frozen=True, kw_only=True)
class ScanOtherQrStep(DeviceStep, key="scan_other_qr"):
    """The device's app scans another service's QR code (not the back office's): ``uri`` is the text
    the QR code holds; the simulation draws it and the app reads it from the pixels. The timeline
    names its type and label, never its secret."""

    uri: str = field(repr=False)

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> "ScanOtherQrStep":
        entries = parser.reader.mapping(node, "scan_other_qr", known=["device", "uri"], required=["device", "uri"])
        device = parser.known_device(entries["device"][1])
        uri = parser.reader.text(entries["uri"][1], "uri")
        if not uri.startswith("otpauth://") or len(uri) > MAX_URI:
            raise parser.reader.fail(entries["uri"][1], f"uri must be an otpauth:// URI of at most {MAX_URI} "
                                                        "characters")
        return cls(device=device.name, uri=uri, **common)

    def describe(self) -> str:
        parts = urlsplit(self.uri)
        return f"scans another service's QR code ({parts.netloc}, {unquote(parts.path[1:])[:40]}) with {self.device}"

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.actor = run.device_spec(self.device).owner
        try:
            result = run.devices[self.device].scan(qr_image(self.uri))
        except (ScanError, UriError) as error:
            run.note_scan(self.device, "failed", ())
            record.outcome = f"scan failed: {error}"
            return
        run.note_import(self.device, result, record)


@dataclass(frozen=True, kw_only=True)
class ImportTextStep(DeviceStep, key="import_text"):
    """The user loads ``text`` into the app's import page: ``otpauth://`` lines, or Google
    Authenticator's ``otpauth-migration://`` export (the add-on reads it). The timeline shows how
    many lines, never the text."""

    text: str = field(repr=False)

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> "ImportTextStep":
        entries = parser.reader.mapping(node, "import_text", known=["device", "text"], required=["device", "text"])
        device = parser.known_device(entries["device"][1])
        text = parser.reader.text(entries["text"][1], "text")
        if len(text) > 64 * 1024:
            raise parser.reader.fail(entries["text"][1], "text must be at most 65,536 characters")
        return cls(device=device.name, text=text, **common)

    def describe(self) -> str:
        lines = len([line for line in self.text.splitlines() if line.strip()])
        return f"imports {lines} line{'s' if lines != 1 else ''} of text into {self.device}"

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.actor = run.device_spec(self.device).owner
        report = run.devices[self.device].import_text(self.text)
        changed = tuple(a.field for r in report.results for a in r.adjustments)
        run.note_scan(self.device, "added" if report.added else "not added", changed)
        record.outcome = (f"{report.added} entries added" + "".join(f"; {r.describe()}" for r in report.results)
                          + "".join(f"; line {n} refused: {m}" for n, m in report.failures))
