"""Shared fixtures for the test suite: real servers on ephemeral ports, real clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mailtrap_lite import MailServer


@pytest.fixture
def server() -> Iterator[MailServer]:
    """A fresh capture server with SMTP and HTTP on free loopback ports."""
    with MailServer(http_port=0) as running:
        yield running
