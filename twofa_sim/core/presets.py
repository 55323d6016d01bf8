"""Real systems' login policies as named presets, each knob with the value its source documents.

A product owner deciding the product's policy asks "what does GitLab do?": ``preset("gitlab")``
is a :class:`~twofa_sim.core.policy.Policy` with GitLab's values, and :func:`preset_rows` says for
each knob the value, how the system names it and where it is written (repository, path, the tag or
commit it was read at). A knob the system does not have is said so: the preset keeps the project's
value there. Where the system has no lock on wrong codes at all, the engine's nearest is the
highest limit the policy takes (:data:`NO_LOCKOUT_LIMIT`), marked as a stand-in, never as the
system's value. What the engine does not model (django-otp's growing delay, GitLab's counter shared
with passwords, Keycloak's growing wait) is listed in ``not_modelled``; the attacker analysis uses
each system's own schedule (``attacker``), so the odds come from the real rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import PolicyError
from .policy import Policy

NO_LOCKOUT_LIMIT = 1000
"""The highest ``failed_code_limit`` a policy takes: the engine's stand-in for "no lock on codes"."""


@dataclass(frozen=True)
class Source:
    """Where a value is written: a repository, a path in it, and the tag (or commit) it was read at."""

    repository: str
    path: str
    ref: str

    def __str__(self) -> str:
        return f"{self.repository} {self.path} @ {self.ref}"


@dataclass(frozen=True)
class SourcedKnob:
    """One knob a preset sets: the engine's setting, its value, the system's own words, the source.

    ``stand_in`` marks a value the system does not have, chosen as the engine's nearest behaviour.
    """

    setting: str
    value: object
    documented_as: str
    source: Source | None
    stand_in: bool = False


@dataclass(frozen=True)
class PolicyPreset:
    """A real system's policy: the knobs it sets (with sources), what it lacks, what the engine cannot copy."""

    name: str
    title: str
    knobs: tuple[SourcedKnob, ...]
    absent: tuple[tuple[str, str], ...] = ()
    not_modelled: tuple[str, ...] = ()
    attacker: tuple[str, tuple[tuple[str, float], ...]] = ("policy", ())
    attacker_note: str = ""
    base: Policy = field(default_factory=Policy, repr=False)

    @property
    def policy(self) -> Policy:
        """The project's policy with every knob of this preset set."""
        return self.base.replace(**{k.setting: k.value for k in self.knobs})

    def rows(self) -> list[dict]:
        """Every knob of the policy: the value under this preset and where it comes from."""
        set_here = {k.setting: k for k in self.knobs}
        absent = dict(self.absent)
        rows = []
        for row in self.policy.rows():
            name = row["setting"]
            knob = set_here.get(name)
            if knob is not None:
                origin = ("stand-in: " if knob.stand_in else "") + knob.documented_as
                where = str(knob.source) if knob.source else ""
            elif name in absent:
                origin, where = f"not in {self.title}: {absent[name]}; the project's value", ""
            else:
                origin, where = "the project's value (not set by this preset)", ""
            rows.append({"preset": self.name, "setting": name, "value": row["value"], "as documented": origin,
                         "source": where})
        return rows


# -- the sources, each read at one tag or commit ---------------------------------------------------

_DEVISE_2FA = "devise-two-factor/devise-two-factor"
_GITLAB = "gitlabhq/gitlabhq"
_KEYCLOAK = "keycloak/keycloak"
_AUTHELIA = "authelia/authelia"
_DJANGO_OTP = "django-otp/django-otp"
_TWO_FACTOR = "jazzband/django-two-factor-auth"

_devise_2fa = Source(_DEVISE_2FA, "lib/devise-two-factor.rb", "v6.4.0")
_devise_2fa_model = Source(_DEVISE_2FA, "lib/devise_two_factor/models/two_factor_authenticatable.rb", "v6.4.0")
_gitlab_devise = Source(_GITLAB, "config/initializers/devise.rb", "commit 0227f571")
_gitlab_user = Source(_GITLAB, "app/models/user.rb", "commit 00124398")
_keycloak_otp = Source(_KEYCLOAK, "server-spi/src/main/java/org/keycloak/models/OTPPolicy.java", "commit 02fb1b1c")
_keycloak_realm = Source(_KEYCLOAK, "services/src/main/java/org/keycloak/services/managers/RealmManager.java",
                         "setupRealmDefaults")
_keycloak_brute = Source(_KEYCLOAK, "services/src/main/java/org/keycloak/services/managers/DefaultBruteForceProtector.java",
                         "failure (MULTIPLE strategy)")
