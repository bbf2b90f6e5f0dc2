"""``/readyz`` answers ``200 ok`` only when every part of the server works, and ``503`` naming the part that does
not (Mailpit answers 200 or 503 too); ``/livez`` only says the HTTP side is alive."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from http_api import Api
from mailtools import make_message, send

from mailtrap_lite import MailServer
from mailtrap_lite.events import Event

WAIT = 10.0


def test_ready_when_everything_works(server: MailServer) -> None:
    answer = Api(server.http_url or "").get("/readyz")
    assert (answer.status, answer.text) == (200, "ok")


def test_not_ready_while_the_smtp_event_loop_is_stuck_and_ready_again_after(server: MailServer) -> None:
    api = Api(server.http_url or "")
    stuck, release = threading.Event(), threading.Event()

    def slow_subscriber(event: Event) -> None:
        """A bus subscriber that blocks: it runs on the SMTP event loop when a message is stored."""
        if event.type == "new":
            stuck.set()
            release.wait(WAIT * 3)

    unsubscribe = server.bus.subscribe(slow_subscriber)
    with ThreadPoolExecutor(1) as pool:
        delivery = pool.submit(send, server, make_message())
        try:
            assert stuck.wait(WAIT)
            answer = api.get("/readyz")
            assert answer.status == 503
            assert answer.text == "SMTP: the event loop did not answer within 1 s\n"
            assert (api.get("/livez").status, api.get("/livez").text) == (200, "ok")
        finally:
            release.set()
            unsubscribe()
        delivery.result(timeout=WAIT)
    assert (api.get("/readyz").status, api.get("/readyz").text) == (200, "ok")

