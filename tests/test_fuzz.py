"""Fuzzing the readers of outside text: otpauth URIs, scenario files and session files.

Each reader gets at least 10,000 generated inputs on CI (the session-file reader 4,500; the "dev"
hypothesis profile of tests/conftest.py draws a quarter of that): random text,
inputs built from the format's own parts with hostile pieces mixed in (unicode tricks, wrong
types, huge numbers, deep nesting, aliases and merge keys, escapes that make lone surrogates),
and random damage to valid inputs. The only exceptions allowed are the project's own, with a
message that never repeats a secret; what parses must hold together (a URI builds back to the
same values, a scenario runs and prints without a crash, a session file that loads also works).
Generated file names for ``backoffice:`` and ``image:`` check that a scenario reads only inside
its folder.
"""

from __future__ import annotations

import json
import pathlib
import random
import string
from collections import Counter

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from twofa_sim import BackOffice, Clock, Policy, SeededSecretSource, UriError
from twofa_sim.apps.profiles import PROFILES
from twofa_sim.apps.authenticator import AuthenticatorApp
from twofa_sim.apps.device import Device
from twofa_sim.core.otp import code_at
from twofa_sim.apps.otpauth import build_key_uri, parse_key_uri
from twofa_sim.io.persistence import SessionFileError, dumps, loads
from twofa_sim.apps.qr import provisioning_uri
from twofa_sim.spec.scenario import ScenarioError, parse_backoffice, parse_scenario, run_scenario
from twofa_sim.render.tables import app_table, users_table

from conftest import examples

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCENARIOS = sorted((ROOT / "data" / "scenarios").glob("*.yaml"))
NOW = 1_767_603_600.0
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

FUZZ = dict(deadline=None, database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])

# Pieces of text that have broken parsers before: unicode tricks, separators, encodings, numbers.
TRICKS = [
    "\u200b", "\u200c", "\u200d", "\ufeff", "\u200e", "\u200f", "\u202e", "\u2066", "\u0301", "\u0338",
    "\uff10", "\uff19", "\uff21", "\u0660", "\u00a0", "\u3000", "\n", "\r", "\t", "\x00", "\x7f", "\ud800",
    "%", "%%", "%0", "%00", "%0A", "%3A", "%3a", "%25", "%FF", "%C3%A9", "%E2%80%8B", "%E2%80%AE", "%ED%A0%80",
    ":", "::", "/", "//", "?", "&", "&&", "=", "==", "#", "+", " ", "'", '"', "\\", "<", ">", "{", "}",
    "é", "e\u0301", "ﬁ", "İ", "ß", "Ω", "𝟏", "😀", "\U0010ffff",
    "0", "-1", "1e9", "NaN", "inf", "9" * 30, "0x10", "1_000", "true", "null",
]
tricky_text = st.lists(st.one_of(st.sampled_from(TRICKS), st.text(max_size=6)), max_size=8).map("".join)
PRINTABLE_TRICKS = [t for t in TRICKS if t.isprintable()]
printable_text = st.lists(st.one_of(st.sampled_from(PRINTABLE_TRICKS), st.text(string.ascii_letters + "%:@. ",
                                                                                max_size=6)),
                          max_size=5).map("".join)


def random_text(rng: random.Random) -> str:
    """Up to 300 characters: ASCII, any code point, tricky pieces, in random runs."""
    parts = []
    for _ in range(rng.randrange(0, 12)):
        kind = rng.randrange(4)
        if kind == 0:
            parts.append(rng.choice(TRICKS))
        elif kind == 1:
            parts.append("".join(chr(rng.randrange(32, 127)) for _ in range(rng.randrange(1, 30))))
        elif kind == 2:
            parts.append("".join(chr(rng.randrange(0, 0x110000)) for _ in range(rng.randrange(1, 8))))
        else:
            parts.append("".join(chr(rng.randrange(0, 0x3000)) for _ in range(rng.randrange(1, 30))))
    return "".join(parts)[:300]


BATCH = 10
"""Where one hypothesis example stands for a batch: the example draws a seed, the seed makes
``BATCH`` inputs (hypothesis' per-example cost is several times that of these parsers)."""


def damaged(text: str, rng: random.Random, edits: int) -> str:
    """``text`` with a few random edits: deletions, insertions of tricky pieces, swaps, repeats, a cut."""
    for _ in range(edits):
        if not text:
            break
        i = rng.randrange(len(text))
        j = min(len(text), i + rng.randrange(1, 12))
        kind = rng.randrange(6)
        if kind == 0:
            text = text[:i] + text[j:]
        elif kind == 1:
            text = text[:i] + rng.choice(TRICKS) + text[i:]
        elif kind == 2:
            text = text[:i] + text[j:j + (j - i)] + text[i:j] + text[j + (j - i):]
        elif kind == 3:
            text = text[:j] + text[i:j] + text[j:]
        elif kind == 4:
            text = text[:i]
        else:
            text = text[:i] + chr(rng.choice([rng.randrange(32, 127), rng.randrange(0x80, 0x3000)])) + text[j:]
    return text


