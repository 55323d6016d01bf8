"""A user's second factor: the shared secret, the replay and drift memory, the throttle and the
recovery codes.

A check finds facts and proposes one change; it decides nothing. The facts (locked, malformed,
matched, replay, clock behind, at the limit) are read by the flow's guard order
(:data:`twofa_sim.login.flow.CODE_ORDER`, in django-otp's order: lockout, window, replay, throttle),
and the row of the outcome alone decides whether the proposed change is written: a matching code
proposes the drift update, the remembered step and the throttle reset; anything else proposes one
more counted failure (and the lockout at the limit).

The app's code (:class:`TotpCode`) and recovery codes (:class:`RecoveryCode`) are two second
factors behind one contract (:class:`SecondFactor`), and :meth:`Enrolment.check` is the throttle
they share. The state is only changed in one place (:meth:`Enrolment.apply`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields
from typing import NamedTuple, Protocol

from ..core.clock import LATEST
from ..core.errors import TransitionNotAllowed, ValidationError
from ..core.fields import read_base32_secret, read_number, read_object, read_optional, read_time, read_whole
from ..core.messages import NOTHING, Said
from .flow import FLOW, Facts, Guard, Outcome, Reason
from ..core.otp import matching_steps, step_of
from ..core.policy import Policy
from ..core.rules import is_replay, lockout_end, lockout_standing, reaches_limit
from .recovery_codes import RecoveryCodes
from ..core.secret_source import SecretSource, new_base32_secret

_CODE = re.compile(r"[0-9]+")
DAY = 86400
#: How far past the clock's last instant (the start of 9999) a lockout may end: a lockout set at the
#: clock's very end; the time formatting stops at the end of 9999.
LOCKOUT_MARGIN = 180 * DAY
#: How far the tracked drift may centre the window off the server's time (the accepted window
#: then stays inside the years the code arithmetic can compute).
MAX_DRIFT_SECONDS = 180 * DAY


def _read_lockout_end(value: object, where: str) -> float:
    number = read_number(value, where)
    if not 0 <= number <= LATEST + LOCKOUT_MARGIN:
        raise ValidationError(where, "must be a time from 1970 to the end of 9998 (and a lockout at most 180 days after)")
    return number


def normalise_code(text: object, digits: int) -> str | None:
    """The code as ASCII digits, or None if it is not ``digits`` digits.

    Documented normalisation: Unicode compatibility forms are folded (NFKC: full-width digits
    become ASCII) and white space is dropped, so "123 456" is 123456. Anything else, such as a
    zero-width space or a letter, makes the code malformed.
    """
    if not isinstance(text, str) or len(text) > 64:
        return None
    if len(text) == digits and text.isascii() and text.isdigit():
        return text  # what nearly every code is: NFKC and dropping white space would change nothing
    folded = "".join(ch for ch in unicodedata.normalize("NFKC", text) if not ch.isspace())
    if len(folded) != digits or not _CODE.fullmatch(folded):
        return None
    return folded


class Change(NamedTuple):
    """What a check would write into the enrolment. The engine applies it only when the
    transition table's row says so, so a check itself changes nothing. Its repr says whether it
    confirms a secret, never which. (A named tuple: made on every code check, in C.)"""

    failures: int
    locked_out_until: float | None
    last_used_step: int | None = None
    drift: int | None = None
    confirm_secret: str | None = None
    spend_recovery_code: int | None = None

    def __repr__(self) -> str:
        confirm = ", confirms the pending secret" if self.confirm_secret is not None else ""
        spend = f", spends recovery code #{self.spend_recovery_code}" if self.spend_recovery_code is not None else ""
        return (f"Change(failures={self.failures}, locked_out_until={self.locked_out_until}, "
                f"last_used_step={self.last_used_step}, drift={self.drift}{confirm}{spend})")


class Verdict(NamedTuple):
    """The result of one check; ``time_step`` is the matched time step on success. (A named tuple: made
    on every step, in C.)"""

    outcome: Outcome
    reason: Reason = Reason.NONE
    time_step: int | None = None
    locked_out_until: float | None = None
    detail: Said = NOTHING
    change: Change | None = None


class Finding(NamedTuple):
    """What a second factor found in a typed text; ``change`` is proposed when it matched. (Named
    tuples: made on every code check, in C.)"""

    malformed: bool = False
    matched: bool = False
    replay: bool = False
    clock_behind_by: int = 0
    time_step: int | None = None
    step_offset: int = 0
    change: Change | None = None


MALFORMED = Finding(malformed=True)
NO_MATCH = Finding()


class Check(NamedTuple):
    """A check's facts (for the guards) with the change it proposes and the time step a code matched."""

    facts: Facts
    change: Change
    time_step: int | None = None

    def verdict(self, order: tuple[Guard, ...]) -> Verdict:
        """The outcome the first holding guard of ``order`` gives, with what that guard carries."""
        guard = FLOW.decide(order, self.facts)
        if guard is None:
            raise TransitionNotAllowed(f"the flow's order decides no outcome for {self.facts}")
        return self.verdict_of(guard)

    def verdict_of(self, guard: Guard) -> Verdict:
        """The verdict of ``guard``, the guard that decided: its outcome and what it carries."""
        facts = self.facts
        return Verdict(guard.outcome, guard.reason, self.time_step if guard.carries_time_step else None, guard.lockout(facts),
                       guard.detail(facts), self.change)


