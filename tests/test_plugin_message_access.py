"""Captured messages are immutable copies with links, codes, attachments and the stdlib EmailMessage."""

from __future__ import annotations

import re
from email.message import EmailMessage

import pytest
from mail_senders import build_message, send_mail

from mailtrap_lite.mailbox import Mailbox


def test_links_one_time_codes_and_attachments(mailtrap: Mailbox) -> None:
    message = build_message(
        text="Confirm at https://app.example.com/confirm?t=abc. Your code: 493021",
        html='<p><a href="https://app.example.com/confirm?t=abc&amp;x=1">Confirm</a></p>',
        attachment=("terms.pdf", b"%PDF-1.7 terms"),
    )
    send_mail(mailtrap.host, mailtrap.port, message)
    captured = mailtrap.wait_for()

    assert captured.links == ("https://app.example.com/confirm?t=abc&x=1", "https://app.example.com/confirm?t=abc")
    assert captured.find(r"code: (\d{6})") == "493021"
    assert captured.find(re.compile(r"\b\d{6}\b")) == "493021"
    assert captured.find("no such thing") is None
    assert captured.attachments[0].filename == "terms.pdf"
    assert captured.attachments[0].content == b"%PDF-1.7 terms"


def test_message_email_is_a_fresh_stdlib_copy(mailtrap: Mailbox) -> None:
    send_mail(mailtrap.host, mailtrap.port, build_message(subject="Original"))
    captured = mailtrap.latest
    parsed = captured.email
    assert isinstance(parsed, EmailMessage)
    parsed.replace_header("Subject", "Changed")
    assert captured.subject == "Original"
    assert captured.email["Subject"] == "Original"
    with pytest.raises(AttributeError, match="immutable"):
        captured.subject = "Changed"  # type: ignore[misc]


def test_reading_a_view_len_iteration_and_latest(mailtrap: Mailbox) -> None:
    assert len(mailtrap) == 0
    for subject in ("First", "Second"):
        send_mail(mailtrap.host, mailtrap.port, build_message(subject=subject))
    assert len(mailtrap) == 2
    assert [m.subject for m in mailtrap] == ["First", "Second"]
    assert [m.subject for m in mailtrap.messages] == ["First", "Second"]
    assert mailtrap.latest.subject == "Second"