# -- otpauth URIs -------------------------------------------------------------------------------------------

def uri_from_parts(scheme, kind, issuer, account, params, tail) -> str:
    label = f"{issuer}:{account}" if issuer is not None else account
    query = "&".join(f"{k}={v}" if v is not None else k for k, v in params)
    return f"{scheme}://{kind}/{label}?{query}{tail}"


uri_parts = st.builds(
    uri_from_parts,
    scheme=st.sampled_from(["otpauth", "otpauth", "otpauth", "OTPAUTH", "otpAuth", "http", "", "otp auth",
                            "ｏtpauth"]),
    kind=st.sampled_from(["totp"] * 6 + ["hotp", "TOTP", "", "xotp", "totp%00", "totp:80", "user@totp"]),
    issuer=st.one_of(st.none(), st.sampled_from(["plenigo", "ACME%20Corp", "Caf%C3%A9", ""]), printable_text,
                     tricky_text),
    account=st.one_of(st.sampled_from(["alice", "alice%40example.com", " alice", "a%3Ab"]), printable_text,
                      tricky_text),
    params=st.tuples(st.sampled_from([[("secret", SECRET)]] * 3 + [[]]), st.lists(st.tuples(
        st.sampled_from(["secret", "secret", "issuer", "algorithm", "digits", "period", "counter", "image", "",
                         "SECRET"]),
        st.one_of(st.none(), st.sampled_from([SECRET, SECRET.lower(), SECRET[:16], SECRET + "=" * 8, "AAAA", "",
                                              "SHA1", "sha256", "SHA-512", "MD5", "6", "8", "10", "0", "-6", "99",
                                              "100", "30", "60", "86400", "86401", "1e2", "０６", "6\u200b",
                                              "plenigo"]),
                  printable_text, tricky_text)), max_size=5)).map(lambda pair: pair[0] + pair[1]),
    tail=st.sampled_from(["", "", "#frag", "&", "&&secret=" + SECRET, " ", "%"]))


def random_uri(rng: random.Random) -> str:
    """A URI from the format's parts, some of them replaced by hostile ones (the seeded twin of ``uri_parts``)."""
    def piece(*usual):
        roll = rng.random()
        if roll < 0.75:
            return rng.choice(usual)
        if roll < 0.9:
            return rng.choice(PRINTABLE_TRICKS) + rng.choice(usual)
        return random_text(rng)[:rng.randrange(1, 20)]
    params = [("secret", SECRET)] if rng.random() < 0.75 else []
    params += [(piece("secret", "issuer", "algorithm", "digits", "period", "counter"),
                piece(SECRET, SECRET.lower(), SECRET[:16], "SHA1", "sha512", "6", "8", "30", "0", "99", "plenigo"))
               for _ in range(rng.randrange(0, 5))]
    issuer = None if rng.random() < 0.3 else piece("plenigo", "ACME%20Corp", "Caf%C3%A9", "")
    return uri_from_parts(piece("otpauth", "otpauth", "OTPAUTH", "http"), piece("totp", "totp", "hotp", "TOTP"),
                          issuer, piece("alice", "a%3Ab", " bob"), params, piece("", "", "#x", "&"))


def valid_uris():
    policies = [Policy(), Policy(algorithm="SHA256", digits=8, period=60), Policy(issuer="ACME Corp")]
    accounts = ["alice", "bob@example.com", "carol.smith"]
    return ([provisioning_uri(SECRET, a, p) for a in accounts for p in policies]
            + [build_key_uri(SECRET, "alice", "plenigo", explicit=True), build_key_uri(SECRET[:24], "dora")])


VALID_URIS = valid_uris()


def check_uri(text, outcomes: Counter, input_class: str) -> None:
    try:
        uri = parse_key_uri(text)
    except UriError as error:
        assert SECRET not in str(error) and SECRET.lower() not in str(error)
        outcomes[(input_class, f"UriError ({error.field})")] += 1
        return
    outcomes[(input_class, f"parsed ({uri.type})")] += 1
    assert uri.secret and uri.secret == uri.secret.upper() and "=" not in uri.secret
    if uri.secret not in uri.account + (uri.issuer_param or "") + (uri.label_issuer or ""):
        assert uri.secret not in repr(uri)
    if uri.type == "totp" and uri.issuer == (uri.label_issuer or uri.issuer_param or ""):
        try:
            again = parse_key_uri(build_key_uri(uri.secret, uri.account, uri.issuer,
                                                algorithm=uri.setting("algorithm"), digits=uri.setting("digits"),
                                                period=uri.setting("period")))
        except UriError as error:       # build_key_uri is stricter about names than a reader must be
            assert error.field in ("label", "digits", "period"), error
        else:                           # spaces before an account after "issuer:" are the format's separator
            account = uri.account.lstrip(" ") if uri.issuer else uri.account
            assert (again.secret, again.account, again.setting("digits"), again.setting("period")) == \
                (uri.secret, account, uri.setting("digits"), uri.setting("period"))
    for profile in PROFILES.values():
        try:
            AuthenticatorApp(profile).scan_uri(text, NOW)
        except UriError as error:
            assert SECRET not in str(error)


