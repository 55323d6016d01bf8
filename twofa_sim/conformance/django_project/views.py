"""The back office's one page: only a user who passed the second factor sees it.

``OTPRequiredMixin`` is how a django-two-factor-auth site requires the second factor; with
``verification_url`` at the setup wizard a user without a device is sent to enrol (the QR), as
the spec's "Force 2 factor auth." does. It applies to every user: the site has no per-user flag.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import reverse_lazy
from django.utils.html import escape
from django.views import View
from two_factor.views.mixins import OTPRequiredMixin

#: The text the page shows, which the adapter looks for to say "authenticated".
SIGNED_IN = "Signed in to the back office as"


class BackOfficeHome(OTPRequiredMixin, View):
    verification_url = reverse_lazy("two_factor:setup")

    def get(self, request):
        return HttpResponse(f"<h1>Back office</h1><p id=\"signed-in\">{SIGNED_IN} "
                            f"{escape(request.user.get_username())}</p>")