@dataclass(repr=False)
class Enrolment:
    """Second-factor state of one user. Never shows its secret in a repr."""

    secret: str | None = None
    pending_secret: str | None = None
    enrolled_at: float | None = None
    last_used_step: int | None = None
    drift: int = 0
    failures: int = 0
    locked_out_until: float | None = None
    recovery: RecoveryCodes | None = None

    @property
    def is_enrolled(self) -> bool:
        return self.secret is not None

    def standing(self, now: float) -> tuple[int, float | None]:
        """(failed codes that count, lockout end) at ``now``. The one lapse rule of the package: a lockout
        that has run out is gone and wipes the count with it (whether or not it was written back)."""
        return lockout_standing(self.failures, self.locked_out_until, now)

    def is_locked_out(self, now: float) -> bool:
        return self.standing(now)[1] is not None

    def failures_at(self, now: float) -> int:
        """Failed codes that still count at ``now`` (see :meth:`standing`)."""
        return self.standing(now)[0]

    def begin(self, policy: Policy, source: SecretSource) -> str:
        """The secret to show as QR: the pending one if the policy keeps it, else a new one."""
        if self.pending_secret is None or policy.renew_unconfirmed_secret:
            self.pending_secret = new_base32_secret(source, policy.secret_bits)
        return self.pending_secret

    def check_code(self, code: object, now: float, policy: Policy) -> Verdict:
        """The package's verdict on a one-time code (the flow's code-step order); changes nothing."""
        return self.check(TOTP_CODE, code, now, policy).verdict(FLOW.code_order)

    def check_recovery_code(self, code: object, now: float, policy: Policy) -> Verdict:
        """The package's verdict on a recovery code; changes nothing."""
        return self.check(RECOVERY_CODE, code, now, policy).verdict(FLOW.recovery_code_order)

    def check(self, factor: "SecondFactor", text: object, now: float, policy: Policy, *,
              timed_out: bool = False, factor_changed: bool = False, malformed_before: int = 0) -> Check:
        """The throttle every second factor shares (django-otp's throttling mixin), as facts: the
        lockout that stands, what the factor found, whether one more counted failure reaches the
        limit. Proposes the factor's change when it matched, else one counted failure. Changes
        nothing; ``timed_out``, ``factor_changed`` and ``malformed_before`` are the login's own
        facts, passed through."""
        failures, locked_out_until = lockout_standing(self.failures, self.locked_out_until, now)  # as standing() says
        found = factor.verify(self, text, now, policy)
        counted = failures + 1
        at_limit = reaches_limit(counted, policy.failed_code_limit)
        lockout_at_limit = lockout_end(now, policy.lockout_seconds) if at_limit else None
        facts = Facts(timed_out=timed_out, factor_changed=factor_changed, locked_out=locked_out_until is not None,
                      locked_out_until=locked_out_until, malformed=found.malformed, malformed_before=malformed_before, matched=found.matched,
                      replay=found.replay, clock_behind_by=found.clock_behind_by, step_offset=found.step_offset,
                      at_limit=at_limit,
                      lockout_at_limit=lockout_at_limit)
        change = found.change if found.matched else Change(counted, lockout_at_limit, self.last_used_step, self.drift)
        return Check(facts, change, found.time_step)

    def apply(self, change: Change, now: float) -> None:
        """Write a check's change (the flow calls this for the rows that take it)."""
        self.failures, self.locked_out_until = change.failures, change.locked_out_until
        self.last_used_step, self.drift = change.last_used_step, change.drift
        if change.confirm_secret is not None:
            self.secret, self.pending_secret, self.enrolled_at = change.confirm_secret, None, now
        if change.spend_recovery_code is not None:
            self.recovery.consume(change.spend_recovery_code)

    def issue_recovery_codes(self, policy: Policy, source: SecretSource) -> list[str]:
        self.recovery, codes = RecoveryCodes.issue(policy.recovery_code_count, source)
        return codes

    def change_period(self, old: int, new: int) -> None:
        """Keep the replay and drift memory meaning the same instants when the period changes.

        The last used step is counted in periods: read in the new period unchanged, a longer
        period would refuse every code as a replay for years, a shorter one would accept codes for
        instants already used. It becomes the new step that holds the last instant of the old one,
        so no instant is accepted twice (a code may wait up to one new period longer); the drift
        keeps its length in seconds.
        """
        if self.last_used_step is not None:
            self.last_used_step = ((self.last_used_step + 1) * old - 1) // new
        self.drift = round(self.drift * old / new)

    def unlock(self) -> None:
        self.failures, self.locked_out_until = 0, None

    def reset(self) -> None:
        """Back to "not enrolled": a lost phone. The old secret and its app entries stop working."""
        self.secret = self.pending_secret = self.enrolled_at = self.last_used_step = None
        self.drift = 0
        self.recovery = None
        self.unlock()

    def snapshot(self) -> dict:
        """The whole second-factor state as plain data (it holds the shared secret): one entry per
        field, bytes in base64. The one schema of a second factor: a session file holds it, and so
        does the SQL store's factor column."""
        return {"secret": self.secret, "pending_secret": self.pending_secret, "enrolled_at": self.enrolled_at,
                "last_used_step": self.last_used_step, "drift": self.drift, "failures": self.failures,
                "locked_out_until": self.locked_out_until,
                "recovery": None if self.recovery is None else self.recovery.snapshot()}

    @classmethod
    def restore(cls, data: dict, where: str = "enrolment", period: int = 1) -> "Enrolment":
        """The second factor of a :meth:`snapshot`, every value checked first for its kind and for
        the range the domain can use (a :class:`ValidationError` names the place, never a value).
        ``period`` is the policy's: the remembered step is a step of it (1, the widest, when the
        reader does not know the policy)."""
        data = read_object(data, where, SNAPSHOT_FIELDS)
        recovery = read_optional(data["recovery"], RecoveryCodes.restore, f"{where}.recovery")
        most = MAX_DRIFT_SECONDS // period
        return cls(
            secret=read_optional(data["secret"], read_base32_secret, f"{where}.secret"),
            pending_secret=read_optional(data["pending_secret"], read_base32_secret, f"{where}.pending_secret"),
            enrolled_at=read_optional(data["enrolled_at"], read_time, f"{where}.enrolled_at"),
            # a time step of the policy's period, so the step's time is a time the clock can show
            last_used_step=read_optional(data["last_used_step"], read_whole, f"{where}.last_used_step", 0,
                                         int(LATEST // period)),
            drift=read_whole(data["drift"], f"{where}.drift", -most, most),
            failures=read_whole(data["failures"], f"{where}.failures", 0, 10 ** 9),
            locked_out_until=read_optional(data["locked_out_until"], _read_lockout_end, f"{where}.locked_out_until"),
            recovery=recovery)

    def __repr__(self) -> str:
        status = "enrolled" if self.is_enrolled else ("pending" if self.pending_secret else "not enrolled")
        return f"Enrolment({status}, failures={self.failures})"


class SecondFactor(Protocol):
    """What a code check tests a typed text against: the app's code or a recovery code, behind one
    contract, as django-otp puts devices behind one ``verify_token``. The throttle is not the
    factor's business: :meth:`Enrolment.check` wraps every factor in the same one."""

    def verify(self, enrolment: Enrolment, text: object, now: float, policy: Policy) -> Finding:
        """What the text is: malformed, matching (with the change acceptance would write), a
        replay, refused by a clock set back, or none of these."""


class TotpCode:
    """The code the authenticator app shows (RFC 6238), in django-otp's order: the window, then
    replay (the earliest matching step after the last accepted one)."""

    def verify(self, enrolment: Enrolment, text: object, now: float, policy: Policy) -> Finding:
        digits = normalise_code(text, policy.digits)
        if digits is None:
            return MALFORMED
        secret = enrolment.secret or enrolment.pending_secret
        if secret is None:
            return NO_MATCH  # reset under an open step: the step's guard (factor changed) decides first
        centre = enrolment.drift if policy.drift_tracking else 0
        steps = matching_steps(secret, digits, now, window=policy.window, centre=centre,
                               algorithm=policy.algorithm, digits=policy.digits, period=policy.period)
        if not steps:
            return NO_MATCH
        last = enrolment.last_used_step
        fresh = [s for s in steps if not is_replay(s, last, policy.replay_protection)]
        if not fresh:
            window_end = step_of(now, policy.period) + centre + policy.window
            behind = (last - window_end) * policy.period if enrolment.secret is not None and last > window_end else 0
            return Finding(replay=True, clock_behind_by=behind)
        step = fresh[0]
        offset = step - step_of(now, policy.period)
        drift = offset if policy.drift_tracking else enrolment.drift
        confirm = secret if enrolment.secret is None else None
        # the step the code matched, relative to the server's: the phone's clock as the server saw it
        return Finding(matched=True, time_step=step, step_offset=offset,
                       change=Change(0, None, step, drift, confirm_secret=confirm))


class RecoveryCode:
    """A single-use recovery code; an unknown or spent one counts like a wrong code."""

    def verify(self, enrolment: Enrolment, text: object, now: float, policy: Policy) -> Finding:
        if not isinstance(text, str) or len(text) > 64:
            return MALFORMED
        index = enrolment.recovery.find(text) if enrolment.recovery else None
        if index is None:
            return NO_MATCH
        return Finding(matched=True, change=Change(0, None, enrolment.last_used_step, enrolment.drift,
                                                   spend_recovery_code=index))


SNAPSHOT_FIELDS = tuple(f.name for f in fields(Enrolment))
"""What a second factor's snapshot holds: one entry per field of :class:`Enrolment`."""

TOTP_CODE = TotpCode()
RECOVERY_CODE = RecoveryCode()
