"""Guessing ``--ui-auth`` passwords is slowed down: after 5 failed logins within a minute from one client address,
that address gets ``429`` with ``Retry-After`` (no worker thread waits) until the window has passed, and the server
logs it once. Other addresses log in as usual, and so does this one after the window."""

from __future__ import annotations

import base64
import http.client
import logging
import re
import threading
from collections.abc import Iterator

import pytest

from mailtrap_lite import MailServer

GOOD = ("qa", "s3cret")
WRONG = ("qa", "guess")


def login(server: MailServer, credentials: tuple[str, str] | None, source: str = "127.0.0.1") -> tuple[int, str]:
    """GET /api/v1/info from ``source`` (any 127/8 address is this machine); the status and Retry-After."""
    connection = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10, source_address=(source, 0))
    headers = {}
    if credentials is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(credentials).encode()).decode()
    try:
        connection.request("GET", "/api/v1/info", headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Retry-After", "")
    finally:
        connection.close()


@pytest.fixture
def guarded() -> Iterator[MailServer]:
    with MailServer(http_port=0, ui_auth=dict([GOOD])) as server:
        yield server


def throttled_logs(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "failed --ui-auth logins" in r.getMessage()]


def test_the_sixth_failure_in_a_minute_gets_429_and_is_logged_once(
        guarded: MailServer, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mailtrap_lite"):
        assert [login(guarded, WRONG)[0] for _ in range(5)] == [401] * 5
        for credentials in (WRONG, GOOD, None, WRONG):  # even the right password waits now
            status, retry_after = login(guarded, credentials)
            assert status == 429
            assert 0 < int(retry_after) <= 60
    (logged,) = throttled_logs(caplog)
    assert re.fullmatch(r"5 failed --ui-auth logins from 127\.0\.0\.1 within 60 s: it gets 429 for the next "
                        r"(59|60) s", logged)


def test_other_client_addresses_log_in_at_once(guarded: MailServer) -> None:
    for _ in range(6):
        login(guarded, WRONG)
    assert login(guarded, WRONG)[0] == 429
    assert login(guarded, GOOD, source="127.0.0.2") == (200, "")
    assert login(guarded, WRONG, source="127.0.0.3")[0] == 401  # its own count starts at one


def test_the_client_logs_in_again_after_the_window() -> None:
    with MailServer(http_port=0, ui_auth=dict([GOOD]), login_failure_window=2.0) as server:
        for _ in range(5):
            login(server, WRONG)
        status, retry_after = login(server, GOOD)
        assert (status, retry_after) in ((429, "1"), (429, "2"))
        threading.Event().wait(int(retry_after))  # what Retry-After asks a client to do
        assert login(server, GOOD) == (200, "")
        assert [login(server, WRONG)[0] for _ in range(4)] == [401] * 4  # the correct login cleared the record


def test_requests_without_credentials_do_not_count(guarded: MailServer) -> None:
    """A browser asks without credentials first and only then shows the login prompt."""
    assert [login(guarded, None)[0] for _ in range(20)] == [401] * 20
    assert login(guarded, GOOD) == (200, "")


def test_a_correct_login_clears_earlier_failures(guarded: MailServer) -> None:
    assert [login(guarded, WRONG)[0] for _ in range(4)] == [401] * 4
    assert login(guarded, GOOD)[0] == 200
    assert [login(guarded, WRONG)[0] for _ in range(4)] == [401] * 4
