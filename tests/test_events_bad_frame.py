"""One event whose frame cannot be built never ends the live event stream: it is logged once per kind of failure
and skipped, and the next real message still reaches every connected websocket client."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import websocket
from mailtools import make_message, send

from mailtrap_lite import MailServer
from mailtrap_lite.events import Event

WAIT = 10.0


def _connect(server: MailServer) -> websocket.WebSocket:
    ws = websocket.create_connection((server.http_url or "").replace("http://", "ws://") + "/api/events",
                                     timeout=WAIT)
    assert json.loads(ws.recv())["Type"] == "stats"
    return ws


def _next_of(ws: websocket.WebSocket, kind: str) -> dict[str, Any]:
    while True:
        frame: dict[str, Any] = json.loads(ws.recv())
        if frame["Type"] == kind:
            return frame


def test_a_frame_that_cannot_be_built_is_skipped_and_later_mail_still_arrives(
    server: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = _connect(server), _connect(server)
    try:
        with caplog.at_level(logging.ERROR, logger="mailtrap_lite.web.events"):
            for _ in range(50):  # a bad payload, published again and again on the server's own bus
                server.bus.publish(Event("update", {"ID": "x", "Read": object()}))  # not JSON
            server.bus.publish(Event("new", "not a message"))  # another kind of failure
            send(server, make_message(subject="after the bad frames"))
            for ws in (first, second):
                assert _next_of(ws, "new")["Data"]["Subject"] == "after the bad frames"
        failures = [r.getMessage() for r in caplog.records if r.name == "mailtrap_lite.web.events"]
        assert len(failures) == 2, failures  # once per kind, not fifty times
        assert failures[0].startswith("building a 'update' event frame failed (TypeError:")
        assert failures[1].startswith("building a 'new' event frame failed (AttributeError:")
    finally:
        first.close()
        second.close()

