"""Playing a scenario on a target: the same steps, the same devices, the same clock.

A scenario's steps are read by the spec's own parser; here each is carried out through the
:class:`~.target.Target` contract only. What belongs to the user's side (phones and their apps,
their clocks, moving entries) is the project's app model, the same for every target: a device
scans whatever QR image the target served. The clock is pinned at the scenario's start and moved
only by its ``wait`` and ``clock`` steps, for every target alike. Each step leaves a
:class:`PlayedStep`: its :class:`~.target.Observation`, or why the target cannot express it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..apps.device import Device
from ..core.clock import Clock
from ..core.errors import ScanError, TwofaSimError, UriError, ValidationError
from ..core.events import EventLog
from ..core.policy import Policy
from ..spec.files import FileRefused, confined, open_screen_image
from ..spec.records import DEFAULT_TAB
from ..spec.scenario_file import Scenario
from ..spec.steps.admin import (CompanySettingStep, CreateUserStep, IssueRecoveryCodesStep, PolicyStep, ResetStep,
                                TickStep, UnlockStep, UntickStep)
from ..spec.steps.base import CheckStep, Step
from ..spec.steps.clock import ClockStep, WaitStep
from ..spec.steps.devices import (CorrectClockStep, DeviceClockStep, EnterKeyStep, InstallStep, MoveEntriesStep,
                                  ScanStep)
from ..spec.steps.login_mask import LoginStep, LogOutStep, StartOverStep, TypeStep
from .target import DONE, REFUSED, NotExpressible, Observation, Target

#: Header knobs that are not about login behaviour (password hashing cost): never compared.
NOT_COMPARED_KNOBS = ("kdf_log2_n",)


@dataclass(frozen=True)
class PlayedStep:
    """One line of a play: step number (0 for setup), the file's line, the action, and what it showed."""

    number: int
    line: int
    action: str
    observation: Observation | None = None
    not_expressible: str = ""

    @property
    def compared(self) -> bool:
        """Whether the step shows something to compare (checks-only steps and device steps do not)."""
        return self.observation is not None and (self.observation.outcome != DONE or bool(self.observation.state))


TargetFactory = Callable[[Scenario, Clock], Target]


def done(action: Callable[[], object]) -> Callable[[], Observation]:
    """An action that shows no result of its own: done when it returns."""
    return lambda: (action(), Observation(DONE))[1]


