"""Words are data: a message is named by its id and fields and worded by the catalogue; no module
reads words back. Errors say their plain words by id (``TwofaSimError.said``), and no regular
expression of the package holds words of the package's own messages (those would be parsing them)."""

from __future__ import annotations

import ast
import enum
import functools
import importlib
import pathlib
import pkgutil
import re
import re._parser as sre_parse
import string

import pytest

import twofa_sim
from twofa_sim.apps.device import Device
from twofa_sim.apps.profiles import PROFILES
from twofa_sim.core.clock import Clock
from twofa_sim.core.errors import TwofaSimError, refusal
from twofa_sim.core.messages import AS_WRITTEN, SILENT, keyed_messages, read_keyed_messages
from twofa_sim.login.flow import MATCHED_STEP, STATE_FACTS, TRANSITIONS
from twofa_sim.ui import i18n
from twofa_sim.ui.i18n import Texts, catalogue

from conftest import make_office

PACKAGE = pathlib.Path(twofa_sim.__file__).parent
CATALOGUE = pathlib.Path(i18n.LOCALE_DIR / "de" / "LC_MESSAGES" / "twofa_sim.po")
REGEX_CALLS = {"compile", "match", "fullmatch", "search", "sub", "subn", "findall", "finditer", "split"}

# Regular expressions that read someone else's words, with whose (the package's own words never).
OTHERS_WORDS = {
    ("store/sql.py", "does not exist"): "PostgreSQL's own error when a database is missing (the driver's text)",
}


def regex_calls():
    """(module, line, pattern or None) of every ``re.<function>(pattern, ...)`` call in the package;
    None where the pattern is not written out (built at run time, so it cannot be read here)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in REGEX_CALLS
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "re" and node.args):
                first = node.args[0]
                pattern = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
                yield path.relative_to(PACKAGE).as_posix(), node.lineno, pattern


def literal_runs(pattern: str) -> list[str]:
    """The runs of literal characters of a regular expression (what it expects word for word)."""
    runs: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            runs.append("".join(current))
            current.clear()

    def walk(items) -> None:
        for op, arg in items:
            if op is sre_parse.LITERAL:
                current.append(chr(arg))
                continue
            flush()
            if op is sre_parse.SUBPATTERN:
                walk(arg[-1])
            elif op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT):
                walk(arg[2])
            elif op is sre_parse.BRANCH:
                for branch in arg[1]:
                    walk(branch)
                    flush()
        flush()

    walk(sre_parse.parse(pattern))
    return runs


def words_of(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.casefold()))


def package_words() -> set[str]:
    """Every message the package says: the catalogue's English and German, and the text of every
    error it raises (the string parts of each ``raise``)."""
    messages = keyed_messages()
    texts = set(messages.english.values()) | set(messages.translations["de"].values())
    texts |= set(catalogue("de")) | set(catalogue("de").values())
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and node.exc is not None:
                texts |= {n.value for n in ast.walk(node.exc) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return {words_of(text) for text in texts}


def test_the_regex_reader_finds_words_of_a_message():
    """The check below can fail: the pattern the class progress once read an accepted code's step
    with, and the ones the widgets once read errors with, hold words of the package's messages."""
    said = package_words()
    for old in [r"matched step ([+-][0-9]+)", r"^password: must have at least (?P<minimum>\d+) characters, got (?P<got>\d+)$"]:
        runs = [words_of(run) for run in literal_runs(old) if len(words_of(run).split()) >= 2]
        assert any(run in text for run in runs for text in said), old


def test_no_module_reads_its_own_messages_with_a_regular_expression():
    said = package_words()
    found = []
    for module, line, pattern in regex_calls():
        if pattern is None:
            found.append(f"{module}:{line}: a pattern built at run time")
            continue
        for run in literal_runs(pattern):
            words = words_of(run)
            if len(words.split()) >= 2 and (module, words) not in OTHERS_WORDS and any(words in text for text in said):
                found.append(f"{module}:{line}: {pattern!r} expects the words {words!r}")
    assert found == []


