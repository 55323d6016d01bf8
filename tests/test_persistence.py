"""Save and restore a whole simulation: lossless, atomic, and loud about damaged files."""

from __future__ import annotations

import datetime as dt
import json
import os
import pathlib
import random
import stat
import traceback

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from twofa_sim import BackOffice, Clock, EventLog, Policy, SeededSecretSource, State, SystemSecretSource, TwofaSimError
from twofa_sim.io import persistence
from twofa_sim.apps.profiles import AEGIS
from twofa_sim.apps.device import Device
from twofa_sim.core.otp import code_at
from twofa_sim.apps.otpauth import build_key_uri
from twofa_sim.io.persistence import SCHEMA_VERSION, Session, SessionFileError, dumps, load, loads, save

from conftest import PASSWORD, examples, make_office
from helpers import at_code_prompt, current_code, enrol, refused_code

ROOT = pathlib.Path(__file__).resolve().parent.parent


# -- an independent picture of everything a session must keep ---------------------------------------

def state_of(office: BackOffice) -> dict:
    """Every piece of state, read from the objects themselves (not through the file format)."""
    source = office.secret_source
    clock = office.clock
    users = {}
    for user in office.users:
        e, h = user.enrolment, user.password_hash
        users[user.username] = (
            user.company, user.force_2fa, user.created_at, h.salt, h.digest, h.log2_n,
            e.secret, e.pending_secret, e.enrolled_at, e.last_used_step, e.drift, e.failures, e.locked_out_until,
            None if e.recovery is None else (e.recovery.salt, list(e.recovery.unused), e.recovery.used))
    return {
        "policy": office.policy,
        "clock": (clock.is_pinned, clock.now() if clock.is_pinned else clock._offset),
        "source": (type(source).__name__, getattr(source, "seed", None),
                   source._random.getstate() if isinstance(source, SeededSecretSource) else None),
        "companies": [(c.name, c.force_2fa_for_all, list(c.usernames)) for c in office.companies],
        "users": users,
        "user order": [u.username for u in office.users],
        "events": list(office.events),
        "next login": office.store.peek_login_id(),
    }


def state_of_device(device: Device) -> tuple:
    app = device.app
    pending = {token: (p.candidate, p.existing, p.adjustments, p.warnings, p.question)
               for token, p in app._pending.items()}
    return (device.name, device.owner, device.company, device.offset, device.events is not None, app.profile,
            app.correction, app.entries, pending, app._next_id, app._password, app.locked)


def prepared_office() -> BackOffice:
    """A trainer's prepared session: enrolled, pending, locked, recovery codes, a second company."""
    office = make_office()
    office.create_company("Beta GmbH", force_2fa_for_all=True)
    office.create_user("alice", PASSWORD, company="ACME", force_2fa=True)
    office.create_user("bob", PASSWORD, company="ACME")
    office.create_user("carol", PASSWORD, company="Beta GmbH")
    office.create_user("dave", PASSWORD, company="Beta GmbH")
    secret = enrol(office, "alice")
    office.issue_recovery_codes("alice")
    office.clock.advance(45)
    at_code_prompt(office, "alice").submit_recovery_code(office.issue_recovery_codes("alice")[2])
    office.start_login().submit_password("carol", PASSWORD)          # pending enrolment
    dave = enrol(office, "dave")
    login = at_code_prompt(office, "dave")
    login.submit_code("12345x")                                       # malformed: not a guess
    for _ in range(office.policy.failed_code_limit):                 # dave locked
        at_code_prompt(office, "dave").submit_code(refused_code(office, dave))
    office.start_login().submit_password("nobody", PASSWORD)
    office.clock.advance(31)
    return office


# -- lossless round trip ---------------------------------------------------------------------------

def test_round_trip_keeps_every_piece_of_state(tmp_path):
    office = prepared_office()
    assert office.user("dave").enrolment.locked_out_until and office.user("carol").enrolment.pending_secret
    before = state_of(office)
    path = save(tmp_path / "class.twofa.json", office)
    session = load(path)
    assert isinstance(session, Session) and session.schema_version == SCHEMA_VERSION
    assert state_of(session.office) == before
    assert state_of(office) == before, "saving changes nothing"
    assert dumps(session.office) == path.read_bytes(), "save, load, save gives the same bytes"


