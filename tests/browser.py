"""Driving a real Chromium for the UI tests: Playwright's sync API on Debian's ``chromium`` package.

``browser`` is module-scoped (one Chromium per test file); ``ui`` gives each test a fresh server, a fresh
browser context and the page opened on the inspection UI, with console errors and requests recorded. A test
module uses them with ``from browser import browser_fixture, ui_fixture``.
Without Chromium the UI tests skip, except under CI (``CI=true``), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

import pytest
from mailtools import make_message, send
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Request, ViewportSize, expect, sync_playwright

from mailtrap_lite import MailServer

SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 375, "height": 740}
TABS = ("HTML", "Text", "HTML source", "Headers", "Raw", "Attachments", "Links", "SMTP")  # the pane's, in order
# The machine is shared with other test runs: be patient, but never sleep.
expect.set_options(timeout=20_000)


def chromium_path() -> str:
    """Debian's Chromium, or a skip (a failure under CI) when it is not installed."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    reason = "Chromium not found: install Debian's chromium (apt-get install chromium) to run the UI tests"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module", name="browser")
def browser_fixture() -> Iterator[Browser]:
    """One headless Chromium for every test in the module."""
    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


@dataclass
class UI:
    """A running server and a page showing its UI, with what the page requested and complained about."""

    server: MailServer
    page: Page
    requests: list[Request] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def requests_sent(self) -> list[str]:
        """URLs the page or its frames tried to fetch, except those Content-Security-Policy stopped before they
        left the browser (a request still in flight counts as sent)."""
        return [request.url for request in self.requests if request.failure != "csp"]

    @property
    def url(self) -> str:
        """The UI's address."""
        return f"{self.server.http_url}/"

    def row(self, subject: str) -> Locator:
        """The list row whose subject is exactly this."""
        exact = self.page.locator(".row-subject").filter(has_text=re.compile(f"^{re.escape(subject)}$"))
        return self.page.locator("#message-list li").filter(has=exact)

    def message_id(self, subject: str) -> str:
        """The id of the stored message with this subject (read from the server, not the page)."""
        return next(m.id for m in self.server.store.page(0, 0)[0] if m.subject == subject)

    def open_message(self, subject: str) -> None:
        """Click a message in the list and wait for the pane to show it."""
        self.row(subject).locator(".row-open").click()
        expect(self.page.locator("#message-subject")).to_have_text(subject)

    def tab(self, name: str) -> None:
        """Switch the message pane to the named tab (its name may carry a count, as in "Attachments 2")."""
        tab = self.page.get_by_role("tab", name=re.compile(rf"^{re.escape(name)}( \d+)?$"))
        tab.click()
        expect(tab).to_have_attribute("aria-selected", "true")

    def every_tab(self) -> None:
        """Switch the message pane through every other tab and back to the HTML preview."""
        for name in (*TABS[1:], TABS[0]):
            self.tab(name)

    def receive(self, *subjects: str) -> UI:
        """Send one plain message per subject, in this order, and wait until the list shows them (newest first)."""
        for subject in subjects:
            send(self.server, make_message(subject=subject))
        expect(self.page.locator("#message-list .row-subject")).to_have_text(list(reversed(subjects)))
        return self

    def screenshot(self, name: str) -> Path:
        """Save a PNG of the page under test-artifacts/screenshots/."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


def open_ui(browser: Browser, server: MailServer, viewport: ViewportSize | None = None,
            color_scheme: Literal["light", "dark"] = "light") -> UI:
    """Open the UI of ``server`` in a fresh context and wait until the live event stream is connected."""
    context = browser.new_context(viewport=viewport or DESKTOP, accept_downloads=True, color_scheme=color_scheme)
    page = context.new_page()
    page.set_default_timeout(20_000)
    ui = UI(server, page)
    page.on("request", lambda request: ui.requests.append(request))

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            ui.console_errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: ui.console_errors.append(str(error)))
    page.goto(ui.url)
    expect(page.locator("html")).to_have_attribute("data-live", "connected")
    return ui


@pytest.fixture(name="ui")
def ui_fixture(browser: Browser) -> Iterator[UI]:
    """A fresh server and the UI open on it (desktop size, light system theme)."""
    with MailServer(http_port=0) as server:
        opened = open_ui(browser, server)
        yield opened
        opened.page.context.close()


def loaded_width(image: Locator) -> int:
    """The natural width of an image once it has loaded or failed (0 then): a load event, never a sleep."""
    return int(image.evaluate(
        """img => img.complete ? img.naturalWidth : new Promise(done => {
            img.addEventListener("load", () => done(img.naturalWidth));
            img.addEventListener("error", () => done(0));
        })"""
    ))


def png(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (220, 40, 40)) -> bytes:
    """A small solid-colour PNG, built by hand so the tests need no image library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * height)) + chunk(
        b"IEND", b""
    )


INVOICE_PDF = b"%PDF-1.4\n% a tiny stand-in for an invoice\n%%EOF\n"


def invoice_mail(subject: str = "Invoice #42 is ready") -> EmailMessage:
    """A realistic HTML mail: text and HTML bodies, a cid: logo, a link and a PDF attachment."""
    message = EmailMessage()
    message["From"] = "Acme Billing <billing@acme.test>"
    message["To"] = "Bob Buyer <bob@example.com>"
    message["Subject"] = subject
    message.set_content("Hello Bob,\n\nYour invoice is attached. Pay online: https://pay.acme.test/i/42\n")
    message.add_alternative(
        "<html><body><img src=\"cid:logo@acme\" alt=\"Acme logo\" id=\"logo\">"
        "<h1>Invoice #42</h1><p>Hello Bob, your invoice is attached.</p>"
        "<p><a href=\"https://pay.acme.test/i/42\">Pay online</a></p></body></html>",
        subtype="html",
    )
    html_part = message.get_body(("html",))
    assert html_part is not None
    html_part.add_related(png(), maintype="image", subtype="png", cid="<logo@acme>", filename="logo.png",
                          disposition="inline")
    message.add_attachment(INVOICE_PDF, maintype="application", subtype="pdf", filename="invoice-42.pdf")
    return message
