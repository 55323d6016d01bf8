"""The help-centre article, end to end: admin ticks the flag, first login shows the QR, the app's
code (computed here independently from the URI) completes it; the next login asks only for a code."""

from __future__ import annotations

from twofa_sim import EventKind, State

from conftest import PASSWORD
from helpers import independent_totp, parse_key_uri


def test_the_article_story(office):
    office.create_user("alice", PASSWORD, force_2fa=True)

    first = office.start_login()
    shown = first.submit_password("alice", PASSWORD)
    assert shown.state is State.ENROLMENT and shown.qr_shown

    uri = parse_key_uri(shown.screen.uri)
    assert uri["scheme"] == "otpauth" and uri["type"] == "totp"
    assert uri["label"] == "plenigo:alice" and uri["issuer"] == "plenigo"
    assert len(uri["secret"]) == 32  # 160 bits in base32 without padding
    assert shown.screen.secret_for_typing.replace(" ", "") == uri["secret"]
    code = independent_totp(uri["secret"], office.clock.now(), uri.get("algorithm", "SHA1"),
                            int(uri.get("digits", 6)), int(uri.get("period", 30)))

    done = first.submit_code(code)
    assert done.state is State.AUTHENTICATED
    assert office.user("alice").enrolment.is_enrolled

    office.clock.advance(3600)
    second = office.start_login()
    asked = second.submit_password("alice", PASSWORD)
    assert asked.state is State.CODE_REQUIRED and not asked.qr_shown
    later = independent_totp(uri["secret"], office.clock.now())
    assert second.submit_code(later).state is State.AUTHENTICATED

    kinds = [e.kind for e in office.events]
    assert kinds.count(EventKind.QR_SHOWN) == 1
    assert kinds.count(EventKind.AUTHENTICATED) == 2


def test_user_without_2fa_logs_in_with_password_only(office):
    office.create_user("bob", PASSWORD)
    assert office.start_login().submit_password("bob", PASSWORD).state is State.AUTHENTICATED