def test_a_restored_session_goes_on_exactly_like_the_original(tmp_path):
    office = prepared_office()
    restored = load(save(tmp_path / "s.json", office)).office

    def story(o: BackOffice) -> list:
        out = []
        o.clock.advance(900)
        o.create_user("erin", PASSWORD, company="ACME", force_2fa=True)      # salt from the seeded source
        login = o.start_login()
        shown = login.submit_password("erin", PASSWORD)
        out.append((login.id, shown.state, shown.screen.secret))             # the same new secret
        out.append(login.submit_code(code_at(shown.screen.secret, o.clock.now())).state)
        out.append(at_code_prompt(o, "dave").submit_code("123456").outcome)     # lock lapsed, counts again
        out.append(o.start_login().submit_password("carol", PASSWORD).screen.secret)
        out.append(o.issue_recovery_codes("erin"))
        return out

    assert story(restored) == story(office)
    assert list(restored.events) == list(office.events)
    assert state_of(restored) == state_of(office)


def test_carol_can_finish_the_enrolment_she_started_before_the_save(tmp_path):
    office = prepared_office()
    pending = office.user("carol").enrolment.pending_secret
    restored = load(save(tmp_path / "s.json", office)).office
    login = restored.start_login()
    shown = login.submit_password("carol", PASSWORD)
    assert shown.screen.secret == pending, "the entry already scanned into her app stays valid"
    assert login.submit_code(code_at(pending, restored.clock.now())).state is State.AUTHENTICATED


def test_a_following_clock_keeps_its_offset_from_the_wall_clock(tmp_path):
    with freeze_time("2026-03-01 12:00:00") as frozen:
        office = BackOffice(policy=Policy(kdf_log2_n=1), clock=Clock.at("2026-01-05T09:00:00Z"))
        office.clock.follow_wall_clock()
        offset = office.clock.now() - dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone.utc).timestamp()
        path = save(tmp_path / "s.json", office)
        frozen.tick(dt.timedelta(seconds=600))
        restored = load(path).office
        assert not restored.clock.is_pinned
        assert restored.clock.now() == office.clock.now()
        assert restored.clock.now() - dt.datetime(2026, 3, 1, 12, 10, tzinfo=dt.timezone.utc).timestamp() == offset
    assert isinstance(restored.secret_source, SystemSecretSource)


def test_a_text_seed_round_trips(tmp_path):
    office = BackOffice(policy=Policy(kdf_log2_n=1), clock=Clock.at(0), secret_source=SeededSecretSource("class 7"))
    office.secret_source.token_bytes(11)
    restored = load(save(tmp_path / "s.json", office)).office
    assert restored.secret_source.seed == "class 7"
    assert restored.secret_source.token_bytes(32) == office.secret_source.token_bytes(32)


# -- devices: apps, entries, clock offsets and corrections ---------------------------------------------------

def office_with_devices() -> tuple[BackOffice, list[Device]]:
    office = make_office(algorithm="SHA256", period=60)
    office.create_user("alice", PASSWORD, force_2fa=True)
    aegis = Device.for_user(office, "alice", app="aegis", offset=-12.5)
    addon = Device.for_user(office, "alice", app="authenticator-addon", offset=200)
    google = Device(f"alice's old phone", "alice", office.clock, app="google-authenticator", company="ACME")
    login = office.start_login()
    screen = login.submit_password("alice", PASSWORD).screen
    aegis.scan(screen.page_image())
    aegis.scan(screen.page_image())                     # Aegis asks: replace, or keep both?
    addon.scan(screen.page_image())                     # the add-on drops SHA256 and 60 s (adjustments)
    addon.correct_clock()
    addon.enter_key("alice", screen.secret_for_typing, issuer="plenigo", algorithm="SHA256", period=60)
    google.scan(screen.qr_image())
    assert login.submit_code(aegis.code()).state is State.AUTHENTICATED
    assert aegis.app.pending and addon.app.correction and addon.app.entries[0].algorithm == "SHA1"
    return office, [aegis, addon, google]


def test_devices_round_trip_with_their_apps_entries_and_clocks(tmp_path):
    office, devices = office_with_devices()
    before = [state_of_device(d) for d in devices]
    events = len(office.events)
    session = load(save(tmp_path / "demo.json", office, devices))
    assert [state_of_device(d) for d in session.devices] == before
    assert state_of(session.office) == state_of(office)
    assert len(session.office.events) == events, "restoring adds no 'device added' event"
    for restored in session.devices:
        assert restored.reference is session.office.clock
        assert restored.events in (None, session.office.events)
    assert dumps(session.office, session.devices) == (tmp_path / "demo.json").read_bytes()


