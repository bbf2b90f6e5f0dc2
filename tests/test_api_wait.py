"""The long-poll ``GET /api/v1/wait`` answers the moment ``count`` messages match the query (no polling in
clients), counts messages already there, and answers 408 with what matched so far when time runs out."""

from __future__ import annotations

import smtplib
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

from http_api import Answer, Api
from mailtools import make_message, send

from mailtrap_lite import MailServer, Message


def _wait(api: Api, query: str, count: int = 1, timeout: float = 30) -> Answer:
    return api.get(f"/api/v1/wait?query={quote(query)}&count={count}&timeout={timeout}")


def test_the_wait_returns_when_the_message_arrives(server: MailServer) -> None:
    api = Api(server.http_url or "")
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(_wait, api, "to:carol subject:invite")
        send(server, make_message(to="dave@example.com", subject="invite"))  # does not match
        send(server, make_message(to="carol@example.com", subject="invite"))
        answer = waiting.result(timeout=30)  # far less than the 30 s the server would wait
    assert answer.status == 200
    result = answer.json()
    assert (result["messages_count"], result["timed_out"]) == (1, False)
    assert result["messages"][0]["To"] == [{"Name": "", "Address": "carol@example.com"}]


def test_messages_already_stored_count(server: MailServer) -> None:
    send(server, make_message(subject="one"))
    send(server, make_message(subject="two"))
    answer = _wait(Api(server.http_url or ""), "", count=2)
    assert answer.status == 200
    assert [m["Subject"] for m in answer.json()["messages"]] == ["two", "one"]  # newest first, like every list


def test_a_timeout_is_408_with_what_matched_so_far(server: MailServer) -> None:
    send(server, make_message(subject="only one"))
    answer = _wait(Api(server.http_url or ""), "subject:only", count=2, timeout=0.2)
    assert answer.status == 408
    result = answer.json()
    assert (result["messages_count"], result["timed_out"]) == (1, True)


def test_bad_wait_parameters_are_400(server: MailServer) -> None:
    api = Api(server.http_url or "")
    for params, reason in (("timeout=forever", "timeout must be a number"), ("timeout=9999", "between 0 and 300"),
                           ("count=-1", "count must not be negative"), ("query=nope:x", "unknown search filter")):
        answer = api.get(f"/api/v1/wait?{params}")
        assert answer.status == 400 and reason in answer.text, params


def test_a_waiter_testing_messages_never_holds_up_smtp(server: MailServer) -> None:
    # A wait's test can be slow (the first text search of a large store builds the word index): while it runs,
    # the SMTP side must still store and acknowledge mail.
    testing, release = threading.Event(), threading.Event()

    def slow_test(message: Message) -> bool:
        testing.set()
        return release.wait(timeout=30) and message.subject == "second"

    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(server.store.wait_for, slow_test, 1, 30.0)
        send(server, make_message(subject="first"))
        assert testing.wait(timeout=10)
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=5) as client:
            client.send_message(make_message(subject="second"))  # timed out here when the test held the lock
        release.set()
        found, reached = waiting.result(timeout=30)
    assert reached and [m.subject for m in found] == ["second"]
