"""The back office: companies, their backend users, the admin's actions, and the login mask.

It owns the policy, the clock and the secret source, and hands out
:class:`~twofa_sim.login.attempt.LoginAttempt` objects. Companies, users and the event log live in a
:class:`~twofa_sim.login.store.Store`: in memory by default, or in a database many processes share
(``BackOffice(store=open_store("sqlite:///class.sqlite"))``). Every action runs in one store
transaction, so it happens exactly once however many threads or processes act at the same time.
Admin actions validate everything first and change state only when the whole action can succeed.
"""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager

from ..core.clock import Clock
from .company import Company
from ..core.errors import AlreadyExistsError, NotFoundError, ValidationError, check_display_name, shown
from ..core.events import EventKind, EventLog
from ..core.messages import say
from .attempt import LoginAttempt
from ..core.passwords import Decoys, PasswordHash, check_password_rule
from ..core.policy import Policy
from ..core.secret_source import SecretSource, SystemSecretSource, restore_secret_source
from .user import USERNAME, BackendUser, UserView, check_username
from .store import MemoryStore, Store



@functools.lru_cache(maxsize=4096)
def _store_key(username: str) -> str | None:
    """The key a username is stored under (casefolded), or None when it cannot be a username;
    remembered, since a login asks for its user on every step."""
    return username.casefold() if USERNAME.fullmatch(username) else None