def test_uri_parser_fuzz():
    outcomes: Counter = Counter()

    @settings(max_examples=examples(500), **FUZZ)
    @given(st.one_of(st.text(max_size=300), tricky_text))
    def hypothesis_text(text):
        check_uri(text, outcomes, "random text")

    @settings(max_examples=examples(250), **FUZZ)
    @given(st.integers(0, 2 ** 64))
    def random_texts(seed):
        rng = random.Random(seed)
        for _ in range(BATCH):
            text = random_text(rng)
            check_uri(rng.choice(["", "otpauth://totp/", "otpauth://"]) + text, outcomes, "random text")

    @settings(max_examples=examples(1000), **FUZZ)
    @given(uri_parts)
    def built_from_parts(text):
        check_uri(text, outcomes, "built from the format's parts")

    @settings(max_examples=examples(200), **FUZZ)
    @given(st.integers(0, 2 ** 64))
    def built_from_parts_batch(seed):
        rng = random.Random(seed)
        for _ in range(BATCH):
            check_uri(random_uri(rng), outcomes, "built from the format's parts")

    @settings(max_examples=examples(400), **FUZZ)
    @given(st.integers(0, 2 ** 64))
    def damaged_valid(seed):
        rng = random.Random(seed)
        for _ in range(BATCH):
            check_uri(damaged(rng.choice(VALID_URIS), rng, rng.randrange(1, 7)), outcomes, "valid URI, damaged")

    @settings(max_examples=examples(200), **FUZZ)
    @given(st.one_of(st.none(), st.integers(), st.floats(), st.binary(), st.lists(st.text()), st.just("x" * 1_000_000)))
    def wrong_types_and_sizes(value):
        check_uri(value, outcomes, "wrong type or 1 MB")

    for run in (hypothesis_text, random_texts, built_from_parts, built_from_parts_batch, damaged_valid,
                wrong_types_and_sizes):
        run()
    assert sum(outcomes.values()) >= examples(10_000)
    assert any(k[1].startswith("parsed") and k[0] == "built from the format's parts" for k in outcomes), \
        "the generator reaches URIs that parse"
    assert any(k[1].startswith("parsed") and k[0] == "valid URI, damaged" for k in outcomes)
    test_uri_parser_fuzz.outcomes = outcomes


# -- scenario files -------------------------------------------------------------------------------------------

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 6, 10 ** 6), st.integers(), st.floats(),
                    st.sampled_from(["alice", "bob", "phone", "30s", "15m", "-45s", "2026-01-05T09:00:00Z", "000000",
                                     "ENROLMENT", "authenticated", "aegis", "authenticator", "replace", "1 MB",
                                     "9999-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "１２３４５６"]),
                    tricky_text)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.one_of(st.sampled_from(
                                                           ["user", "name", "code", "device", "from", "tab", "app",
                                                            "owner", "force_2fa", "password", "company", "expect",
                                                            "state", "rect", "offset", "seconds", "to", "choice"]),
                                                           tricky_text), inner, max_size=4)), max_leaves=12)
ACTION_NAMES = ["install", "login", "scan", "enter_key", "type", "wait", "clock", "device_clock", "correct_clock",
                "tick", "untick", "reset", "unlock", "issue_recovery_codes", "create_user", "company_setting",
                "policy", "log_out", "start_over", "expect", "note", "recovery_code", "poll"]
STEPS = st.lists(st.dictionaries(st.sampled_from(ACTION_NAMES), VALUES, min_size=1, max_size=3), max_size=8)
DOCUMENTS = st.fixed_dictionaries(
    {"name": st.one_of(st.just("fuzzed"), SCALARS), "steps": st.one_of(STEPS, VALUES)},
    optional={"start": SCALARS, "seed": SCALARS, "description": SCALARS,
              "policy": st.one_of(VALUES, st.dictionaries(st.sampled_from(
                  ["window", "digits", "period", "algorithm", "issuer", "failed_code_limit", "lockout_seconds",
                   "kdf_log2_n", "windw"]), SCALARS, max_size=3)),
              "users": st.one_of(VALUES, st.dictionaries(st.sampled_from(["alice", "bob", "al:ice", "ｂob"]),
                                                         st.one_of(st.none(), VALUES), max_size=3)),
              "companies": VALUES, "devices": VALUES, "backoffice": st.sampled_from(["default", "../../etc/passwd",
                                                                                      "missing.yaml", ""])})
