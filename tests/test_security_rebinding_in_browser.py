"""DNS rebinding, played in a real Chromium: its resolver maps ``rebind.example`` to 127.0.0.1 (what a rebinding
attack achieves), and the page loaded from that name can neither see the UI nor use the API. The names a user
types (``127.0.0.1``, ``localhost``, ``*.localhost``) keep working."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser import CHROMIUM_ARGS, chromium_path
from playwright.sync_api import Browser, expect, sync_playwright

from mailtrap_lite import MailServer

REBOUND = "rebind.example"


@pytest.fixture(scope="module")
def rebinding_browser() -> Iterator[Browser]:
    """Chromium whose resolver sends ``rebind.example`` to loopback."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True,
            args=[*CHROMIUM_ARGS, f"--host-resolver-rules=MAP {REBOUND} 127.0.0.1"],
        )
        yield launched
        launched.close()


def test_a_rebound_name_gets_a_403_and_cannot_use_the_api(rebinding_browser: Browser, server: MailServer) -> None:
    page = rebinding_browser.new_page()
    try:
        response = page.goto(f"http://{REBOUND}:{server.http_port}/")
        assert response is not None and response.status == 403
        assert "--allowed-hosts rebind.example" in page.inner_text("body")
        # the attacker's script runs in the rebound origin and calls the API like the UI would
        status = page.evaluate("fetch('/api/v1/messages', {method: 'DELETE'}).then(r => r.status)")
        assert status == 403
    finally:
        page.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "mail.localhost"])
def test_the_names_a_user_types_open_the_ui(rebinding_browser: Browser, server: MailServer, host: str) -> None:
    page = rebinding_browser.new_page()
    try:
        page.goto(f"http://{host}:{server.http_port}/")
        expect(page.locator("html")).to_have_attribute("data-live", "connected", timeout=20_000)
    finally:
        page.close()
