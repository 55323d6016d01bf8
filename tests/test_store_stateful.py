"""The stateful test's random sequences (admin actions, logins, codes, clock jumps, save and
restore) on a back office whose store is an SQLite file: every invariant of the in-memory runs
holds when each step is a database transaction and every object is read back from rows."""

from __future__ import annotations

import itertools
import tempfile
from collections import Counter

from hypothesis import settings
from hypothesis.stateful import invariant, run_state_machine_as_test

from twofa_sim import BackOffice, Clock, Policy, SeededSecretSource, open_store

from conftest import examples
from test_stateful import START, STEPS, LoginMachine, SETTINGS

EXAMPLES = examples(40)


class SqliteLoginMachine(LoginMachine):
    folder = ""
    files = itertools.count()

    def new_office(self, policy: Policy, seed: int) -> BackOffice:
        url = f"sqlite:///{self.folder}/run{next(self.files)}.sqlite"
        return BackOffice(policy=policy, clock=Clock.at(START), secret_source=SeededSecretSource(seed),
                          store=open_store(url))

    # The checks only read: each reads its whole picture in one transaction, as a page's refresh does.
    # hypothesis finds invariants by their decorator, so each is declared again, around its parent's.

    def in_one_read(self, check):
        if self.office is None:
            return check()
        with self.office.store.transaction(write=False):
            return check()

    def digest(self) -> dict:
        return self.in_one_read(super().digest)

    @invariant()
    def every_change_has_its_event(self):
        self.in_one_read(super().every_change_has_its_event)

    @invariant()
    def model_and_back_office_agree(self):
        self.in_one_read(super().model_and_back_office_agree)


def test_invariants_hold_on_an_sqlite_store():
    with tempfile.TemporaryDirectory(prefix="twofa-stateful-") as folder:
        SqliteLoginMachine.folder = folder
        SqliteLoginMachine.runs, SqliteLoginMachine.seen = 0, Counter()
        first_file = next(SqliteLoginMachine.files)
        run_state_machine_as_test(SqliteLoginMachine, settings=settings(
            SETTINGS, max_examples=EXAMPLES, stateful_step_count=STEPS))
        assert SqliteLoginMachine.runs >= EXAMPLES
        assert next(SqliteLoginMachine.files) - first_file > EXAMPLES  # every run had its own database file
