"""A minimal Django project around django-two-factor-auth, the reference target of the conformance run.

Only what a site that uses django-two-factor-auth sets up itself: its settings (``settings.py``),
its URLs (two_factor's own, Django's logout, and one back-office page that requires a verified
second factor) and that page (``views.py``). Everything a login does on the way (the login
wizard, the setup wizard, the QR image, backup tokens, throttling) is django-two-factor-auth's and
django-otp's own code, reached through Django's test client over these URLs. Nothing here is
imported unless the optional extra is installed (``pip install -e '.[peers]'``).
"""
