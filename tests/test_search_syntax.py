"""The search syntax (Mailpit's) picks exactly the right messages: each filter, negation, phrases, combinations.

One corpus is sent over real SMTP; each row of the tables is a query and the subjects it must return, newest first.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from urllib.parse import quote

import pytest
from http_api import Api

from mailtrap_lite import MailServer

WEEKLY, RESET, HELLO, BIG = "Weekly report", "Password reset", "Héllo wörld", "Big one"
ALL = [BIG, HELLO, RESET, WEEKLY]  # newest first


def _weekly() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Alice Archer <alice@example.com>"
    message["To"] = "bob@example.com"
    message["Cc"] = "Carol <carol@example.com>"
    message["Subject"] = WEEKLY
    message["Message-ID"] = "<weekly-1@example.com>"
    message.set_content("The numbers are up this week.")
    message.add_attachment(b"%PDF-1.4 fake", "application", "pdf", filename="report.pdf")
    return message


def _reset() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "noreply@shop.test"
    message["To"] = "dave+promo@example.net"
    message["Reply-To"] = "support@shop.test"
    message["Subject"] = RESET
    message["X-Tags"] = "urgent"
    message.set_content("<p>Click <b>here</b> to choose a new secret</p>", subtype="html")
    message.add_related(b"\x89PNG fake", "image", "png", cid="<logo@shop>", disposition="inline")
    return message


def _hello() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Zoë Zimmer <zoe@example.org>"
    message["To"] = "bob@example.com"
    message["Subject"] = HELLO
    message.set_content("Un café au lait, s'il vous plaît.")
    return message


def _big() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "alice@example.com"
    message["To"] = "frank@example.com"
    message["Subject"] = BIG
    message.set_content("lorem ipsum " * 20_000)
    return message


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    """A server holding the four messages above; the weekly report has been read."""
    with MailServer(http_port=0) as server:
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
            client.send_message(_weekly())
            client.send_message(_reset())
            client.send_message(_hello(), to_addrs=["bob@example.com", "eve@example.com"])
            client.send_message(_big())
        http = Api(server.http_url or "")
        weekly_id = http.json(f"/api/v1/search?query={quote('subject:weekly')}")["messages"][0]["ID"]
        http.json(f"/api/v1/message/{weekly_id}")  # reading it marks it read
        yield http


FILTERS = [
    ("report", [WEEKLY]),
    ('"numbers are up"', [WEEKLY]),
    ('"up numbers"', []),
    ("café", [HELLO]),
    ("CAFÉ", [HELLO]),
    ("secret", [RESET]),  # words of an HTML-only body
    ("report.pdf", [WEEKLY]),  # attachment file names
    ("from:alice", [BIG, WEEKLY]),
    ("from:Archer", [WEEKLY]),  # the display name counts
    ("from:ZOE", [HELLO]),
    ("to:bob@example.com", [HELLO, WEEKLY]),
    ("cc:carol", [WEEKLY]),
    ("bcc:eve@example.com", [HELLO]),
    ("reply-to:support", [RESET]),
    ("addressed:frank", [BIG]),
    ("subject:weekly", [WEEKLY]),
    ('subject:"password reset"', [RESET]),
    ("message-id:weekly-1@", [WEEKLY]),
    ("tag:promo", [RESET]),  # from the plus-address dave+promo@
    ("tag:URGENT", [RESET]),  # from X-Tags, matched case-insensitively
    ("is:read", [WEEKLY]),
    ("is:unread", [BIG, HELLO, RESET]),
    ("is:tagged", [RESET]),
    ("has:attachment", [WEEKLY]),
    ("has:attachments", [WEEKLY]),
    ("has:inline", [RESET]),
    ("larger:100K", [BIG]),
    ("smaller:0.1MB", [HELLO, RESET, WEEKLY]),
    ("after:2000-01-01", ALL),
    ("before:2000-01-01", []),
    ("after:01/31/2999", []),
    ("FROM:alice", [BIG, WEEKLY]),  # filter names ignore case
]

NEGATIONS = [
    ("-from:alice", [HELLO, RESET]),
    ("!from:alice", [HELLO, RESET]),
    ("-is:tagged", [BIG, HELLO, WEEKLY]),
    ("-has:attachment", [BIG, HELLO, RESET]),
    ("-before:2000-01-01", ALL),
    ("-café", [BIG, RESET, WEEKLY]),
    ('-"numbers are up"', [BIG, HELLO, RESET]),
    ('-"foo:bar"', ALL),  # a quoted word with a colon is text, negated or not
]

COMBINATIONS = [
    ("from:alice has:attachment", [WEEKLY]),
    ("from:alice -has:attachment", [BIG]),
    ("to:bob is:unread", [HELLO]),
    ("lorem ipsum", [BIG]),
    ("lorem -ipsum", []),
    ("is:unread -tag:promo smaller:100K", [HELLO]),
]


@pytest.mark.parametrize(("query", "expected"), FILTERS + NEGATIONS + COMBINATIONS)
def test_search_returns_exactly_the_matching_messages_newest_first(api: Api, query: str, expected: list[str]) -> None:
    assert api.search(query) == expected


def test_search_counts_matches_and_unread_matches(api: Api) -> None:
    found = api.json(f"/api/v1/search?query={quote('from:alice')}&limit=1")
    assert (found["messages_count"], found["messages_unread"], found["count"]) == (2, 1, 1)
    assert (found["total"], found["unread"]) == (4, 3)


def test_latest_with_a_query_is_the_newest_match(api: Api) -> None:
    assert api.json(f"/api/v1/message/latest/headers?query={quote('tag:promo')}")["Subject"] == [RESET]
    missing = api.get(f"/api/v1/message/latest?query={quote('subject:nothing-like-this')}")
    assert (missing.status, missing.text) == (404, "Message not found")


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("foo:bar", "unknown search filter 'foo:'"),
        ("is:starred", "is:starred is not a filter"),
        ("has:feathers", "has:feathers is not a filter"),
        ("larger:huge", "cannot read size 'huge'"),
        ("after:someday", "cannot read date 'someday'"),
        ("before:99999999999999999", "cannot read date"),  # a timestamp beyond the calendar
        ("subject:", "needs a value"),
        ("", "no search query"),
    ],
)
def test_a_query_that_cannot_be_understood_is_a_400_that_says_why(api: Api, query: str, reason: str) -> None:
    answer = api.get(f"/api/v1/search?query={quote(query)}")
    assert answer.status == 400
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert reason in answer.text


def test_quoting_a_word_with_a_colon_searches_for_it_as_text(api: Api) -> None:
    assert api.search('"foo:bar"') == []


def test_dates_are_read_in_the_requested_time_zone(api: Api) -> None:
    assert api.search("after:2000-01-01", tz="Pacific/Auckland") == ALL
    answer = api.get(f"/api/v1/search?query={quote('after:2000-01-01')}&tz=Mars/Olympus")
    assert (answer.status, answer.text) == (400, "unknown time zone: 'Mars/Olympus'")
