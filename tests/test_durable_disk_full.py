"""When the ``--db`` file cannot grow (disk full) or cannot be written, SMTP refuses with ``452``/``451`` instead of
acknowledging mail it did not keep; the server keeps serving, and the file stays intact.

The disk is "filled" portably with SQLite's own ``PRAGMA max_page_count`` on the server's connection (and
``PRAGMA query_only`` for a write that fails for another reason), so no root mounts are needed.
"""

from __future__ import annotations

import smtplib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from http_api import Api
from mailtools import make_message, send

from mailtrap_lite import MailServer

BIG = "x" * 100_000  # far more than the one free page left below


@pytest.fixture
def durable(tmp_path: Path) -> Iterator[MailServer]:
    with MailServer(http_port=0, db=tmp_path / "mail.db") as running:
        yield running


def pragma(server: MailServer, statement: str) -> int:
    assert server.journal is not None
    row = server.journal.connection.execute(f"PRAGMA {statement}").fetchone()
    return int(row[0]) if row else 0


def send_expecting(server: MailServer, subject: str, text: str = "hi") -> tuple[int, bytes]:
    """Send one message; returns the DATA reply (code, text) whatever it is, with the session still usable."""
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        try:
            client.send_message(make_message(subject=subject, text=text))
        except smtplib.SMTPDataError as error:
            assert client.noop()[0] == 250  # the session goes on after the refusal
            return error.smtp_code, error.smtp_error
    return 250, b""


def test_full_disk_answers_452_and_keeps_what_was_acknowledged(durable: MailServer, tmp_path: Path) -> None:
    for index in range(3):
        send(durable, make_message(subject=f"before {index}"))
    pragma(durable, f"max_page_count = {pragma(durable, 'page_count') + 1}")

    code, text = send_expecting(durable, "too big for the disk", BIG)
    assert code == 452
    assert b"4.3.1" in text and b"Insufficient storage" in text
    api = Api(durable.http_url or "")
    refused = api.request("POST", "/api/v1/send", body={
        "From": {"Email": "a@example.com"}, "To": [{"Email": "b@example.com"}], "Subject": "api", "Text": BIG,
    })
    assert refused.status == 507, refused.text
    assert "full" in refused.text
    assert [m["Subject"] for m in api.json("/api/v1/messages")["messages"]] == ["before 2", "before 1", "before 0"]
    attempt = durable.sessions.attempts()[-1]
    assert attempt.reply_code == 452 and attempt.message_id is None

    pragma(durable, "max_page_count = 1073741823")  # space freed again
    assert send_expecting(durable, "after space was freed", BIG)[0] == 250
    durable.stop()

    with sqlite3.connect(tmp_path / "mail.db") as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with MailServer(db=tmp_path / "mail.db") as restarted:
        assert [m.subject for m in restarted.store.snapshot()] == [
            "before 0", "before 1", "before 2", "after space was freed",
        ]


def test_unwritable_database_answers_451(durable: MailServer) -> None:
    send(durable, make_message(subject="kept"))
    pragma(durable, "query_only = ON")
    code, text = send_expecting(durable, "cannot be written")
    assert code == 451
    assert b"4.3.0" in text
    api = Api(durable.http_url or "")
    kept = api.json("/api/v1/messages")["messages"]
    assert [m["Subject"] for m in kept] == ["kept"]
    # a state change that cannot be written is refused too, and memory keeps agreeing with the file
    answer = api.request("PUT", "/api/v1/messages", body={"IDs": [kept[0]["ID"]], "Read": True})
    assert answer.status == 503
    assert api.json("/api/v1/messages")["messages"][0]["Read"] is False

    pragma(durable, "query_only = OFF")
    assert send_expecting(durable, "writable again")[0] == 250