def test_restored_devices_go_on_like_the_originals(tmp_path):
    office, devices = office_with_devices()
    session = load(save(tmp_path / "demo.json", office, devices))

    def story(o: BackOffice, ds: list[Device]) -> list:
        aegis, addon, google = ds
        out = [aegis.app.confirm(aegis.app.pending[0], "keep both").outcome]
        for _ in range(3):
            o.clock.advance(47)
            out.append([(d.reading().code, d.reading().step, round(d.reading().seconds_left, 3)) for d in ds])
        out.append(addon.correct_clock())
        login = at_code_prompt(o, "alice")
        out.append(login.submit_code(aegis.code()).state)
        o.reset_2fa("alice")                                           # lost phone: a fresh QR
        out.append(aegis.scan(o.start_login().submit_password("alice", PASSWORD).screen.page_image()).outcome)
        out.append([e.id for e in aegis.app.entries])
        return out

    assert story(session.office, list(session.devices)) == story(office, devices)
    assert list(session.office.events) == list(office.events)


def test_whatever_an_app_holds_round_trips(tmp_path):
    """Entries as long and as odd as a scanned URI allows: a 1,000-character account, a 512-bit key."""
    office = make_office()
    device = Device("phone", "alice", office.clock, app="reference", events=office.events)
    long_account = "é" * 300 + "x" * 700
    device.app.scan_uri(build_key_uri("A" * 103, long_account, "Caf\u00e9 \u0130stanbul", digits=10, period=120), 0.5)
    device.enter_key("bob", "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP", issuer="", algorithm="SHA512", period=1)
    session = load(save(tmp_path / "s.json", office, [device]))
    assert state_of_device(session.devices[0]) == state_of_device(device)


def test_devices_that_cannot_be_saved_are_refused_before_writing(tmp_path):
    office, devices = office_with_devices()
    import dataclasses
    cases = {
        "other clock": Device("tab", "alice", Clock.at(0)),
        "other log": Device("tab", "alice", office.clock, events=EventLog()),
        "own profile": Device("tab", "alice", office.clock, app=dataclasses.replace(AEGIS, version="9")),
        "not a device": "alice's phone",
    }
    for name, device in cases.items():
        with pytest.raises(SessionFileError, match=r"devices\[1\]"):
            save(tmp_path / "s.json", office, [devices[0], device])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("edit, field, words", [
    (lambda d: d.update(app="authy"), "app", "app profiles"),
    (lambda d: d.update(offset="12"), "offset", "finite number"),
    (lambda d: d.update(name=""), "name", "printable"),
    (lambda d: d.update(next_id=1), "next_id", "after every entry"),
    (lambda d: d["entries"][0].update(secret="JBSWY3DP"), "entries[0].secret", "bits"),
    (lambda d: d["entries"][0].update(secret="jbswy3dpehpk3pxpjbswy3dpehpk3pxp"), "entries[0].secret", "upper-case"),
    (lambda d: d["entries"][0].update(digits=12), "entries[0].digits", "between 1 and 10"),
    (lambda d: d["entries"][0].update(period=0), "entries[0].period", "between 1 and 2147483"),
    (lambda d: d["entries"][0].update(algorithm="SHA3"), "entries[0].algorithm", "MD5, SHA1"),
    (lambda d: d["entries"][0].update(type="motp"), "entries[0].type", "'totp' or 'hotp'"),
    (lambda d: d["entries"][0].update(type="hotp"), "entries[0].counter", "whole number"),
    (lambda d: d["entries"][0].update(type="hotp", counter=-1), "entries[0].counter", "between 0"),
    (lambda d: d.update(locked=True), "locked", "without a password"),
    (lambda d: d.update(password_hash={"scheme": "md5"}), "password_hash.salt", "missing"),
    (lambda d: d["waiting_for_choice"][0].update(question="maybe"), "waiting_for_choice[0].question",
     "'duplicate' or 'unsafe'"),
    (lambda d: d["waiting_for_choice"][0].update(existing=None), "waiting_for_choice[0].existing", "object"),
    (lambda d: d["entries"][0].update(account="a:b"), "entries[0].account", "without ':'"),
    (lambda d: d["entries"][0].update(issuer="x\u202e"), "entries[0].issuer", "printable"),
    (lambda d: d["entries"].append(dict(d["entries"][0])), "entries", "same id"),
    (lambda d: d["waiting_for_choice"][0].update(token=1), "waiting_for_choice[0].token", "already in use"),
    (lambda d: d["waiting_for_choice"][0]["adjustments"].append([]), "waiting_for_choice[0].adjustments[0]",
     "object"),
])
def test_a_damaged_device_names_the_place(edit, field, words):
    office, devices = office_with_devices()
    document = json.loads(dumps(office, devices))
    document.pop("sha256")
    edit(document["session"]["devices"][0])
    with pytest.raises(SessionFileError, match=words) as caught:
        loads(json.dumps(document))
    assert caught.value.field == "session.devices[0]." + field


