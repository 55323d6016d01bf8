"""App profiles are data: each record says what its app does with every parameter, which issuer it
shows, what a second scan does and how it tells the time, and where that was read. The engine
has no special case for any app."""

from __future__ import annotations

import ast
import dataclasses
import pathlib

import pytest

from twofa_sim import NotFoundError, UriError, ValidationError
from twofa_sim.apps.profiles import (AEGIS, AUTHENTICATOR_ADDON, BEHAVIOUR_COLUMNS, GOOGLE_AUTHENTICATOR, PROFILES,
                                   REFERENCE, VERSIONS, DuplicateMatch, DuplicatePolicy, IssuerSource, Support, TimeRounding,
                                   Unsupported, describe_values, profile, profiles_frame, profiles_markdown,
                                   versions_of)
from twofa_sim.apps.otpauth import build_key_uri, parse_key_uri

S = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ROOT = pathlib.Path(__file__).resolve().parent.parent
APPS = list(PROFILES)
REPOSITORIES = {"Authenticator-Extension/Authenticator", "beemdevelopment/Aegis", "freeotp/freeotp-android",
                "twofas/2fas-android", "google/google-authenticator-android"}


def settings(key: str, params: str = "", label: str = "plenigo:alice"):
    app = profile(key)
    uri = parse_key_uri(f"otpauth://totp/{label}?secret={S}{params}", ignore=app.ignored_parameters)
    return app.settings_for(uri)


def test_the_profiles_of_the_product_brief_are_all_there():
    assert APPS == ["reference", "authenticator-addon", "aegis", "freeotp", "2fas", "google-authenticator"]
    assert profile("aegis") is AEGIS and profile(AEGIS) is AEGIS
    with pytest.raises(NotFoundError, match="no app profile 'authy'"):
        profile("authy")


@pytest.mark.parametrize("key", list(VERSIONS))
def test_every_profile_says_where_its_behaviour_comes_from(key):
    app = profile(key)
    assert app.key == key and app.name and app.version and app.platform and app.versions
    assert len(app.source) > 60
    if key != "reference":
        assert any(marker in app.source for marker in (".ts", ".java", ".kt")), app.source
        assert f"at tag {app.tag}" in app.source and app.source.split(" at tag ")[0] in REPOSITORIES
    for name in ("algorithm", "digits", "period"):
        rule = app.support(name)
        assert rule.default in rule.values, (key, name)
    with pytest.raises(dataclasses.FrozenInstanceError):
        app.duplicates = DuplicatePolicy.ASK  # type: ignore[misc]


def test_the_profile_table_has_one_row_per_app_and_every_column():
    table = profiles_frame()
    assert list(table.index) == [p.title for p in PROFILES.values()]
    assert list(table.columns) == ["versions", "platform", "algorithm", "digits", "period (s)", "issuer shown",
                                   "second scan", "hotp:// QR", "time", "clock correction", "manual form",
                                   "hotp:// QR without counter", "after a scan", "code shown", "otpauth:// link",
                                   "export", "import: an entry it holds", "names", "warns", "evidence", "source"]
    addon = table.loc[AUTHENTICATOR_ADDON.title]
    assert addon["algorithm"] == "ignored: always SHA1" and addon["period (s)"] == "ignored: always 30"
    assert addon["digits"] == "1 to 10; else 6"
    assert addon["clock correction"] == ("a web server's Date header, first from its menu, then at every opening, "
                                         "within ±300 s, in steps of 1 s")
    assert table.loc[GOOGLE_AUTHENTICATOR.title, "clock correction"] == (
        'a web server\'s Date header (www.google.com) when the user starts "Sync now", in steps of 60 s')
    assert table.loc[AEGIS.title, "clock correction"] == "no"
    assert table.loc["2FAS 5.3.5+", "period (s)"] == "10, 30, 60 or 90"
    assert table.loc["2FAS 5.3.5+", "clock correction"] == "automatically: NTP time servers, in steps of 1 ms"