_authelia_totp = Source(_AUTHELIA, "internal/configuration/schema/totp.go", "v4.39.20")
_authelia_const = Source(_AUTHELIA, "internal/configuration/schema/const.go", "v4.39.20")
_authelia_regulator = Source(_AUTHELIA, "internal/regulation/regulator.go", "v4.39.20")
_authelia_server = Source(_AUTHELIA, "internal/configuration/schema/server.go", "v4.39.20")
_django_otp_totp = Source(_DJANGO_OTP, "src/django_otp/plugins/otp_totp/models.py", "v1.7.0")
_two_factor_views = Source(_TWO_FACTOR, "two_factor/views/core.py", "1.18.1")
_two_factor_utils = Source(_TWO_FACTOR, "two_factor/utils.py", "1.18.1")

_NO_CODE_LOCKOUT = "the engine's lock cannot be switched off; the highest limit it takes, so codes practically never lock"


def _knob(setting, value, documented_as, source, stand_in=False) -> SourcedKnob:
    return SourcedKnob(setting, value, documented_as, source, stand_in)


def _sha1_6_30(where: str, source: Source, words=("SHA1", "6 digits", "30 s")) -> tuple[SourcedKnob, ...]:
    algorithm, digits, period = words
    return (_knob("algorithm", "SHA1", f"{where}: {algorithm}", source),
            _knob("digits", 6, f"{where}: {digits}", source), _knob("period", 30, f"{where}: {period}", source))


