"""A kept-alive HTTP connection never mixes requests up: pipelined requests get their answers in order, a body is
read to exactly its Content-Length, and a request whose length is ambiguous is refused and its connection closed
(so nothing can be smuggled in as a second request)."""

from __future__ import annotations

import re
import socket

from mailtrap_lite import MailServer

WAIT = 10.0


def _exchange(server: MailServer, data: bytes) -> bytes:
    """Send ``data`` on one connection and read until the server closes it."""
    with socket.create_connection(("127.0.0.1", server.http_port or 0), timeout=WAIT) as sock:
        sock.sendall(data)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def test_pipelined_requests_are_answered_in_order(server: MailServer) -> None:
    body = b'{"IDs": [], "Read": true}'
    reply = _exchange(server, (
        b"GET /livez HTTP/1.1\r\nHost: localhost\r\n\r\n"
        b"PUT /api/v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s"
        b"GET /api/v1/nothing-here HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    ) % (len(body), body))
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", reply)  # each status line follows the previous body directly
    assert statuses == [b"200", b"200", b"404"]


def test_a_request_with_two_different_lengths_is_refused_and_its_connection_closed(server: MailServer) -> None:
    reply = _exchange(server, (
        b"PUT /api/v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nContent-Length: 60\r\n\r\n"
        b"{}GET /api/v1/messages HTTP/1.1\r\nHost: localhost\r\n\r\n"
    ))
    assert reply.startswith(b"HTTP/1.1 400 ")
    assert reply.count(b"HTTP/1.1 ") == 1  # the would-be second request was never served


def test_a_chunked_request_is_answered_and_then_the_connection_closes(server: MailServer) -> None:
    body = b'{"IDs": [], "Read": true}'
    reply = _exchange(server, (
        b"PUT /api/v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n%x\r\n%s\r\n0\r\n\r\n"
        b"GET /api/v1/messages HTTP/1.1\r\nHost: localhost\r\n\r\n"
    ) % (len(body), body))
    assert reply.startswith(b"HTTP/1.1 200 ")
    assert reply.count(b"HTTP/1.1 ") == 1  # what followed a body without a length is not taken for a request