def test_the_widgets_have_no_regular_expressions_over_messages():
    for module in ("ui/i18n.py", "classroom/progress.py"):
        source = (PACKAGE / module).read_text(encoding="utf-8")
        assert "import re\n" not in source, f"{module} imports re"


# -- errors say their plain words by id ------------------------------------------------------------------------

ERRORS = [
    (lambda office: office.create_user("carol", "short"), "password_too_short",
     "The password is too short: it needs at least 10 characters, this one has 5.",
     "Das Passwort ist zu kurz: Es braucht mindestens 10 Zeichen, dieses hat 5."),
    (lambda office: office.create_user("carol", " a long horse 42"), "password_spaces",
     "The password must not start or end with a space.",
     "Das Passwort darf nicht mit einem Leerzeichen beginnen oder enden."),
    (lambda office: office.create_user("x", "a long horse 42"), "username_invalid",
     "The username needs 3 to 64 characters: letters, digits and . _ @ + - only.",
     "Der Benutzername braucht 3 bis 64 Zeichen: nur Buchstaben, Ziffern und . _ @ + -."),
    (lambda office: office.user("nobody"), "no_user", "There is no user 'nobody'.", "Es gibt keinen Benutzer 'nobody'."),
    (lambda office: office.issue_recovery_codes("alice"), "not_enrolled",
     "'alice' has not set up an authenticator app yet: recovery codes only back up an app.",
     "'alice' hat noch keine Authenticator-App eingerichtet: Wiederherstellungscodes sichern nur eine App ab."),
]


@pytest.mark.parametrize("action, key, english, german", ERRORS)
def test_an_error_says_its_plain_words_by_id_in_both_languages(action, key, english, german):
    office = make_office()
    office.create_user("alice", "a long horse 42")
    error = refusal(lambda: action(office))
    assert error.said.key == key
    assert (Texts("en").error(error), Texts("de").error(error)) == (english, german)
    assert english not in str(error), "the developer's text stays the developer's"


def test_rewording_an_error_in_a_copy_of_the_catalogue_is_followed_in_both_languages(tmp_path):
    source = CATALOGUE.read_text(encoding="utf-8")
    messages = keyed_messages()
    entry = (f'msgctxt "password_too_short"\nmsgid "{messages.english["password_too_short"]}"\n'
             f'msgstr "{messages.translations["de"]["password_too_short"]}"')
    assert entry in source
    copy = tmp_path / "twofa_sim.po"
    copy.write_text(source.replace(entry, 'msgctxt "password_too_short"\nmsgid "{got} of {minimum} characters."\n'
                                          'msgstr "{got} von {minimum} Zeichen."'), encoding="utf-8")
    reworded = read_keyed_messages(copy)
    error = refusal(lambda: make_office().create_user("carol", "short"))
    assert [error.said.render(language, reworded) for language in ("en", "de")] == [
        "5 of 10 characters.", "5 von 10 Zeichen."]


def test_an_error_without_plain_words_is_shown_as_it_came():
    error = refusal(lambda: make_office().set_force_2fa("nobody-here", True))
    assert Texts("de").error(error) == "Es gibt keinen Benutzer 'nobody-here'."
    bare = refusal(lambda: make_office().create_company(""))
    assert bare.said is None and Texts("de").error(bare) == str(bare)


# -- the catalogue holds what the code says, and nothing else -------------------------------------------------

@functools.lru_cache(maxsize=1)
def package_trees() -> tuple[ast.Module, ...]:
    return tuple(ast.parse(path.read_text(encoding="utf-8")) for path in sorted(PACKAGE.rglob("*.py")))


