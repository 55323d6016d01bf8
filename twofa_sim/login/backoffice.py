"""The back office: companies, their backend users, the admin's actions, and the login mask.

It owns the policy, the clock, the secret source and the event log, and hands out
:class:`~twofa_sim.login.attempt.LoginAttempt` objects. Admin actions validate everything first and change
state only when the whole action can succeed.
"""

from __future__ import annotations

import itertools


from ..core.clock import Clock, iso
from .company import Company
from ..core.errors import AlreadyExistsError, NotFoundError, ValidationError, check_display_name, shown
from ..core.events import EventKind, EventLog
from .attempt import LoginAttempt
from ..core.passwords import Decoys, PasswordHash, check_password_rule
from ..core.policy import Policy
from ..core.secret_source import SecretSource, SystemSecretSource
from .user import USERNAME, BackendUser, check_username



def _check_flag(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(field, f"must be true or false, got {shown(value)}")
    return value


class BackOffice:
    """The simulated backend. ``BackOffice()`` is ready to use; demos pass a pinned clock and a seed."""

    def __init__(self, policy: Policy | None = None, clock: Clock | None = None,
                 secret_source: SecretSource | None = None, events: EventLog | None = None) -> None:
        self._policy = policy or Policy()
        self.clock = clock or Clock()
        self.secret_source = secret_source or SystemSecretSource()
        self.events = events if events is not None else EventLog()
        self._companies: dict[str, Company] = {}
        self._users: dict[str, BackendUser] = {}
        self._login_ids = itertools.count(1)
        self._decoys = Decoys(self._policy.kdf_log2_n)
        self._hash_upgrades, self._costs_key, self._costs = 0, None, ()

    # -- policy ---------------------------------------------------------------------------------

    @property
    def policy(self) -> Policy:
        return self._policy

    def set_policy(self, policy: Policy, by: str = "admin") -> None:
        """Replace the policy; the change is in the log, knob by knob.

        Everything that can fail (the check of the argument, the decoy hash at a new cost) runs
        before anything changes, so a refused change leaves the back office as it was.
        """
        if not isinstance(policy, Policy):
            raise ValidationError("policy", f"must be a Policy, got {type(policy).__name__}")
        changed = [f"{k}={getattr(policy, k)!r}" for k in policy.__dataclass_fields__
                   if getattr(policy, k) != getattr(self._policy, k)]
        decoys = self._decoys.for_costs(self._stored_costs(), policy.kdf_log2_n)
        if policy.period != self._policy.period:
            for user in self._users.values():
                user.enrolment.change_period(self._policy.period, policy.period)
        self._policy, self._decoys = policy, decoys
        if changed:
            self.events.record(self.clock.now(), EventKind.POLICY_CHANGED, f"admin:{by}", detail=", ".join(changed))

    # -- companies and users --------------------------------------------------------------------

    def create_company(self, name: str, force_2fa_for_all: bool = False, by: str = "admin") -> Company:
        name = check_display_name("company", name)
        _check_flag("force_2fa_for_all", force_2fa_for_all)
        if name.casefold() in self._companies:
            raise AlreadyExistsError(f"company {name!r} already exists")
        company = Company(name, force_2fa_for_all)
        self._companies[name.casefold()] = company
        self.events.record(self.clock.now(), EventKind.COMPANY_CREATED, f"admin:{by}", company=name,
                           detail=f"2FA for all users: {'on' if force_2fa_for_all else 'off'}")
        return company

    def company(self, name: str) -> Company:
        try:
            return self._companies[str(name).casefold()]
        except KeyError:
            raise NotFoundError(f"no company named {str(name)[:64]!r}") from None

    @property
    def companies(self) -> list[Company]:
        return list(self._companies.values())

    def set_company_force_2fa(self, company: str, on: bool, by: str = "admin") -> None:
        """The company's security setting: 2FA on (or off) for all its backend users at once."""
        target = self.company(company)
        _check_flag("on", on)
        target.force_2fa_for_all = on
        self.events.record(self.clock.now(), EventKind.COMPANY_SETTING_CHANGED, f"admin:{by}",
                           company=target.name, detail=f"2FA for all users: {'on' if on else 'off'}")

    def create_user(self, username: str, password: str, company: str | None = None,
                    force_2fa: bool = False, by: str = "admin") -> BackendUser:
        """Create a backend user; ``force_2fa`` is the "Force 2 factor auth." checkbox."""
        username = check_username(username)
        if username.casefold() in self._users:
            raise AlreadyExistsError(f"username {username!r} is taken (usernames ignore case)")
        check_password_rule(password, username)
        _check_flag("force_2fa", force_2fa)
        owner = self._default_company() if company is None else self.company(company)
        now = self.clock.now()
        user = BackendUser(username, owner.name,
                           PasswordHash.create(password, self.secret_source, self.policy.kdf_log2_n),
                           force_2fa=force_2fa, created_at=now)
        self._users[user.key] = user
        owner.usernames.append(username)
        self.events.record(now, EventKind.USER_CREATED, f"admin:{by}", user=username, company=owner.name,
                           detail=f"force 2 factor auth.: {'ticked' if force_2fa else 'not ticked'}")
        return user

    def _default_company(self) -> Company:
        if len(self._companies) == 1:
            return next(iter(self._companies.values()))
        if not self._companies:
            raise NotFoundError("create a company first: every backend user belongs to one")
        raise ValidationError("company", "name the company: the back office has more than one")

    def find_user(self, username: str) -> BackendUser | None:
        """The user of that name, ignoring case; look-alike characters (a Kelvin sign for K) never match."""
        if not isinstance(username, str) or not USERNAME.fullmatch(username):
            return None
        return self._users.get(username.casefold())

    def user(self, username: str) -> BackendUser:
        found = self.find_user(username)
        if found is None:
            raise NotFoundError(f"no user named {str(username)[:64]!r}")
        return found

    @property
    def users(self) -> list[BackendUser]:
        return list(self._users.values())

    def company_of(self, username: str) -> str:
        return self.user(username).company

    # -- rules about users ----------------------------------------------------------------------

    def needs_2fa(self, user: BackendUser) -> bool:
        """The company setting or the user's flag asks for 2FA, or the user enrolled and the policy keeps it."""
        forced = self.company(user.company).force_2fa_for_all or user.force_2fa
        kept = user.enrolment.is_enrolled and self.policy.keep_2fa_when_unforced
        return forced or kept

    def password_matches(self, user: BackendUser | None, password: str, username: str = "") -> bool:
        """Constant work whether or not the user exists, so timing does not reveal usernames.

        An unknown ``username`` is checked against a decoy hash at the cost of a stored hash (see
        :class:`Decoys`), so it costs what a known user's wrong password costs even while stored
        hashes have another cost than the policy. A correct password whose hash has another cost
        than the policy's is hashed again at the policy's cost (as Django does), and the log says so.
        """
        decoys = self._decoys.for_costs(self._stored_costs(), self._policy.kdf_log2_n)
        self._decoys = decoys
        if user is None:
            decoys.check(username, password)
            return False
        if not user.password_hash.matches(password):
            return False
        if user.password_hash.log2_n != self._policy.kdf_log2_n:
            self._upgrade_hash(user, password)
        return True

    def _upgrade_hash(self, user: BackendUser, password: str) -> None:
        old = user.password_hash.log2_n
        user.password_hash = PasswordHash.create(password, self.secret_source, self._policy.kdf_log2_n)
        self._hash_upgrades += 1
        self.events.record(self.clock.now(), EventKind.PASSWORD_HASH_UPGRADED, "system", user=user.username,
                           company=user.company, detail=f"scrypt N=2**{old} -> 2**{user.password_hash.log2_n}")

    def _stored_costs(self) -> tuple[int, ...]:
        """The scrypt cost of every stored hash, sorted; recounted only when users or hashes changed."""
        key = (len(self._users), self._hash_upgrades)
        if self._costs_key != key:
            self._costs = tuple(sorted(u.password_hash.log2_n for u in self._users.values()))
            self._costs_key = key
        return self._costs

    # -- admin actions --------------------------------------------------------------------------

    def set_force_2fa(self, username: str, on: bool, by: str = "admin") -> None:
        """Tick or untick "Force 2 factor auth." for a user."""
        user = self.user(username)
        _check_flag("on", on)
        user.force_2fa = on
        self.events.record(self.clock.now(), EventKind.FORCE_FLAG_CHANGED, f"admin:{by}", user=user.username,
                           company=user.company, detail="ticked" if on else "unticked")

    def reset_2fa(self, username: str, by: str = "admin") -> None:
        """Lost phone: back to "not enrolled". The next login shows a fresh QR; old codes stop working."""
        user = self.user(username)
        user.enrolment.reset()
        self.events.record(self.clock.now(), EventKind.TWOFA_RESET, f"admin:{by}", user=user.username,
                           company=user.company)

    def unlock(self, username: str, by: str = "admin") -> None:
        user = self.user(username)
        user.enrolment.unlock()
        self.events.record(self.clock.now(), EventKind.UNLOCKED, f"admin:{by}", user=user.username,
                           company=user.company)

    def issue_recovery_codes(self, username: str, by: str = "admin") -> list[str]:
        """A fresh set of single-use recovery codes (the old set stops working). Shown once."""
        user = self.user(username)
        if not user.enrolment.is_enrolled:
            raise ValidationError("username", f"{user.username!r} has not enrolled: recovery codes back up an enrolled app")
        codes = user.enrolment.issue_recovery_codes(self.policy, self.secret_source)
        self.events.record(self.clock.now(), EventKind.RECOVERY_CODES_ISSUED, f"admin:{by}", user=user.username,
                           company=user.company, detail=f"{len(codes)} codes")
        return codes

    # -- logins ---------------------------------------------------------------------------------

    def start_login(self) -> LoginAttempt:
        """Open the login mask."""
        attempt = LoginAttempt(self, next(self._login_ids))
        self.events.record(self.clock.now(), EventKind.LOGIN_STARTED, "anonymous", login=attempt.id,
                           state_to=attempt.state.name)
        return attempt

    # -- views ----------------------------------------------------------------------------------

    def user_rows(self) -> list[dict]:
        """One row per user: what the admin sees, no hashes, no secrets
        (:func:`twofa_sim.render.tables.users_table` shows them)."""
        now = self.clock.now()
        rows = []
        for user in self._users.values():
            e = user.enrolment
            rows.append({
                "username": user.username, "company": user.company, "force 2FA": user.force_2fa,
                "company 2FA": self.company(user.company).force_2fa_for_all, "needs 2FA": self.needs_2fa(user),
                "enrolled": e.is_enrolled, "enrolment pending": e.pending_secret is not None,
                "failed codes": e.failures_at(now),
                "locked until": iso(e.locked_until) if e.is_locked(now) else "",
                "recovery codes left": e.recovery.remaining if e.recovery else 0,
            })
        return rows

    def __repr__(self) -> str:
        return (f"BackOffice({len(self._companies)} companies, {len(self._users)} users, "
                f"{len(self.events)} events, {self.clock!r})")
