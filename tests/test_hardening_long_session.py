"""A client that keeps one connection open for many messages does not make memory grow without bound: the
session's transcript keeps its first lines (greeting, EHLO) and the most recent ones, and its own attempt list
keeps the latest attempts, while every message is still stored and every attempt is in the server's log."""

from __future__ import annotations

import smtplib

from mailtrap_lite import MailServer
from mailtrap_lite.sessions import MAX_SESSION_ATTEMPTS, MAX_TRANSCRIPT_LINES

MESSAGES = 600  # about 3,600 transcript lines, more than either bound


def test_a_long_session_keeps_a_bounded_transcript() -> None:
    with MailServer(max_messages=0) as server:
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
            for index in range(MESSAGES):
                client.sendmail("app@example.com", ["user@example.com"], f"Subject: n{index}\r\n\r\nhi\r\n")
        assert len(server.store) == MESSAGES
        (record,) = server.sessions.sessions()
        assert len(record.lines) <= MAX_TRANSCRIPT_LINES
        assert record.lines[0].text.startswith("220")  # the start of the conversation is kept
        assert record.lines[1].text.startswith("ehlo")
        # and so is its end (the "(connection closed)" line may or may not have followed the 221 yet)
        assert any(line.text.startswith("221") for line in record.lines[-2:])
        assert len(record.attempts) <= MAX_SESSION_ATTEMPTS
        assert record.attempts[-1].message_id == server.store.snapshot()[-1].id
        assert len(server.sessions.attempts()) == MESSAGES
