"""Release: ``POST /api/v1/message/{ID}/release`` delivers a captured message, byte for byte, to the ``--relay``
server (here a second capture server acting as the relay)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from http_api import Api
from mailtools import make_message, send

from mailtrap_lite import ConfigError, MailServer
from mailtrap_lite.relay import parse_relay_url


@pytest.fixture
def relay() -> Iterator[MailServer]:
    """The server released mail goes to."""
    with MailServer(http_port=0) as target:
        yield target


@pytest.fixture
def capture(relay: MailServer) -> Iterator[MailServer]:
    """A capture server whose --relay is the relay fixture."""
    with MailServer(http_port=0, relay=f"smtp://{relay.smtp_host}:{relay.smtp_port}") as server:
        yield server


def test_release_delivers_the_captured_message_to_the_relay(capture: MailServer, relay: MailServer) -> None:
    send(capture, make_message(subject="ship it"))
    [captured] = capture.store.snapshot()
    answer = Api(capture.http_url or "").request(
        "POST", f"/api/v1/message/{captured.id}/release", {"To": ["Real Person <real@example.com>", "ops@example.com"]})
    assert (answer.status, answer.text) == (200, "ok")
    [released] = relay.store.snapshot()
    assert released.raw == captured.raw
    assert released.envelope.recipients == ("real@example.com", "ops@example.com")
    assert released.envelope.sender == "alice@example.com"


def test_the_ui_is_told_where_release_goes(capture: MailServer, relay: MailServer) -> None:
    settings = Api(capture.http_url or "").json("/api/v1/webui")["MessageRelay"]
    assert settings["Enabled"] is True
    assert settings["SMTPServer"] == f"{relay.smtp_host}:{relay.smtp_port}"


def test_a_relay_refusal_is_a_400_with_the_smtp_answer(capture: MailServer, relay: MailServer) -> None:
    relay.fault_engine.add("rcpt:550:times=0")
    send(capture, make_message())
    [captured] = capture.store.snapshot()
    answer = Api(capture.http_url or "").request("POST", f"/api/v1/message/{captured.id}/release",
                                                 {"To": ["x@example.com"]})
    assert answer.status == 400
    assert answer.text.startswith("SMTP error: ") and "550" in answer.text


@pytest.mark.parametrize(
    ("body", "reason"),
    [({"To": []}, "No valid addresses found"), ({"To": ["not an address"]}, "Invalid email address: not an address"),
     ({"To": "x@example.com"}, "To must be a list of strings")],
)
def test_bad_recipients_are_400(capture: MailServer, body: dict[str, object], reason: str) -> None:
    send(capture, make_message())
    [captured] = capture.store.snapshot()
    answer = Api(capture.http_url or "").request("POST", f"/api/v1/message/{captured.id}/release", body)
    assert (answer.status, answer.text) == (400, reason)


def test_without_a_relay_release_says_how_to_configure_one(server: MailServer) -> None:
    send(server, make_message())
    [captured] = server.store.snapshot()
    answer = Api(server.http_url or "").request("POST", f"/api/v1/message/{captured.id}/release",
                                                {"To": ["x@example.com"]})
    assert answer.status == 400 and "--relay" in answer.text
    assert Api(server.http_url or "").request("POST", "/api/v1/message/nope/release", {"To": ["x@y.z"]}).status == 404


@pytest.mark.parametrize("url", ["http://host:25", "smtp://", "smtp://host:port"])
def test_a_bad_relay_url_is_a_config_error_naming_the_flag(url: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_relay_url(url)
    assert error.value.flag == "--relay"


def test_relay_urls_carry_credentials_and_default_ports() -> None:
    target = parse_relay_url("smtps://user%40corp:p%3Ass@mail.example.com")
    assert (target.scheme, target.host, target.port, target.username, target.password) == (
        "smtps", "mail.example.com", 465, "user@corp", "p:ss")
