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
from twofa_sim.ui.event_log_view import SHOWN_COLUMNS
from twofa_sim.core.messages import SILENT, keyed_messages, read_keyed_messages, render
from twofa_sim.login.flow import TRANSITIONS
from twofa_sim.ui.i18n import DOMAIN_MESSAGES, Texts, catalogue, texts
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
    return (extracted | {msgid for _, msgid in DOMAIN_MESSAGES} | {kind.value for kind in EventKind}
            | columns | shown | {"yes", "no"})


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


def at_code_step(office, language="de") -> LoginMask:
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
    office.clock.advance(office.policy.code_step_timeout)
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
    mask = at_code_step(office)
    act(office, mask)
    assert german in mask.message.value


@pytest.mark.parametrize("msgid", [msgid for _, msgid in DOMAIN_MESSAGES])
def test_plain_words_messages_are_sentences(msgid):
    assert re.match(r"^[A-Z{(].*[.:]$", msgid), "a sentence, starting with a capital letter"


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
    mask = at_code_step(office, language="en")
    type_code(mask, wrong_code(office))
    result = mask.last
    assert result.message == old_en and result.message_key == "wrong_code"
    fields_ = dict(result.message_fields)
    assert [render(result.message_key, language, reworded, **fields_) for language in ("en", "de")] == [
        "Not this one, 6 digits.", "Nicht dieser, 6 Ziffern."]
    assert [result.message_in(language) for language in ("en", "de")] == [old_en, old_de]
