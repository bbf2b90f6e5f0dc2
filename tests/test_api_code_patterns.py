"""``/api/v1/message/{ID}/codes?pattern=`` runs a pattern any web page can send (an ``<img src>`` is enough): a
catastrophic one answers at once without holding the server, and a refused one gets a 400 that says why."""

from __future__ import annotations

import smtplib
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
from http_api import Api
from mailtools import make_message, send

from mailtrap_lite import MailServer

# Only catches a freeze: Python's re never finished (a+)+$ on this line; RE2 answers in milliseconds.
FREEZE_BOUND = 10.0


def _codes(server: MailServer, pattern: str) -> tuple[int, str]:
    url = f"{server.http_url}/api/v1/message/latest/codes?pattern={quote(pattern)}"
    try:
        with urllib.request.urlopen(url, timeout=FREEZE_BOUND) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _list_messages(server: MailServer) -> int:
    with urllib.request.urlopen(f"{server.http_url}/api/v1/messages", timeout=FREEZE_BOUND) as response:
        return int(response.status)


def _deliver(server: MailServer) -> None:
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=FREEZE_BOUND) as client:
        client.send_message(make_message(subject="meanwhile"))


def test_a_catastrophic_pattern_neither_hangs_nor_holds_the_server(server: MailServer) -> None:
    send(server, make_message(subject="long line", text="a" * 5000 + "!"))
    pool = ThreadPoolExecutor(max_workers=3)
    try:
        hostile = pool.submit(_codes, server, "(a+)+$")
        listing = pool.submit(_list_messages, server)
        delivery = pool.submit(_deliver, server)
        assert listing.result(timeout=FREEZE_BOUND) == 200
        delivery.result(timeout=FREEZE_BOUND)
        status, body = hostile.result(timeout=FREEZE_BOUND)
    finally:
        pool.shutdown(wait=False)
    assert status in (200, 400), body
    assert Api(server.http_url or "").json("/api/v1/messages")["total"] == 2


def test_a_too_long_pattern_is_refused_with_the_limit(server: MailServer) -> None:
    send(server, make_message())
    status, body = _codes(server, "a" * 1001)
    assert status == 400 and "at most 1000 characters" in body


@pytest.mark.parametrize("pattern", [r"(\d)\1", r"(?<=code )\d+", "(unclosed"])
def test_a_pattern_re2_cannot_run_is_refused_with_the_reason(server: MailServer, pattern: str) -> None:
    send(server, make_message())
    status, body = _codes(server, pattern)
    assert status == 400 and "not a valid regular expression for RE2" in body


def test_a_pattern_too_costly_for_a_long_message_is_refused(server: MailServer) -> None:
    send(server, make_message(text="code 123456\n" + "ab" * 200_000))
    status, body = _codes(server, "(?s)(.*a){1000}")
    assert status == 400 and "too complex for this message" in body
    status, body = _codes(server, r"code (\d{6})")
    assert status == 200 and '"Codes":["123456"]' in body.replace(" ", "")


@pytest.mark.parametrize(
    ("pattern", "codes"),
    [(r"\d{6}", ["123456"]), (r"(?P<code>\d{6})", ["123456"]), (r"(?i)CODE:\s*(\w+)", ["123456"]),
     (r"ref (x)?([A-Z]+)", [])],
)
def test_the_patterns_tests_use_still_work(server: MailServer, pattern: str, codes: list[str]) -> None:
    send(server, make_message(subject="Sign in", text="Your code: 123456 (ref ABC)"))
    found = Api(server.http_url or "").json(f"/api/v1/message/latest/codes?pattern={quote(pattern)}")
    assert found["Codes"] == codes and found["Pattern"] == pattern
