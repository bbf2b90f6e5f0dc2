"""The UI works from the keyboard: j/k move through the list, Enter opens, Esc goes back, Delete deletes,
/ jumps to the search box, and arrow keys move between the message tabs."""

from __future__ import annotations

import re

import pytest
from browser import UI, browser_fixture, expect, ui_fixture  # noqa: F401  (fixtures)
from mailtools import make_message, send

pytestmark = pytest.mark.browser

CURRENT = re.compile(r"\bcurrent\b")


@pytest.fixture
def three(ui: UI) -> UI:
    """The UI listing three messages: third, second, first (newest first)."""
    return ui.receive("first", "second", "third")


def test_j_and_k_move_the_cursor_and_enter_opens(three: UI) -> None:
    keyboard = three.page.keyboard
    keyboard.press("j")
    expect(three.row("third")).to_have_class(CURRENT)
    keyboard.press("j")
    expect(three.row("second")).to_have_class(CURRENT)
    expect(three.row("third")).not_to_have_class(CURRENT)
    expect(three.row("second").locator(".row-open")).to_be_focused()
    keyboard.press("j")
    keyboard.press("k")
    expect(three.row("second")).to_have_class(CURRENT)

    keyboard.press("Enter")
    expect(three.page.locator("#message-subject")).to_have_text("second")
    assert three.page.url.endswith(f"#/message/{three.message_id('second')}")


def test_escape_closes_the_message_and_returns_to_the_list(three: UI) -> None:
    three.open_message("first")
    three.page.locator("#tab-panel").focus()
    three.page.keyboard.press("Escape")
    expect(three.page.locator("#message-view")).to_be_hidden()
    expect(three.row("first").locator(".row-open")).to_be_focused()


def test_delete_removes_the_message_under_the_cursor(three: UI) -> None:
    three.page.keyboard.press("j")
    three.page.keyboard.press("j")
    three.page.keyboard.press("Delete")
    expect(three.page.locator("#message-list .row-subject")).to_have_text(["third", "first"])
    assert three.server.store.get(three.message_id("third")) is not None
    assert len(three.server.store) == 2


def test_slash_focuses_search_and_escape_leaves_it(three: UI) -> None:
    three.page.keyboard.press("/")
    search = three.page.get_by_role("searchbox", name="Search messages")
    expect(search).to_be_focused()
    three.page.keyboard.type("subject:second")
    expect(three.page.locator("#message-list .row-subject")).to_have_text(["second"])
    three.page.keyboard.press("Escape")
    expect(search).not_to_be_focused()
    expect(three.row("second").locator(".row-open")).to_be_focused()
    three.page.keyboard.press("Enter")
    expect(three.page.locator("#message-subject")).to_have_text("second")


def test_escape_before_the_search_has_run_keeps_the_focus_in_the_list(three: UI) -> None:
    three.page.keyboard.press("/")
    three.page.keyboard.type("subject:second")
    three.page.keyboard.press("Escape")  # at once: the search runs a moment after the last keystroke
    expect(three.page.locator("#message-list .row-subject")).to_have_text(["second"])
    expect(three.row("second").locator(".row-open")).to_be_focused()


def test_escape_from_a_search_with_no_results_keeps_the_focus_for_the_first_match(three: UI) -> None:
    three.page.keyboard.press("/")
    three.page.keyboard.type("subject:fourth")
    three.page.keyboard.press("Enter")
    expect(three.page.get_by_text("No messages match this search.")).to_be_visible()
    three.page.keyboard.press("Escape")
    expect(three.page.get_by_role("list", name="Messages")).to_be_focused()
    send(three.server, make_message(subject="fourth"))
    expect(three.page.locator("#message-list .row-subject")).to_have_text(["fourth"])
    expect(three.row("fourth").locator(".row-open")).to_be_focused()
    three.page.keyboard.press("Enter")
    expect(three.page.locator("#message-subject")).to_have_text("fourth")


def test_arrow_keys_move_between_tabs(three: UI) -> None:
    three.open_message("third")
    text_tab = three.page.get_by_role("tab", name="Text", exact=True)
    text_tab.focus()
    three.page.keyboard.press("ArrowRight")
    source_tab = three.page.get_by_role("tab", name="HTML source")
    expect(source_tab).to_be_focused()
    expect(source_tab).to_have_attribute("aria-selected", "true")
    expect(three.page.locator("#tab-panel")).to_contain_text("This message has no HTML part.")


def test_the_single_key_shortcuts_can_be_turned_off_and_it_is_remembered(three: UI) -> None:
    # Screen readers use single keys of their own: the toggle in the header hands them back.
    page = three.page
    toggle = page.get_by_role("button", name="Keyboard shortcuts")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")

    page.keyboard.press("j")
    page.keyboard.press("/")
    expect(page.locator("#search")).not_to_be_focused()
    page.reload()
    expect(three.row("third")).to_be_visible()
    page.keyboard.press("j")
    expect(page.locator("#message-list li.current")).to_have_count(0)

    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("j")  # the first row: none of the presses while off had moved the cursor
    expect(three.row("third")).to_have_class(CURRENT)
    expect(three.row("second")).not_to_have_class(CURRENT)
