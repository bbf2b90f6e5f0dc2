"""Durable mode with large mail (summarised in the worker thread, then written to the ``--db`` file): acknowledged,
kept byte for byte, in order with the mail after it, and there after a restart."""

from __future__ import annotations

import smtplib
from pathlib import Path

from mailtrap_lite import MailServer


def _large_message() -> bytes:
    body = b"".join(b"line %06d of a large message, long enough to be summarised off the loop\r\n" % n
                    for n in range(20_000))
    return b"From: a@example.com\r\nTo: b@example.com\r\nSubject: large and durable\r\n\r\n" + body


def test_a_large_message_in_durable_mode_is_acknowledged_kept_and_restored(tmp_path: Path) -> None:
    path = tmp_path / "mail.db"
    raw = _large_message()
    assert len(raw) > 1024 * 1024
    with MailServer(db=path) as server, smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=30) as client:
        client.sendmail("a@example.com", ["b@example.com"], raw)
        client.sendmail("a@example.com", ["c@example.com"], b"Subject: small after it\r\n\r\nhi\r\n")
        subjects = [m.subject for m in server.store.snapshot()]
        assert subjects == ["large and durable", "small after it"]
    with MailServer(db=path) as restarted:
        restored = restarted.store.snapshot()
        assert [m.subject for m in restored] == ["large and durable", "small after it"]
        assert restored[0].raw == raw
