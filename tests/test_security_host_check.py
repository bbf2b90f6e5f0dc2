"""The Host check: a web page cannot reach a loopback server through DNS rebinding.

After rebinding (``evil.example`` re-resolved to 127.0.0.1) the browser still sends ``Host: evil.example``, so the
server answers only the names it is really reached by: loopback names and IP addresses, plus ``--allowed-hosts``.
Refused requests (API, UI, ``/view`` and the websocket alike) get a 403 that says how to allow the name.
"""

from __future__ import annotations

import logging
import smtplib
import socket
from collections.abc import Iterator

import pytest
import websocket
from http_api import Api
from test_cli import RunningCli, assert_one_line_error, run_cli

from mailtrap_lite import MailServer

LOOPBACK_NAMES = ["localhost", "LOCALHOST", "localhost.", "127.0.0.1", "127.8.9.10", "[::1]", "app.localhost",
                  "a.b.localhost"]
IP_LITERALS = ["192.168.1.20", "10.0.0.5", "[fe80::1]"]  # no DNS involved: a browser sends them only when typed
FOREIGN_NAMES = ["evil.example", "localhost.evil.example", "127.0.0.1.nip.io", "mailtrap", "example.localhost.test"]
PATHS = ["/", "/api/v1/messages", "/api/v1/info", "/view/latest"]


@pytest.fixture(scope="module")
def loopback() -> Iterator[MailServer]:
    with MailServer(http_port=0) as running:
        yield running


def get(server: MailServer, path: str, host: str, with_port: bool = True) -> tuple[int, str]:
    header = f"{host}:{server.http_port}" if with_port else host
    answer = Api(server.http_url or "").get(path, headers={"Host": header})
    return answer.status, answer.body.decode("utf-8", "replace")


@pytest.mark.parametrize("host", LOOPBACK_NAMES + IP_LITERALS)
@pytest.mark.parametrize("with_port", [True, False])
def test_loopback_names_and_ip_addresses_are_answered(loopback: MailServer, host: str, with_port: bool) -> None:
    assert get(loopback, "/api/v1/info", host, with_port)[0] == 200


@pytest.mark.parametrize("host", FOREIGN_NAMES)
@pytest.mark.parametrize("path", PATHS)
def test_other_names_are_refused_with_a_reason(loopback: MailServer, host: str, path: str) -> None:
    status, text = get(loopback, path, host)
    assert status == 403
    name = host.lower()
    assert text == f"Host '{name}' is not allowed; start with --allowed-hosts {name} to allow it\n"


def test_a_refused_request_changes_nothing(server: MailServer) -> None:
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.sendmail("a@example.com", ["b@example.com"], b"Subject: keep me\r\n\r\nbody\r\n")
    answer = Api(server.http_url or "").request("DELETE", "/api/v1/messages", headers={"Host": "evil.example"})
    assert answer.status == 403
    assert len(server.store) == 1


@pytest.mark.parametrize("header", ["", " ", "evil.example:notaport", "a b", "evil.example/x", "user@localhost",
                                    "localhost:99999", "[::1"])
def test_malformed_host_headers_are_refused(loopback: MailServer, header: str) -> None:
    answer = Api(loopback.http_url or "").get("/api/v1/info", headers={"Host": header})
    assert answer.status == 403
    assert "is not a valid host name" in answer.text or "is not allowed" in answer.text


def test_the_websocket_upgrade_is_refused_for_a_foreign_host(loopback: MailServer) -> None:
    """As a rebinding page would open it: Origin and Host both name the attacker's domain, so Mailpit's Origin
    check alone (Origin equals Host) would let it through."""
    url = (loopback.http_url or "").replace("http://", "ws://") + "/api/events"
    rebound = f"evil.example:{loopback.http_port}"
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, timeout=10, host=rebound, origin=f"http://{rebound}")
    assert refused.value.status_code == 403
    assert b"--allowed-hosts" in (refused.value.resp_body or b"")
    local = f"localhost:{loopback.http_port}"
    ws = websocket.create_connection(url, timeout=10, host=local, origin=f"http://{local}")
    try:
        assert '"stats"' in ws.recv()
    finally:
        ws.close()


