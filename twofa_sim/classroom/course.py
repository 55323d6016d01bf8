"""A class on top of the back office: create it, follow it, and act on its trainees.

Every page of class mode (the trainer's dashboard, each trainee's page) opens the back office
through :func:`open_class`, the one place that decides where the shared state lives and which
clock it runs on: the real time (UTC), so that the code a real authenticator app shows on a
correctly set phone is the code the back office expects.
"""

from __future__ import annotations

import hmac
import os

from ..core.clock import Clock
from ..core.errors import NotFoundError, ValidationError, check_display_name, shown
from ..core.policy import Policy
from ..login.backoffice import BackOffice
from ..store import MissingDatabaseError, open_store
from ..core.events import EventKind
from .progress import ClassProgress, Progress, TraineeStatus, stage_counts
from .roster import Roster, Trainee, generate_password

DB_ENV = "TWOFA_SIM_CLASS_DB"
TRAINER_KEY_ENV = "TWOFA_SIM_TRAINER_KEY"
IN_MEMORY = "memory"
TWO_FACTOR_BY = ("user flag", "company setting")


def class_db_url(url: str | None = None) -> str:
    """The database a class uses: ``url``, else the environment's ``TWOFA_SIM_CLASS_DB`` (what
    ``make class`` sets for every kernel of its server: ``class.sqlite`` in the project folder by
    default), else ``"memory"``: a class inside one kernel, as a notebook run by the tests has."""
    chosen = url if url is not None else os.environ.get(DB_ENV) or IN_MEMORY
    if not isinstance(chosen, str) or not chosen.strip():
        raise ValidationError("db_url", f"must be a database URL such as sqlite:///class.sqlite, got {shown(chosen)}")
    return chosen.strip()


def trainer_key_accepted(given: str) -> bool:
    """Whether a page may act as the trainer's: ``make class`` sets a random key for its server
    and prints the trainer's address with it. Without a key set, only a class inside one kernel
    (a notebook, the tests: no shared database named) may; with a shared database and no key,
    no page may (it fails closed). A trainee who opens the dashboard's address without the key
    gets no admin actions."""
    expected = os.environ.get(TRAINER_KEY_ENV, "")
    if not expected:
        return class_db_url() == IN_MEMORY
    return hmac.compare_digest(str(given).encode(), expected.encode())


def open_class(db_url: str | None = None, *, policy: Policy | None = None, until_created: bool = False) -> BackOffice:
    """The back office of a class, on the real time, in the database ``db_url`` names (see
    :func:`class_db_url`). Every page of the class opens it here, so every kernel of the class
    server works on the same companies, users, second factors and event log.

    Opening never creates the database: only creating a class does (:meth:`Classroom.create`), so a
    page opened after the file was deleted or moved names the problem instead of starting a second,
    empty class. A database that does not exist raises a
    :class:`~twofa_sim.store.MissingDatabaseError`, unless ``until_created`` (the trainer's dashboard
    before the first class): then the store opens the database once a class created it, and
    :meth:`Classroom.find` finds no class until then. Any other
    database that cannot be used raises a :class:`~twofa_sim.store.StoreError` naming it."""
    store = open_store(class_db_url(db_url), create=False, missing_ok=until_created)
    return BackOffice(policy=policy or Policy(), clock=Clock.real_time(), store=store)


def class_ended(office: BackOffice, company: str) -> bool:
    """Whether the trainer ended the class of ``company`` (read from the log once, for a page that
    has no :class:`ClassProgress` of its own: a trainee's page, after a refused password)."""
    return any(event.company == company for event in office.events.of_kind(EventKind.CLASS_ENDED))


