"""One sentence per kind of difference between the spec and django-two-factor-auth, for the report's readers.

Each kind is a row of :data:`KINDS`: a name, a test on a report row, and the sentence that says why
the target behaves so (with the place in its source, as the adapter's mapping cites it). The first
kind whose test holds explains a row; a row no kind explains gets no sentence, and the notebook's
assertion that every row has one fails, so a new kind of difference cannot slip by unexplained.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .report import NOT_EXPRESSIBLE, Row


@dataclass(frozen=True)
class Kind:
    name: str
    applies: Callable[[Row], bool]
    sentence: str


def _not_expressible(*words: str) -> Callable[[Row], bool]:
    return lambda r: r.differs == NOT_EXPRESSIBLE and any(w in r.target or w in r.action for w in words)


def _types_a_code(r: Row) -> bool:
    return r.action.startswith("types")


KINDS: tuple[Kind, ...] = (
    Kind("no per-user flag", _not_expressible("Force 2 factor auth."),
         "The target has no per-user \"Force 2 factor auth.\": a site protects its views for every user "
         "(OTPRequiredMixin), so a user left unticked cannot be set up and ticking or unticking has no counterpart."),
    Kind("no companies", _not_expressible("no companies", "no company setting"),
         "The target has no companies and no company setting: the site requires 2FA of every user."),
    Kind("defaults only", _not_expressible("policy "),
         "The target runs django-two-factor-auth's and django-otp's defaults (tolerance 1, 30 s, 6 digits, SHA1, "
         "throttle factor 1, login timeout 600 s): a policy knob the scenario changes has no counterpart."),
    Kind("backup tokens at the token step only", _not_expressible("backup tokens are taken only"),
         "The target takes a backup token only at a later login's token step, never in the setup wizard "
         "or once the login has left that step."),
    Kind("nothing to act on", _not_expressible("shows no code field", "shows no QR code"),
         "An earlier difference left the target's login elsewhere (already signed in, or past the QR), so the "
         "step has nothing to act on there."),
    Kind("every user enrols",
         lambda r: "AUTHENTICATED" in r.spec and r.action.startswith("logs in") and "accepted" in r.target,
         "Without a per-user or company flag the target sends every user to enrol or to the code prompt, where "
         "the spec lets a user who needs no 2FA in with the password."),
    Kind("separate throttles",
         lambda r: "recovery code" in r.action and "LOCKED_OUT" in r.spec and r.target.startswith("accepted"),
         "The target throttles each device on its own, so a backup token is still checked while the app's "
         "codes are throttled; the spec's one failure count covers both (django_otp/models.py ThrottlingMixin)."),
    Kind("throttle, not a count",
         lambda r: _types_a_code(r) and "Verification temporarily disabled" in r.target_words
         and "LOCKED_OUT" not in r.spec,
         "django-otp throttles: after a failure it refuses every code, the right one too, for 1, 2, 4, 8 s and so on "
         "(\"Verification temporarily disabled\"), where the spec checks each code and counts the wrong ones."),
    Kind("no lock", lambda r: _types_a_code(r) and "LOCKED_OUT" in r.spec and "CODE_REQUIRED" in r.target,
         "The target has no lock: where the spec locks at the limit of wrong codes, django-otp only delays "
         "the next check (a doubling delay, failures during it not counted) and the login stays at the code prompt."),
    Kind("no lock at the password",
         lambda r: r.action.startswith("logs in") and "locked" in r.spec and r.target.startswith("accepted"),
         "A user the spec keeps locked out gets the target's code prompt as usual: its throttle is on the "
         "device and does not stop the password step."),
    Kind("no throttle at enrolment", lambda r: _types_a_code(r) and "locked" in r.spec and "ENROLMENT" in r.target,
         "In the setup wizard the target neither throttles nor counts wrong codes (no device exists yet, "
         "two_factor/forms.py TOTPDeviceForm), where the spec counts them towards the lock."),
    Kind("a replay called wrong", lambda r: _types_a_code(r) and "replay" in r.spec and "refused · wrong" in r.target,
         "The target refuses a used code with the same \"Invalid token\" as a wrong one (django_otp/forms.py "
         "_verify_token), so the user is not told the code was already used, as the spec tells them."),
    Kind("enrolment code not remembered",
         lambda r: _types_a_code(r) and "replay" in r.spec and r.target.startswith("accepted"),
         "The target does not remember the code that confirmed the enrolment (the new device starts with no "
         "last used step), so that code is accepted again at the next login, even after the server's clock "
         "went back; the spec refuses it (already used, or server clock behind)."),
    Kind("new key for each setup",
         lambda r: _types_a_code(r) and r.spec.startswith("accepted") and "ENROLMENT" in r.target,
         "The target makes a new key each time its setup wizard starts, so an app entry scanned from an earlier "
         "QR no longer works; the spec keeps the unconfirmed secret (renew_unconfirmed_secret off)."),
    Kind("reset ends the login quietly",
         lambda r: "expired" in r.spec and r.target.startswith("refused · CREDENTIALS"),
         "After an admin reset the target's open login returns to the password form without a word; the spec "
         "says the step belonged to the earlier second factor."),
    Kind("later and partial expiry", lambda r: "EXPIRED" in r.spec and "EXPIRED" not in r.target,
         "The target ends a login after 10 minutes (TWO_FACTOR_LOGIN_TIMEOUT) and only when the next code is "
         "submitted, and its setup wizard never expires; the spec closes the QR or code prompt after 5 minutes."),
    Kind("default policy accepts", lambda r: _types_a_code(r) and "wrong" in r.spec and r.target.startswith("accepted"),
         "A consequence of a policy knob the target cannot take (SHA256, 60 s, window 0, drift tracking): "
         "it checks with its defaults, and the app's code works there."),
    Kind("earlier enrolment",
         lambda r: r.action.startswith("logs in") and "ENROLMENT" in r.spec and "CODE_REQUIRED" in r.target,
         "The target completed the enrolment at an earlier step (see above), so it asks for a code instead of "
         "showing a QR."),
    Kind("where earlier steps left the logins", lambda r: r.differs == "state" and r.action.endswith(("pass", "UTC")),
         "Time passing changes nothing on the target; the logins stand where the earlier differences left them."),
)


def explain(row: Row) -> tuple[str, str]:
    """The kind of the row's difference and its sentence; ('', '') when the row agrees or no kind applies."""
    if row.agrees:
        return "", ""
    for kind in KINDS:
        if kind.applies(row):
            return kind.name, kind.sentence
    return "", ""
