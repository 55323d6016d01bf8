"""Steps about authenticator apps on devices: install, scan, type the key, set or correct the clock, move entries.

A device is declared in the file's header (owner, app profile, clock offset); these steps act on
it. A scan or key entry is an outcome the expectations ``entries``, ``scan`` and ``app_changed``
look at, not an error: an app that cannot use a QR code says so, as the real app would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from ...apps.authenticator import Choice
from ...core.errors import ScanError, UriError, ValidationError
from ...core.policy import ALGORITHMS
from ..files import FileRefused, confined, inside, open_screen_image
from ..reader import fold, name_shown
from ..records import DEFAULT_TAB, StepFailed, StepRecord
from .base import Step, ahead, signed

if TYPE_CHECKING:
    from ..runner import ScenarioRun
    from ..scenario_file import StepParser

#: The answers a scan step may give an app that asks (about a duplicate or an unsafe token).
CHOICES = {fold(c.value): c.value for c in Choice}


@dataclass(frozen=True, kw_only=True)
class DeviceStep(Step):
    """A step about one device (expectations about a device default to it)."""

    device: str

    @property
    def device_in_focus(self) -> str | None:
        return self.device


@dataclass(frozen=True, kw_only=True)
class InstallStep(DeviceStep, key="install"):
    """The owner installs the app on the device now (devices without such a step are there from the start)."""

    user: str

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> Step:
        spec = parser.known_device(node, installed=False)
        if parser.is_installed(spec.name):
            raise parser.reader.fail(node, f"device {spec.name!r} is installed already")
        parser.note_installed(spec.name)
        return cls(device=spec.name, user=spec.owner, **common)

    def describe(self) -> str:
        return f"installs the app on {self.device}"

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.action = run.install(run.device_spec(self.device))
        record.outcome = "done"


@dataclass(frozen=True, kw_only=True)
class ScanStep(DeviceStep, key="scan"):
    """The device's app scans the QR the user's login shows (page image, bare QR or an image file)."""

    user: str
    tab: str = DEFAULT_TAB
    image: str = "page"
    rect: tuple[int, int, int, int] | None = None
    choice: str | None = None

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> Step:
        r = parser.reader
        device, user, entries = parser.device_step(node, "scan", ["device", "user", "tab", "image", "rect", "choice"])
        image, rect = "page", None
        if "image" in entries:
            image_node = entries["image"][1]
            image = r.text(image_node, "image")
            if image not in ("page", "qr"):
                found = inside(r, image_node, image, "image ('page', 'qr' or an image file)")
                try:
                    if not found.is_file():
                        raise FileRefused("no such file")
                    open_screen_image(found).close()
                except FileRefused as refused:
                    if refused.problem == "no such file":
                        raise r.fail(image_node, f"image must be 'page', 'qr' or an image file next to the "
                                                 f"scenario; no file {name_shown(image)}") from None
                    raise r.fail(image_node, f"{name_shown(image)} {refused.problem}") from None
        if "rect" in entries:
            rect_node = entries["rect"][1]
            values = r.sequence(rect_node, "rect")
            if len(values) != 4:
                raise r.fail(rect_node, "rect must be [left, top, right, bottom] in pixels of the image")
            left, top, right, bottom = (r.integer(v, "rect", 0, 100_000) for v in values)
            if right <= left or bottom <= top:
                raise r.fail(rect_node, "rect must be [left, top, right, bottom] with right > left and "
                                        "bottom > top")
            rect = (left, top, right, bottom)
        choice = r.choice(entries["choice"][1], "choice", CHOICES) if "choice" in entries else None
        return cls(device=device.name, user=user, tab=parser.tab(entries), image=image, rect=rect, choice=choice,
                   **common)

    def describe(self) -> str:
        what = {"page": "the page", "qr": "the QR alone"}.get(self.image, f"image {self.image}")
        where = f", rectangle {list(self.rect)}" if self.rect else ""
        answer = f", answers '{self.choice}'" if self.choice else ""
        return f"scans {what} with {self.device}{where}{answer}"

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.actor = self.user
        device = run.devices[self.device]
        if self.image in ("page", "qr"):
            screen = run.shown_screen(self.user, self.tab)
            image = screen.page_image() if self.image == "page" else screen.qr_image()
        else:
            found = confined(run.scenario.path, self.image)
            try:
                if found is None:  # a link changed since the scenario was read
                    raise FileRefused("is no longer inside the scenario's folder")
                with open_screen_image(found) as opened:
                    image = opened.convert("RGB")
            except FileRefused as refused:
                raise StepFailed(f"image {name_shown(self.image)} {refused.problem}") from None
        try:
            result = device.scan(image, list(self.rect) if self.rect else None)
        except (ScanError, UriError) as error:
            run.note_scan(self.device, "failed", ())
            record.outcome = f"scan failed: {error}"
            return
        if result.needs_confirmation and self.choice is not None:
            result = device.confirm(result, self.choice)
        run.note_import(self.device, result, record)


@dataclass(frozen=True, kw_only=True)
class EnterKeyStep(DeviceStep, key="enter_key"):
    """The user types the secret shown as text into the device's app (manual entry); without an
    ``algorithm`` the form's own first choice stays (SHA256 in FreeOTP)."""

    user: str
    tab: str = DEFAULT_TAB
    algorithm: str | None = None
    digits: int = 6
    period: int = 30

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> Step:
        r = parser.reader
        device, user, entries = parser.device_step(node, "enter_key",
                                                   ["device", "user", "tab", "algorithm", "digits", "period"])
        form = {}
        if "algorithm" in entries:
            form["algorithm"] = r.choice(entries["algorithm"][1], "algorithm", {fold(a): a for a in ALGORITHMS})
        if "digits" in entries:
            form["digits"] = r.integer(entries["digits"][1], "digits", 1, 10)
        if "period" in entries:
            form["period"] = r.integer(entries["period"][1], "period", 1, 86_400)
        return cls(device=device.name, user=user, tab=parser.tab(entries), **form, **common)

    def describe(self) -> str:
        algorithm = self.algorithm or "the form's own algorithm"
        chosen = "" if (self.algorithm, self.digits, self.period) in ((None, 6, 30), ("SHA1", 6, 30)) else \
            f" ({algorithm}, {self.digits} digits, {self.period} s)"
        return f"types the key shown as text into {self.device}{chosen}"

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.actor = self.user
        device = run.devices[self.device]
        screen = run.shown_screen(self.user, self.tab)
        try:
            result = device.enter_key(screen.account, screen.secret_for_typing, issuer=screen.issuer,
                                      algorithm=self.algorithm, digits=self.digits, period=self.period)
        except ValidationError as error:
            run.note_scan(self.device, "failed", ())
            record.outcome = f"entry refused: {error}"
            return
        run.note_import(self.device, result, record)


