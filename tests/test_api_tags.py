"""Tags: taken from ``X-Tags`` and plus-addresses on arrival, then set, renamed and deleted through the API."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from http_api import Api
from mailtools import make_message, send

from mailtrap_lite import MailServer


@pytest.fixture
def api(server: MailServer) -> Iterator[Api]:
    """One message tagged by header (``X-Tags: invoice, Q3``), one by plus-address (``bob+signup@``)."""
    tagged = make_message(subject="invoice")
    tagged["X-Tags"] = "invoice, Q3"
    send(server, tagged)
    send(server, make_message(subject="signup", to="bob+signup@example.com"))
    yield Api(server.http_url or "")


def _tags_by_subject(api: Api) -> dict[str, list[str]]:
    return {m["Subject"]: m["Tags"] for m in api.json("/api/v1/messages")["messages"]}


def test_tags_come_from_x_tags_and_plus_addresses(api: Api) -> None:
    assert _tags_by_subject(api) == {"signup": ["signup"], "invoice": ["invoice", "Q3"]}
    assert api.json("/api/v1/tags") == ["invoice", "Q3", "signup"]


def test_setting_tags_replaces_them_and_an_empty_list_clears_them(api: Api) -> None:
    ids = {m["Subject"]: m["ID"] for m in api.json("/api/v1/messages")["messages"]}
    answer = api.request("PUT", "/api/v1/tags", {"IDs": [ids["signup"]], "Tags": ["vip", "Welcome mail"]})
    assert (answer.status, answer.text) == (200, "ok")
    assert _tags_by_subject(api)["signup"] == ["vip", "Welcome mail"]
    api.request("PUT", "/api/v1/tags", {"ids": [ids["invoice"]], "tags": []})
    assert _tags_by_subject(api)["invoice"] == []
    assert api.search('tag:"welcome mail"') == ["signup"]


def test_renaming_a_tag_renames_it_on_every_message(api: Api) -> None:
    answer = api.request("PUT", f"/api/v1/tags/{quote('q3')}", {"Name": "Quarter 3"})
    assert (answer.status, answer.text) == (200, "ok")
    assert _tags_by_subject(api)["invoice"] == ["invoice", "Quarter 3"]


def test_deleting_a_tag_keeps_the_messages(api: Api) -> None:
    assert api.request("DELETE", "/api/v1/tags/invoice").text == "ok"
    assert _tags_by_subject(api) == {"signup": ["signup"], "invoice": ["Q3"]}


@pytest.mark.parametrize(
    ("method", "path", "body", "reason"),
    [
        ("PUT", "/api/v1/tags/nosuch", {"Name": "x"}, "tag not found: nosuch"),
        ("PUT", "/api/v1/tags/Q3", {"Name": "invoice"}, "tag already exists: invoice"),
        ("PUT", "/api/v1/tags/Q3", {"Name": "!!!"}, "invalid tag name: !!!"),
        ("DELETE", "/api/v1/tags/nosuch", None, "tag not found: nosuch"),
        ("PUT", "/api/v1/tags", {"IDs": ["x"], "Tags": "vip"}, "Tags must be a list of strings"),
    ],
)
def test_bad_tag_requests_are_400_with_mailpits_reasons(
    api: Api, method: str, path: str, body: object, reason: str
) -> None:
    answer = api.request(method, path, body)
    assert (answer.status, answer.text) == (400, reason)


def _sent_raw(server: MailServer, raw: bytes) -> list[str]:
    """Send ``raw`` as is over SMTP and return the tags the stored message got."""
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.sendmail("alice@example.com", ["bob@example.com"], raw)
    return Api(server.http_url or "").json("/api/v1/messages")["messages"][0]["Tags"]


def test_x_tags_is_read_whatever_the_line_endings_and_the_header_size(server: MailServer) -> None:
    bare_lf = b"From: a@example.com\nSubject: lf\nX-Tags: unix\n\nbody\n"
    assert _sent_raw(server, bare_lf) == ["unix"]
    long_header = b"References: " + b"\r\n ".join(b"<ref-%d@example.com>" % i for i in range(4000)) + b"\r\n"
    assert len(long_header) > 65536
    late = b"From: a@example.com\r\nSubject: long\r\n" + long_header + b"X-Tags: late\r\n\r\nbody\r\n"
    assert _sent_raw(server, late) == ["late"]


def test_x_tags_in_the_body_is_not_a_tag(server: MailServer) -> None:
    assert _sent_raw(server, b"From: a@example.com\r\nSubject: body\r\n\r\nX-Tags: nope\r\n") == []
