"""Search filters and query parameters with values no one meant: a size of 10**400 bytes, dates at the ends of the
calendar, time zones that are paths, page offsets with 5,000 digits. Each answers 400 with the reason (or a normal
200), never 500, on every endpoint that takes a query."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from urllib.parse import quote, urlencode

import pytest
from http_api import Api

from mailtrap_lite import MailServer

HUGE_SIZES = ["1" + "0" * 400, "99999999999999999999999", "9223372036854775808", "9" * 4000, "8796093022208M",
              "1" + "0" * 300 + ".5"]
ODD_QUERIES = [
    "larger:", "larger:-1", "larger:1e3", "larger:1.5.5", "larger:\u0661\u0662", "smaller:0x10", "larger:1 GB",
    "after:0001-01-01T00:00:00+23:59", "before:9999-12-31T23:59:59.999999-23:59", "after:0001-01-01",
    "before:9999-12-31", "after:12/31/9999", "after:00/00/0000", "after:2024-02-30", "after:2024-01-01T25:00",
    "after:99999999999999999999", "after:" + "1" * 4000, "after:\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",
    "after:\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u00b9\u00b2", "before:-1", "after:now", "after:2024-W01",
    "is:", "is:deleted", "has:", "has:everything", "tag:" + "t" * 4000, "from:\x00", '"unterminated', "-", "!",
    "--x", "!!is:read", "subject:\ud800", "foo:bar", "a" * 5000,
]
ODD_ZONES = ["../../etc/passwd", "/etc/localtime", "Europe/../../x", "\x00", "A" * 300, "Etc/GMT+14", "Etc/GMT+99",
             "posixrules", "Factory", "EST5EDT", "America", " ", "%s%n"]
ODD_NUMBERS = ["1" + "0" * 30, "-1", "1e5", "0x10", "\u0663", "9" * 5000, " 5", "5 ", "+5", "1_000", "nan", "inf",
               "-0", "1e308", ""]


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with MailServer(http_port=0) as server:
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: sized\r\n\r\nbody\r\n")
        yield Api(server.http_url or "")


def search(api: Api, query: str, path: str = "/api/v1/search", **params: str) -> tuple[int, str]:
    answer = api.get(f"{path}?{urlencode({'query': query, **params}, errors='surrogatepass')}")
    return answer.status, answer.body.decode("utf-8", "replace")


@pytest.mark.parametrize("size", HUGE_SIZES)
@pytest.mark.parametrize("operator", ["larger", "smaller"])
@pytest.mark.parametrize("path", ["/api/v1/search", "/api/v1/message/latest", "/view/latest", "/api/v1/wait"])
def test_a_huge_size_is_a_400_with_the_reason(api: Api, operator: str, size: str, path: str) -> None:
    status, text = search(api, f"{operator}:{size}", path, timeout="0")
    assert status == 400, text[:200]
    assert "is too large; the largest is 9223372036854775807 bytes" in text


def test_a_huge_size_is_refused_by_search_delete_and_read_marking_too(api: Api) -> None:
    query = "larger:" + "1" + "0" * 400
    assert api.request("DELETE", "/api/v1/search?query=" + quote(query)).status == 400
    assert api.request("PUT", "/api/v1/messages", {"Search": query, "Read": True}).status == 400
    assert len(api.json("/api/v1/messages")["messages"]) == 1


def test_sizes_are_exact_up_to_the_largest(api: Api) -> None:
    size = api.json("/api/v1/messages")["messages"][0]["Size"]
    assert search(api, f"smaller:{size + 1}")[1].count('"sized"') == 1
    assert search(api, f"smaller:{size}")[1].count('"sized"') == 0
    assert search(api, f"larger:{size - 1}")[1].count('"sized"') == 1
    assert search(api, "larger:9223372036854775807")[0] == 200
    assert search(api, "smaller:8796093022207.99999M")[1].count('"sized"') == 1
    assert search(api, "smaller:0.001k")[1].count('"sized"') == 0  # 1.024 bytes: nothing is smaller than 1


@pytest.mark.parametrize("query", ODD_QUERIES)
def test_odd_filter_values_never_answer_500(api: Api, query: str) -> None:
    status, text = search(api, query)
    assert status in (200, 400), text[:200]
    assert status == 200 or text.strip()


@pytest.mark.parametrize("zone", ODD_ZONES)
def test_odd_time_zones_never_answer_500(api: Api, zone: str) -> None:
    status, text = search(api, "after:2024-01-01 before:2030-01-01", tz=zone)
    assert status in (200, 400), text[:200]
    assert status == 200 or "time zone" in text


@pytest.mark.parametrize("value", ODD_NUMBERS)
@pytest.mark.parametrize(("path", "name"), [
    ("/api/v1/messages", "start"), ("/api/v1/messages", "limit"), ("/api/v1/search?query=sized", "start"),
    ("/api/v1/search?query=sized", "limit"), ("/api/v1/sessions", "start"), ("/api/v1/sessions", "limit"),
    ("/api/v1/wait?timeout=0", "count"), ("/api/v1/wait?count=1", "timeout"), ("/api/v1/messages", "before"),
])
def test_odd_numbers_in_parameters_never_answer_500(api: Api, path: str, name: str, value: str) -> None:
    joiner = "&" if "?" in path else "?"
    answer = api.get(f"{path}{joiner}{name}={quote(value)}")
    assert answer.status in (200, 400, 408), answer.text[:200]  # 408: the wait timed out, as asked
    assert answer.status != 400 or name in answer.text
