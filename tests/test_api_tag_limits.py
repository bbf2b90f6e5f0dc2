"""Tags are capped: at most 50 per message and 100 characters each. The API refuses more with a 400 and a plain
reason (changing nothing); mail arriving with more (``X-Tags``, plus-addresses) is still stored, with the tags
past the caps dropped and one log line saying so."""

from __future__ import annotations

import logging
import smtplib
from urllib.parse import quote

import pytest
from http_api import Api
from mailtools import make_message, send

from mailtrap_lite import MailServer

MAX_TAGS, MAX_LENGTH = 50, 100


def _only_message(api: Api) -> dict[str, object]:
    messages = api.json("/api/v1/messages")["messages"]
    assert len(messages) == 1
    found: dict[str, object] = messages[0]
    return found


@pytest.fixture
def api(server: MailServer) -> Api:
    """One message tagged ``first``."""
    tagged = make_message(subject="tagged")
    tagged["X-Tags"] = "first"
    send(server, tagged)
    return Api(server.http_url or "")


def test_fifty_tags_are_set_and_fifty_one_are_refused(api: Api) -> None:
    message_id = _only_message(api)["ID"]
    fifty = [f"tag {n}" for n in range(MAX_TAGS)]
    assert api.request("PUT", "/api/v1/tags", {"IDs": [message_id], "Tags": fifty}).status == 200
    answer = api.request("PUT", "/api/v1/tags", {"IDs": [message_id], "Tags": [*fifty, "one more"]})
    assert (answer.status, answer.text) == (400, "too many tags: 51, at most 50 per message")
    assert _only_message(api)["Tags"] == fifty


def test_a_tag_of_a_hundred_characters_is_set_and_a_longer_one_refused(api: Api) -> None:
    message_id = _only_message(api)["ID"]
    longest = "t" * MAX_LENGTH
    assert api.request("PUT", "/api/v1/tags", {"IDs": [message_id], "Tags": [longest]}).status == 200
    answer = api.request("PUT", "/api/v1/tags", {"IDs": [message_id], "Tags": ["short", longest + "t"]})
    assert (answer.status, answer.text) == (400, "tag too long: 101 characters, at most 100")
    assert _only_message(api)["Tags"] == [longest]


def test_renaming_to_a_name_too_long_is_refused(api: Api) -> None:
    answer = api.request("PUT", f"/api/v1/tags/{quote('first')}", {"Name": "n" * (MAX_LENGTH + 1)})
    assert (answer.status, answer.text) == (400, "tag too long: 101 characters, at most 100")
    assert api.json("/api/v1/tags") == ["first"]
    assert api.request("PUT", f"/api/v1/tags/{quote('first')}", {"Name": "n" * MAX_LENGTH}).status == 200
    assert api.json("/api/v1/tags") == ["n" * MAX_LENGTH]


def test_x_tags_past_the_caps_are_dropped_and_the_message_kept(
    server: MailServer, caplog: pytest.LogCaptureFixture
) -> None:
    message = make_message(subject="many tags")
    many = [f"tag{n}" for n in range(80)]
    message["X-Tags"] = ", ".join(["x" * (MAX_LENGTH + 1), *many])
    with caplog.at_level(logging.WARNING, logger="mailtrap_lite.store"):
        send(server, message)
    stored = _only_message(Api(server.http_url or ""))
    assert stored["Subject"] == "many tags"
    assert stored["Tags"] == many[:MAX_TAGS]
    dropped = [r.getMessage() for r in caplog.records if r.name == "mailtrap_lite.store"]
    assert len(dropped) == 1 and "dropped 31 of its 81 tags" in dropped[0], dropped


def test_plus_address_tags_past_the_cap_are_dropped(server: MailServer) -> None:
    recipients = [f"bob+p{n}@example.com" for n in range(60)]
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.sendmail("alice@example.com", recipients, b"Subject: plus\r\n\r\nhello\r\n")
    stored = _only_message(Api(server.http_url or ""))
    assert stored["Tags"] == [f"p{n}" for n in range(MAX_TAGS)]


def test_tags_given_to_the_send_api_are_capped_too(server: MailServer) -> None:
    api = Api(server.http_url or "")
    tags = [f"api{n}" for n in range(MAX_TAGS + 5)]
    answer = api.request(
        "POST", "/api/v1/send",
        {"From": {"Email": "a@example.com"}, "To": [{"Email": "b@example.com"}], "Subject": "api", "Tags": tags},
    )
    assert answer.status == 200, answer.text
    assert _only_message(api)["Tags"] == tags[:MAX_TAGS]
