"""Limits answer with a clear reply instead of falling over: recipients per message (``452 4.5.3``), concurrent
connections (``421 4.7.0``), idle clients (``421 4.4.2``), API request bodies (``413``) and websocket clients
(``503``). Each is configurable."""

from __future__ import annotations

import json
import smtplib
import socket

import pytest
import websocket
from http_api import Api
from mailtools import make_message, send
from test_smtp_bad_input import RawClient

from mailtrap_lite import MailServer


def test_recipients_over_the_limit_get_452_and_the_rest_are_delivered() -> None:
    with MailServer(max_recipients=3) as server, smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as c:
        c.ehlo()
        c.mail("app@example.com")
        codes = [c.rcpt(f"user{i}@example.com") for i in range(5)]
        assert [code for code, _ in codes] == [250, 250, 250, 452, 452]
        assert codes[3][1].startswith(b"4.5.3")
        assert c.data(b"Subject: many\r\n\r\nhi\r\n")[0] == 250
        (stored,) = server.store.snapshot()
        assert stored.envelope.recipients == ("user0@example.com", "user1@example.com", "user2@example.com")


def test_the_default_recipient_limit_is_100() -> None:
    with MailServer() as server:
        recipients = [f"user{i}@example.com" for i in range(101)]
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
            refused = client.sendmail("app@example.com", recipients, b"Subject: all\r\n\r\nhi\r\n")
        assert list(refused) == ["user100@example.com"]
        assert refused["user100@example.com"][0] == 452


def test_connections_over_the_limit_get_421_and_are_closed() -> None:
    with MailServer(max_connections=3) as server:
        held = [RawClient(server) for _ in range(3)]  # each has read its 220 greeting
        extra = socket.create_connection((server.smtp_host, server.smtp_port), timeout=10)
        with extra.makefile("rb") as reply:
            assert reply.readline().startswith(b"421 4.7.0 Too many connections")
            assert reply.readline() == b""  # and the server closed it
        extra.close()

        assert held[0].command(b"QUIT").startswith("221")
        assert held[0].file.readline() == b""  # closed on the server side: its slot is free again
        send(server, make_message(subject="a slot was free"))
        assert [m.subject for m in server.store.snapshot()] == ["a slot was free"]
        for client in held:
            client.close()
        refused = [s for s in server.sessions.sessions() if any("421 4.7.0" in line.text for line in s.lines)]
        assert len(refused) == 1  # the refusal is in the transcripts, like any other session


def test_an_idle_client_is_told_421_4_4_2_and_dropped() -> None:
    with MailServer(idle_timeout=0.3) as server:
        client = RawClient(server)
        assert client.command(b"EHLO idle.example").startswith("250")
        assert client.reply().startswith("421 4.4.2")  # arrives unasked once the client has been quiet
        assert client.file.readline() == b""
        client.close()
        send(server)  # others are unaffected
        assert len(server.store) == 1


def test_an_api_body_over_the_limit_gets_413() -> None:
    with MailServer(http_port=0) as server:
        api = Api(server.http_url or "")
        answer = api.request("PUT", "/api/v1/messages", raw=b"{" + b" " * (6 * 1024 * 1024) + b"}",
                             headers={"Content-Type": "application/json"})
        assert answer.status == 413
        assert answer.headers["Content-Type"].startswith("text/plain")


def test_websocket_clients_over_the_limit_get_503() -> None:
    with MailServer(http_port=0, max_websocket_clients=2) as server:
        url = (server.http_url or "").replace("http://", "ws://") + "/api/events"
        connected = [websocket.create_connection(url, timeout=10) for _ in range(2)]
        for ws in connected:
            assert json.loads(ws.recv())["Type"] == "stats"  # both are registered with the event hub
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(url, timeout=10)
        assert refused.value.status_code == 503
        assert b"too many websocket clients (limit 2)" in (refused.value.resp_body or b"")
        assert Api(server.http_url or "").get("/api/v1/messages").status == 200  # the rest of the API is unaffected
        for ws in connected:
            ws.close()