class Play:
    """One scenario on one target: the devices, the recovery codes issued, the steps played."""

    def __init__(self, scenario: Scenario, target: Target) -> None:
        self.scenario = scenario
        self.target = target
        self.devices: dict[str, Device] = {}
        self.codes: dict[str, list[str]] = {}
        self.steps: list[PlayedStep] = []
        self._specs = {d.name: d for d in scenario.devices}

    def record(self, number: int, line: int, action: str, act: Callable[[], Observation | None]) -> None:
        try:
            observation = act()
        except NotExpressible as reason:
            self.steps.append(PlayedStep(number, line, action, not_expressible=str(reason)))
            return
        except TwofaSimError as error:  # the spec refuses the action itself (a transition it does not have)
            observation = Observation(REFUSED, "", "", f"{type(error).__name__}: {error}")
        self.steps.append(PlayedStep(number, line, action, observation))

    # -- setup ------------------------------------------------------------------------------------

    def setup(self) -> None:
        target = self.target
        for company in self.scenario.companies:
            if company.line:
                self.record(0, company.line, f"creates company {company.name}",
                            done(lambda c=company: target.create_company(c.name, c.force_2fa_for_all)))
            else:  # the built-in company of a file without companies: no line, the file does not name it
                try:
                    target.create_company(company.name, company.force_2fa_for_all)
                except NotExpressible:
                    pass
        default = Policy()  # a knob set to its default value changes nothing
        knobs = {k: v for k, v in self.scenario.policy_overrides
                 if k not in NOT_COMPARED_KNOBS and getattr(default, k) != v}
        if knobs:
            self.record(0, 0, "policy " + ", ".join(f"{k}: {v}" for k, v in knobs.items()),
                        done(lambda: target.change_policy(knobs)))
        for user in self.scenario.users:
            flag = "ticked" if user.force_2fa else "not ticked"
            self.record(0, user.line, f"creates user {user.name} (Force 2 factor auth. {flag})",
                        done(lambda u=user: target.create_user(u.name, u.password, u.company, u.force_2fa)))
        for spec in self.scenario.devices:
            if not spec.installed_by_step:
                self.install(spec.name)

    def install(self, name: str) -> None:
        spec = self._specs[name]
        self.devices[name] = Device(spec.name, spec.owner, self.target.clock, offset=spec.clock_offset,
                                    app=spec.app, events=EventLog())

    # -- the steps --------------------------------------------------------------------------------

    def step(self, step: Step) -> None:
        action = step.describe()
        act = self._action(step)
        if act is None:
            self.steps.append(PlayedStep(step.number, step.line, action, not_expressible=(
                f"the conformance run has no mapping for the step type '{step.key}'")))
            return
        self.record(step.number, step.line, action, act)

    def _action(self, step: Step) -> Callable[[], Observation | None] | None:
        t = self.target
        admin: dict[type, Callable[[], object]] = {
            TickStep: lambda: t.set_force_2fa(step.user, True),
            UntickStep: lambda: t.set_force_2fa(step.user, False),
            ResetStep: lambda: t.reset_2fa(step.user),
            UnlockStep: lambda: t.unlock(step.user),
            IssueRecoveryCodesStep: lambda: self.codes.__setitem__(step.user.casefold(),
                                                                   t.issue_recovery_codes(step.user)),
            CompanySettingStep: lambda: t.set_company_force_2fa(step.company, step.on),
            CreateUserStep: lambda: t.create_user(step.spec.name, step.spec.password, step.spec.company,
                                                  step.spec.force_2fa),
            PolicyStep: lambda: t.change_policy(dict(step.changes)),
        }
        if type(step) in admin:
            return done(admin[type(step)])
        if isinstance(step, LoginStep):
            return lambda: t.submit_password(step.user, step.tab, step.user, step.password)
        if isinstance(step, TypeStep):
            return lambda: self.type(step)
        if isinstance(step, LogOutStep):
            return lambda: t.log_out(step.user, step.tab)
        if isinstance(step, StartOverStep):
            return lambda: t.start_over(step.user, step.tab)
        if isinstance(step, WaitStep):
            return lambda: self.time_moved(t.clock.advance, step.seconds, step.poll)
        if isinstance(step, ClockStep):
            return lambda: self.time_moved(t.clock.set, step.at, True)
        if isinstance(step, ScanStep):
            return lambda: self.scan(step)
        if isinstance(step, EnterKeyStep):
            return lambda: self.enter_key(step)
        if isinstance(step, InstallStep):
            return done(lambda: self.install(step.device))
        if isinstance(step, DeviceClockStep):
            return done(lambda: self.devices[step.device].set_offset(step.offset))
        if isinstance(step, CorrectClockStep):
            return done(self.devices[step.device].correct_clock)
        if isinstance(step, MoveEntriesStep):
            return done(lambda: self.devices[step.source].move_entries_to(self.devices[step.device]))
        if isinstance(step, CheckStep):
            return lambda: None
        return None

    def time_moved(self, move: Callable[[float], None], value: float, poll: bool) -> Observation:
        """The clock moves; each open login's state afterwards, as ``alice: EXPIRED`` (tabs named)."""
        move(value)
        states = self.target.time_passed() if poll else {}
        shown = ", ".join(f"{user}{'' if tab == DEFAULT_TAB else f' [{tab}]'}: {state}"
                          for (user, tab), state in sorted(states.items()))
        return Observation(DONE, "", shown)

    def type(self, step: TypeStep) -> Observation:
        if step.recovery is not None:
            if isinstance(step.recovery, int):
                codes = self.codes.get(step.user.casefold(), [])
                if step.recovery > len(codes):
                    raise NotExpressible(f"no recovery code #{step.recovery} was issued")
                return self.target.submit_recovery_code(step.user, step.tab, codes[step.recovery - 1])
            return self.target.submit_recovery_code(step.user, step.tab, step.recovery)
        code = self.device_code(step) if step.device is not None else step.code
        return self.target.submit_code(step.user, step.tab, code)

    def device_code(self, step: TypeStep) -> str:
        """The code the device shows for the user's entry now, by its own clock (as the spec's step reads it)."""
        device = self.devices[step.device]
        app = device.app
        if not app.entries:
            raise NotExpressible(f"{step.device} has no entries (it scanned nothing)")
        if step.entry is not None:
            entry = app.entries[min(step.entry, len(app.entries)) - 1]
        else:
            mine = [e for e in app.entries if e.account.casefold() == step.user.casefold()]
            entry = mine[-1] if mine else app.entries[-1]
        return app.code(entry, device.now())

    def scan(self, step: ScanStep) -> Observation:
        """What the app made of the image, in words: the app's side, the same model for every target (not
        compared; what the back office makes of the entry shows at the next code)."""
        device = self.devices[step.device]
        if step.image in ("page", "qr"):
            screen = self.target.enrolment_screen(step.user, step.tab, step.image)
            image = screen.image
            rect = list(step.rect) if step.rect and screen.rect_applies else None
        else:
            found = confined(self.scenario.path, step.image)
            try:
                if found is None:
                    raise FileRefused("is no longer inside the scenario's folder")
                with open_screen_image(found) as opened:
                    image = opened.convert("RGB")
            except FileRefused as refused:
                raise NotExpressible(f"image {step.image}: {refused.problem}") from None
            rect = list(step.rect) if step.rect else None
        try:
            result = device.scan(image, rect)
        except (ScanError, UriError) as error:
            return Observation(DONE, "", "", f"scan failed: {error}")
        if result.needs_confirmation and step.choice is not None:
            result = device.confirm(result, step.choice)
        return Observation(DONE, "", "", result.describe())

    def enter_key(self, step: EnterKeyStep) -> Observation:
        screen = self.target.enrolment_screen(step.user, step.tab, "page")
        try:
            result = self.devices[step.device].enter_key(
                screen.account, screen.key_text, issuer=screen.issuer, algorithm=step.algorithm,
                digits=step.digits, period=step.period)
        except ValidationError as error:
            return Observation(DONE, "", "", f"entry refused: {error}")
        return Observation(DONE, "", "", result.describe())


def play(scenario: Scenario, make_target: TargetFactory) -> list[PlayedStep]:
    """Every step of ``scenario`` played on a fresh target on a clock pinned at the scenario's start."""
    target = make_target(scenario, Clock.at(scenario.start))
    try:
        run = Play(scenario, target)
        run.setup()
        for step in scenario.steps:
            run.step(step)
        return run.steps
    finally:
        target.close()
