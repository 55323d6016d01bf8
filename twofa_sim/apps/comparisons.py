"""The apps side by side: one input, what each app makes of it, as plain rows.

A chapter that compares apps asks the same question of each (an hotp QR code without counter, a
second scan, a move into another app) and states the rule over the answers. A refusal is one of
the answers, so it is a value here (:func:`refusal`), never an exception the reader has to catch.
Rows are plain dicts (a notebook shows them with pandas); none holds a secret.
"""

from __future__ import annotations

from typing import Callable, Iterable

from ..core.errors import TwofaSimError
from .authenticator import AuthenticatorApp
from .profiles import PROFILES, VERSIONS, AppProfile, profile


def apps_opening_links(apps: Iterable[AppProfile | str] | None = None) -> list[str]:
    """The names of the apps a tapped ``otpauth://`` link opens, as their manifests show (the
    newest version of each unless ``apps`` names others): what the trainee page tells a trainee
    who has only a phone."""
    return list(dict.fromkeys(profile(p).name for p in (apps or PROFILES.values())
                              if profile(p).otpauth_links.registered))


def refusal(action: Callable[[], object]) -> str | None:
    """What the simulation says when ``action`` is refused (the error's kind and message), or None
    when it goes through."""
    try:
        action()
    except TwofaSimError as error:
        return f"{type(error).__name__}: {error}"
    return None


def each_app(action: Callable[[AuthenticatorApp], str], apps: Iterable[AppProfile | str] | None = None,
             ) -> list[dict[str, str]]:
    """``action`` on a fresh app of each version (every modelled one by default): one row per app
    with what it did, or ``refused`` and why."""
    rows = []
    for key in apps or VERSIONS:
        app = AuthenticatorApp(key)
        outcome: list[str] = []
        refused = refusal(lambda: outcome.append(action(app)))
        rows.append({"app": app.profile.title, "outcome": "refused" if refused else outcome[0],
                     "why refused": refused or "-"})
    return rows


def second_scan(uri: str) -> Callable[[AuthenticatorApp], str]:
    """The action "scan ``uri``, then scan it again": what the second scan did, what the app offers,
    how many entries it holds."""
    def scan_twice(app: AuthenticatorApp) -> str:
        app.scan_uri(uri, 0)
        again = app.scan_uri(uri, 5)
        offers = " / ".join(c.value for c in again.choices) or "-"
        return f"{again.outcome.value} (offers: {offers}); {len(app.entries)} entries"
    return scan_twice


def entry_made_of(uri: str) -> Callable[[AuthenticatorApp], str]:
    """The action "scan ``uri`` and say yes to what the app asks": the entry's type (and counter)."""
    def scan(app: AuthenticatorApp) -> str:
        entry = app.accept(app.scan_uri(uri, 0)).entry
        return f"{entry.type}, counter {entry.counter}" if entry.counter_based else entry.type
    return scan


def moves(pairs: Iterable[tuple[str, str]], uri: str, *, held: str | None = None) -> list[dict[str, object]]:
    """Each (from, to) pair: the first app scans ``uri`` (saying yes to what it asks), the second
    holds ``held`` already (if given), then every entry moves from the first into the second. One
    row per pair: what the second app did with each entry, or why the move was refused."""
    rows = []
    for source_key, target_key in pairs:
        source, target = AuthenticatorApp(source_key), AuthenticatorApp(target_key)
        source.accept(source.scan_uri(uri, 0))
        if held is not None:
            target.accept(target.scan_uri(held, 0))
        report: list = []
        refused = refusal(lambda: report.append(source.move_to(target, 0)))
        outcomes = "; ".join(r.outcome.value for r in report[0].results) if report else "-"
        rows.append({"from": source.profile.title, "to": target.profile.title,
                     "what the second app did": outcomes, "entries afterwards": len(target.entries),
                     "why refused": refused or "-"})
    return rows


__all__ = ["refusal", "each_app", "second_scan", "entry_made_of", "moves"]