REAL = [p.read_text() for p in SCENARIOS]
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)      # libyaml writes faster; the reader is the project's
KEY_WORDS = ["user", "name", "code", "device", "from", "tab", "app", "owner", "force_2fa", "password", "company",
             "expect", "state", "rect", "offset", "seconds", "to", "choice", "events", "locked_out_for", "error"]
SCALAR_POOL = [None, True, False, 0, 1, -1, 30, 2 ** 70, 1.5, float("nan"), float("inf"), "alice", "bob", "carol",
               "phone", "30s", "15m", "-45s", "1h 30m", "2026-01-05T09:00:00Z", "000000", "ENROLMENT", "authenticated",
               "aegis", "authenticator", "google", "replace", "keep both", "9999-12-31T23:59:59Z",
               "1970-01-01T00:00:00Z", "１２３４５６", "x" * 2000]


def random_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(6 if depth < 3 else 3)
    if kind == 0:
        return rng.choice(SCALAR_POOL)
    if kind == 1:
        return random_text(rng)[:40]
    if kind == 2:
        return rng.choice(TRICKS) + rng.choice(["alice", "30s", "000000", ""])
    if kind == 3:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = KEY_WORDS + ACTION_NAMES + [random_text(rng)[:10]]
    return {rng.choice(keys): random_value(rng, depth + 1) for _ in range(rng.randrange(1, 4))}


STEP_TEMPLATES = [
    {"login": "alice"}, {"login": {"user": "alice", "tab": "second"}}, {"type": {"from": "phone"}},
    {"type": {"code": "000000"}}, {"type": {"recovery": 1}}, {"scan": "phone"},
    {"scan": {"device": "phone", "image": "qr", "rect": [0, 0, 100, 100]}}, {"enter_key": "phone"},
    {"wait": "30s"}, {"wait": {"for": "5m", "poll": False}}, {"clock": {"set": "2026-01-05T10:00:00Z"}},
    {"device_clock": {"device": "phone", "offset": "+2m"}}, {"correct_clock": "phone"}, {"tick": "bob"},
    {"untick": "alice"}, {"reset": "alice"}, {"unlock": "alice"}, {"issue_recovery_codes": "alice"},
    {"create_user": {"name": "dave", "force_2fa": True}}, {"company_setting": {"force_2fa_for_all": True}},
    {"policy": {"window": 2}}, {"log_out": "alice"}, {"start_over": "alice"}, {"expect": {"state": "AUTHENTICATED"}},
    {"login": "alice", "expect": {"state": "ENROLMENT", "qr_shown": True, "events": {"QR shown": 1}}},
]


def hostile_leaf(rng: random.Random):
    return rng.choice([rng.choice(SCALAR_POOL), random_text(rng)[:30], rng.choice(TRICKS) + "alice",
                       random_value(rng, 2)])


def mutated(value, rng: random.Random):
    """``value`` with one leaf (or one key) replaced by something hostile."""
    if isinstance(value, dict) and value:
        key = rng.choice(list(value))
        copy = dict(value)
        if rng.random() < 0.2:
            copy[rng.choice(KEY_WORDS + ACTION_NAMES + [random_text(rng)[:8]])] = copy.pop(key)
        else:
            copy[key] = mutated(copy[key], rng)
        return copy
    if isinstance(value, list) and value:
        i = rng.randrange(len(value))
        return value[:i] + [mutated(value[i], rng)] + value[i + 1:]
    return hostile_leaf(rng)


def random_document(rng: random.Random) -> dict:
    """A scenario-shaped document: a valid skeleton and valid steps, some of them with a hostile value."""
    document = {"name": "fuzzed", "seed": 3,
                "users": {"alice": {"force_2fa": True}, "bob": {}},
                "devices": {"phone": {"owner": "alice", "app": rng.choice(["aegis", "authenticator", "2fas"])}},
                "steps": [rng.choice(STEP_TEMPLATES) for _ in range(rng.randrange(1, 6))]}
    for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):
        document = mutated(document, rng)
    return document


def excerpt(text: str, rng: random.Random) -> str:
    """The head of a real scenario file and a few of its steps (whole files take milliseconds to read)."""
    lines = text.splitlines()
    steps = next((i for i, line in enumerate(lines) if line.startswith("steps:")), len(lines))
    start = rng.randrange(steps + 1, max(steps + 2, len(lines)))
    return "\n".join(lines[:steps + 1] + lines[start:start + rng.randrange(1, 12)]) + "\n"


