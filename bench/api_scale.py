"""The API at scale: list, latest, searches and a fetch over real HTTP, plus the server's RSS as the store grows.

Messages go in through ``MessageStore.add`` (the public ingest path SMTP uses) to save time; each request is
made over one keep-alive HTTP connection and timed on the client, so the figures include HTTP and JSON.
"""

from __future__ import annotations

import http.client
import json
import random
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from bench.children import ServerProcess

STEPS = (10_000, 100_000)
REPEATS = 15


@dataclass
class ApiFigures:
    """Milliseconds per request (median and worst of the repeats) and RSS at each fill level."""

    rss_mb: dict[int, float] = field(default_factory=dict)
    fill_seconds: dict[int, float] = field(default_factory=dict)
    timings: dict[str, dict[str, float]] = field(default_factory=dict)


class Client:
    """A keep-alive HTTP client that times each GET."""

    def __init__(self, base_url: str) -> None:
        address = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=300)

    def get(self, path: str) -> tuple[float, object]:
        """GET ``path``; returns (milliseconds, decoded JSON). Anything but 200 is an error."""
        started = time.perf_counter()
        try:
            self.connection.request("GET", path)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # the server closed the kept-alive connection while it sat idle (a long fill): as every keep-alive
            # client does, send the request again on a new one
            self.connection.close()
            started = time.perf_counter()
            self.connection.request("GET", path)
            response = self.connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {body[:200]!r}")
        return elapsed, json.loads(body)


def _time(client: Client, paths: list[str]) -> dict[str, float]:
    """Time each path in turn; the first request is reported apart (it may build caches)."""
    times = [client.get(path)[0] for path in paths]
    return {"first": times[0], "median": statistics.median(times), "max": max(times)}


def measure(server: ServerProcess) -> ApiFigures:
    """Fill ``server`` step by step; at each step time the searches, at the last also list, latest and fetch.

    A search's first run indexes the words of every stored message not indexed yet (later runs look words up),
    so the first and the later runs are reported apart, and the RSS is read again once the index is built. A
    phrase is narrowed by the index and then confirmed against each candidate's text, which its first run reads.
    """
    figures = ApiFigures()
    client = Client(server.http_url)
    stored = 0
    for step in STEPS:
        figures.fill_seconds[step] = float(server.command(f"fill {step - stored}"))
        stored = step
        figures.rss_mb[step] = server.rss_mb()
        if step == STEPS[-1]:
            rng = random.Random(3)
            ids = [_message_id_at(client, rng.randrange(stored)) for _ in range(REPEATS)]
            figures.timings[f"list page of 50, {step:,} stored"] = _time(
                client, ["/api/v1/messages?limit=50"] * REPEATS
            )
            figures.timings[f"latest, {step:,} stored"] = _time(client, ["/api/v1/message/latest"] * REPEATS)
            figures.timings[f"message fetch, {step:,} stored"] = _time(client, [f"/api/v1/message/{i}" for i in ids])
        three_filters = quote("from:sender3@example.com subject:invoice is:unread")
        phrase = quote('"weekly report"')  # two of the words every bench message is made of
        figures.timings[f"one-word search, {step:,} stored"] = _time(
            client, ["/api/v1/search?query=invoice&limit=50"] * 5
        )
        figures.timings[f"three-filter search, {step:,} stored"] = _time(
            client, [f"/api/v1/search?query={three_filters}&limit=50"] * 5
        )
        figures.timings[f"phrase search, {step:,} stored"] = _time(
            client, [f"/api/v1/search?query={phrase}&limit=50"] * 5
        )
        figures.rss_mb[-step] = server.rss_mb()  # after the searches built the index
    return figures


def _message_id_at(client: Client, position: int) -> str:
    """The id of the message at ``position`` in the newest-first list."""
    _, page = client.get(f"/api/v1/messages?start={position}&limit=1")
    assert isinstance(page, dict)
    return str(page["messages"][0]["ID"])
