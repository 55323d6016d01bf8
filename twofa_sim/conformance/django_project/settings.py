"""The settings of the minimal site: django-two-factor-auth's defaults, with the few choices a site
makes itself, each with its reason.

Not a Django settings module on the path: :func:`twofa_sim.conformance.django_target.configure`
passes :data:`SETTINGS` to ``settings.configure`` once per process.
"""

from __future__ import annotations

SETTINGS: dict = {
    # the test client's host; the key only signs this process's sessions and is not a secret
    "SECRET_KEY": "conformance-site-sessions-only",
    "ALLOWED_HOSTS": ["testserver"],
    "DEBUG": False,
    "USE_TZ": True,
    "TIME_ZONE": "UTC",
    "INSTALLED_APPS": [
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django_otp",
        "django_otp.plugins.otp_static",   # backup tokens (the spec's recovery codes)
        "django_otp.plugins.otp_totp",     # the token generator (TOTP)
        "two_factor",
    ],
    "MIDDLEWARE": [
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django_otp.middleware.OTPMiddleware",
    ],
    "ROOT_URLCONF": "twofa_sim.conformance.django_project.urls",
    "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    "DEFAULT_AUTO_FIELD": "django.db.models.AutoField",
    "TEMPLATES": [{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request",
                                           "django.contrib.auth.context_processors.auth"]},
    }],
    "LOGIN_URL": "two_factor:login",
    "LOGIN_REDIRECT_URL": "backoffice",
    # the QR served as a PNG (the default is SVG), so the project's app model scans its pixels
    "TWO_FACTOR_QR_FACTORY": "qrcode.image.pil.PilImage",
    # a cheap hash, as the scenarios' own back office uses (kdf_log2_n 4): password cost is not compared
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
    # the wizards' notes ("Current step 'token' is no longer valid") stay out of the report's output
    "LOGGING": {"version": 1, "disable_existing_loggers": False,
                "loggers": {"two_factor": {"level": "ERROR"}}},
    # Everything else stays at django-two-factor-auth's and django-otp's defaults, which the
    # comparison is about: TWO_FACTOR_LOGIN_TIMEOUT 600 s, OTP_TOTP_THROTTLE_FACTOR 1,
    # OTP_TOTP_SYNC True, a TOTP device's tolerance 1, step 30 s, 6 digits.
}