def check_scenario(text: str, outcomes: Counter, input_class: str, runs: Counter | None = None,
                   run_limit: int = 15) -> None:
    try:
        scenario = parse_scenario(text, "fuzz.yaml")
    except ScenarioError as error:
        assert error.path == "fuzz.yaml" and error.line >= 1
        outcomes[(input_class, "ScenarioError (file and line)")] += 1
        return
    outcomes[(input_class, "parsed")] += 1
    if runs is not None and runs[input_class] < run_limit:   # playing is slower than reading: a sample is played
        runs[input_class] += 1
        result = run_scenario(scenario)
        result.timeline().encode("utf-8")                    # what was read prints under UTF-8
        outcomes[(input_class, "ran: " + ("passed" if result.passed else "expectations failed"))] += 1


HUGE_NUMBERS = ["0x" + "f" * 4000, "-0x" + "f" * 4000, ":".join(["59"] * 3000), "9" * 5000, str(2 ** 64),
                "0o" + "7" * 5000, "0b" + "1" * 20000, "1" + "_0" * 5000, "-" + "9" * 4301, "1e400", "-.inf"]
NUMBER_PLACES = ["seed: N", "start: N", "policy: {window: N}", "policy: {lockout_seconds: N}",
                 "steps: [{login: alice, expect: {failures: N}}]", "steps: [{login: alice, expect: {events: {authenticated: N}}}]",
                 "steps: [{login: alice}, {type: {recovery: N}}]", "steps: [{login: alice}, {scan: {device: phone, rect: [0, 0, N, 9]}}]",
                 "steps: [{wait: N}]", "steps: [{clock: {set: N}}]", "steps: [{login: alice, expect: {locked_out_until: N}}]",
                 "steps: [{device_clock: {device: phone, offset: N}}]", "steps: [{login: alice}, {type: {from: phone, entry: N}}]",
                 "steps: [{login: alice}, {enter_key: {device: phone, digits: N, period: N}}]"]
ESCAPES = ["\\udc80", "\\ud800", "\\udfff\\ud800", "\\ud83d", "\\x00", "\\u202e", "\\U0010ffff", "\\uffff"]


def hostile_yaml(rng: random.Random) -> str:
    """A scenario with one of the pieces that broke the loader: aliases and merge keys in nests, numbers
    too large to print, escapes that make lone surrogates."""
    head = "name: fuzzed\nusers: {alice: {force_2fa: true}}\ndevices: {phone: {owner: alice, app: aegis}}\n"
    kind = rng.randrange(3)
    if kind == 0:                                             # anchors, aliases and merge keys, nested
        levels, width = rng.randrange(2, 40), rng.randrange(1, 6)
        merge = rng.random() < 0.5
        items = ["&a0 {window: 1}" if merge else "&a0 [lol, lol]"]
        for i in range(1, levels):
            refs = ", ".join(f"*a{rng.randrange(max(0, i - 3), i)}" for _ in range(width))
            items.append(f"&a{i} {{<<: [{refs}]}}" if merge else f"&a{i} [{refs}]")
        where = rng.choice(["policy: {<<: [ITEMS]}", "description: [ITEMS]", "users: {alice: {<<: [ITEMS]}}",
                            "steps: [ITEMS]", "x: [ITEMS]"])
        return "name: fuzzed\n" + where.replace("ITEMS", ", ".join(items)) + "\nsteps: [{wait: 1s}]\n"
    if kind == 1:                                             # a number too large to print, in any number field
        place = rng.choice(NUMBER_PLACES).replace("N", rng.choice(HUGE_NUMBERS))
        return head + place + ("" if place.startswith("steps") else "\nsteps: [{wait: 1s}]") + "\n"
    escape = "".join(rng.choice(ESCAPES) for _ in range(rng.randrange(1, 3)))
    place = rng.choice(['name: "E"', 'description: "xE"', 'users: {"aliceE": {}}', 'policy: {issuer: "E"}',
                        'steps: [{wait: 1s, note: "E"}]', 'steps: [{login: {user: alice, password: "correct horse E"}}]',
                        'companies: {"ACME E": {}}'])
    return head.replace("name: fuzzed\n", "") + place.replace("E", escape) + \
        ("\nname: fuzzed" if "name" not in place else "") + ("\nsteps: [{wait: 1s}]" if "steps" not in place else "") + "\n"


