"""Django's bundled auth views: ``/accounts/password_reset/``, ``/accounts/reset/<uidb64>/<token>/``, ..."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("accounts/", include("django.contrib.auth.urls"))]
