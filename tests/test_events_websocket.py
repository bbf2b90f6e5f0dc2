"""The websocket ``/api/events`` streams Mailpit's frames in the order things happened: ``new`` when SMTP stores a
message, then ``update``, ``delete`` and ``truncate`` as the API changes things, plus our ``session`` frames.
A client that stops reading never holds up SMTP or the other clients."""

from __future__ import annotations

import asyncio
import json
import smtplib
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import websocket
from http_api import Api
from mailtools import make_message, send

from mailtrap_lite import Envelope, MailServer
from mailtrap_lite.events import Event

WAIT = 10.0  # generous: a shared machine; each recv returns as soon as a frame arrives


def _connect(server: MailServer, **options: Any) -> websocket.WebSocket:
    ws = websocket.create_connection((server.http_url or "").replace("http://", "ws://") + "/api/events",
                                     timeout=WAIT, **options)
    first = json.loads(ws.recv())
    assert first["Type"] == "stats"  # every connection starts with the current counts
    return ws


def _next(ws: websocket.WebSocket, *types: str) -> dict[str, Any]:
    """The next frame of one of ``types`` (stats and session frames in between are skipped)."""
    while True:
        frame: dict[str, Any] = json.loads(ws.recv())
        if frame["Type"] in types:
            return frame


@pytest.fixture
def events(server: MailServer) -> Iterator[websocket.WebSocket]:
    """A websocket-client connection to the server's event stream."""
    ws = _connect(server)
    yield ws
    ws.close()


def test_changes_arrive_as_frames_in_the_order_they_happened(server: MailServer, events: websocket.WebSocket) -> None:
    api = Api(server.http_url or "")
    send(server, make_message(subject="first"))
    new = _next(events, "new", "update", "delete", "truncate")
    assert new["Type"] == "new" and new["Data"]["Subject"] == "first"
    assert new["Data"]["To"] == [{"Name": "", "Address": "bob@example.com"}] and new["Data"]["Read"] is False
    message_id = new["Data"]["ID"]

    api.get(f"/api/v1/message/{message_id}")  # reading marks it read
    api.request("PUT", "/api/v1/tags", {"IDs": [message_id], "Tags": ["seen"]})
    send(server, make_message(subject="second"))
    api.request("DELETE", "/api/v1/messages", {"IDs": [message_id]})
    api.request("DELETE", "/api/v1/messages")

    frames = [_next(events, "new", "update", "delete", "truncate") for _ in range(5)]
    assert [(f["Type"], f["Data"]) for f in frames[:2]] == [
        ("update", {"ID": message_id, "Read": True}),
        ("update", {"ID": message_id, "Tags": ["seen"]}),
    ]
    assert (frames[2]["Type"], frames[2]["Data"]["Subject"]) == ("new", "second")
    assert (frames[3]["Type"], frames[3]["Data"]) == ("delete", {"ID": message_id})
    assert (frames[4]["Type"], frames[4]["Data"]) == ("truncate", None)


def test_marking_read_twice_sends_one_update(server: MailServer, events: websocket.WebSocket) -> None:
    api = Api(server.http_url or "")
    send(server, make_message())
    message_id = _next(events, "new")["Data"]["ID"]
    api.request("PUT", "/api/v1/messages", {"IDs": [message_id], "Read": True})
    api.request("PUT", "/api/v1/messages", {"IDs": [message_id], "Read": True})
    api.request("PUT", "/api/v1/messages", {"IDs": [message_id], "Read": False})
    assert _next(events, "update")["Data"] == {"ID": message_id, "Read": True}
    assert _next(events, "update")["Data"] == {"ID": message_id, "Read": False}


def test_finished_smtp_sessions_arrive_even_when_rejected(server: MailServer, events: websocket.WebSocket) -> None:
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.ehlo("retry-test")
        client.mail("a@example.com")
        client.rcpt("b@example.com")
        client.rset()
    frame = _next(events, "session")
    assert frame["Data"]["Helo"] == "retry-test"
    assert frame["Data"]["MessageIDs"] == []


def test_changed_fault_rules_arrive_as_a_faults_frame(server: MailServer, events: websocket.WebSocket) -> None:
    api = Api(server.http_url or "")
    rule = api.request("POST", "/api/v1/faults", {"rule": "data:451:times=2"}).json()
    assert _next(events, "faults")["Data"] == [{**rule, "fired": 0, "matched": 0}]
    api.request("DELETE", "/api/v1/faults")
    assert _next(events, "faults")["Data"] == []


def test_stats_follow_changes(server: MailServer, events: websocket.WebSocket) -> None:
    send(server, make_message())
    assert _next(events, "stats")["Data"]["Total"] == 1