def test_scenario_loader_fuzz():
    outcomes: Counter = Counter()
    runs: Counter = Counter()

    @settings(max_examples=examples(500), **FUZZ)
    @given(st.one_of(st.text(max_size=300), tricky_text))
    def hypothesis_text(text):
        check_scenario(text, outcomes, "random text")

    @settings(max_examples=examples(300), **FUZZ)
    @given(st.integers(0, 2 ** 64))
    def random_texts(seed):
        rng = random.Random(seed)
        for _ in range(BATCH):
            check_scenario(rng.choice(["", "name: x\nsteps:\n  - ", "name: "]) + random_text(rng), outcomes,
                           "random text")

    def as_yaml(document, flow_style: bool) -> str | None:
        try:
            return yaml.dump(document, Dumper=DUMPER, allow_unicode=True, default_flow_style=flow_style)
        except (yaml.YAMLError, UnicodeEncodeError):
            return None

    @settings(max_examples=examples(200), **FUZZ)
    @given(DOCUMENTS, st.booleans())
    def built_from_parts(document, flow_style):
        text = as_yaml(document, flow_style)
        if text is not None:
            check_scenario(text, outcomes, "YAML built from the format's keys", runs)

    @settings(max_examples=examples(220), **FUZZ)
    @given(st.integers(0, 2 ** 64))
    def built_from_parts_batch(seed):
        rng = random.Random(seed)
        for _ in range(BATCH):
            text = as_yaml(random_document(rng), rng.random() < 0.5)
            if text is not None:
                check_scenario(text, outcomes, "YAML built from the format's keys", runs)

    @settings(max_examples=examples(420), **FUZZ)
    @given(st.integers(0, 2 ** 64))
    def damaged_real(seed):
        rng = random.Random(seed)
        for _ in range(BATCH):
            check_scenario(damaged(excerpt(rng.choice(REAL), rng), rng, rng.randrange(1, 5)), outcomes,
                           "data/scenarios file, damaged", runs)

    def extremes():
        for text in ["[" * 5000 + "]" * 5000, "{a: " * 3000 + "}" * 3000, "- " * 3000 + "x",
                            "name: x\nseed: " + "9" * 5000 + "\nsteps: [{wait: 1s}]",
                            "name: x\nsteps: [{wait: " + "9" * 5000 + "}]",
                            "name: &a [*a]\nsteps: []", "name: x\nsteps: &s [*s]\n",
                            "name: " + "x" * 1_000_000 + "\nsteps: [{wait: 1s}]",
                            "name: x\nsteps: [{wait: 1s}]\n" + "# " + "x" * 1_000_000,
                            "name: x\nsteps: [{clock: {to: 9999-12-31T23:59:59Z}}]",
                            "name: x\nstart: 9998-12-31T00:00:00Z\nsteps: [{wait: 3650d}]",
                            "name: x\nsteps: [{wait: 10000000000000000d}]",
                            "name: !!python/object/apply:os.system [echo hi]\nsteps: [{wait: 1s}]",
                     "\ufeffname: x\nsteps: [{wait: 1s}]", "name: x\r\nsteps: [{wait: 1s}]\r\n"]:
            check_scenario(text, outcomes, "nesting, 1 MB, huge numbers, tags, far times", runs, run_limit=100)

    @settings(max_examples=examples(50), **FUZZ)
    @given(st.integers(0, 2 ** 64))
    def backoffice_files(seed):
        rng = random.Random(seed)
        for _ in range(BATCH):
            document = random_document(rng)
            for key in ("name", "steps", "devices"):      # a back-office file has none of these
                if isinstance(document, dict) and rng.random() < 0.9:
                    document.pop(key, None)
            text = as_yaml(document, rng.random() < 0.5) or random_text(rng)
            try:
                parse_backoffice(text, "bo.yaml")
                outcomes[("back-office file", "parsed")] += 1
            except ScenarioError:
                outcomes[("back-office file", "ScenarioError (file and line)")] += 1

    @settings(max_examples=examples(150), **FUZZ)
    @given(st.integers(0, 2 ** 64))
    def hostile_pieces(seed):
        rng = random.Random(seed)
        for _ in range(BATCH):
            check_scenario(hostile_yaml(rng), outcomes, "aliases, merge keys, huge numbers, surrogate escapes",
                           runs, run_limit=40)

    for run in (hypothesis_text, random_texts, built_from_parts, built_from_parts_batch, damaged_real, extremes,
                backoffice_files, hostile_pieces):
        run()
    assert sum(n for (cls, outcome), n in outcomes.items() if not outcome.startswith("ran")) >= examples(10_000)
    assert outcomes[("data/scenarios file, damaged", "parsed")] > 0, "damage that still parses is run too"
    assert runs["YAML built from the format's keys"] and runs["data/scenarios file, damaged"], \
        "some fuzzed scenarios were played"
    assert outcomes[("aliases, merge keys, huge numbers, surrogate escapes", "ScenarioError (file and line)")] >= examples(1000)
    test_scenario_loader_fuzz.outcomes = outcomes