PRESETS: dict[str, PolicyPreset] = {p.name: p for p in (
    PolicyPreset(
        "default", "this project",
        knobs=(),
        attacker=("policy", ()),
        attacker_note="our policy, enacted by the real back office"),
    PolicyPreset(
        "gitlab", "GitLab",
        knobs=(
            *_sha1_6_30("ROTP's defaults (GitLab sets none)", _devise_2fa_model),
            _knob("window", 1, "otp_allowed_drift = 30 (seconds either side: one 30 s step)", _devise_2fa),
            _knob("replay_protection", True, "consumed_timestep: a code of a step not later than the last is refused",
                  _devise_2fa_model),
            _knob("failed_code_limit", 10, "config.maximum_attempts = 10 (Devise lockable)", _gitlab_devise),
            _knob("lockout_seconds", 600, "config.unlock_in = 10.minutes, unlock_strategy :time", _gitlab_devise),
            _knob("recovery_code_count", 10, "devise :two_factor_backupable, otp_number_of_backup_codes: 10",
                  _gitlab_user),
            _knob("secret_bits", 160, "otp_secret_length = 20 (bytes, ROTP::Base32.random)", _devise_2fa),
            _knob("drift_tracking", False, "no drift memory: each check centred on the server's time", _devise_2fa_model),
        ),
        absent=(("code_prompt_timeout", "not read in its source"),),
        not_modelled=("GitLab counts failed passwords and failed codes in one counter; the engine counts codes only",
                      "a wrong code also e-mails the user"),
        attacker=("count-lockout", (("limit", 10), ("lockout_seconds", 600.0))),
        attacker_note="10 failed attempts lock for 10 min (Devise lockable)"),
    PolicyPreset(
        "keycloak", "Keycloak (defaults)",
        knobs=(
            *_sha1_6_30("OTPPolicy.DEFAULT_POLICY", _keycloak_otp, ("HmacSHA1", "digits 6", "period 30")),
            _knob("window", 1, "OTPPolicy.DEFAULT_POLICY: look-around window 1", _keycloak_otp),
            _knob("replay_protection", True, "DEFAULT_IS_REUSABLE = false (it remembers used codes, not steps)",
                  _keycloak_otp),
            _knob("failed_code_limit", NO_LOCKOUT_LIMIT,
                  f"realm.setBruteForceProtected(false): no lock by default; {_NO_CODE_LOCKOUT}", _keycloak_realm,
                  stand_in=True),
            _knob("drift_tracking", False, "no drift memory for TOTP", _keycloak_otp),
        ),
        absent=(("code_prompt_timeout", "not read in its source"),
                ("recovery_code_count", "recovery codes are a separate required action, not read here")),
        not_modelled=("Keycloak remembers each used code for period x (2 x window + 1) s, per code; the engine "
                      "remembers the last accepted step",),
        attacker=("none", ()),
        attacker_note="brute-force detection off by default: every guess is checked"),
    PolicyPreset(
        "keycloak-brute-force", "Keycloak (brute-force detection on)",
        knobs=(
            *_sha1_6_30("OTPPolicy.DEFAULT_POLICY", _keycloak_otp, ("HmacSHA1", "digits 6", "period 30")),
            _knob("window", 1, "OTPPolicy.DEFAULT_POLICY: look-around window 1", _keycloak_otp),
            _knob("replay_protection", True, "DEFAULT_IS_REUSABLE = false (it remembers used codes, not steps)",
                  _keycloak_otp),
            _knob("failed_code_limit", 30, "realm.setFailureFactor(30)", _keycloak_realm),
            _knob("lockout_seconds", 60, "realm.setWaitIncrementSeconds(60): the first wait", _keycloak_realm),
            _knob("drift_tracking", False, "no drift memory for TOTP", _keycloak_otp),
        ),
        absent=(("code_prompt_timeout", "not read in its source"),
                ("recovery_code_count", "recovery codes are a separate required action, not read here")),
        not_modelled=("the wait grows by 60 s for each further 30 failures, at most 900 s "
                      "(setMaxFailureWaitSeconds(900)), and failures are forgotten after 12 h without one; the "
                      "engine locks for a fixed 60 s",
                      "passwords and codes share the failure count; the engine counts codes only",
                      "Keycloak remembers used codes, not steps"),
        attacker=("stepped-wait", (("failure_factor", 30), ("wait_increment", 60.0), ("max_wait", 900.0))),
        attacker_note="after n failures wait 60 s x (n // 30), at most 15 min (DefaultBruteForceProtector)"),
    PolicyPreset(
        "authelia", "Authelia",
        knobs=(
            *_sha1_6_30("DefaultTOTPConfiguration", _authelia_totp, ("algorithm SHA1", "digits 6", "period 30")),
            _knob("window", 1, "skew: 1 (defaultTOTPSkew)", _authelia_totp),
            _knob("replay_protection", True, "disable_reuse_security_policy: false (a used code is refused)",
                  _authelia_totp),
            _knob("secret_bits", 256, "secret_size: 32 (TOTPSecretSizeDefault, bytes)", _authelia_const),
            _knob("failed_code_limit", NO_LOCKOUT_LIMIT,
                  f"regulation counts first-factor (password) failures only; wrong codes never ban the user; "
                  f"{_NO_CODE_LOCKOUT}", _authelia_regulator, stand_in=True),
            _knob("drift_tracking", False, "no drift memory", _authelia_totp),
        ),
        absent=(("recovery_code_count", "no recovery codes for TOTP found"),
                ("code_prompt_timeout", "not read in its source")),
        not_modelled=("wrong codes are rate-limited per IP address: 30 a minute, 40 in 2 min, 50 in 10 min "
                      "(server.endpoints.rate_limits.second_factor_totp); one address is slowed, many are not",
                      "regulation (3 password failures in 2 min ban for 5 min) concerns passwords only"),
        attacker=("none", ()),
        attacker_note="wrong codes never ban the user; per-address rate limits not counted (an attacker with many "
                      "addresses is not slowed)"),
    PolicyPreset(
        "django-otp", "django-otp with django-two-factor-auth",
        knobs=(
            _knob("algorithm", "SHA1", "TOTP with HMAC-SHA1 (the only one)", _django_otp_totp),
            _knob("digits", 6, "TWO_FACTOR_TOTP_DIGITS = 6; TOTPDevice.digits default 6", _two_factor_utils),
            _knob("period", 30, "TOTPDevice.step default 30", _django_otp_totp),
            _knob("window", 1, "TOTPDevice.tolerance default 1", _django_otp_totp),
            _knob("replay_protection", True, "last_t: a step not later than the last accepted is refused",
                  _django_otp_totp),
            _knob("drift_tracking", True, "OTP_TOTP_SYNC = True: drift follows the device", _django_otp_totp),
            _knob("secret_bits", 160, "default_key(): random_hex(20) (bytes)", _django_otp_totp),
            _knob("code_prompt_timeout", 600, "TWO_FACTOR_LOGIN_TIMEOUT = 600 (s, the login wizard)",
                  _two_factor_views),
            _knob("recovery_code_count", 10, "backup tokens: 10 static tokens", _two_factor_views),
            _knob("failed_code_limit", NO_LOCKOUT_LIMIT,
                  f"no lock: a delay doubles after each failure (OTP_TOTP_THROTTLE_FACTOR = 1); {_NO_CODE_LOCKOUT}",
                  _django_otp_totp, stand_in=True),
        ),
        not_modelled=("the delay of 1, 2, 4, 8 s and so on after each failure (a code typed during it is refused, not "
                      "counted); the engine has no delay",),
        attacker=("doubling", (("factor", 1.0),)),
        attacker_note="delay doubles after each failure (1, 2, 4, 8 s and so on), no lock"),
)}


def preset(name: str) -> PolicyPreset:
    """The preset of that name; an unknown name is an error that lists the known ones."""
    try:
        return PRESETS[name]
    except (KeyError, TypeError):
        raise PolicyError("preset", f"no preset {name!r} (known: {', '.join(PRESETS)})") from None


def preset_rows(names=None) -> list[dict]:
    """Every knob of every preset (or of ``names``), with its value and source, for a table."""
    return [row for name in (names or PRESETS) for row in preset(name).rows()]


__all__ = ["PRESETS", "PolicyPreset", "SourcedKnob", "Source", "preset", "preset_rows", "NO_LOCKOUT_LIMIT"]
