"""STARTTLS, implicit TLS and AUTH work for real clients that verify the generated certificate."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator

import pytest

from mailtrap_lite import MailServer

RAW = b"From: a@example.com\r\nTo: b@example.com\r\nSubject: secure\r\n\r\nbody\r\n"


@pytest.fixture(scope="module")
def tls_server() -> Iterator[MailServer]:
    """STARTTLS on the plain port, implicit TLS on a second port, AUTH accepting anything."""
    with MailServer(tls_self_signed=True, smtps_port=0, smtp_auth="accept-any") as server:
        yield server


@pytest.fixture(scope="module")
def auth_server() -> Iterator[MailServer]:
    """AUTH required, checked against a user list; TLS available."""
    with MailServer(
        tls_self_signed=True, smtps_port=0, smtp_auth="required", smtp_users={"alice": "s3cret"}
    ) as server:
        yield server


def test_starttls_with_a_verifying_client(tls_server: MailServer) -> None:
    assert tls_server.tls is not None
    with smtplib.SMTP("localhost", tls_server.smtp_port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("starttls")
        client.starttls(context=tls_server.tls.client_context())
        client.ehlo()
        client.sendmail("a@example.com", ["b@example.com"], RAW)
    stored = tls_server.store.latest()
    assert stored is not None and stored.raw == RAW
    assert stored.smtp.tls is True


def test_implicit_tls_with_auth(tls_server: MailServer) -> None:
    assert tls_server.tls is not None and tls_server.smtps_port
    with smtplib.SMTP_SSL("localhost", tls_server.smtps_port, context=tls_server.tls.client_context(),
                          timeout=10) as client:
        client.login("anyone", "anything")
        client.sendmail("a@example.com", ["b@example.com"], RAW)
    stored = tls_server.store.latest()
    assert stored is not None
    assert stored.smtp.tls is True
    assert stored.smtp.auth_user == "anyone"


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_accept_any_auth_records_the_user(tls_server: MailServer, mechanism: str) -> None:
    with smtplib.SMTP(tls_server.smtp_host, tls_server.smtp_port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("auth")
        client.user, client.password = f"user-{mechanism}", "whatever"
        code, _ = client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"))
        assert code == 235
        client.sendmail("a@example.com", ["b@example.com"], RAW)
    stored = tls_server.store.latest()
    assert stored is not None and stored.smtp.auth_user == f"user-{mechanism}"
    assert stored.smtp.tls is False


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_required_auth_accepts_the_right_password(auth_server: MailServer, mechanism: str) -> None:
    assert auth_server.tls is not None
    with smtplib.SMTP("localhost", auth_server.smtp_port, timeout=10) as client:
        client.starttls(context=auth_server.tls.client_context())
        client.ehlo()
        client.user, client.password = "alice", "s3cret"
        code, _ = client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"))
        assert code == 235
        client.sendmail("a@example.com", ["b@example.com"], RAW)
    stored = auth_server.store.latest()
    assert stored is not None and stored.smtp.auth_user == "alice"


def test_wrong_password_gets_535_5_7_8(auth_server: MailServer) -> None:
    with smtplib.SMTP(auth_server.smtp_host, auth_server.smtp_port, timeout=10) as client, pytest.raises(
        smtplib.SMTPAuthenticationError
    ) as failure:
        client.login("alice", "wrong")
    assert failure.value.smtp_code == 535
    assert failure.value.smtp_error.startswith(b"5.7.8")


def test_required_auth_refuses_mail_without_login(auth_server: MailServer) -> None:
    before = len(auth_server.store)
    with smtplib.SMTP(auth_server.smtp_host, auth_server.smtp_port, timeout=10) as client, pytest.raises(
        smtplib.SMTPSenderRefused
    ) as refused:
        client.sendmail("a@example.com", ["b@example.com"], RAW)
    assert refused.value.smtp_code == 530
    assert len(auth_server.store) == before


def test_require_tls_refuses_mail_before_starttls() -> None:
    with MailServer(tls_self_signed=True, require_tls=True) as server:
        assert server.tls is not None
        with smtplib.SMTP("localhost", server.smtp_port, timeout=10) as client:
            client.ehlo()
            code, _ = client.mail("a@example.com")
            assert code == 530
            client.rset()
            client.starttls(context=server.tls.client_context())
            client.sendmail("a@example.com", ["b@example.com"], RAW)
        assert len(server.store) == 1


def test_ehlo_offers_exactly_the_login_mechanisms(tls_server: MailServer) -> None:
    with smtplib.SMTP(tls_server.smtp_host, tls_server.smtp_port, timeout=10) as client:
        client.ehlo()
        assert client.esmtp_features["auth"].split() == ["LOGIN", "PLAIN"]
        code, text = client.docmd("AUTH", "ENABLED")
    assert (code, text) == (504, b"5.5.4 Unrecognized authentication type")