# (app, extra parameters, expected algorithm/digits/period, parameters the app changed)
PARAMETERS = [
    ("reference", "&algorithm=SHA512&digits=8&period=60", ("SHA512", 8, 60), set()),
    ("authenticator-addon", "", ("SHA1", 6, 30), set()),
    ("authenticator-addon", "&digits=8", ("SHA1", 8, 30), set()),
    ("authenticator-addon", "&algorithm=SHA256", ("SHA1", 6, 30), {"algorithm"}),
    ("authenticator-addon", "&algorithm=SHA512&digits=8&period=60", ("SHA1", 8, 30), {"algorithm", "period"}),
    ("authenticator-addon", "&algorithm=MD5&period=sixty", ("SHA1", 6, 30), {"algorithm", "period"}),
    ("authenticator-addon", "&digits=12", ("SHA1", 6, 30), {"digits"}),
    ("authenticator-addon", "&algorithm=sha1&period=30", ("SHA1", 6, 30), set()),
    ("aegis", "&algorithm=SHA512&digits=10&period=45", ("SHA512", 10, 45), set()),
    ("aegis", "&digits=5", ("SHA1", 5, 30), set()),
    ("freeotp", "&algorithm=SHA256&digits=9&period=5", ("SHA256", 9, 5), set()),
    ("2fas", "&algorithm=SHA256&digits=7&period=90", ("SHA256", 7, 90), set()),
    ("2fas", "&period=10", ("SHA1", 6, 10), set()),
    ("2fas", "&algorithm=SHA224&digits=5", ("SHA224", 5, 30), set()),
    ("2fas", "&algorithm=sha384&period=60", ("SHA384", 6, 60), set()),
    ("2fas@5.0", "&algorithm=SHA384&digits=8&period=90", ("SHA384", 8, 90), set()),
    ("aegis", "&algorithm=MD5&period=2147483", ("MD5", 6, 2_147_483), set()),
    ("aegis@3.3", "&algorithm=MD5&digits=1", ("MD5", 1, 30), set()),
    ("freeotp", "&algorithm=SHA384&period=3600", ("SHA384", 6, 3600), set()),
    ("google-authenticator", "&algorithm=SHA512&digits=8&period=60", ("SHA1", 6, 30),
     {"algorithm", "digits", "period"}),
    ("google-authenticator", "&algorithm=SHA1&digits=6&period=30", ("SHA1", 6, 30), set()),
]


@pytest.mark.parametrize("key, params, expected, changed", PARAMETERS)
def test_what_each_app_makes_of_the_parameters(key, params, expected, changed):
    result = settings(key, params)
    assert (result.algorithm, result.digits, result.period) == expected
    assert {a.field for a in result.adjustments} == changed
    for adjustment in result.adjustments:
        assert PROFILES[key].title in adjustment.why
        assert str(adjustment).startswith(f"{adjustment.field} {adjustment.given} -> {adjustment.used} (")


# (app, extra parameters, refused field, words)
REFUSALS = [
    ("reference", "&digits=5", "digits", "supports 6 to 10 only"),
    ("reference", "&period=121", "period", "supports 1 to 120 only"),
    ("aegis", "&digits=11", "digits", "supports 1 to 10 only"),
    ("freeotp", "&period=4", "period", "supports 5 to 2,147,483 only"),
    ("2fas", "&period=45", "period", "supports 10, 30, 60 or 90 only"),
    ("2fas", "&digits=9", "digits", "supports 5 to 8 only"),
    ("2fas", "&algorithm=MD5", "algorithm", "supports SHA1, SHA224, SHA256, SHA384 or SHA512 only"),
    ("2fas@5.0", "&period=10", "period", "supports 30, 60 or 90 only"),
    ("2fas@5.0", "&digits=5", "digits", "supports 6 to 8 only"),
    ("2fas@5.1", "&period=10", "period", "supports 30, 60 or 90 only"),
]


@pytest.mark.parametrize("key, params, field, words", REFUSALS)
def test_apps_that_refuse_a_value_say_so(key, params, field, words):
    with pytest.raises(UriError) as caught:
        settings(key, params)
    assert caught.value.field == field and words in caught.value.problem
    assert profile(key).title in caught.value.problem


# (app, what it makes of otpauth://hotp/...&counter=1: type, counter, changed fields)
HOTP = [
    ("authenticator-addon", "totp", None, {"type"}),
    ("aegis", "hotp", 1, set()),
    ("aegis@3.3", "hotp", 1, set()),
    ("freeotp", "hotp", 1, set()),
    ("2fas", "hotp", 1, set()),
    ("google-authenticator", "hotp", 1, set()),
]


def test_the_reference_app_follows_the_back_office_and_refuses_hotp():
    with pytest.raises(UriError, match="type: Reference app 1.0 refuses counter-based"):
        REFERENCE.settings_for(parse_key_uri(f"otpauth://hotp/A:b?secret={S}&counter=1"))