def test_two_devices_of_one_name_are_a_damaged_file():
    office, devices = office_with_devices()
    document = json.loads(dumps(office, devices))
    document.pop("sha256")
    document["session"]["devices"][1]["name"] = document["session"]["devices"][0]["name"]
    with pytest.raises(SessionFileError, match="same name"):
        loads(json.dumps(document))


# -- the round trip as a property, over random simulations ----------------------------------------------

NAMES = ["alice", "bob", "carol", "dave"]
LOGIN = st.tuples(st.just("login"), st.sampled_from(NAMES),
                  st.sampled_from(["right", "right", "wrong", "skewed", "garbage", "recovery", "nothing"]))
ACTIONS = st.one_of(
    LOGIN, LOGIN, LOGIN, LOGIN,
    st.tuples(st.just("time"), st.sampled_from([30, 30, 60, 95, 900, -30])),
    st.tuples(st.just("user"), st.sampled_from(NAMES), st.booleans(), st.sampled_from(["ACME", "Beta"])),
    st.tuples(st.just("flag"), st.sampled_from(NAMES), st.booleans()),
    st.tuples(st.just("company"), st.sampled_from(["ACME", "Beta"]), st.booleans()),
    st.tuples(st.just("reset"), st.sampled_from(NAMES)),
    st.tuples(st.just("unlock"), st.sampled_from(NAMES)),
    st.tuples(st.just("recovery"), st.sampled_from(NAMES)),
    st.tuples(st.just("time"), st.integers(-120, 4000)),
    st.tuples(st.just("policy"), st.sampled_from(["window", "failed_code_limit", "drift_tracking"]), st.integers(0, 3)),
)


def run(office: BackOffice, actions, memory: dict) -> list:
    """Apply actions; refusals are part of the story. Returns what each action answered."""
    answers = []
    for action in actions:
        try:
            answers.append(_act(office, action, memory))
        except TwofaSimError as error:
            answers.append(type(error).__name__)
    return answers


def _act(office: BackOffice, action, memory: dict):
    kind, *args = action
    if kind == "user":
        return office.create_user(args[0], PASSWORD, company=args[2], force_2fa=args[1]).username
    if kind == "flag":
        return office.set_force_2fa(args[0], args[1])
    if kind == "company":
        return office.set_company_force_2fa(args[0], args[1])
    if kind == "reset":
        return office.reset_2fa(args[0])
    if kind == "unlock":
        return office.unlock(args[0])
    if kind == "recovery":
        memory[args[0]] = office.issue_recovery_codes(args[0])
        return len(memory[args[0]])
    if kind == "time":
        return office.clock.advance(args[0])
    if kind == "policy":
        name, value = args
        value = bool(value % 2) if name == "drift_tracking" else max(value, 1 if name == "failed_code_limit" else 0)
        return office.set_policy(office.policy.replace(**{name: value}))
    name, how = args
    login = office.start_login()
    first = login.submit_password(name, PASSWORD)
    if first.screen is not None:
        memory["secret:" + name] = first.screen.secret
    secret = memory.get("secret:" + name)
    if first.state not in (State.ENROLMENT, State.CODE_REQUIRED) or how == "nothing" or secret is None:
        return first.state
    code = code_at(secret, office.clock.now(), period=office.policy.period)
    if how == "recovery" and first.state is State.CODE_REQUIRED and memory.get(name):
        return login.submit_recovery_code(memory[name].pop()).state
    typed = {"right": code, "wrong": refused_code(office, secret), "skewed": code_at(secret, office.clock.now() + 95),
             "garbage": "１２３ ４５６\u200b"}.get(how, code)
    return login.submit_code(typed).state


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=st.lists(ACTIONS, min_size=3, max_size=25), after=st.lists(ACTIONS, min_size=1, max_size=8))
def test_any_simulation_round_trips_and_goes_on_identically(tmp_path, before, after):
    office = BackOffice(policy=Policy(kdf_log2_n=1, failed_code_limit=3, recovery_code_count=2),
                        clock=Clock.at("2026-01-05T09:00:10Z"), secret_source=SeededSecretSource(99))
    office.create_company("ACME")
    office.create_company("Beta", force_2fa_for_all=True)
    office.create_user("alice", PASSWORD, company="ACME", force_2fa=True)
    office.create_user("bob", PASSWORD, company="Beta")
    memory: dict = {"secret:alice": enrol(office, "alice"), "alice": office.issue_recovery_codes("alice")}
    run(office, before, memory)
    path = save(tmp_path / "prop.json", office)
    restored = load(path).office
    assert state_of(restored) == state_of(office)
    assert dumps(restored) == path.read_bytes()
    twin = {k: list(v) if isinstance(v, list) else v for k, v in memory.items()}
    assert run(restored, after, twin) == run(office, after, memory)
    assert state_of(restored) == state_of(office)


