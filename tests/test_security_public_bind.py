"""Loopback is the default; listening on a public address without ``--ui-auth`` starts with a warning, because
anyone who can reach the port could read and delete the captured mail."""

from __future__ import annotations

import pytest
from test_cli import RunningCli

WARNING = "without --ui-auth"


def run_and_stop(*args: str) -> str:
    """Start the CLI with these flags, stop it with SIGTERM, and return what it wrote to stderr."""
    running = RunningCli("--smtp", "127.0.0.1:0", *args)
    code, _, err = running.stop()
    assert code == 0, err
    return err


def test_the_default_listens_on_loopback_only() -> None:
    running = RunningCli("--smtp", "127.0.0.1:0", "--http", ":0")
    try:
        assert running.address("web UI and API on").startswith("http://127.0.0.1:")
    finally:
        _, _, err = running.stop()
    assert WARNING not in err


@pytest.mark.parametrize("address", ["0.0.0.0:0", "[::]:0"])
def test_a_public_address_without_ui_auth_warns(address: str) -> None:
    err = run_and_stop("--http", address)
    assert WARNING in err
    assert "can read and delete the captured mail" in err


def test_a_public_address_with_ui_auth_does_not_warn() -> None:
    assert WARNING not in run_and_stop("--http", "0.0.0.0:0", "--ui-auth", "qa:secret")