@pytest.mark.parametrize("key, kind, counter, changed", HOTP)
def test_what_each_app_does_with_a_counter_based_qr(key, kind, counter, changed):
    app = profile(key)
    result = app.settings_for(parse_key_uri(f"otpauth://hotp/A:b?secret={S}&counter=1",
                                            ignore=app.ignored_parameters))
    assert (result.type, result.counter) == (kind, counter)
    assert {a.field for a in result.adjustments} == changed


# label "Old:alice" with issuer=New: the issuer and the name the app shows
ISSUER_SHOWN = {"reference": ("New", "alice"), "authenticator-addon": ("New", "alice"), "aegis": ("Old", "alice"),
                "freeotp": ("Old", "alice"), "2fas": ("New", "alice"),
                "google-authenticator": ("New", "Old:alice")}
ISSUER_RULE = {"New": IssuerSource.PARAMETER, "Old": IssuerSource.LABEL_PREFIX}


@pytest.mark.parametrize("key", APPS)
def test_which_issuer_each_app_shows(key):
    mixed = settings(key, "&issuer=New", label="Old:alice")
    assert (mixed.issuer, mixed.account) == ISSUER_SHOWN[key]
    assert mixed.warnings and "'New'" in mixed.warnings[0] and "'Old'" in mixed.warnings[0]
    if key != "google-authenticator":
        assert PROFILES[key].issuer_source is ISSUER_RULE[ISSUER_SHOWN[key][0]]
    assert settings(key, "&issuer=ACME", label="alice").issuer == "ACME"
    assert settings(key, "", label="alice").issuer == ("alice" if key == "2fas" else "")    # 2FAS: the label
    assert not settings(key, "&issuer=ACME", label="ACME:alice").warnings


# label "ACME:alice" without an issuer parameter: issuer and name
LABEL_ONLY = {"reference": ("ACME", "alice"), "authenticator-addon": ("ACME", "alice"), "aegis": ("ACME", "alice"),
              "freeotp": ("ACME", "alice"), "2fas": ("ACME", "alice"), "google-authenticator": ("", "ACME:alice")}


@pytest.mark.parametrize("key", APPS)
def test_a_label_prefix_without_the_issuer_parameter(key):
    result = settings(key, "", label="ACME:alice")
    assert (result.issuer, result.account) == LABEL_ONLY[key]


@pytest.mark.parametrize("key, unsafe", [("freeotp", True), ("reference", False), ("aegis", False)])
def test_freeotp_finds_secrets_under_128_bits_unsafe(key, unsafe):
    short = "JBSWY3DPEHPK3PXPJBSWY3DP"  # 120 bits
    app = PROFILES[key]
    result = app.settings_for(parse_key_uri(f"otpauth://totp/A:b?secret={short}"))
    assert any("120 bits, under 128" in w for w in result.unsafe) is unsafe


@pytest.mark.parametrize("key, duplicates, match", [
    ("reference", DuplicatePolicy.ASK, DuplicateMatch.LABEL),
    ("authenticator-addon", DuplicatePolicy.ADD_DUPLICATE, DuplicateMatch.SECRET),
    ("aegis", DuplicatePolicy.ASK_SUFFIX, DuplicateMatch.LABEL),
    ("aegis@3.3", DuplicatePolicy.ADD_DUPLICATE, DuplicateMatch.LABEL),
    ("freeotp", DuplicatePolicy.ADD_DUPLICATE, DuplicateMatch.SECRET),
    ("2fas", DuplicatePolicy.ASK_REPLACE, DuplicateMatch.SECRET),
    ("google-authenticator", DuplicatePolicy.BY_ISSUER, DuplicateMatch.ISSUER_AND_NAME),
])
def test_second_scan_behaviour_is_part_of_the_record(key, duplicates, match):
    assert (profile(key).duplicates, profile(key).duplicate_match) == (duplicates, match)


@pytest.mark.parametrize("rounding, t, whole", [
    (TimeRounding.TRUNCATE, 29.0, 29), (TimeRounding.TRUNCATE, 29.5, 29), (TimeRounding.TRUNCATE, 29.99, 29),
    (TimeRounding.NEAREST, 29.49, 29), (TimeRounding.NEAREST, 29.5, 30), (TimeRounding.NEAREST, 29.99, 30),
    (TimeRounding.NEAREST, 30.0, 30),
])
def test_time_rounding(rounding, t, whole):
    assert rounding.whole_seconds(t) == whole


