"""No secret, password, recovery code or one-time code in any event, repr, table or error."""

from __future__ import annotations

import pytest

from twofa_sim import TwofaSimError

from conftest import PASSWORD
from twofa_sim.apps.qr import group_secret

from helpers import at_code_prompt, current_code, enrol, refused_code
from twofa_sim.render.tables import events_table, users_table


def test_nothing_secret_leaks_from_a_full_story(office):
    office.create_user("alice", PASSWORD, force_2fa=True)
    secret = enrol(office, "alice")
    codes = office.issue_recovery_codes("alice")
    office.clock.advance(30)
    used = current_code(office, secret)
    login = at_code_prompt(office, "alice")
    login.submit_code(refused_code(office, secret))
    login.submit_code(used)
    at_code_prompt(office, "alice").submit_recovery_code(codes[0])
    errors = []
    for bad in (lambda: office.create_user("alice2", secret[:8]), lambda: office.create_user("alice", secret),
                lambda: login.submit_code(secret * 40), lambda: office.create_user("x:" + PASSWORD, PASSWORD)):
        with pytest.raises(TwofaSimError) as caught:
            bad()
        errors.append(str(caught.value))

    user = office.user("alice")
    texts = [events_table(office.events).to_csv(), "\n".join(map(str, office.events)), repr(office.events),
             repr(office), repr(user), repr(user.enrolment), repr(user.password_hash), repr(login),
             users_table(office).to_csv(), *errors]
    needles = [secret, secret.lower(), PASSWORD, used, *codes, *(c.replace("-", "") for c in codes)]
    for text in texts:
        for needle in needles:
            assert needle not in text


# -- every domain object's repr ------------------------------------------------------------------------------

def domain_objects(*roots) -> list:
    """Every object of the package reachable from ``roots`` (through attributes, lists, dicts and
    tuples), the widgets excepted: what a notebook, a debugger or a traceback may print."""
    seen: set[int] = set()
    found: list = []
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, (str, bytes, int, float, bool, type(None), type)):
            continue
        seen.add(id(obj))
        module = type(obj).__module__
        if isinstance(obj, dict):
            stack += [*obj.keys(), *obj.values()]
        elif module.startswith("twofa_sim") and not module.startswith("twofa_sim.ui"):
            found.append(obj)
            if isinstance(obj, tuple):                  # the package's named tuples: a step's result, a verdict
                stack += list(obj)
                continue
            slots = [getattr(obj, name, None) for cls in type(obj).__mro__ for name in getattr(cls, "__slots__", ())]
            stack += [*getattr(obj, "__dict__", {}).values(), *slots]
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack += list(obj)
    return found


def test_no_repr_of_any_domain_object_holds_a_secret_password_or_code(office):
    """A whole story (enrolment, a wrong code, a right code, recovery codes, an app on a device),
    then the repr of everything reachable from the back office, the device and the results,
    including the verdicts and changes a check returns."""
    from twofa_sim import Device

    office.create_user("alice", PASSWORD, force_2fa=True)
    device = Device.for_user(office, "alice")
    login = office.start_login()
    first = login.submit_password("alice", PASSWORD)
    device.scan(first.screen.page_image())
    secret = first.screen.secret
    enrolment = office.user("alice").enrolment
    typed = device.code()
    verdicts = [enrolment.check_code(typed, office.clock.now(), office.policy)]
    results = [first, login.submit_code(typed)]
    codes = office.issue_recovery_codes("alice")
    office.clock.advance(30)
    used = current_code(office, secret)
    verdicts += [enrolment.check_code(used, office.clock.now(), office.policy),
                 enrolment.check_recovery_code(codes[1], office.clock.now(), office.policy)]
    second = at_code_prompt(office, "alice")
    results += [second.submit_code(refused_code(office, secret)), second.submit_code(used),
                at_code_prompt(office, "alice").submit_recovery_code(codes[0])]
    objects = domain_objects(office, device, login, second, results, verdicts)
    kinds = {type(o).__name__ for o in objects}
    assert {"BackOffice", "BackendUser", "Enrolment", "PasswordHash", "RecoveryCodes", "Verdict", "Change",
            "StepResult", "EnrolmentScreen", "LoginAttempt", "Event", "EventLog", "Device", "Policy",
            "Clock", "Decoys"} <= kinds, kinds
    assert any(v.change is not None and v.change.confirm_secret == secret for v in verdicts), \
        "a change that carries the secret is among them"
    needles = [secret, secret.lower(), group_secret(secret), PASSWORD, typed, used, *codes,
               *(c.replace("-", "") for c in codes)]
    for obj in objects:
        text = repr(obj)
        for needle in needles:
            assert needle not in text, f"{type(obj).__name__}'s repr holds a secret, password or code"
