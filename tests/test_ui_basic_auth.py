"""Behind ``--ui-auth`` the UI works for a browser that logs in (page, API calls and the live websocket), and a
browser without credentials gets nothing but the login challenge."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser import DESKTOP, Browser, browser_fixture, expect  # noqa: F401  (fixtures)
from mailtools import make_message, send
from playwright.sync_api import Error as PlaywrightError

from mailtrap_lite import MailServer

pytestmark = pytest.mark.browser


@pytest.fixture
def guarded() -> Iterator[MailServer]:
    """A server whose UI, API and websocket need the login qa / s3cret."""
    with MailServer(http_port=0, ui_auth={"qa": "s3cret"}) as server:
        yield server


def test_a_logged_in_browser_gets_the_live_ui(browser: Browser, guarded: MailServer) -> None:
    context = browser.new_context(viewport=DESKTOP, http_credentials={"username": "qa", "password": "s3cret"})
    page = context.new_page()
    page.goto(f"{guarded.http_url}/")
    expect(page.locator("html")).to_have_attribute("data-live", "connected")
    send(guarded, make_message(subject="Behind a login"))
    expect(page.locator("#message-list .row-subject")).to_have_text(["Behind a login"])
    context.close()


def test_a_browser_without_credentials_is_challenged(browser: Browser, guarded: MailServer) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    with pytest.raises(PlaywrightError, match="ERR_INVALID_AUTH_CREDENTIALS"):  # a 401 nobody can answer
        page.goto(f"{guarded.http_url}/")
    api = context.request.get(f"{guarded.http_url}/api/v1/messages")
    assert api.status == 401
    assert api.headers["www-authenticate"] == 'Basic realm="Login"'
    context.close()
