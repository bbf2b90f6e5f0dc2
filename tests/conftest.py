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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that drives Chromium carries the ``browser`` marker (``make test-fast`` leaves them out), also in
    files that mix browser and HTTP-only tests."""
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
