"""Changing many messages at once, as Mailpit's clients do it: delete (by id, all, by search), mark read/unread,
with Mailpit's quirks kept (an empty DELETE body deletes everything, ``{}`` marks all unread, keys in any case)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from http_api import Api
from mailtools import make_message, send

from mailtrap_lite import MailServer


@pytest.fixture
def api(server: MailServer) -> Iterator[Api]:
    """Three messages: subjects one, two, three (three is newest)."""
    for subject in ("one", "two", "three"):
        send(server, make_message(subject=subject))
    yield Api(server.http_url or "")


def _subjects(api: Api) -> list[str]:
    return [m["Subject"] for m in api.json("/api/v1/messages")["messages"]]


def _ids(api: Api) -> dict[str, str]:
    return {m["Subject"]: m["ID"] for m in api.json("/api/v1/messages")["messages"]}


def test_delete_by_ids_keeps_the_rest(api: Api) -> None:
    answer = api.request("DELETE", "/api/v1/messages", {"IDs": [_ids(api)["two"]]})
    assert (answer.status, answer.text) == (200, "ok")
    assert _subjects(api) == ["three", "one"]


def test_request_keys_are_case_insensitive(api: Api) -> None:
    api.request("DELETE", "/api/v1/messages", {"ids": [_ids(api)["one"]]})
    assert _subjects(api) == ["three", "two"]


@pytest.mark.parametrize("body", [None, b"", b"ids=abc", b"{not json", b'{"IDs": []}'])
def test_delete_without_usable_ids_deletes_everything(api: Api, body: bytes | None) -> None:
    answer = api.request("DELETE", "/api/v1/messages", raw=body)
    assert (answer.status, answer.text) == (200, "ok")
    assert _subjects(api) == []


def test_delete_by_search_deletes_only_the_matches(api: Api) -> None:
    answer = api.request("DELETE", f"/api/v1/search?query={quote('subject:t')}")
    assert (answer.status, answer.text) == (200, "ok")
    assert _subjects(api) == ["one"]
    assert api.request("DELETE", "/api/v1/search").status == 400


def test_mark_read_by_ids_then_unread_by_search(api: Api) -> None:
    ids = _ids(api)
    assert api.request("PUT", "/api/v1/messages", {"IDs": [ids["one"], ids["two"]], "Read": True}).text == "ok"
    assert api.json("/api/v1/messages")["unread"] == 1
    api.request("PUT", "/api/v1/messages", {"Search": "subject:two", "Read": False})
    assert api.search("is:unread") == ["three", "two"]


def test_an_empty_object_marks_everything_unread(api: Api) -> None:
    api.request("PUT", "/api/v1/messages", {"Read": True})
    assert api.json("/api/v1/messages")["unread"] == 0
    api.request("PUT", "/api/v1/messages", {})
    assert api.json("/api/v1/messages")["unread"] == 3


def test_form_bodies_like_the_pypi_client_sends_work_too(api: Api) -> None:
    answer = api.request("PUT", "/api/v1/messages", raw=f"ids={_ids(api)['one']}&Read=true".encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status == 200
    assert api.search("is:read") == ["one"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (None, "request body is empty"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"IDs": "abc"}', "IDs must be a list of strings"),
        (b'{"Read": "yes"}', "Read must be true or false"),
        (b'{"IDs": ["x"], "Search": "one"}', "not both"),
        (b'{"Search": "bogus:x"}', "unknown search filter"),
    ],
)
def test_bad_read_status_bodies_are_400_with_a_reason(api: Api, body: bytes | None, reason: str) -> None:
    answer = api.request("PUT", "/api/v1/messages", raw=body, headers={"Content-Type": "application/json"})
    assert answer.status == 400 and reason in answer.text


@pytest.mark.parametrize(
    ("query", "reason"),
    [("start=-1", "start must not be negative"), ("limit=lots", "limit must be a whole number"),
     ("limit=99999999999999", "limit must be at most"), ("before=whenever", "cannot read date")],
)
def test_bad_paging_is_400_with_a_reason(api: Api, query: str, reason: str) -> None:
    answer = api.get(f"/api/v1/messages?{query}")
    assert answer.status == 400 and reason in answer.text


def test_paging_slices_newest_first(api: Api) -> None:
    page = api.json("/api/v1/messages?start=1&limit=1")
    assert ([m["Subject"] for m in page["messages"]], page["start"], page["count"], page["total"]) == (
        ["two"], 1, 1, 3)
    assert len(api.json("/api/v1/messages?limit=0")["messages"]) == 3


def test_a_huge_body_is_refused_with_413(api: Api) -> None:
    answer = api.request("PUT", "/api/v1/messages", raw=b'{"IDs": ["' + b"x" * 6_000_000 + b'"]}',
                         headers={"Content-Type": "application/json"})
    assert answer.status == 413
    assert answer.headers["Content-Type"].startswith("text/plain")
