"""The HTTP limits are flags with ``MAILTRAP_LITE_*`` variables, and a bad value is one line naming the flag."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest
from test_cli import RunningCli, assert_one_line_error, run_cli


def test_the_connection_cap_and_idle_timeout_come_from_flags_and_variables() -> None:
    running = RunningCli("--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--http-idle-timeout", "0.5",
                         env={"MAILTRAP_LITE_MAX_HTTP_CONNECTIONS": "1"})
    try:
        url = running.address("web UI and API on")
        host, port = url.removeprefix("http://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as idle:
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(url + "/livez", timeout=10)
            assert refused.value.code == 503
            assert refused.value.read() == b"too many connections (limit 1), try again later\n"
            assert idle.recv(1) == b""  # closed by the server after half a second idle: room again
        with urllib.request.urlopen(url + "/livez", timeout=10) as response:
            assert response.read() == b"ok"
    finally:
        code, _, err = running.stop()
    assert code == 0 and "Traceback" not in err


@pytest.mark.parametrize(("flag", "value", "problem"), [
    ("--http-workers", "0", "must be at least 1"),
    ("--max-http-connections", "-1", "must not be negative"),
    ("--http-idle-timeout", "soon", "is not a number of seconds"),
])
def test_a_bad_value_is_one_line_naming_the_flag(flag: str, value: str, problem: str) -> None:
    assert_one_line_error(run_cli(flag, value), flag, problem)
