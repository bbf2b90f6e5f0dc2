"""Light and dark themes: the page follows the system setting until the toggle picks one, and remembers it."""

from __future__ import annotations

from typing import Literal

import pytest
from browser import DESKTOP, Browser, Page, browser_fixture, expect, open_ui  # noqa: F401  (fixtures)

from mailtrap_lite import MailServer

pytestmark = pytest.mark.browser


def background(page: Page) -> str:
    """The body's computed background colour."""
    return str(page.evaluate("() => getComputedStyle(document.body).backgroundColor"))


@pytest.mark.parametrize("system", ["light", "dark"])
def test_the_page_follows_the_system_theme(
    browser: Browser, server: MailServer, system: Literal["light", "dark"]
) -> None:
    ui = open_ui(browser, server, DESKTOP, color_scheme=system)
    toggle = ui.page.get_by_role("button", name="Dark theme")
    expect(ui.page.locator("html")).to_have_attribute("data-theme", system)
    expect(toggle).to_have_attribute("aria-pressed", "true" if system == "dark" else "false")
    ui.page.context.close()


def test_the_toggle_switches_theme_and_remembers_it(browser: Browser, server: MailServer) -> None:
    ui = open_ui(browser, server, DESKTOP, color_scheme="light")
    light = background(ui.page)
    toggle = ui.page.get_by_role("button", name="Dark theme")

    toggle.click()
    expect(ui.page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    dark = background(ui.page)
    assert dark != light

    ui.page.reload()
    expect(ui.page.locator("html")).to_have_attribute("data-theme", "dark")
    assert background(ui.page) == dark

    toggle.click()
    expect(ui.page.locator("html")).to_have_attribute("data-theme", "light")
    assert background(ui.page) == light
    ui.page.context.close()