def _check_flag(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(field, f"must be true or false, got {shown(value)}")
    return value


class BackOffice:
    """The simulated backend. ``BackOffice()`` is ready to use; demos pass a pinned clock and a seed.

    ``store`` keeps companies, users and events (a :class:`~twofa_sim.login.store.MemoryStore` unless
    given); ``events`` is an event log to continue, only with the in-memory store.
    """

    def __init__(self, policy: Policy | None = None, clock: Clock | None = None,
                 secret_source: SecretSource | None = None, events: EventLog | None = None,
                 store: Store | None = None) -> None:
        if store is not None and not isinstance(store, Store):
            raise ValidationError("store", f"must be a Store (see twofa_sim.store.open_store), got {type(store).__name__}")
        if store is not None and events is not None:
            raise ValidationError("events", "a store keeps its own event log: pass either store or events")
        self._policy = policy or Policy()
        self.clock = clock or Clock()
        self.secret_source = secret_source or SystemSecretSource()
        self._store = store if store is not None else MemoryStore(events)
        self.events = self._store.events
        self._decoys = Decoys(self._policy.kdf_log2_n)

    @property
    def store(self) -> Store:
        return self._store

    def transaction(self, write: bool = True) -> AbstractContextManager[None]:
        """One unit of work in the store: a login step's check and its effect run in one. The
        events it records reach the log's listeners once it has committed (none if it failed)."""
        store = self._store
        if store.announces_events:
            return store.transaction(write)
        return _AnnouncedAfterCommit(store.transaction(write), store.events)

    # -- policy ---------------------------------------------------------------------------------

    @property
    def policy(self) -> Policy:
        return self._policy

    def set_policy(self, policy: Policy, by: str = "admin") -> None:
        """Replace the policy; the change is in the log, knob by knob.

        The argument is checked before anything changes, so a refused change leaves the back
        office as it was.
        """
        if not isinstance(policy, Policy):
            raise ValidationError("policy", f"must be a Policy, got {type(policy).__name__}")
        changed = [f"{k}={getattr(policy, k)!r}" for k in policy.__dataclass_fields__
                   if getattr(policy, k) != getattr(self._policy, k)]
        decoys = self._decoys.for_costs(self._store.password_costs(), policy.kdf_log2_n)
        with self.transaction():
            if policy.period != self._policy.period:
                for user in self._store.users():
                    user.enrolment.change_period(self._policy.period, policy.period)
            self._policy, self._decoys = policy, decoys
            if changed:
                self.events.record(self.clock.now(), EventKind.POLICY_CHANGED, f"admin:{by}",
                                   detail=say("policy_changed", changes=", ".join(changed)))

    # -- companies and users --------------------------------------------------------------------

    def create_company(self, name: str, force_2fa_for_all: bool = False, by: str = "admin") -> Company:
        name = check_display_name("company", name)
        _check_flag("force_2fa_for_all", force_2fa_for_all)
        with self.transaction():
            if self._store.company(name.casefold()) is not None:
                raise AlreadyExistsError(f"company {name!r} already exists")
            company = Company(name, force_2fa_for_all)
            self._store.add_company(company)
            self.events.record(self.clock.now(), EventKind.COMPANY_CREATED, f"admin:{by}", company=name,
                               detail=say("company_2fa_on" if force_2fa_for_all else "company_2fa_off"))
        return company

    def company(self, name: str) -> Company:
        found = self._store.company(str(name).casefold())
        if found is None:
            raise NotFoundError(f"no company named {str(name)[:64]!r}")
        return found

    @property
    def companies(self) -> list[Company]:
        return self._store.companies()

    def set_company_force_2fa(self, company: str, on: bool, by: str = "admin") -> None:
        """The company's security setting: 2FA on (or off) for all its backend users at once."""
        with self.transaction():
            target = self.company(company)
            _check_flag("on", on)
            target.force_2fa_for_all = on
            self.events.record(self.clock.now(), EventKind.COMPANY_SETTING_CHANGED, f"admin:{by}",
                               company=target.name, detail=say("company_2fa_on" if on else "company_2fa_off"))

    def hash_password(self, username: str, password: str) -> PasswordHash:
        """The password checked against the rule and hashed at the policy's cost: the slow part of
        creating a user, done before any transaction (a class hashes its whole roster first)."""
        check_password_rule(password, check_username(username))
        return PasswordHash.create(password, self.secret_source, self.policy.kdf_log2_n)

    def create_user(self, username: str, password: str | PasswordHash, company: str | None = None,
                    force_2fa: bool = False, by: str = "admin") -> BackendUser:
        """Create a backend user; ``force_2fa`` is the "Force 2 factor auth." checkbox. ``password``
        is the password, or its hash from :meth:`hash_password` (already checked against the rule)."""
        username = check_username(username)
        if self._store.user(username.casefold()) is not None:
            raise AlreadyExistsError(f"username {username!r} is taken (usernames ignore case)",
                                     said=say("username_taken", name=repr(username)))
        _check_flag("force_2fa", force_2fa)
        owner = self._default_company() if company is None else self.company(company)
        # The slow hash is made before the transaction, so other processes do not wait for it.
        password_hash = password if isinstance(password, PasswordHash) else self.hash_password(username, password)
        with self.transaction():
            if self._store.user(username.casefold()) is not None:
                raise AlreadyExistsError(f"username {username!r} is taken (usernames ignore case)",
                                     said=say("username_taken", name=repr(username)))
            owner = self.company(owner.name)
            now = self.clock.now()
            user = BackendUser(username, owner.name, password_hash, force_2fa=force_2fa, created_at=now)
            self._store.add_user(user)
            if username not in owner.usernames:
                owner.usernames.append(username)
            self.events.record(now, EventKind.USER_CREATED, f"admin:{by}", user=username, company=owner.name,
                               detail=say("created_forced" if force_2fa else "created_not_forced"))
        return user

    def _default_company(self) -> Company:
        companies = self._store.companies()
        if len(companies) == 1:
            return companies[0]
        if not companies:
            raise NotFoundError("create a company first: every backend user belongs to one", said=say("no_company_yet"))
        raise ValidationError("company", "name the company: the back office has more than one")

    def find_user(self, username: str) -> BackendUser | None:
        """The user of that name, ignoring case; look-alike characters (a Kelvin sign for K) never match."""
        key = _store_key(username) if isinstance(username, str) else None
        return None if key is None else self._store.user(key)

    def user(self, username: str) -> BackendUser:
        found = self.find_user(username)
        if found is None:
            raise NotFoundError(f"no user named {str(username)[:64]!r}", said=say("no_user", name=repr(str(username)[:64])))
        return found

    @property
    def users(self) -> list[BackendUser]:
        return self._store.users()

    def company_of(self, username: str) -> str:
        return self.user(username).company

    # -- rules about users ----------------------------------------------------------------------

    def needs_2fa(self, user: BackendUser) -> bool:
        """The company setting or the user's flag asks for 2FA, or the user enrolled and the policy keeps it."""
        forced = user.force_2fa or self.company(user.company).force_2fa_for_all
        kept = user.enrolment.is_enrolled and self.policy.keep_2fa_when_unforced
        return forced or kept

    def password_matches(self, user: BackendUser | None, password: str, username: str = "") -> bool:
        """Constant work whether or not the user exists, so timing does not reveal usernames.

        An unknown ``username`` is checked against a decoy hash at the cost of a stored hash (see
        :class:`Decoys`), so it costs what a known user's wrong password costs even while stored
        hashes have another cost than the policy. A correct password whose hash has another cost
        than the policy's is hashed again at the policy's cost (as Django does), and the log says so.
        """
        decoys = self._decoys.for_costs(self._store.password_costs(), self._policy.kdf_log2_n)
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
        """Hash again at the policy's cost (outside any transaction: scrypt is slow), then store the
        new hash on the user as it is now, unless another process changed the hash meanwhile."""
        old = user.password_hash
        new = PasswordHash.create(password, self.secret_source, self._policy.kdf_log2_n)
        with self.transaction():
            current = self._store.user(user.key)
            if current is None or current.password_hash != old:
                return
            current.password_hash = user.password_hash = new
            self._store.note_hash_change()
            self.events.record(self.clock.now(), EventKind.PASSWORD_HASH_UPGRADED, "system", user=user.username,
                               company=user.company, detail=say("hash_upgraded", old=old.log2_n, new=new.log2_n))

    # -- admin actions --------------------------------------------------------------------------

    def set_force_2fa(self, username: str, on: bool, by: str = "admin") -> None:
        """Tick or untick "Force 2 factor auth." for a user."""
        with self.transaction():
            user = self.user(username)
            _check_flag("on", on)
            user.force_2fa = on
            self.events.record(self.clock.now(), EventKind.FORCE_FLAG_CHANGED, f"admin:{by}", user=user.username,
                               company=user.company, detail=say("flag_ticked" if on else "flag_unticked"))

    def reset_2fa(self, username: str, by: str = "admin") -> None:
        """Lost phone: back to "not enrolled". The next login shows a fresh QR; old codes stop working."""
        with self.transaction():
            user = self.user(username)
            user.enrolment.reset()
            self.events.record(self.clock.now(), EventKind.TWOFA_RESET, f"admin:{by}", user=user.username,
                               company=user.company)

    def set_password(self, username: str, password: str, by: str = "admin") -> None:
        """A new password for a user who lost theirs (the old one stops working); the log says who
        set it, never what it is. The slow hash is made before the transaction."""
        user = self.user(username)
        check_password_rule(password, user.username)
        password_hash = PasswordHash.create(password, self.secret_source, self.policy.kdf_log2_n)
        with self.transaction():
            user = self.user(username)
            user.password_hash = password_hash
            self._store.note_hash_change()
            self.events.record(self.clock.now(), EventKind.PASSWORD_SET, f"admin:{by}", user=user.username,
                               company=user.company)

    def unlock(self, username: str, by: str = "admin") -> None:
        with self.transaction():
            user = self.user(username)
            user.enrolment.unlock()
            self.events.record(self.clock.now(), EventKind.UNLOCKED, f"admin:{by}", user=user.username,
                               company=user.company)

    def issue_recovery_codes(self, username: str, by: str = "admin") -> list[str]:
        """A fresh set of single-use recovery codes (the old set stops working). Shown once."""
        with self.transaction():
            user = self.user(username)
            if not user.enrolment.is_enrolled:
                raise ValidationError("username", f"{user.username!r} has not enrolled: "
                                      "recovery codes back up an enrolled app",
                                      said=say("not_enrolled", name=repr(user.username)))
            codes = user.enrolment.issue_recovery_codes(self.policy, self.secret_source)
            self.events.record(self.clock.now(), EventKind.RECOVERY_CODES_ISSUED, f"admin:{by}",
                               user=user.username, company=user.company, detail=say("codes_issued", count=len(codes)))
        return codes

    # -- logins ---------------------------------------------------------------------------------

    def start_login(self) -> LoginAttempt:
        """Open the login mask."""
        with self.transaction():
            attempt = LoginAttempt(self, self._store.next_login_id())
            self.events.record(self.clock.now(), EventKind.LOGIN_STARTED, "anonymous", login=attempt.id,
                               state_to=attempt.state.name)
        return attempt

    # -- saving and restoring -------------------------------------------------------------------

    def snapshot(self) -> dict:
        """Everything the back office holds, as plain data (secrets and hashes included), read
        without changing anything. Logins in progress are not part of it, nor the decoy hashes
        (a restored back office makes its own, with a fresh key)."""
        with self.transaction(write=False):  # one consistent view, also of a shared database
            return {"policy": self._policy.snapshot(), "clock": self.clock.snapshot(),
                    "secret_source": self.secret_source.snapshot(),
                    "companies": [c.snapshot() for c in self.companies], "users": [u.snapshot() for u in self.users],
                    "events": self.events.snapshot(), "next_login_id": self._store.peek_login_id()}

    @classmethod
    def restore(cls, data: dict) -> "BackOffice":
        """The back office of a :meth:`snapshot`; restoring adds no event."""
        policy = Policy.restore(data["policy"])
        store = MemoryStore(EventLog.restore(data["events"]))
        for company in data["companies"]:
            store.add_company(Company.restore(company))
        for index, user in enumerate(data["users"]):
            store.add_user(BackendUser.restore(user, f"users[{index}]", policy.period))
        store.set_next_login_id(data["next_login_id"])
        return cls(policy=policy, clock=Clock.restore(data["clock"]),
                   secret_source=restore_secret_source(data["secret_source"]), store=store)

    # -- views ----------------------------------------------------------------------------------

    def user_views(self) -> list[UserView]:
        """One typed view per user, read in one consistent transaction: what the admin sees, no
        hashes, no secrets (:func:`twofa_sim.render.tables.users_table` shows them)."""
        now = self.clock.now()
        with self.transaction(write=False):  # one consistent view of every user
            return [self._user_view(user, now) for user in self._store.users()]

    def _user_view(self, user: BackendUser, now: float) -> UserView:
        e = user.enrolment
        failures, locked_out_until = e.standing(now)
        return UserView(username=user.username, company=user.company, force_2fa=user.force_2fa,
                        company_2fa=self.company(user.company).force_2fa_for_all, needs_2fa=self.needs_2fa(user),
                        enrolled=e.is_enrolled, enrolment_pending=e.pending_secret is not None,
                        failed_codes=failures, locked_out_until=locked_out_until,
                        recovery_codes_left=e.recovery.remaining if e.recovery else 0)

    def __repr__(self) -> str:
        with self.transaction(write=False):
            return (f"BackOffice({len(self._store.companies())} companies, {len(self._store.users())} users, "
                    f"{len(self.events)} events, {self.clock!r})")


class _AnnouncedAfterCommit:
    """A store transaction whose events are told to the listeners after it commits."""

    __slots__ = ("_transaction", "_events")

    def __init__(self, transaction: AbstractContextManager[None], events: EventLog) -> None:
        self._transaction, self._events = transaction, events

    def __enter__(self) -> None:
        self._events.hold()
        try:
            self._transaction.__enter__()
        except BaseException:
            self._events.release(announce=False)
            raise

    def __exit__(self, kind, error, traceback) -> bool:
        committed = False
        try:
            suppressed = self._transaction.__exit__(kind, error, traceback)
            committed = kind is None
            return bool(suppressed)
        finally:
            self._events.release(announce=committed)
