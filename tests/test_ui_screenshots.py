"""The UI at desktop and phone width: screenshots for people (written to test-artifacts/screenshots/) and checks
that a 375 px phone gets one pane at a time with nothing cut off sideways."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
from browser import DESKTOP, PHONE, UI, Browser, browser_fixture, expect, invoice_mail, open_ui  # noqa: F401
from mailtools import make_message, send

from mailtrap_lite import MailServer

pytestmark = pytest.mark.browser

SUBJECT = "Invoice #42 is ready"


@pytest.fixture(scope="module")
def server() -> Iterator[MailServer]:
    """One server with a small, realistic mailbox for every screenshot."""
    with MailServer(http_port=0) as running:
        send(running, make_message(sender="Carol <carol@example.com>", subject="Password reset",
                                   text="Use code 481 516 to reset your password. It expires in 10 minutes."))
        send(running, make_message(sender="Deploy bot <ci@example.com>", subject="Build #1287 passed",
                                   text="All 412 tests passed on main."))
        send(running, invoice_mail(SUBJECT))
        yield running


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def no_sideways_scroll(ui: UI) -> None:
    overflow = ui.page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_desktop_screenshot(browser: Browser, server: MailServer, theme: Literal["light", "dark"]) -> None:
    ui = open_ui(browser, server, DESKTOP, color_scheme=theme)
    ui.open_message(SUBJECT)
    expect(ui.page.frame_locator("iframe.preview-frame").locator("h1")).to_have_text("Invoice #42")
    path = ui.screenshot(f"desktop-{theme}")
    assert png_size(path) == (DESKTOP["width"], DESKTOP["height"])
    no_sideways_scroll(ui)
    ui.page.context.close()


def test_phone_shows_one_pane_at_a_time(browser: Browser, server: MailServer) -> None:
    ui = open_ui(browser, server, PHONE)
    expect(ui.page.locator("#message-list li")).to_have_count(3)
    no_sideways_scroll(ui)
    ui.screenshot("phone-list")

    ui.open_message(SUBJECT)
    expect(ui.page.locator(".list-pane")).to_be_hidden()
    back = ui.page.get_by_role("button", name="List")
    expect(back).to_be_visible()
    ui.tab("Attachments")
    no_sideways_scroll(ui)
    path = ui.screenshot("phone-message")
    assert png_size(path) == (PHONE["width"], PHONE["height"])

    back.click()
    expect(ui.page.locator(".list-pane")).to_be_visible()
    expect(ui.page.locator("#message-view")).to_be_hidden()
    ui.page.context.close()
