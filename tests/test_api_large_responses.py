"""Answers built from large messages hold a bounded amount of memory at once: past the in-flight reserve a request
waits, then gets 503 with the reason; once the answer in flight has been read, the next one goes through."""

from __future__ import annotations

import json
import smtplib
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from mailtrap_lite import MailServer
from mailtrap_lite.web import app as web_app

MiB = 1024 * 1024
TEXT = ("a line of a long plain text message, " * 2 + "\r\n") * (8 * MiB // 76)  # about 8 MiB


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[MailServer]:
    monkeypatch.setattr(web_app, "IN_FLIGHT_BYTES", 20 * MiB)  # one 8 MiB message's answer (16 MiB) at a time
    monkeypatch.setattr(web_app, "WAIT_SECONDS", 1.0)
    with MailServer(http_port=0) as running:
        yield running


def _held_request(port: int, path: str) -> socket.socket:
    """A GET whose answer the client does not read yet (a small receive window keeps it in flight)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
    return sock


def _read_all(sock: socket.socket) -> bytes:
    sock.settimeout(30)
    chunks = []
    while chunk := sock.recv(1 << 20):
        chunks.append(chunk)
    sock.close()
    return b"".join(chunks)


def test_a_large_answer_waits_for_the_one_in_flight_then_503(server: MailServer) -> None:
    with smtplib.SMTP(server.smtp_host, server.smtp_port) as client:
        client.sendmail("a@example.com", ["b@example.com"], f"Subject: big\r\n\r\n{TEXT}".encode())
    with urllib.request.urlopen(f"{server.http_url}/api/v1/messages") as answer:
        message_id = json.loads(answer.read())["messages"][0]["ID"]
    assert server.http_port is not None
    held = _held_request(server.http_port, f"/view/{message_id}.txt")
    # wait until the server has started sending it (the status line arrives first)
    held.settimeout(30)
    assert held.recv(12).startswith(b"HTTP/1.1 200")

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{server.http_url}/api/v1/message/{message_id}", timeout=30)
    assert refused.value.code == 503
    assert "too many large messages being sent at once" in refused.value.read().decode()

    assert len(_read_all(held)) > 8_000_000  # the answer in flight arrives whole
    with urllib.request.urlopen(f"{server.http_url}/api/v1/message/{message_id}", timeout=30) as answer:
        assert len(json.loads(answer.read())["Text"]) > 8_000_000


def test_small_messages_are_not_held_up(server: MailServer) -> None:
    with smtplib.SMTP(server.smtp_host, server.smtp_port) as client:
        client.sendmail("a@example.com", ["b@example.com"], f"Subject: big\r\n\r\n{TEXT}".encode())
        client.sendmail("a@example.com", ["b@example.com"], b"Subject: small\r\n\r\nhello\r\n")
    with urllib.request.urlopen(f"{server.http_url}/api/v1/messages") as answer:
        small_id, big_id = (m["ID"] for m in json.loads(answer.read())["messages"])
    assert server.http_port is not None
    held = _held_request(server.http_port, f"/view/{big_id}.txt")
    held.settimeout(30)
    assert held.recv(12).startswith(b"HTTP/1.1 200")
    with urllib.request.urlopen(f"{server.http_url}/api/v1/message/{small_id}", timeout=30) as answer:
        assert json.loads(answer.read())["Text"].startswith("hello")
    _read_all(held)
