"""The widgets speak English or German from one gettext catalogue: every text the UI can show has
a German translation with the same fields, and the domain's messages are recognised (by their
wording) and said in plain words in the chosen language."""

from __future__ import annotations

import pathlib
import re
import string

import pytest
from babel.messages.extract import extract_from_dir

from twofa_sim import EventKind, ValidationError
from twofa_sim.ui import i18n
from twofa_sim.ui.event_log_view import ACTOR_WORDS, REASON_WORDS, SHOWN_COLUMNS, EventLogView
from twofa_sim.core.messages import SILENT, keyed_messages, read_keyed_messages, render
from twofa_sim.login.flow import TRANSITIONS
from twofa_sim.ui.i18n import Texts, catalogue, texts
from twofa_sim.ui.login_mask import LoginMask
from twofa_sim.ui.trainer_demo import TrainerDemo

from conftest import PASSWORD, make_office
from helpers import current_code, refused_code
from twofa_sim.render.tables import users_table

UI = pathlib.Path(i18n.__file__).parent


def ui_message_ids() -> set[str]:
    """Every text the widgets can show: what the code passes to its texts object, the plain-words
    messages, the event kinds, the tables' column names, yes and no."""
    extracted = {message[2] for message in extract_from_dir(str(UI), method_map=[("*.py", "python")],
                                                             keywords={"t": None, "texts": None})}
    columns = set(users_table(make_office()).reset_index().columns)
    shown = {"from" if c == "state_from" else "to" if c == "state_to" else c for c in SHOWN_COLUMNS}
    return (extracted | {kind.value for kind in EventKind}
            | columns | shown | {"yes", "no"} | set(ACTOR_WORDS) | REASON_WORDS)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_text_of_the_ui_has_a_german_translation():
    missing = sorted(ui_message_ids() - set(catalogue("de")))
    assert missing == [], f"no German for: {missing}"


def test_german_translations_keep_their_fields():
    wrong = {msgid: text for msgid, text in catalogue("de").items() if fields(msgid) != fields(text)}
    assert wrong == {}


def test_an_unknown_language_is_refused():
    with pytest.raises(ValidationError, match="language: must be one of en, de"):
        Texts("fr")


@pytest.mark.parametrize("query, button", [("lang=de", "Anmelden"), ("", "Log in"), ("lang=xx", "Log in"),
                                           ("lang=en&x=1", "Log in")])
def test_the_page_address_chooses_the_language(query, button):
    demo = TrainerDemo.for_page(query, live=False)
    assert demo.login.login_button.description == button


def at_code_prompt(office, language="de") -> LoginMask:
    """Alice enrolled, logging in again: the mask waits for her code."""
    office.create_user("alice", PASSWORD, force_2fa=True)
    mask = LoginMask(office, language=language)
    log_in(mask)
    type_code(mask, right_code(office))
    mask.done_button.click()
    office.clock.advance(30)
    log_in(mask)
    return mask


def log_in(mask, password=PASSWORD):
    mask.username.value, mask.password.value = "alice", password
    mask.login_button.click()


def type_code(mask, code):
    mask.code.value = code
    mask.code_button.click()


def right_code(office) -> str:
    enrolment = office.user("alice").enrolment
    return current_code(office, enrolment.secret or enrolment.pending_secret)


def wrong_code(office) -> str:
    enrolment = office.user("alice").enrolment
    return refused_code(office, enrolment.secret or enrolment.pending_secret)


def wrong_password(office, mask):
    mask.attempt = office.start_login()
    log_in(mask, "wrong horse 42")


def replayed_code(office, mask):
    code = right_code(office)
    type_code(mask, code)
    mask.done_button.click()
    log_in(mask)
    type_code(mask, code)


def lock(office, mask):
    for _ in range(office.policy.failed_code_limit):
        type_code(mask, wrong_code(office))


def wait_too_long(office, mask):
    office.clock.advance(office.policy.code_prompt_timeout)
    mask.refresh()


@pytest.mark.parametrize("act, german", [
    (wrong_password, "Benutzername oder Passwort falsch."),
    (lambda office, mask: type_code(mask, "12"), "Ein Code hat 6 Ziffern; bitte genau 6 Ziffern eingeben."),
    (lambda office, mask: type_code(mask, wrong_code(office)), "Dieser Code ist ungültig."),
    (replayed_code, "Dieser Code wurde schon verwendet."),
    (lock, "Zu viele falsche Codes: gesperrt bis"),
    (wait_too_long, "Die Anmeldung hat zu lange gedauert."),
])
def test_the_login_flows_answers_in_german(act, german):
    office = make_office()
    mask = at_code_prompt(office)
    act(office, mask)
    assert german in mask.message.value


ERROR_KEYS = sorted(key for key in keyed_messages().english if key.startswith(("password_", "username_", "db_"))
                    or key in ("not_enrolled", "no_user", "no_company_yet"))


@pytest.mark.parametrize("key", ERROR_KEYS)
def test_plain_words_errors_are_sentences_in_both_languages(key):
    messages = keyed_messages()
    for text in (messages.english[key], messages.translations["de"][key]):
        assert text[:1].isupper() or text[:1] in "{(", f"{key}: a sentence, starting with a capital letter"
        assert text.endswith((".", ":")), f"{key}: a sentence"


@pytest.mark.parametrize("key", sorted({row.message for row in TRANSITIONS} - {SILENT}))
def test_every_message_of_the_login_flow_is_translated_into_german(key):
    messages = keyed_messages()
    assert messages.translations["de"].get(key), f"the login message {key!r} has no German"
    assert fields(messages.english[key]) == fields(messages.translations["de"][key])