# -- session files ---------------------------------------------------------------------------------------------

def session_bytes() -> bytes:
    office = BackOffice(policy=Policy(kdf_log2_n=1), clock=Clock.at(NOW), secret_source=SeededSecretSource(3))
    office.create_company("ACME")
    office.create_user("alice", "correct horse 42", force_2fa=True)
    login = office.start_login()
    login.submit_password("alice", "correct horse 42")
    return dumps(office)


SESSION = session_bytes()


def richer_session() -> dict:
    """alice enrolled (replay and drift memory), bob locked, a device with entries (one HOTP), FreeOTP
    asking about an unsafe token, a locked add-on; drift tracking on."""
    office = BackOffice(policy=Policy(kdf_log2_n=1, drift_tracking=True), clock=Clock.at(NOW),
                        secret_source=SeededSecretSource(4))
    office.create_company("ACME")
    office.create_user("alice", "correct horse 42", force_2fa=True)
    office.create_user("bob", "correct horse 42", force_2fa=True)
    phone = Device.for_user(office, "alice", app="aegis", offset=40)
    for name in ("alice", "bob"):
        login = office.start_login()
        phone.scan(login.submit_password(name, "correct horse 42").screen.page_image())
        login.submit_code(phone.app.code(phone.app.entries[-1], phone.now()))
    for _ in range(office.policy.failed_code_limit):
        login = office.start_login()
        login.submit_password("bob", "correct horse 42")
        login.submit_code("000000")
    phone.app.scan_uri(f"otpauth://hotp/Lab:hugo?secret={'A' * 32}&issuer=Lab&counter=5", phone.now())
    tab = Device.for_user(office, "bob", app="freeotp", offset=-3)
    tab.app.scan_uri(f"otpauth://totp/Lab:bob?secret={'B' * 32}&issuer=Lab&digits=10", tab.now())
    browser = Device.for_user(office, "bob", app="authenticator-addon")
    browser.set_app_password("add-on lock 7")
    browser.lock_app()
    document = json.loads(dumps(office, [phone, tab, browser]))
    document.pop("sha256")
    return document