def test_a_client_that_stops_reading_holds_up_neither_smtp_nor_other_clients(server: MailServer) -> None:
    # a tiny receive buffer, so the server notices quickly that this client has stopped reading
    lazy = _connect(server, sockopt=((socket.SOL_SOCKET, socket.SO_RCVBUF, 4096),))
    eager = _connect(server)
    padding = "x" * 990  # summaries cut a subject (and a name) at 1,000 characters: the name pads the frame too
    sender = "y" * 1000
    count, batch = 3000, 100  # ~6 MB of frames: more than socket buffers plus the per-client backlog hold
    seen: list[str] = []
    progress = threading.Condition()

    def read_eagerly() -> None:
        for _ in range(count + 1):
            subject = _next(eager, "new")["Data"]["Subject"].split(" x")[0]
            with progress:
                seen.append(subject)
                progress.notify_all()

    try:
        with ThreadPoolExecutor(1) as pool:
            reader = pool.submit(read_eagerly)
            for number in range(count):
                raw = f"From: {sender} <a@example.com>\r\nSubject: bulk {number} {padding}\r\n\r\nbody\r\n".encode()
                server.store.add(raw, Envelope("a@example.com", ("b@example.com",)))
                if number % batch == batch - 1:  # let the eager reader keep up; the lazy one never will
                    with progress:
                        assert progress.wait_for(lambda n=number: len(seen) > n - batch, timeout=WAIT)
            send(server, make_message(subject="after the flood"))  # SMTP still answers at once
            reader.result(timeout=WAIT)
        assert seen == [f"bulk {n}" for n in range(count)] + ["after the flood"]
        received = 0
        with pytest.raises(websocket.WebSocketException):  # the lazy client was cut off part-way
            while True:
                lazy.recv()
                received += 1
        assert received < count
    finally:
        eager.close()
        lazy.close()


def _store_bulk(server: MailServer, count: int) -> list[str]:
    envelope = Envelope("a@example.com", ("b@x",))
    return [server.store.add(f"Subject: bulk {n}\r\n\r\nbody\r\n".encode(), envelope).id for n in range(count)]


def test_a_bulk_change_arrives_as_one_prune_instead_of_a_flood(server: MailServer) -> None:
    _store_bulk(server, 201)
    ws = _connect(server)
    try:
        api = Api(server.http_url or "")
        api.request("PUT", "/api/v1/messages", {"Read": True})
        assert _next(ws, "update", "prune") == {"Type": "prune", "Data": None}
        api.request("DELETE", "/api/v1/search?query=subject%3Abulk")
        assert _next(ws, "delete", "prune") == {"Type": "prune", "Data": None}
        send(server, make_message(subject="after the bulk change"))  # nothing else was queued before it
        assert _next(ws, "new", "update", "delete", "prune")["Data"]["Subject"] == "after the bulk change"
    finally:
        ws.close()


def test_the_prune_is_decided_by_the_change_not_by_how_fast_clients_read(server: MailServer) -> None:
    announced: list[Event] = []
    server.bus.subscribe(announced.append)
    ids = _store_bulk(server, 201)
    announced.clear()
    server.store.set_tags(ids, ["bulk"])
    server.store.delete(ids[:200])
    assert announced[0] == Event("prune", tuple(ids))
    assert announced[1:] == [Event("delete", message_id) for message_id in ids[:200]]


def test_a_change_to_200_messages_still_names_each_one(server: MailServer) -> None:
    ids = _store_bulk(server, 200)
    ws = _connect(server)
    try:
        Api(server.http_url or "").request("DELETE", "/api/v1/messages", {"IDs": ids})
        assert [_next(ws, "delete", "prune") for _ in ids] == [{"Type": "delete", "Data": {"ID": i}} for i in ids]
    finally:
        ws.close()


def test_plain_http_to_the_websocket_path_is_a_400(server: MailServer) -> None:
    assert Api(server.http_url or "").get("/api/events").status == 400


def test_a_message_reaches_clients_even_when_the_loop_that_stored_it_stalls(
    server: MailServer, events: websocket.WebSocket
) -> None:
    release = threading.Event()

    async def store_then_stall() -> None:
        raw = make_message(subject="stalled").as_bytes()
        server.store.add(raw, Envelope("alice@example.com", ("bob@example.com",)))
        release.wait(3 * WAIT)  # held up (longer than the client waits) before the loop can build the frame

    stalled = threading.Thread(target=asyncio.run, args=(store_then_stall(),))
    stalled.start()
    try:
        assert _next(events, "new")["Data"]["Subject"] == "stalled"
    finally:
        release.set()
        stalled.join(WAIT)
