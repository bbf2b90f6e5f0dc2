"""The HTTP side is bounded: idle connections cost no thread, there is a cap on open connections (past it a clear
503), an idle kept-alive connection is closed after ``http_idle_timeout``, a request head that trickles in gets 408
after ``http_head_timeout``, and long-poll waits cannot take every worker. Meanwhile the API and the websocket
keep answering."""

from __future__ import annotations

import http.client
import json
import resource
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
import websocket
from http_api import Answer, Api
from mailtools import make_message, send

from mailtrap_lite import MailServer

WAIT = 10.0  # generous for a shared machine; every wait returns as soon as the thing happens
IDLE = 3000  # connections the issue saw cost 3,000 threads


def _enough_descriptors(wanted: int) -> int:
    """Raise the soft open-files limit so ``wanted`` client and server sockets fit; how many connections do."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 2 * wanted + 500
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(target, 2 * wanted + 500), hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return min(wanted, (soft - 300) // 2)  # each connection is two descriptors here: client and server side


def _idle_connections(server: MailServer, count: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", server.http_port or 0), timeout=WAIT) for _ in range(count)]


def _events(server: MailServer) -> websocket.WebSocket:
    ws = websocket.create_connection((server.http_url or "").replace("http://", "ws://") + "/api/events",
                                     timeout=WAIT)
    assert json.loads(ws.recv())["Type"] == "stats"
    return ws


def _next_new(ws: websocket.WebSocket) -> dict[str, object]:
    while True:
        frame: dict[str, object] = json.loads(ws.recv())
        if frame["Type"] == "new":
            return frame


@pytest.fixture
def descriptors() -> Iterator[int]:
    """How many idle connections this machine lets the test open (the soft limit is restored afterwards)."""
    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    yield _enough_descriptors(IDLE)
    resource.setrlimit(resource.RLIMIT_NOFILE, before)


def test_thousands_of_idle_connections_cost_no_threads_and_everything_else_still_answers(descriptors: int) -> None:
    with MailServer(http_port=0, max_http_connections=descriptors + 100) as server:
        Api(server.http_url or "").get("/api/v1/info")  # the first worker exists before the baseline
        threads_before = threading.active_count()
        idle = _idle_connections(server, descriptors)
        try:
            answer = Api(server.http_url or "").get("/api/v1/messages")
            assert answer.status == 200
            ws = _events(server)
            send(server, make_message(subject="while thousands sit idle"))
            assert _next_new(ws)["Data"]["Subject"] == "while thousands sit idle"  # type: ignore[index]
            # werkzeug's threaded server had a thread per connection here: thousands
            assert threading.active_count() - threads_before < server.config.http_workers + 10
            ws.close()
            for sock in idle[:10]:  # still open: the server kept them within their idle timeout
                sock.setblocking(False)
                with pytest.raises(BlockingIOError):
                    sock.recv(1)
            started = time.monotonic()
            server.stop()
            assert time.monotonic() - started < WAIT  # stop() stays quick with thousands of connections open
            for sock in idle[:10]:
                sock.settimeout(WAIT)
                assert sock.recv(1) == b""  # closed by stop()
        finally:
            for sock in idle:
                sock.close()


def test_past_the_connection_cap_a_client_gets_a_clear_503_and_later_gets_in() -> None:
    with MailServer(http_port=0, max_http_connections=3) as server:
        idle = _idle_connections(server, 3)
        try:
            refused = Api(server.http_url or "").get("/api/v1/messages")
            assert refused.status == 503
            assert refused.text == "too many connections (limit 3), try again later\n"
            assert refused.headers["Retry-After"] == "1"
            # one idle client makes a request that closes its connection: when it sees the end, there is room
            idle[0].sendall(b"GET /livez HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            reply = b""
            while chunk := idle[0].recv(4096):
                reply += chunk
            assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b"ok")
            assert Api(server.http_url or "").get("/api/v1/messages").status == 200
        finally:
            for sock in idle:
                sock.close()


def test_a_kept_alive_connection_serves_more_requests_and_is_closed_when_idle() -> None:
    with MailServer(http_port=0, http_idle_timeout=0.5) as server:
        client = http.client.HTTPConnection("127.0.0.1", server.http_port or 0, timeout=WAIT)
        for path in ("/api/v1/messages", "/livez", "/api/v1/info"):
            client.request("GET", path)
            response = client.getresponse()
            assert response.status == 200 and response.getheader("Connection") is None
            response.read()
        first_socket = client.sock
        client.request("PUT", "/api/v1/messages", body=b'{"IDs": [], "Read": true}',
                       headers={"Content-Type": "application/json"})
        response = client.getresponse()
        assert response.status == 200  # a request with a body keeps the connection too
        response.read()
        assert client.sock is first_socket  # one connection for all of them
        first_socket.settimeout(WAIT)
        assert first_socket.recv(1) == b""  # then, idle, it is closed by the server
        client.close()


def test_a_request_head_that_trickles_in_gets_408_without_holding_a_worker() -> None:
    with MailServer(http_port=0, http_workers=1, http_head_timeout=0.5) as server:
        slow = _idle_connections(server, 5)
        try:
            for sock in slow:
                sock.sendall(b"GET /api/v1/messages HTTP/1.1\r\nHost: localhost\r\n")  # and never the empty line
            # the only worker is free: the slow heads are read by the connection thread, not by workers
            assert Api(server.http_url or "").get("/api/v1/messages").status == 200
            for sock in slow:
                reply = b""
                while chunk := sock.recv(4096):
                    reply += chunk
                assert reply.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
                assert reply.endswith(b"request head not received within 0.5 seconds\n")
        finally:
            for sock in slow:
                sock.close()


def test_a_body_that_trickles_in_is_cut_and_frees_its_worker() -> None:
    with MailServer(http_port=0, http_workers=1, http_head_timeout=0.5) as server:
        slow = socket.create_connection(("127.0.0.1", server.http_port or 0), timeout=WAIT)
        try:
            slow.sendall(b"PUT /api/v1/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 2000\r\n\r\n{\"IDs\": [")  # and then nothing more
            reply = b""
            while chunk := slow.recv(4096):  # cut once the body is overdue (0.5 s plus 2,000 bytes at 16 KiB/s)
                reply += chunk
            assert reply.startswith(b"HTTP/1.1 400 BAD REQUEST\r\n")  # werkzeug's answer to a body cut short
            assert Api(server.http_url or "").get("/api/v1/messages").status == 200  # by the same, only worker
        finally:
            slow.close()


def test_long_poll_waits_cannot_take_every_worker() -> None:
    with MailServer(http_port=0, http_workers=4) as server:  # at most 2 waits at a time
        api = Api(server.http_url or "")
        with ThreadPoolExecutor(5) as pool:
            waits = [pool.submit(api.get, "/api/v1/wait?query=subject:awaited&timeout=60") for _ in range(5)]
            refused = [future.result(timeout=WAIT) for future in _first_done(waits, 3)]
            assert [answer.status for answer in refused] == [503] * 3
            assert refused[0].text == "too many requests waiting in /api/v1/wait (limit 2), try again later"
            assert api.get("/api/v1/messages").status == 200  # two workers wait, the others still serve
            send(server, make_message(subject="awaited"))
            answers = [future.result(timeout=WAIT) for future in waits]
        assert sorted(answer.status for answer in answers) == [200, 200, 503, 503, 503]


def _first_done(futures: list[Future[Answer]], count: int) -> list[Future[Answer]]:
    """The first ``count`` futures to finish (the waits that found no free slot)."""
    done: list[Future[Answer]] = []
    finished = threading.Condition()

    def note(future: Future[Answer]) -> None:
        with finished:
            done.append(future)
            finished.notify_all()

    for future in futures:
        future.add_done_callback(note)
    with finished:
        assert finished.wait_for(lambda: len(done) >= count, timeout=WAIT)
        return done[:count]