# -- atomic write: a save interrupted at any byte --------------------------------------------------------

class Crash(Exception):
    """Stands for the process dying in the middle of a save."""


def crashing_writer(budget: int, chunk: int = 509):
    """A stand-in for os.write that writes at most ``chunk`` bytes a call and dies after ``budget`` bytes."""
    left = [budget]

    def write(handle, data):
        if left[0] <= 0:
            raise Crash()
        n = min(len(data), chunk, left[0])
        written = os.write(handle, bytes(data[:n]))
        left[0] -= written
        return written
    return write


def small_sessions():
    old = make_office()
    old.create_user("alice", PASSWORD, force_2fa=True)
    new = make_office()
    new.create_user("alice", PASSWORD, force_2fa=True)
    enrol(new, "alice")
    return old, new


def with_device(office: BackOffice) -> list[Device]:
    device = Device.for_user(office, "alice")
    device.enter_key("alice", "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP", issuer="plenigo")
    return [device]


def test_a_save_interrupted_at_any_byte_leaves_the_old_file_or_the_new(tmp_path, monkeypatch):
    old, new = small_sessions()
    devices = with_device(new)
    target = tmp_path / "class.json"
    save(target, old)
    old_bytes, new_bytes = target.read_bytes(), dumps(new, devices)
    old_state, new_state = state_of(load(target).office), state_of(new)
    assert old_bytes != new_bytes
    for budget in range(len(new_bytes) + 1):
        monkeypatch.setattr(persistence, "_os_write", crashing_writer(budget))
        try:
            save(target, new, devices)
            finished = True
        except Crash:
            finished = False
        assert finished is (budget == len(new_bytes))
        on_disk = target.read_bytes()
        if not finished:
            assert on_disk == old_bytes, f"interrupted after {budget} bytes"
            assert sorted(p.name for p in tmp_path.iterdir()) == ["class.json"], "no temporary file is left"
            if budget % 97 == 0 or budget > len(new_bytes) - 8:
                assert state_of(load(target).office) == old_state
        else:
            assert on_disk == new_bytes and state_of(load(target).office) == new_state


@pytest.mark.parametrize("stage, survivor", [("fsync", "old"), ("replace", "old"), ("sync folder", "new")])
def test_a_crash_at_each_later_stage_leaves_one_whole_file(tmp_path, monkeypatch, stage, survivor):
    old, new = small_sessions()
    target = save(tmp_path / "class.json", old)
    expected = {"old": target.read_bytes(), "new": dumps(new)}[survivor]

    def die(*args, **kwargs):
        raise Crash()
    if stage == "fsync":
        monkeypatch.setattr(persistence.os, "fsync", die)
    elif stage == "replace":
        monkeypatch.setattr(persistence.os, "replace", die)
    else:
        monkeypatch.setattr(persistence, "_sync_folder", die)
    with pytest.raises(Crash):
        save(target, new)
    monkeypatch.undo()
    assert target.read_bytes() == expected
    assert isinstance(load(target), Session)


