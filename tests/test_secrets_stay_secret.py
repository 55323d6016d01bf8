"""No secret, password, recovery code or one-time code in any event, repr, table or error."""

from __future__ import annotations

import pytest

from twofa_sim import TwofaSimError

from conftest import PASSWORD
from helpers import at_code_step, current_code, enrol


def test_nothing_secret_leaks_from_a_full_story(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    secret = enrol(office, "alice")
    codes = office.issue_recovery_codes("alice")
    office.clock.advance(30)
    used = current_code(office, secret)
    login = at_code_step(office, "alice")
    login.submit_code("000000" if used != "000000" else "111111")
    login.submit_code(used)
    at_code_step(office, "alice").submit_recovery_code(codes[0])
    errors = []
    for bad in (lambda: office.create_user("alice2", secret[:8]), lambda: office.create_user("alice", secret),
                lambda: login.submit_code(secret * 40), lambda: office.create_user("x:" + PASSWORD, PASSWORD)):
        with pytest.raises(TwofaSimError) as caught:
            bad()
        errors.append(str(caught.value))

    user = office.user("alice")
    texts = [office.events.to_frame().to_csv(), "\n".join(map(str, office.events)), repr(office.events),
             repr(office), repr(user), repr(user.enrolment), repr(user.password_hash), repr(login),
             office.users_frame().to_csv(), *errors]
    needles = [secret, secret.lower(), PASSWORD, used, *codes, *(c.replace("-", "") for c in codes)]
    for text in texts:
        for needle in needles:
            assert needle not in text
