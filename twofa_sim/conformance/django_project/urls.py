"""The site's URLs: django-two-factor-auth's own (login, setup, QR, backup tokens), Django's logout
and the back office's page."""

from __future__ import annotations

from django.contrib.auth.views import LogoutView
from django.urls import include, path
from two_factor.urls import urlpatterns as two_factor_urls

from .views import BackOfficeHome

urlpatterns = [
    path("", include(two_factor_urls)),
    path("account/logout/", LogoutView.as_view(next_page="two_factor:login"), name="logout"),
    path("backoffice/", BackOfficeHome.as_view(), name="backoffice"),
]