def package_strings() -> set[str]:
    """Every string written in the package's code (a text passed to ``t(...)``, a key passed to ``say``)."""
    return {node.value for tree in package_trees() for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def package_enum_values() -> set[str]:
    """The values of the package's enums (event kinds, reasons, stages: the widgets translate them by value)."""
    values = set()
    for module in pkgutil.walk_packages(twofa_sim.__path__, "twofa_sim."):
        if ".django_project" in module.name or module.name.endswith("__main__"):
            continue
        loaded = importlib.import_module(module.name)
        for value in vars(loaded).values():
            if isinstance(value, type) and issubclass(value, enum.Enum) and value.__module__ == loaded.__name__:
                values |= {str(member.value) for member in value}
    return values


def keys_the_code_names() -> set[str]:
    """The message ids the code names: the first text of each ``say(...)``/``self._said(...)``, the
    flow's rows and per-state instructions, and the ids kept as constants."""
    named = {row.message for row in TRANSITIONS} | {facts.instruction for facts in STATE_FACTS.values()}
    for tree in package_trees():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and node.args
                    and (getattr(node.func, "id", None) == "say" or getattr(node.func, "attr", None) == "_said")):
                first = node.args[0]     # an id, or one of two ids ("company_2fa_on" if on else "company_2fa_off")
                named |= {n.value for n in ((first.body, first.orelse) if isinstance(first, ast.IfExp) else (first,))
                          if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    return (named | {MATCHED_STEP, AS_WRITTEN}) - {SILENT}


def test_every_entry_of_the_catalogue_is_used():
    strings, values = package_strings(), package_enum_values()
    unused_plain = sorted(msgid for msgid in catalogue("de") if msgid not in strings and msgid not in values)
    unused_keyed = sorted(key for key in keyed_messages().english if key not in strings)
    assert (unused_plain, unused_keyed) == ([], [])


def test_the_use_check_finds_an_entry_no_code_uses(tmp_path):
    copy = tmp_path / "twofa_sim.po"
    copy.write_text(CATALOGUE.read_text(encoding="utf-8") + '\nmsgctxt "said_by_no_one"\nmsgid "Nobody says this."\n'
                    'msgstr "Niemand sagt das."\n', encoding="utf-8")
    strings = package_strings()
    assert [key for key in read_keyed_messages(copy).english if key not in strings] == ["said_by_no_one"]


def test_every_id_the_code_names_has_english_and_german_with_the_same_fields():
    messages = keyed_messages()
    named = keys_the_code_names()
    assert {"password_too_short", "db_full", "company_2fa_off", "welcome", MATCHED_STEP} <= named
    missing = sorted(key for key in named if key not in messages.english or not messages.translations["de"].get(key))
    assert missing == []
    differ = sorted(key for key in named if placeholders(messages.english[key]) != placeholders(messages.translations["de"][key]))
    assert differ == []


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


# -- what an app did with an entry: keyed where the catalogue has its words, the app's words otherwise ---------

URIS = ["otpauth://totp/Lab:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Lab",
        "otpauth://totp/Lab:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Lab",
        "otpauth://totp/Lab:bob?secret=KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TF&issuer=Lab&algorithm=SHA256&digits=8&period=60",
        "otpauth://hotp/Lab:carol?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Lab&counter=3"]


@pytest.mark.parametrize("app", sorted(PROFILES))
def test_an_import_result_says_in_english_what_it_describes(app):
    device = Device("phone", "owner", Clock.at("2026-01-05T09:00:00Z"), app=app)
    results = []
    for uri in URIS:
        try:
            result = device.app.scan_uri(uri, device.now())
        except TwofaSimError:
            continue
        results.append(result)
        for choice in result.choices[:2]:
            if result.needs_confirmation:
                try:
                    results.append(device.app.confirm(result, choice))
                except TwofaSimError:
                    pass
                break
    assert results
    assert [str(r.said()) for r in results] == [r.describe() for r in results]
    first = results[0].said()
    assert first.key == "entry_added", "every app adds the first entry as it came"
    assert first.render("de") == "hinzugefügt; Lab: alice (SHA1, 6 Ziffern, 30 s)"