def numeric_places(value, path=()):
    """The path of every number in a JSON document (the places a hand edit puts a wild value)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from numeric_places(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from numeric_places(item, path + (index,))
    elif isinstance(value, (int, float)) and not isinstance(value, bool) or value is None:
        yield path


WILD_NUMBERS = [3e11, 1e18, 1e300, -1e300, 2 ** 40, -(2 ** 40), 2 ** 62, 2 ** 70, -1, 0, 1, 0.5, 253402300799.0,
                253370764800.0, 10 ** 12, -(10 ** 12), 10 ** 7, 1e-300, 86400 * 365 * 10]


def test_session_file_reader_fuzz():
    outcomes: Counter = Counter()

    def check(data: bytes, input_class: str) -> None:
        try:
            loads(data)
            outcomes[(input_class, "loaded")] += 1
        except SessionFileError as error:
            assert "cannot be restored" not in str(error), "every damage has its own check"
            outcomes[(input_class, "SessionFileError")] += 1

    @settings(max_examples=examples(1000), **FUZZ)
    @given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass"))))
    def random_bytes(data):
        check(data, "random bytes")

    @settings(max_examples=examples(200), **FUZZ)
    @given(st.integers(0, 2 ** 64))
    def damaged_file(seed):
        rng = random.Random(seed)
        for _ in range(BATCH):
            text = SESSION.decode("ascii")
            if rng.random() < 0.5:                       # without the hash, damage must be caught by the checks
                text = "\n".join(line for line in text.splitlines() if '"sha256"' not in line)
            check(damaged(text, rng, rng.randrange(1, 5)).encode("utf-8", "surrogatepass"), "session file, damaged")

    rich = richer_session()
    places = list(numeric_places(rich["session"]))
    passwords_left = [0]

    def works(data: bytes) -> None:
        """A file that loads also works: the users table, a login with password and code, the devices."""
        session = loads(data)
        office = session.office
        users_table(office)
        for device in session.devices:
            repr(device)
            app_table(device.app)
            for entry in device.app.entries:
                if entry.counter_based:
                    device.app.next_counter_code(entry)
            for item in device.app.snapshot()["waiting_for_choice"]:
                device.app.confirm(item["token"], "add anyway" if item["question"] == "unsafe" else "replace")
        for name in ("alice", "bob"):
            login = office.start_login()
            login.submit_password(name, "correct horse 42")
            if login.state.name == "CODE_REQUIRED":
                login.submit_code("000000")
            if login.state.name == "CODE_REQUIRED":
                secret = office.user(name).enrolment.secret
                login.submit_code(code_at(secret, office.clock.now(), algorithm=office.policy.algorithm,
                                          digits=office.policy.digits, period=office.policy.period))
        users_table(office)

    @settings(max_examples=examples(150), **FUZZ)
    @given(st.integers(0, 2 ** 64))
    def wild_numbers(seed):
        rng = random.Random(seed)
        for _ in range(BATCH):
            document = json.loads(json.dumps(rich))
            for _ in range(rng.randrange(1, 3)):
                path = rng.choice(places)
                target = document["session"]
                for key in path[:-1]:
                    target = target[key]
                target[path[-1]] = rng.choice(WILD_NUMBERS + [rng.uniform(-1e12, 1e12), rng.randrange(-2 ** 64, 2 ** 64)])
            try:
                data = json.dumps(document).encode()
            except ValueError:
                continue
            try:
                works(data)
                outcomes[("numbers edited by hand", "loaded and worked")] += 1
            except SessionFileError as error:
                assert "cannot be restored" not in str(error), "every damage has its own check"
                outcomes[("numbers edited by hand", "SessionFileError")] += 1

    random_bytes()
    damaged_file()
    wild_numbers()
    assert outcomes[("numbers edited by hand", "loaded and worked")] >= examples(50)
    assert outcomes[("numbers edited by hand", "SessionFileError")] >= examples(500)
    assert sum(outcomes.values()) >= examples(4500)
    test_session_file_reader_fuzz.outcomes = outcomes


# -- files a scenario names ------------------------------------------------------------------------------------

REF_PIECES = ["..", ".", "shots", "qr.png", "bo.yaml", "up", "link.png", "secret.env", "private.key", "etc", "passwd",
              "", "nothing", "shots/..", "/", "\x00", "\u202e", "%2e%2e", "...", "~", "$HOME", "\\", "C:", "bo.yaml/.."]
PRIVATE = "-----BEGIN PRIVATE KEY----- MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"


def test_files_a_scenario_names_fuzz(tmp_path):
    """Generated names for ``backoffice:`` and ``image:``: what loads lies inside the scenario's folder
    (links followed), no answer repeats a file's contents, and outside the folder every name gets one
    answer, so nothing can be learnt about the machine's files."""
    (tmp_path / "secret.env").write_text(f"users: {PRIVATE}\n")
    (tmp_path / "private.key").write_text(PRIVATE)
    folder = tmp_path / "scenarios"
    (folder / "shots").mkdir(parents=True)
    image = Image.new("RGB", (64, 64), "white")
    image.save(folder / "shots" / "qr.png")
    image.save(tmp_path / "outside.png")
    (folder / "bo.yaml").write_text("users: {zoe: {}}\n")
    (folder / "up").symlink_to(tmp_path)
    (folder / "link.png").symlink_to(tmp_path / "outside.png")
    base = folder.resolve()
    outcomes: Counter = Counter()
    outside_answers: set[str] = set()

    def check(ref: str) -> None:
        for key in ("backoffice", "image"):
            text = (f"name: x\nbackoffice: {json.dumps(ref)}\nsteps: [{{wait: 1s}}]\n" if key == "backoffice" else
                    "name: x\nusers: {alice: {force_2fa: true}}\ndevices: {p: {owner: alice, app: aegis}}\n"
                    f"steps: [{{login: alice}}, {{scan: {{device: p, image: {json.dumps(ref)}}}}}]\n")
            try:
                parse_scenario(text, str(folder / "s.yaml"))
            except ScenarioError as error:
                message = str(error)
                assert PRIVATE[:12] not in message
                if "must name a file in the scenario's folder" in message:
                    outside_answers.add(message.rsplit(" not ", 1)[0])
                    outcomes[(key, "outside the folder")] += 1
                else:
                    outcomes[(key, "refused inside the folder")] += 1
                continue
            if ref not in ("page", "qr", "default"):
                assert (folder / ref).resolve().is_relative_to(base)
            outcomes[(key, "read")] += 1

    @settings(max_examples=examples(300), **FUZZ)
    @given(st.integers(0, 2 ** 64))
    def generated(seed):
        rng = random.Random(seed)
        for _ in range(4):
            ref = "/".join(rng.choice(REF_PIECES) for _ in range(rng.randrange(1, 5)))
            if rng.random() < 0.2:
                ref = "/" + ref
            check(ref)

    generated()
    for ref in ["shots/qr.png", "bo.yaml", "up/scenarios/bo.yaml", "up/scenarios/shots/qr.png"]:
        check(ref)
    assert len(outside_answers) == 2, outside_answers          # one answer per key, whatever the name
    assert outcomes[("backoffice", "read")] and outcomes[("image", "read")]
    assert sum(outcomes.values()) >= examples(2000)
    test_files_a_scenario_names_fuzz.outcomes = outcomes
