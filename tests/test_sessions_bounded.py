"""Session records stay small whatever a client sends: a transaction with thousands of refused recipients keeps
the first and last transcript lines with a count of the rest, and its attempt keeps a few refused recipients and
counts them all; the sessions API is paged, newest first, with the total; remote mode still sees every attempt."""

from __future__ import annotations

import smtplib
import socket
import threading
from collections.abc import Iterator

import pytest
from http_api import Api

from mailtrap_lite import MailServer
from mailtrap_lite.remote import RemoteSource
from mailtrap_lite.sessions import (
    MAX_ATTEMPT_REFUSED,
    MAX_SESSION_ATTEMPT_CHARS,
    MAX_TRANSCRIPT_CHARS,
    MAX_TRANSCRIPT_LINES,
)

REFUSED = 3000


@pytest.fixture
def server() -> Iterator[MailServer]:
    """A server with the API and a small recipient limit, so extra recipients are refused (452)."""
    with MailServer(http_port=0, max_recipients=5) as running:
        yield running


def flood(server: MailServer, recipients: int) -> str:
    """One transaction with ``recipients`` RCPTs pipelined in one write, then DATA; returns the DATA reply."""
    with socket.create_connection((server.smtp_host, server.smtp_port), timeout=30) as sock:
        replies = sock.makefile("rb")
        replies.readline()
        sock.sendall(b"HELO flood.example.com\r\nMAIL FROM:<app@example.com>\r\n"
                     + b"".join(b"RCPT TO:<user%d@example.com>\r\n" % i for i in range(recipients)))
        codes = [replies.readline()[:3] for _ in range(recipients + 2)]
        assert codes[:7] == [b"250"] * 7 and set(codes[7:]) == {b"452"}
        sock.sendall(b"DATA\r\n")
        assert replies.readline().startswith(b"354")
        sock.sendall(b"Subject: flood\r\n\r\nhi\r\n.\r\n")
        reply = replies.readline().decode()
        sock.sendall(b"QUIT\r\n")
        assert replies.readline().startswith(b"221")
        return reply


def test_thousands_of_refused_recipients_keep_a_bounded_record(server: MailServer) -> None:
    assert flood(server, REFUSED + 5).startswith("250")
    (stored,) = server.store.snapshot()
    assert len(stored.envelope.recipients) == 5
    (attempt,) = server.sessions.attempts()
    assert attempt.reply_code == 250 and len(attempt.recipients) == 5 and attempt.recipient_count == 5
    assert attempt.rejected_count == REFUSED
    assert len(attempt.rejected_recipients) == MAX_ATTEMPT_REFUSED
    assert attempt.rejected_recipients[0] == ("user5@example.com", 452)

    api = Api(server.http_url or "")
    answer = api.get(f"/api/v1/session/{attempt.session_id}")
    assert len(answer.body) < 200_000  # was 6.2 MiB for such a transaction
    session = answer.json()
    transcript = session["Transcript"]
    assert len(transcript) <= MAX_TRANSCRIPT_LINES
    assert transcript[0]["Text"].startswith("220") and transcript[1]["Text"].startswith("HELO")
    (gap,) = [line for line in transcript if line["Direction"] == "-"]
    dropped = session["TranscriptLinesNotKept"]
    assert dropped > 4000 and gap["Text"] == f"... {dropped:,} lines not kept ..."
    assert len(transcript) - 1 + dropped > 2 * REFUSED  # every RCPT and its reply was a line
    said = [line["Text"].split(" ")[0] for line in transcript if line["Text"] != "(connection closed)"]
    assert said[-3:] == ["250", "QUIT", "221"]  # the end is kept
    (listed,) = session["Attempts"]
    assert (listed["RecipientCount"], listed["RejectedCount"]) == (5, REFUSED)
    assert len(listed["RejectedRecipients"]) == MAX_ATTEMPT_REFUSED


def greet(server: MailServer, count: int) -> None:
    """``count`` connections one after the other, each only saying EHLO; returns once the server has closed all."""
    closed = threading.Semaphore(0)
    unsubscribe = server.bus.subscribe(lambda event: closed.release() if event.type == "session" else None)
    try:
        for index in range(count):
            with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
                client.ehlo(f"client{index}.example.com")
            assert closed.acquire(timeout=10)
    finally:
        unsubscribe()


def test_the_sessions_list_is_paged_newest_first_with_the_total(server: MailServer) -> None:
    greet(server, 60)
    api = Api(server.http_url or "")
    first = api.get("/api/v1/sessions").json()
    assert (first["total"], first["start"], first["count"], len(first["sessions"])) == (60, 0, 50, 50)
    rest = api.get("/api/v1/sessions?start=50&limit=50").json()
    assert (rest["total"], rest["start"], rest["count"]) == (60, 50, 10)
    helos = [s["Helo"] for s in first["sessions"] + rest["sessions"]]
    assert helos == [f"client{index}.example.com" for index in reversed(range(60))]
    assert len(api.get("/api/v1/sessions?limit=0").json()["sessions"]) == 60