def test_only_the_addon_rounds_to_the_nearest_second():
    assert [k for k, p in PROFILES.items() if p.time_rounding is TimeRounding.NEAREST] == ["authenticator-addon"]


@pytest.mark.parametrize("key, algorithm, digits, period, field", [
    ("authenticator-addon", "SHA256", 8, 60, None),
    ("authenticator-addon", "SHA1", 7, 30, "digits"),
    ("google-authenticator", "SHA256", 6, 30, "algorithm"),
    ("google-authenticator", "SHA1", 6, 60, "period"),
    ("2fas", "SHA512", 8, 45, "period"),
    ("reference", "SHA512", 10, 120, None),
])
def test_the_manual_form_offers_what_the_app_offers(key, algorithm, digits, period, field):
    app = PROFILES[key]
    if field is None:
        app.manual_settings(algorithm, digits, period)
    else:
        with pytest.raises(ValidationError) as caught:
            app.manual_settings(algorithm, digits, period)
        assert caught.value.field == field and "manual form" in caught.value.problem


@pytest.mark.parametrize("values, text", [
    (range(1, 11), "1 to 10"), ((6, 8), "6 or 8"), ((10, 30, 60, 90), "10, 30, 60 or 90"), (("SHA1",), "SHA1"),
    (range(30, 31), "30"),
])
def test_values_read_as_text(values, text):
    assert describe_values(values) == text


def test_support_description():
    assert Support.ignored("SHA1").describe() == "ignored: always SHA1"
    assert Support(6, (6, 8), Unsupported.REFUSE).describe() == "6 or 8"
    with pytest.raises(ValueError, match="no rule for 'secret'"):
        REFERENCE.support("secret")


def _code_without_docs(text: str) -> str:
    """The module's code as ast.unparse writes it: no comments, docstrings removed."""
    tree = ast.parse(text)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            body[0] = ast.Pass()
    return ast.unparse(tree)


def test_the_engine_has_no_special_case_for_any_app():
    """Behaviour lives in the records: no module outside apps/profiles.py names an app."""
    needles = [p.key for p in PROFILES.values() if p.key != "reference"] + \
              [p.name for p in PROFILES.values() if p.key != "reference"] + ["AUTHENTICATOR_ADDON", "AEGIS", "FREEOTP",
                                                                            "TWOFAS", "GOOGLE_AUTHENTICATOR"]
    for module in ("apps/authenticator.py", "apps/device.py", "apps/scan.py", "apps/otpauth.py", "apps/backup.py",
                   "apps/results.py", "analysis/compatibility.py"):
        code = _code_without_docs((ROOT / "twofa_sim" / module).read_text())
        for needle in needles:
            assert needle not in code, (module, needle)


def test_a_uri_the_reference_app_reads_back_unchanged():
    uri = build_key_uri(S, "alice", "plenigo", algorithm="SHA256", digits=8, period=60)
    result = REFERENCE.settings_for(parse_key_uri(uri))
    assert (result.issuer, result.account, result.algorithm, result.digits, result.period) == (
        "plenigo", "alice", "SHA256", 8, 60)
    assert not result.adjustments and not result.warnings


def test_the_readme_app_table_is_rendered_from_the_profiles():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- app table: rendered by twofa_sim.apps.profiles.profiles_markdown() -->\n")
    end = readme.index("<!-- end of app table -->")
    table = readme[readme.index("\n", start) + 1:end]
    assert table == profiles_markdown()
    assert table.count("\n") == len(VERSIONS) + 2
    start = readme.index("<!-- app behaviour table: rendered by twofa_sim.apps.profiles.profiles_markdown("
                         "columns=BEHAVIOUR_COLUMNS) -->\n")
    behaviour = readme[readme.index("\n", start) + 1:readme.index("<!-- end of app behaviour table -->")]
    assert behaviour == profiles_markdown(columns=BEHAVIOUR_COLUMNS)
    assert "read in the source, not seen on a device" in behaviour


@pytest.mark.parametrize("app, versions", [
    ("2fas", ["2fas@5.0", "2fas@5.1", "2fas"]), ("aegis", ["aegis@3.3", "aegis"]),
    ("freeotp", ["freeotp@2.0", "freeotp"]),
])
def test_the_versions_of_one_app_oldest_first(app, versions):
    assert [p.key for p in versions_of(app)] == versions
    assert all(p.app == app for p in versions_of(app))
    with pytest.raises(NotFoundError, match="no app 'authy'"):
        versions_of("authy")