def killed_save(target: pathlib.Path, session, devices, budget: int, stage: str) -> int:
    """Saves ``session`` in a forked process that dies after writing ``budget`` bytes (stage "write")
    or right after the rename (stage "after rename"), by os._exit: no clean-up, no flush, as a kill
    leaves it. Returns the process's exit code (9: killed, 0: the save finished). A fork, not a new
    interpreter: the child has everything imported already, so each case costs milliseconds."""
    pid = os.fork()
    if pid == 0:  # the child never returns into the test run
        try:
            left = [budget]

            def write(handle, data):
                if left[0] <= 0:
                    os._exit(9)                       # killed: no clean-up runs
                n = min(len(data), 5, left[0])
                left[0] -= os.write(handle, bytes(data[:n]))
                return n

            if stage == "write":
                persistence._os_write = write
            else:
                persistence._sync_folder = lambda folder: os._exit(9)
            persistence.save(target, session, devices)
            os._exit(0)
        except BaseException:  # noqa: BLE001 - shown by the test's failure, then the child ends
            traceback.print_exc()
            os._exit(3)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_a_process_killed_mid_save_leaves_a_loadable_file(tmp_path):
    old, new = small_sessions()
    target = save(tmp_path / "class.json", old)
    devices = with_device(new)
    old_bytes, new_bytes = target.read_bytes(), dumps(new, devices)
    cases = [(b, "write") for b in (0, 1, len(new_bytes) // 2, len(new_bytes) - 1, len(new_bytes))]
    cases.append((0, "after rename"))
    for budget, stage in cases:
        target.write_bytes(old_bytes)
        exit_code = killed_save(target, new, devices, budget, stage)
        completed = stage == "write" and budget == len(new_bytes)   # every byte written: the save finishes
        assert exit_code == (0 if completed else 9), (budget, stage)
        expected = new_bytes if completed or stage == "after rename" else old_bytes
        assert target.read_bytes() == expected, (budget, stage)
        assert isinstance(load(target), Session)
    # a killed save may leave its temporary file behind; it is hidden, ignored, and the next save works
    leftovers = [p for p in tmp_path.iterdir() if p.name != "class.json"]
    assert all(p.name.startswith(".class.json.") and p.name.endswith(".tmp") for p in leftovers)
    save(target, new)
    assert target.read_bytes() == dumps(new)


def test_an_interrupted_first_save_leaves_no_file_and_load_says_so(tmp_path, monkeypatch):
    _, new = small_sessions()
    monkeypatch.setattr(persistence, "_os_write", crashing_writer(100))
    with pytest.raises(Crash):
        save(tmp_path / "first.json", new)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(SessionFileError, match="no session file"):
        load(tmp_path / "first.json")


def test_the_session_file_is_readable_by_its_owner_only(tmp_path):
    path = save(tmp_path / "s.json", prepared_office())
    assert path.stat().st_mode & 0o077 == 0


# -- damaged files: a clear error, and the file left as it was ----------------------------------------------

def test_a_file_truncated_anywhere_is_a_clear_error(tmp_path):
    path = save(tmp_path / "s.json", prepared_office())
    whole = path.read_bytes()
    for length in list(range(0, 400)) + list(range(400, len(whole) - 1, 53)) + [len(whole) - 2]:
        with pytest.raises(SessionFileError) as caught:
            loads(whole[:length])
        assert caught.value.field in ("file", "sha256") or caught.value.field.startswith("session")
    (tmp_path / "cut.json").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(SessionFileError, match="truncated or damaged"):
        load(tmp_path / "cut.json")
    assert (tmp_path / "cut.json").read_bytes() == whole[: len(whole) // 2], "loading never writes"


def test_every_single_bit_flip_is_caught(tmp_path):
    whole = dumps(*office_with_devices())
    rng = random.Random(7)
    positions = rng.sample(range(len(whole)), 1500)
    for position in positions:
        damaged = bytearray(whole)
        damaged[position] ^= 1 << rng.randrange(8)
        with pytest.raises(SessionFileError) as caught:
            loads(bytes(damaged))
        assert "cannot be restored" not in str(caught.value), "every damage has its own check"


@pytest.mark.parametrize("edit, field, words", [
    (lambda d: d.update(format="something else"), "format", "not a twofa-sim session"),
    (lambda d: d.update(schema_version=SCHEMA_VERSION + 1), "schema_version", "newer twofa-sim"),
    (lambda d: d.update(schema_version=0), "schema_version", "no such version"),
    (lambda d: d.update(schema_version="1"), "schema_version", "whole number"),
    (lambda d: d["session"].pop("users"), "session.users", "missing"),
    (lambda d: d["session"].update(extra=1), "session", "unknown entry"),
    (lambda d: d["session"]["policy"].update(window=99), "session.policy.window", "between 0 and 10"),
    (lambda d: d["session"]["policy"].update(digits=6.0), "session.policy.digits", "6 or 8"),
    (lambda d: d["session"]["policy"].update(algorithm=["SHA1"]), "session.policy.algorithm", "one of"),
    (lambda d: d["session"]["clock"].update(at=-5), "session.clock.at", "1970"),
    (lambda d: d["session"]["clock"].update(mode="sideways"), "session.clock.mode", "pinned"),
    (lambda d: d["session"]["users"][0].update(username="x:y"), "session.users[0].username", "letters"),
    (lambda d: d["session"]["users"][0].update(company="Nowhere"), "session.users[0].company", "no company"),
    (lambda d: d["session"]["users"][1].update(username="ALICE"), "session.users[1].username", "already"),
    (lambda d: d["session"]["users"][0]["enrolment"].update(secret="not base32!"),
     "session.users[0].enrolment.secret", "base32"),
    (lambda d: d["session"]["users"][0]["enrolment"].update(secret="JBSWY3DP"),
     "session.users[0].enrolment.secret", "bits"),
    (lambda d: d["session"]["users"][0]["enrolment"].update(failures=-1),
     "session.users[0].enrolment.failures", "between"),
    (lambda d: d["session"]["users"][0]["enrolment"].update(locked_out_until=True),
     "session.users[0].enrolment.locked_out_until", "finite number"),
    (lambda d: d["session"]["users"][0]["password_hash"].update(digest="AAAA"),
     "session.users[0].password_hash.digest", "32 to 32 bytes"),
    (lambda d: d["session"]["users"][0]["password_hash"].update(salt="%%%"),
     "session.users[0].password_hash.salt", "base64"),
    (lambda d: d["session"]["companies"][0]["usernames"].append("ghost"), "session.companies[0].usernames",
     "exactly the users"),
    (lambda d: d["session"]["companies"].append(dict(d["session"]["companies"][0])), "session.companies[2].name",
     "already"),
    (lambda d: d["session"]["events"][3].update(seq=99), "session.events[3].seq", "in order"),
    (lambda d: d["session"]["events"][3].update(kind="HACKED"), "session.events[3].kind", "not a kind"),
    (lambda d: d["session"]["events"][3].update(time=1e300), "session.events[3].time", "before 9999"),
    (lambda d: d["session"].update(next_login_id=1), "session.next_login_id", "after every login"),
    (lambda d: d["session"]["secret_source"].update(kind="quantum"), "session.secret_source.kind", "seeded"),
    (lambda d: d["session"]["secret_source"]["state"].update(internal="AAAA"),
     "session.secret_source.state.internal", "bytes"),
])
def test_a_damaged_or_foreign_file_names_the_place(edit, field, words):
    document = json.loads(dumps(prepared_office()))
    document.pop("sha256")
    edit(document)
    with pytest.raises(SessionFileError, match=words) as caught:
        loads(json.dumps(document))
    assert caught.value.field == field


def test_without_its_sha256_line_a_hand_edited_file_loads(tmp_path):
    document = json.loads(dumps(prepared_office()))
    with pytest.raises(SessionFileError, match="delete the sha256 line"):
        loads(json.dumps(document | {"session": document["session"] | {"next_login_id": 500}}))
    document.pop("sha256")
    document["session"]["policy"]["window"] = 2
    assert loads(json.dumps(document)).office.policy.window == 2


@pytest.mark.parametrize("data, words", [
    (b"", "empty"), (b"   \n", "empty"), (b"\xff\xfe\x00", "UTF-8"), (b"[" * 100_000, "deeply|JSON"),
    (b'{"format": NaN}', "not allowed"), (b"1" * 5000, "not allowed"), (b"[]", "JSON object"),
    (b'{"format": "twofa-sim session", "schema_version": 1, "session": []}', "object"),
    (b"\x89PNG\r\n\x1a\n", "UTF-8|JSON"), (b"x" * (persistence.MAX_FILE_BYTES + 1), "larger than"),
])
def test_things_that_are_not_session_files(data, words):
    with pytest.raises(SessionFileError, match=words):
        loads(data)


def test_no_error_message_repeats_a_secret_from_the_file():
    office = prepared_office()
    document = json.loads(dumps(office))
    document.pop("sha256")
    secret = office.user("alice").enrolment.secret
    for field in ("secret", "pending_secret"):
        broken = json.loads(json.dumps(document))
        broken["session"]["users"][0]["enrolment"][field] = secret + "1"
        with pytest.raises(SessionFileError) as caught:
            loads(json.dumps(broken))
        assert secret not in str(caught.value)


# -- paths and arguments ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [42, None, b"bytes.json", "", "   ", "a\x00b.json", "x" * 5000])
def test_a_bad_path_is_a_clear_error(path):
    with pytest.raises(SessionFileError, match="path"):
        save(path, make_office())
    with pytest.raises(SessionFileError, match="path"):
        load(path)


def test_unwritable_places_are_clear_errors_and_the_old_file_stays(tmp_path):
    office = make_office()
    with pytest.raises(SessionFileError, match="folder"):
        save(tmp_path, office)
    with pytest.raises(SessionFileError, match="cannot write"):
        save(tmp_path / "no such folder" / "s.json", office)
    with pytest.raises(SessionFileError, match="folder"):
        load(tmp_path)
    with pytest.raises(SessionFileError, match="BackOffice"):
        save(tmp_path / "s.json", "not an office")
    assert list(tmp_path.iterdir()) == []


def test_a_secret_source_that_cannot_be_saved_is_refused_before_writing(tmp_path):
    class Dice:
        def token_bytes(self, n):
            return bytes(n)
    office = BackOffice(policy=Policy(kdf_log2_n=1), clock=Clock.at(0), secret_source=Dice())
    with pytest.raises(SessionFileError, match="secret source"):
        save(tmp_path / "s.json", office)
    assert list(tmp_path.iterdir()) == []


def test_the_file_says_its_kdf_parameters():
    document = json.loads(dumps(prepared_office()))
    assert document["session"]["users"][0]["password_hash"] | {"salt": "", "digest": ""} == {
        "scheme": "scrypt", "salt": "", "digest": "", "log2_n": 4, "r": 8, "p": 1}


# -- what is not a regular file ----------------------------------------------------------------------------------

def special_file(tmp_path: pathlib.Path, kind: str) -> pathlib.Path:
    """A named pipe, a device node like /dev/zero or /dev/full (made in the test's folder), or a folder."""
    path = tmp_path / f"{kind.split()[0]}-{len(kind)}.json"
    if kind == "named pipe":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    else:
        minor = {"device like /dev/zero": 5, "device like /dev/full": 7}[kind]
        try:
            os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, minor))
        except PermissionError:     # pragma: no cover - CI runs as root
            pytest.skip("making a device node needs root")
    return path


SPECIAL = ["named pipe", "device like /dev/zero", "device like /dev/full", "folder"]


@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", SPECIAL)
def test_load_refuses_what_is_not_a_regular_file_without_reading_it(tmp_path, kind):
    path = special_file(tmp_path, kind)
    with pytest.raises(SessionFileError, match="named pipe|device|folder") as caught:
        load(path)
    assert caught.value.field == "path"


@pytest.mark.timeout(20)
@pytest.mark.parametrize("kind", SPECIAL)
def test_save_writes_only_over_regular_files(tmp_path, kind):
    path = special_file(tmp_path, kind)
    before = os.lstat(path)
    with pytest.raises(SessionFileError, match="named pipe|device|folder"):
        save(path, make_office())
    after = os.lstat(path)
    assert (after.st_mode, after.st_ino, after.st_rdev) == (before.st_mode, before.st_ino, before.st_rdev)
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary file is left behind"


def test_save_replaces_a_regular_file_and_a_link_to_one(tmp_path):
    office = make_office()
    save(tmp_path / "old.json", office)
    (tmp_path / "link.json").symlink_to(tmp_path / "old.json")
    assert load(save(tmp_path / "link.json", office)).office.policy == office.policy
    assert load(save(tmp_path / "old.json", office)).office.policy == office.policy


def test_load_reads_no_more_than_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(persistence, "MAX_FILE_BYTES", 1000)
    (tmp_path / "big.json").write_bytes(b" " * 1001)
    with pytest.raises(SessionFileError, match="larger than"):
        load(tmp_path / "big.json")