@dataclass(frozen=True, kw_only=True)
class DeviceClockStep(DeviceStep, key="device_clock"):
    """The device's clock is now ``offset`` off the server's (``+`` ahead, ``-`` behind)."""

    offset: float

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> Step:
        entries = parser.reader.mapping(node, "device_clock", known=["device", "offset"], required=["device", "offset"])
        device = parser.known_device(entries["device"][1])
        offset = parser.reader.duration(entries["offset"][1], "offset", allow_negative=True)
        return cls(device=device.name, offset=offset, **common)

    def describe(self) -> str:
        if not self.offset:
            return f"{self.device}'s clock is set right"
        return f"{self.device}'s clock is set {signed(self.offset)} off ({ahead(self.offset)})"

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.actor = run.device_spec(self.device).owner
        run.devices[self.device].set_offset(self.offset)
        record.outcome = "done"


@dataclass(frozen=True, kw_only=True)
class CorrectClockStep(DeviceStep, key="correct_clock"):
    """The device's app corrects its clock against the server's time (the add-on's "sync clock")."""

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> Step:
        return cls(device=parser.known_device(node).name, **common)

    def describe(self) -> str:
        return f"{self.device} corrects its clock from the server's time"

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.actor = run.device_spec(self.device).owner
        record.outcome = run.devices[self.device].correct_clock().reason


@dataclass(frozen=True, kw_only=True)
class MoveEntriesStep(DeviceStep, key="move"):
    """Every entry of one device's app moves into another's: the first app's export, read by the
    second app's rules (a user changing apps). ``device`` is the app the entries move into."""

    source: str

    @classmethod
    def parse(cls, node: yaml.Node, parser: StepParser, common: dict[str, Any]) -> Step:
        entries = parser.reader.mapping(node, "move", known=["from", "to"], required=["from", "to"])
        source, target = (parser.known_device(entries[k][1]).name for k in ("from", "to"))
        if source == target:
            raise parser.reader.fail(node, "move needs two different devices: 'from' and 'to'")
        return cls(source=source, device=target, **common)

    def describe(self) -> str:
        return f"moves every entry from {self.source} into {self.device}"

    def run(self, run: ScenarioRun, record: StepRecord) -> None:
        record.actor = run.device_spec(self.device).owner
        report = run.devices[self.source].move_entries_to(run.devices[self.device])
        changed = tuple(a.field for r in report.results for a in r.adjustments)
        run.note_scan(self.device, "added" if report.added else "not added", changed)
        record.outcome = f"{report.added} entries added" + "".join(f"; {r.describe()}" for r in report.results)