class Classroom:
    """One class: a company whose backend users are the trainees.

    The trainer creates it once (:meth:`create`); a dashboard opened later finds it again in the
    shared state (:meth:`find`), without the passwords, which only the creating page ever held.
    Admin actions act on trainees of this class only.
    """

    def __init__(self, office: BackOffice, company: str, roster: Roster | None = None) -> None:
        self.office = office
        self.company = office.company(company).name
        self.roster = roster
        self.progress = ClassProgress(office, self.usernames)

    @classmethod
    def create(cls, office: BackOffice, company: str, *, names: list[str] | None = None, count: int | None = None,
               two_factor_by: str = "user flag", by: str = "trainer") -> "Classroom":
        """The company and one backend user per trainee, each with a generated password.

        ``two_factor_by`` is ``"user flag"`` ("Force 2 factor auth." ticked for each user) or
        ``"company setting"`` (2FA on for all the company's backend users). Everything is checked
        first (the company name, the roster, that no name is taken) so that a refused class
        leaves the back office as it was. This is the one place a class's database is created.
        Every password is hashed before the one transaction opens: scrypt takes tens of
        milliseconds a trainee, and no other page should wait for it behind the write lock.
        """
        company = check_display_name("company", company)
        if two_factor_by not in TWO_FACTOR_BY:
            raise ValidationError("two_factor_by", f"must be one of {', '.join(TWO_FACTOR_BY)}, got {shown(two_factor_by)}")
        roster = Roster.generate(names, count=count)
        office.store.ensure_created()
        if any(c.name.casefold() == company.casefold() for c in office.companies):
            raise ValidationError("company", f"a class named {company!r} exists already: choose another name")
        taken = [name for name in roster.usernames if office.find_user(name) is not None]
        if taken:
            raise ValidationError("names", f"taken already: {', '.join(taken[:5])}")
        by_company = two_factor_by == "company setting"
        hashes = [office.hash_password(trainee.username, trainee.password) for trainee in roster]
        # one transaction: in a database, a class is created whole or not at all (a failure half
        # way, the database locked too long say, leaves no half class for the trainees to find)
        with office.transaction():
            office.create_company(company, force_2fa_for_all=by_company, by=by)
            for trainee, password_hash in zip(roster, hashes):
                office.create_user(trainee.username, password_hash, company=company, force_2fa=not by_company, by=by)
        return cls(office, company, roster)

    @classmethod
    def find(cls, office: BackOffice, company: str | None = None) -> "Classroom | None":
        """The class in the shared state: the named company, or the newest one (None if none, or
        if the class's database was not created yet)."""
        try:
            companies = office.companies
        except MissingDatabaseError:
            return None
        if company is not None:
            return cls(office, company)
        return cls(office, companies[-1].name) if companies else None

    @property
    def usernames(self) -> list[str]:
        return [u.username for u in self.office.users if u.company == self.company]

    def trainee(self, username: str) -> str:
        """The trainee's name as stored; a name outside this class is refused."""
        user = self.office.find_user(username)
        if user is None or user.company != self.company:
            raise NotFoundError(f"no trainee named {str(username)[:64]!r} in class {self.company!r}")
        return user.username

    # -- admin actions on the shared state ----------------------------------------------------------

    def reset_2fa(self, username: str, by: str = "trainer") -> None:
        """Lost phone, or start the exercise again: the next login shows a fresh QR code."""
        self.office.reset_2fa(self.trainee(username), by=by)

    def unlock(self, username: str, by: str = "trainer") -> None:
        self.office.unlock(self.trainee(username), by=by)

    def issue_recovery_codes(self, username: str, by: str = "trainer") -> list[str]:
        """A fresh set of single-use codes for an enrolled trainee, shown once to the trainer."""
        return self.office.issue_recovery_codes(self.trainee(username), by=by)

    def new_password(self, username: str, by: str = "trainer") -> str:
        """A lost slip: a fresh generated password for one trainee, returned once for the trainer's
        screen (the old one stops working; the log says a password was set, never which)."""
        name = self.trainee(username)
        password = generate_password(name)
        self.office.set_password(name, password, by=by)
        self._remember(name, password)
        return password

    def new_passwords_for_those_not_logged_in(self, by: str = "trainer") -> list[tuple[str, str]]:
        """A dashboard reloaded before the slips were handed out: fresh passwords for every trainee
        whose password has never been accepted (those already in keep theirs); (username, password)."""
        waiting = [s.username for s in self.progress.statuses() if not s.logged_in]
        return [(name, self.new_password(name, by=by)) for name in waiting]

    def add_trainee(self, username: str, by: str = "trainer") -> str:
        """One more trainee in a running class, with the class's way of asking for 2FA; returns the
        generated password, once."""
        self._check_running()
        [trainee] = Roster.generate([username]).trainees
        company = self.office.company(self.company)
        self.office.create_user(trainee.username, trainee.password, company=self.company,
                                force_2fa=not company.force_2fa_for_all, by=by)
        self._remember(trainee.username, trainee.password)
        self.refresh()
        return trainee.password

    def end(self, by: str = "trainer") -> None:
        """The end of the class: every trainee's password is replaced by one nobody is shown, so no
        one can log in any more; the log and the trainees' progress stay for the dashboard."""
        self._check_running()
        for name in self.usernames:
            self.office.set_password(name, generate_password(name), by=by)
        self.office.events.record(self.office.clock.now(), EventKind.CLASS_ENDED, f"admin:{by}", company=self.company)
        self.roster = None

    @property
    def ended(self) -> bool:
        return self.progress.has_ended(self.company)

    def _check_running(self) -> None:
        if self.ended:
            raise ValidationError("class", f"{self.company!r} has ended: create a new class")

    def _remember(self, username: str, password: str) -> None:
        """This page now holds the trainee's password (for slips), as the creating page does."""
        kept = [t for t in (self.roster.trainees if self.roster else []) if t.username != username]
        self.roster = Roster(kept + [Trainee(username, password)])

    # -- views -------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Pick up trainees added to the class since (another dashboard, a re-created roster)."""
        names = self.usernames
        if names != self.progress.usernames:
            self.progress = ClassProgress(self.office, names)

    def statuses(self) -> list[TraineeStatus]:
        """Each trainee's status now (see :class:`~twofa_sim.classroom.progress.ClassProgress`)."""
        self.refresh()
        return self.progress.statuses()

    def event_rows(self, language: str = "en") -> list[dict]:
        """The class's part of the event log as plain rows (for the CSV export), details in
        ``language``: events of its company or of its trainees; never a secret (the log holds none)."""
        names = {name.casefold() for name in self.usernames}
        return [row for row in self.office.events.rows(language=language)
                if row["company"] == self.company or (row["user"] and row["user"].casefold() in names)]

    def counts(self, statuses: list[TraineeStatus] | None = None) -> dict[str, int]:
        """How many trainees are at each stage (for the dashboard's summary line), of ``statuses``
        if given (read once per refresh), else read now."""
        statuses = self.progress.statuses() if statuses is None else statuses
        return {"trainees": len(statuses), "logged in": sum(s.logged_in for s in statuses),
                "sees QR": sum(s.sees_qr for s in statuses), "enrolled": sum(s.enrolled for s in statuses),
                "signed in": sum(s.signed_in for s in statuses), "locked": sum(s.locked_out_until is not None for s in statuses)}

    def stages(self) -> dict[Progress, int]:
        """How many trainees are at each stage (the projector's bars)."""
        return stage_counts(self.progress.statuses())

    @classmethod
    def names(cls, office: BackOffice) -> list[str]:
        """Every class in the database, oldest first (the dashboard chooses among them)."""
        return [company.name for company in office.companies]

    def __repr__(self) -> str:
        passwords = "passwords held" if self.roster is not None else "no passwords"
        return f"Classroom({self.company!r}, {len(self.usernames)} trainees, {passwords})"
