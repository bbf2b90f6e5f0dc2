"""Release protects the relay password: STARTTLS whenever the relay offers it, the relay's certificate verified, and
credentials never sent in cleartext unless the ``--relay`` URL says ``insecure-auth=1``.

The relays here are real capture servers: one with a self-signed certificate (STARTTLS, implicit TLS and AUTH
required), one without TLS that takes AUTH in cleartext. What reached them is read from their store and from their
session transcripts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from http_api import Answer, Api
from mailtools import make_message, send

from mailtrap_lite import ConfigError, MailServer

USER, PASSWORD = "relay-user", "s3cret"


@pytest.fixture
def tls_relay() -> Iterator[MailServer]:
    """A relay with a certificate from its own private CA: STARTTLS, implicit TLS, AUTH required."""
    with MailServer(tls_self_signed=True, smtps_port=0, smtp_auth="required", smtp_users={USER: PASSWORD}) as relay:
        yield relay


@pytest.fixture
def plain_relay() -> Iterator[MailServer]:
    """A relay that offers no STARTTLS and takes AUTH in cleartext."""
    with MailServer(smtp_auth="required", smtp_users={USER: PASSWORD}) as relay:
        yield relay


def release_through(relay_url: str) -> Answer:
    """Capture a message on a server whose ``--relay`` is ``relay_url`` and release it to ops@example.com."""
    with MailServer(http_port=0, relay=relay_url) as capture:
        send(capture, make_message(subject="to the relay"))
        message = capture.store.latest()
        assert message is not None
        return Api(capture.http_url or "").request(
            "POST", f"/api/v1/message/{message.id}/release", {"To": ["ops@example.com"]})


def commands_seen_by(relay: MailServer) -> list[str]:
    """The verbs the relay received from its clients, in order."""
    return [line.text.split()[0].upper() for record in relay.sessions.sessions()
            for line in record.lines if line.direction == "C"]


def ca_of(relay: MailServer) -> str:
    assert relay.tls is not None and relay.tls.ca_path is not None
    return str(relay.tls.ca_path)


def test_credentials_are_sent_only_after_starttls(tls_relay: MailServer) -> None:
    answer = release_through(
        f"smtp://{USER}:{PASSWORD}@127.0.0.1:{tls_relay.smtp_port}?tls-ca={ca_of(tls_relay)}")
    assert (answer.status, answer.text) == (200, "ok")
    commands = commands_seen_by(tls_relay)
    assert "STARTTLS" in commands, commands
    assert commands.index("STARTTLS") < commands.index("AUTH") < commands.index("MAIL")
    [released] = tls_relay.store.snapshot()
    assert released.smtp.tls is True
    assert released.smtp.auth_user == USER


def test_a_relay_without_starttls_gets_no_password_and_no_message(plain_relay: MailServer) -> None:
    answer = release_through(f"smtp://{USER}:{PASSWORD}@127.0.0.1:{plain_relay.smtp_port}")
    assert (answer.status, answer.text) == (
        400, f"SMTP error: relay 127.0.0.1:{plain_relay.smtp_port} offers no STARTTLS; refusing to send the "
             "password in cleartext (add ?insecure-auth=1 to --relay to allow it)")
    assert len(plain_relay.store) == 0
    assert "AUTH" not in commands_seen_by(plain_relay)
    assert "MAIL" not in commands_seen_by(plain_relay)


def test_insecure_auth_allows_cleartext_credentials_when_asked_for(plain_relay: MailServer) -> None:
    answer = release_through(f"smtp://{USER}:{PASSWORD}@127.0.0.1:{plain_relay.smtp_port}?insecure-auth=1")
    assert (answer.status, answer.text) == (200, "ok")
    [released] = plain_relay.store.snapshot()
    assert released.smtp.tls is False
    assert released.smtp.auth_user == USER


def test_without_credentials_starttls_is_still_used_when_offered() -> None:
    with MailServer(tls_self_signed=True) as relay:
        answer = release_through(f"smtp://127.0.0.1:{relay.smtp_port}?tls-ca={ca_of(relay)}")
        assert (answer.status, answer.text) == (200, "ok")
        [released] = relay.store.snapshot()
        assert released.smtp.tls is True
        assert released.smtp.auth_user == ""


def test_without_credentials_or_starttls_the_message_still_goes_out() -> None:
    with MailServer() as relay:
        answer = release_through(f"smtp://127.0.0.1:{relay.smtp_port}")
        assert (answer.status, answer.text) == (200, "ok")
        assert [m.subject for m in relay.store.snapshot()] == ["to the relay"]


def test_an_untrusted_certificate_is_refused_before_the_password_goes_out(tls_relay: MailServer) -> None:
    answer = release_through(f"smtp://{USER}:{PASSWORD}@127.0.0.1:{tls_relay.smtp_port}")
    assert answer.status == 400
    assert answer.text.startswith(f"SMTP error: relay 127.0.0.1:{tls_relay.smtp_port} has a certificate that is "
                                  "not trusted (")
    assert "?tls-ca=FILE" in answer.text and "?tls-verify=0" in answer.text
    assert len(tls_relay.store) == 0
    assert "AUTH" not in commands_seen_by(tls_relay)


def test_tls_verify_0_accepts_a_lab_relay_and_still_encrypts(tls_relay: MailServer) -> None:
    answer = release_through(f"smtp://{USER}:{PASSWORD}@127.0.0.1:{tls_relay.smtp_port}?tls-verify=0")
    assert (answer.status, answer.text) == (200, "ok")
    [released] = tls_relay.store.snapshot()
    assert (released.smtp.tls, released.smtp.auth_user) == (True, USER)


def test_implicit_tls_verifies_the_certificate_and_delivers(tls_relay: MailServer) -> None:
    url = f"smtps://{USER}:{PASSWORD}@127.0.0.1:{tls_relay.smtps_port}"
    refused = release_through(url)
    assert refused.status == 400 and "has a certificate that is not trusted" in refused.text
    assert len(tls_relay.store) == 0

    answer = release_through(f"{url}?tls-ca={ca_of(tls_relay)}")
    assert (answer.status, answer.text) == (200, "ok")
    [released] = tls_relay.store.snapshot()
    assert (released.smtp.tls, released.smtp.auth_user) == (True, USER)
    assert "STARTTLS" not in commands_seen_by(tls_relay)


def test_the_host_name_is_verified_too() -> None:
    # The relay's certificate names localhost, 127.0.0.1 and ::1, and is signed by the CA we trust; reached as
    # 127.0.0.2 (another loopback address on Linux) it is the right CA but the wrong name.
    try:
        relay = MailServer(tls_self_signed=True, smtp_host="127.0.0.2").start()
    except ConfigError:
        pytest.skip("127.0.0.2 is not a loopback address here")
    with relay:
        answer = release_through(f"smtp://{USER}:{PASSWORD}@127.0.0.2:{relay.smtp_port}?tls-ca={ca_of(relay)}")
        assert answer.status == 400
        assert "has a certificate that is not trusted (IP address mismatch" in answer.text
        assert len(relay.store) == 0