def test_the_ring_of_sessions_keeps_the_latest() -> None:
    with MailServer(http_port=0, session_capacity=5) as server:
        greet(server, 8)
        listed = Api(server.http_url or "").get("/api/v1/sessions").json()
        assert listed["total"] == 5
        assert [s["Helo"] for s in listed["sessions"]] == [f"client{i}.example.com" for i in (7, 6, 5, 4, 3)]


def test_remote_mode_sees_every_attempt_made_after_it_connected_across_pages(server: MailServer) -> None:
    def deliver(subject: str) -> None:
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
            client.sendmail("app@example.com", ["bob@example.com"], f"Subject: {subject}\r\n\r\nhi\r\n")

    for index in range(30):
        deliver(f"before {index}")
    source = RemoteSource(server.http_url or "", server.smtp_host, server.smtp_port)
    try:
        held = smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10)  # an open session with attempts
        held.sendmail("held@example.com", ["bob@example.com"], b"Subject: held 1\r\n\r\nhi\r\n")
        for index in range(150):  # more than one page of sessions
            deliver(f"after {index}")
        assert source.last_attempt_seq() == 151
        held.sendmail("held@example.com", ["bob@example.com"], b"Subject: held 2\r\n\r\nhi\r\n")
        held.quit()
        attempts = source.attempts_since(0)
        assert len(attempts) == 152
        assert [a.sender for a in attempts].count("held@example.com") == 2
        assert [a.message.subject for a in attempts if a.message][:2] == ["held 1", "after 0"]
    finally:
        source.close()


def test_pipelined_transactions_each_keep_their_own_recipients(server: MailServer) -> None:
    transactions = [b"MAIL FROM:<sender%d@example.com>\r\n" % t
                    + b"".join(b"RCPT TO:<t%d-user%d@example.com>\r\n" % (t, i) for i in range(8)) + b"RSET\r\n"
                    for t in range(3)]
    with socket.create_connection((server.smtp_host, server.smtp_port), timeout=30) as sock:
        replies = sock.makefile("rb")
        replies.readline()
        sock.sendall(b"HELO pipelining.example.com\r\n" + b"".join(transactions))  # all in one write
        codes = [replies.readline()[:3] for _ in range(1 + 3 * 10)]
        assert codes.count(b"452") == 9
        sock.sendall(b"QUIT\r\n")
        assert replies.readline().startswith(b"221")
    attempts = server.sessions.attempts()
    assert [a.sender for a in attempts] == [f"sender{t}@example.com" for t in range(3)]
    for t, attempt in enumerate(attempts):
        assert attempt.recipients == tuple(f"t{t}-user{i}@example.com" for i in range(5))
        assert attempt.rejected_recipients == tuple((f"t{t}-user{i}@example.com", 452) for i in range(5, 8))
        assert (attempt.recipient_count, attempt.rejected_count, attempt.reply_code) == (5, 3, 452)


def test_long_addresses_are_bounded_by_size_too() -> None:
    long_name = "x" * 300
    with MailServer(http_port=0) as server:
        with socket.create_connection((server.smtp_host, server.smtp_port), timeout=30) as sock:
            replies = sock.makefile("rb")
            replies.readline()
            sock.sendall(b"HELO long.example.com\r\n")
            replies.readline()
            for t in range(30):  # 30 transactions of 100 recipients with 320-character addresses
                sock.sendall(b"MAIL FROM:<app@example.com>\r\n" + b"".join(
                    f"RCPT TO:<{long_name}{t}-{i}@example.com>\r\n".encode() for i in range(100)) + b"RSET\r\n")
                assert {replies.readline()[:3] for _ in range(102)} == {b"250"}
            sock.sendall(b"QUIT\r\n")
            assert replies.readline().startswith(b"221")
        assert len(server.sessions.attempts()) == 30  # the server's attempt log has them all
        (record,) = server.sessions.sessions()
        assert sum(len(line.text) for line in record.lines) <= MAX_TRANSCRIPT_CHARS + 1000
        kept = record.attempts
        assert 0 < len(kept) < 30 and kept[-1] is server.sessions.attempts()[-1]
        assert sum(sum(map(len, a.recipients)) for a in kept) <= MAX_SESSION_ATTEMPT_CHARS
        answer = Api(server.http_url or "").get(f"/api/v1/session/{record.id}")
        assert len(answer.body) < 450_000  # 1 MB of RCPT lines went in