def test_health_probes_answer_any_host(loopback: MailServer) -> None:
    for path in ("/livez", "/readyz"):
        assert get(loopback, path, "evil.example") == (200, "ok")


def test_a_request_without_a_host_header_is_answered(loopback: MailServer) -> None:
    """HTTP/1.0 clients may send no Host at all; no browser does, so they cannot be a rebinding page."""
    with socket.create_connection(("127.0.0.1", loopback.http_port or 0), timeout=10) as client:
        client.sendall(b"GET /livez HTTP/1.0\r\n\r\n")
        assert client.makefile("rb").readline().split()[1] == b"200"
    with socket.create_connection(("127.0.0.1", loopback.http_port or 0), timeout=10) as client:
        client.sendall(b"GET /api/v1/info HTTP/1.0\r\n\r\n")
        assert client.makefile("rb").readline().split()[1] == b"200"


def test_allowed_hosts_adds_names_ports_and_subdomains() -> None:
    allowed = ["mail.test", "*.dev.example", "ci.test:8025"]
    with MailServer(http_port=0, allowed_hosts=allowed) as server:
        assert get(server, "/api/v1/info", "mail.test")[0] == 200
        assert get(server, "/api/v1/info", "MAIL.TEST", with_port=False)[0] == 200
        assert get(server, "/api/v1/info", "ui.dev.example")[0] == 200
        assert get(server, "/api/v1/info", "localhost")[0] == 200  # loopback names stay allowed
        assert get(server, "/api/v1/info", "ci.test:8025", with_port=False)[0] == 200
        assert get(server, "/api/v1/info", "ci.test")[0] == 403  # another port than the one allowed
        assert get(server, "/api/v1/info", "dev.example")[0] == 403  # *.dev.example means its subdomains
        assert get(server, "/api/v1/info", "evil.example")[0] == 403


def test_a_star_allows_any_host() -> None:
    with MailServer(http_port=0, allowed_hosts=["*"]) as server:
        assert get(server, "/api/v1/info", "evil.example")[0] == 200


def test_a_public_address_without_allowed_hosts_answers_any_name_and_warns(
        caplog: pytest.LogCaptureFixture) -> None:
    """Containers and proxies reach the server by names it cannot know (``http://mailtrap:8025``), as in Mailpit."""
    with caplog.at_level(logging.WARNING, logger="mailtrap_lite"), MailServer(
            http_host="0.0.0.0", http_port=0) as server:
        assert get(server, "/api/v1/info", "mailtrap")[0] == 200
        assert get(server, "/api/v1/info", "evil.example")[0] == 200
    assert any("--allowed-hosts" in record.getMessage() for record in caplog.records)


def test_a_public_address_with_allowed_hosts_answers_only_those(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mailtrap_lite"), MailServer(
            http_host="0.0.0.0", http_port=0, allowed_hosts=["mailtrap"]) as server:
        assert get(server, "/api/v1/info", "mailtrap")[0] == 200
        assert get(server, "/api/v1/info", "127.0.0.1")[0] == 200
        assert get(server, "/api/v1/info", "evil.example")[0] == 403
    assert not any("answer any Host" in record.getMessage() for record in caplog.records)


def test_the_flag_and_its_environment_variable() -> None:
    running = RunningCli("--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0", "-q",
                         env={"MAILTRAP_LITE_ALLOWED_HOSTS": "mail.test, ui.test"})
    try:
        url = running.address("web UI and API on")
        for host, status in (("mail.test", 200), ("ui.test", 200), ("evil.example", 403)):
            assert Api(url).get("/api/v1/info", headers={"Host": host}).status == status
    finally:
        code, _, err = running.stop()
    assert code == 0, err


@pytest.mark.parametrize("value", ["http://mail.test", "mail test", "mail.test:port"])
def test_a_bad_allowed_hosts_value_is_one_line_naming_the_flag(value: str) -> None:
    assert_one_line_error(run_cli("--smtp", "127.0.0.1:0", "--no-http", "--allowed-hosts", value),
                          "--allowed-hosts", "is not a host name")
