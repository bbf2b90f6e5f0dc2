"""Sign up, receive the welcome mail, follow its link: the account is confirmed. Flask-Mail sends real SMTP."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from signup_app import create_app

from mailtrap_lite import Mailbox


@pytest.fixture
def client(mailtrap: Mailbox) -> FlaskClient:
    """The app's test client, its mail pointed at this test's capture server."""
    app = create_app({"TESTING": True, **mailtrap.flask_mail_config()})
    return app.test_client()


def test_the_welcome_mail_link_confirms_the_account(client: FlaskClient, mailtrap: Mailbox) -> None:
    assert client.post("/signup", data={"email": "bob@example.com"}).status_code == 201
    welcome = mailtrap.wait_for(to="bob@example.com", subject=re.compile("Welcome"))
    assert "Confirm your address" in welcome.text
    assert welcome.from_.address == "welcome@example.com"
    assert client.get("/account/bob@example.com").json == {"email": "bob@example.com", "confirmed": False}

    confirmation = client.get(welcome.links[0])

    assert confirmation.status_code == 200
    assert client.get("/account/bob@example.com").json == {"email": "bob@example.com", "confirmed": True}


def test_the_html_part_carries_the_same_link(client: FlaskClient, mailtrap: Mailbox) -> None:
    client.post("/signup", data={"email": "carol@example.com"})
    welcome = mailtrap.wait_for(to="carol@example.com")
    assert welcome.links == (welcome.find(r"Confirm your address: (\S+)"),)
    assert f'href="{welcome.links[0]}"' in welcome.html


def test_a_tampered_link_confirms_nothing(client: FlaskClient, mailtrap: Mailbox) -> None:
    client.post("/signup", data={"email": "dan@example.com"})
    link = mailtrap.wait_for(to="dan@example.com").links[0]
    base, token = link.rsplit("/", 1)
    forged = f"{base}/{'x' if token[0] != 'x' else 'y'}{token[1:]}"  # the signed address no longer matches
    assert client.get(forged).status_code == 400
    assert client.get("/account/dan@example.com").json == {"email": "dan@example.com", "confirmed": False}


def test_a_refusing_mail_server_makes_signup_fail_cleanly_and_a_retry_works(
    client: FlaskClient, mailtrap: Mailbox
) -> None:
    mailtrap.faults.fail_next(1, code=451)
    refused = client.post("/signup", data={"email": "erin@example.com"})
    assert refused.status_code == 503
    assert client.get("/account/erin@example.com").status_code == 404
    mailtrap.assert_not_sent(to="erin@example.com")

    assert client.post("/signup", data={"email": "erin@example.com"}).status_code == 201
    assert [a.reply_code for a in mailtrap.attempts] == [451, 250]


def test_a_bad_address_is_refused_without_sending(client: FlaskClient, mailtrap: Mailbox) -> None:
    response = client.post("/signup", data={"email": "not-an-address"})
    assert (response.status_code, response.text) == (400, "email: expected an address like bob@example.com\n")
    assert mailtrap.attempts == []
