"""Django's own password-reset views and SMTP backend, pointed at the capture server with ``django_settings()``.

No pytest-django needed: the module fixture sets Django up and builds a throw-away test database, the way
``manage.py test`` does, but keeps the real SMTP backend (Django's test runner would swap in the locmem outbox).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import django
import pytest

from mailtrap_lite import Mailbox

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resetsite.settings")
django.setup()

from django.contrib.auth.models import User  # noqa: E402  (needs django.setup() first)
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # test-only: keeps each login quick


@pytest.fixture(scope="module")
def database() -> Iterator[None]:
    """An in-memory test database with the auth tables, for this module."""
    old_config: Any = setup_databases(verbosity=0, interactive=False)
    yield
    teardown_databases(old_config, verbosity=0)


@pytest.fixture
def bob(database: None, mailtrap: Mailbox) -> Iterator[User]:
    """A user with a known password, and the site's mail settings pointed at this test's server."""
    with override_settings(**mailtrap.django_settings(), PASSWORD_HASHERS=FAST_HASHER):
        user = User.objects.create_user("bob", "bob@example.com", "old password 1")
        yield user
        user.delete()


def request_reset(client: Client, email: str) -> None:
    """Fill in the "forgot your password" form."""
    response = client.post("/accounts/password_reset/", {"email": email})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password_reset/done/"


def test_the_reset_link_in_the_mail_sets_a_new_password(bob: User, mailtrap: Mailbox) -> None:
    client = Client()
    request_reset(client, "bob@example.com")
    mail = mailtrap.wait_for(to="bob@example.com", subject="Reset your password on testserver")
    assert mail.from_.address == "accounts@example.com"
    assert "Someone asked to reset the password of bob." in mail.text

    form = client.get(mail.links[0], follow=True)
    assert b"Change my password" in form.content
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "new horse 42", "new_password2": "new horse 42"})

    assert done["Location"] == "/accounts/reset/done/"
    assert Client().login(username="bob", password="new horse 42")
    assert not Client().login(username="bob", password="old password 1")


def test_a_reset_link_works_only_once(bob: User, mailtrap: Mailbox) -> None:
    client = Client()
    request_reset(client, "bob@example.com")
    link = mailtrap.wait_for(to="bob@example.com").links[0]
    form = client.get(link, follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": "new horse 42", "new_password2": "new horse 42"})

    again = Client().get(link, follow=True)
    assert b"This reset link is no longer valid" in again.content


def test_an_unknown_address_gets_the_same_answer_and_no_mail(bob: User, mailtrap: Mailbox) -> None:
    request_reset(Client(), "nobody@example.com")
    mailtrap.assert_not_sent()
    assert mailtrap.attempts == []