def test_rewording_a_message_in_a_copy_of_the_catalogue_is_followed_in_both_languages(tmp_path):
    """The flow names a message by id: reword its English and its German in a copy of the
    catalogue, and both renderings say the new words (nothing matched the old wording)."""
    source = pathlib.Path(i18n.LOCALE_DIR / "de" / "LC_MESSAGES" / "twofa_sim.po").read_text(encoding="utf-8")
    old_en, old_de = "That code is not valid. Check your app and try again.", keyed_messages().text("wrong_code", "de")
    entry = f'msgctxt "wrong_code"\nmsgid "{old_en}"\nmsgstr "{old_de}"'
    assert entry in source
    copy = tmp_path / "twofa_sim.po"
    copy.write_text(source.replace(entry, 'msgctxt "wrong_code"\nmsgid "Not this one, {digits} digits."\n'
                                          'msgstr "Nicht dieser, {digits} Ziffern."'), encoding="utf-8")
    reworded = read_keyed_messages(copy)
    office = make_office()
    mask = at_code_prompt(office, language="en")
    type_code(mask, wrong_code(office))
    result = mask.last
    assert result.message == old_en and result.message_key == "wrong_code"
    fields_ = dict(result.message_fields)
    assert [render(result.message_key, language, reworded, **fields_) for language in ("en", "de")] == [
        "Not this one, 6 digits.", "Nicht dieser, 6 Ziffern."]
    assert [result.message_in(language) for language in ("en", "de")] == [old_en, old_de]


# -- the event log's details: a message id and fields, worded by the reader's language --------------------

def story_of_events(office) -> None:
    """Every kind of detail the back office, a login, a device and the clock give."""
    from twofa_sim.apps.device import Device
    from twofa_sim.ui.clock_control import ClockControl
    office.set_company_force_2fa("ACME", False)
    mask = at_code_prompt(office, language="en")
    wrong_password(office, mask)
    office.issue_recovery_codes("alice")
    office.set_force_2fa("alice", False)
    Device.for_user(office, "alice", app="aegis", offset=-3).correct_clock()
    ClockControl(office.clock, period=lambda: office.policy.period, events=office.events).advance(30)


GERMAN_DETAILS = [
    ("company_2fa_off", "2FA for all users: off", "2FA für alle Benutzer: aus"),
    ("created_forced", "force 2 factor auth.: ticked", "2-Faktor-Auth. erzwingen: angehakt"),
    ("qr_issuer", "issuer=plenigo", "Aussteller=plenigo"),
    ("wrong_password", "wrong password", "falsches Passwort"),
    ("codes_issued", "10 codes", "10 Codes"),
    ("flag_unticked", "unticked", "nicht mehr angehakt"),
    ("device_added", "Aegis 3.4, clock -3 s", "Aegis 3.4, Uhr -3 s"),
    ("clock_forward", "forward 30 s", "30 s vor"),
]


@pytest.mark.parametrize("key, english, german", GERMAN_DETAILS)
def test_an_events_detail_is_worded_in_the_readers_language(key, english, german):
    office = make_office()
    story_of_events(office)
    found = [e for e in office.events if e.detail_key == key]
    assert found, f"no event with the detail {key!r}"
    assert (found[0].detail, found[0].detail_in("de")) == (english, german)


def test_every_event_detail_has_german_and_the_english_of_its_words():
    office = make_office()
    story_of_events(office)
    messages = keyed_messages()
    for event in office.events:
        if event.detail_key:
            assert messages.translations["de"].get(event.detail_key), f"no German for {event.detail_key!r}"
            assert event.detail == messages.english[event.detail_key].format(**dict(event.detail_fields))


def test_the_event_log_in_german_says_details_actors_and_reasons_in_german():
    office = make_office()
    story_of_events(office)
    view = EventLogView(office.events, rows=len(office.events), language="de")
    shown = view.table.value
    for english, german in [("wrong password", "falsches Passwort"), ("anonymous", "anonym"),
                            ("bad credentials", "falsche Anmeldedaten"), ("forward 30 s", "30 s vor")]:
        assert german in shown and english not in shown
    assert "falsches Passwort" not in EventLogView(office.events, rows=len(office.events)).table.value


def test_rewording_an_events_detail_in_a_copy_of_the_catalogue_is_followed_in_both_languages(tmp_path):
    source = pathlib.Path(i18n.LOCALE_DIR / "de" / "LC_MESSAGES" / "twofa_sim.po").read_text(encoding="utf-8")
    entry = 'msgctxt "matched_step"\nmsgid "matched step {offset:+d}"\nmsgstr "passt zu Schritt {offset:+d}"'
    assert entry in source
    copy = tmp_path / "twofa_sim.po"
    copy.write_text(source.replace(entry, 'msgctxt "matched_step"\nmsgid "step {offset} of the window"\n'
                                          'msgstr "Schritt {offset} des Fensters"'), encoding="utf-8")
    reworded = read_keyed_messages(copy)
    from twofa_sim.core.events import Event
    from twofa_sim.login.flow import step_offset_detail
    event = Event(1, 0.0, EventKind.CODE_ACCEPTED, "user:alice", detail_key=step_offset_detail(-1).key,
                  detail_fields=step_offset_detail(-1).fields)
    assert [event.said.render(language, reworded) for language in ("en", "de")] == [
        "step -1 of the window", "Schritt -1 des Fensters"]
    assert (event.detail, event.detail_in("de")) == ("matched step -1", "passt zu Schritt -1")
