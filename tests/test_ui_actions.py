"""What QA can do to messages from the UI: delete one, the selected ones or all (after confirming), mark read and
unread, tag, and release a message to the relay. Each action goes through the public API, so the server's state
is what the assertions check."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from browser import UI, Browser, browser_fixture, expect, open_ui, ui_fixture  # noqa: F401  (fixtures)
from mailtools import make_message, send

from mailtrap_lite import MailServer

pytestmark = pytest.mark.browser

UNREAD = re.compile(r"\bunread\b")


@pytest.fixture
def three(ui: UI) -> UI:
    """The UI listing three unread messages: c, b, a."""
    return ui.receive("a", "b", "c")


def tick(ui: UI, subject: str) -> None:
    ui.row(subject).get_by_role("checkbox").check()


def test_delete_the_open_message(three: UI) -> None:
    three.open_message("b")
    three.page.get_by_role("button", name="Delete", exact=True).click()
    expect(three.row("b")).to_have_count(0)
    expect(three.page.locator("#message-view")).to_be_hidden()
    assert sorted(m.subject for m in three.server.store.page(0, 0)[0]) == ["a", "c"]


def test_delete_selected(three: UI) -> None:
    delete_selected = three.page.get_by_role("button", name="Delete selected")
    expect(delete_selected).to_be_disabled()
    tick(three, "a")
    tick(three, "c")
    delete_selected.click()
    expect(three.page.locator("#message-list .row-subject")).to_have_text(["b"])
    assert [m.subject for m in three.server.store.page(0, 0)[0]] == ["b"]
    expect(delete_selected).to_be_disabled()


def test_delete_all_asks_first(three: UI) -> None:
    three.page.get_by_role("button", name="Delete all").click()
    dialog = three.page.get_by_role("dialog")
    expect(dialog).to_contain_text("cannot be undone")
    dialog.get_by_role("button", name="Cancel").click()
    expect(three.page.locator("#message-list li")).to_have_count(3)
    assert len(three.server.store) == 3

    three.page.get_by_role("button", name="Delete all").click()
    three.page.get_by_role("dialog").get_by_role("button", name="Delete all").click()
    expect(three.page.locator("#message-list li")).to_have_count(0)
    assert len(three.server.store) == 0


def test_mark_selected_read_and_unread(three: UI) -> None:
    expect(three.page).to_have_title("(3) mailtrap-lite")
    three.page.get_by_role("checkbox", name="Select all messages on this page").check()
    three.page.get_by_role("button", name="Mark read").click()
    expect(three.page).to_have_title("mailtrap-lite")
    expect(three.row("a")).not_to_have_class(UNREAD)
    assert three.server.store.unread == 0

    three.page.get_by_role("button", name="Mark unread").click()
    expect(three.page).to_have_title("(3) mailtrap-lite")
    assert three.server.store.unread == 3


def test_mark_the_open_message_unread(three: UI) -> None:
    three.open_message("a")
    expect(three.row("a")).not_to_have_class(UNREAD)
    three.page.locator("#message-view").get_by_role("button", name="Mark unread").click()
    expect(three.row("a")).to_have_class(UNREAD)
    expect(three.page.locator("#toggle-read")).to_have_text("Mark read")
    assert three.server.store.is_read(three.message_id("a")) is False


def test_tags_are_saved_and_shown_as_badges(three: UI) -> None:
    three.open_message("b")
    three.page.get_by_label("Tags").fill("billing, urgent")
    three.page.get_by_role("button", name="Save tags").click()
    expect(three.row("b").locator(".tag-badge")).to_have_text(["billing", "urgent"])
    assert three.server.store.tags_of(three.message_id("b")) == ("billing", "urgent")

    three.page.get_by_role("searchbox", name="Search messages").fill("tag:urgent")
    expect(three.page.locator("#message-list .row-subject")).to_have_text(["b"])


@pytest.fixture
def relayed(browser: Browser) -> Iterator[tuple[UI, MailServer]]:
    """The UI of a server whose relay is a second capture server."""
    with MailServer() as relay, MailServer(http_port=0, relay=f"smtp://127.0.0.1:{relay.smtp_port}") as server:
        ui = open_ui(browser, server)
        yield ui, relay
        ui.page.context.close()


def test_release_sends_the_message_to_the_relay(relayed: tuple[UI, MailServer]) -> None:
    ui, relay = relayed
    send(ui.server, make_message(subject="Ship it", to="bob@example.com"))
    ui.open_message("Ship it")
    ui.page.get_by_role("button", name="Release").click()
    dialog = ui.page.get_by_role("dialog", name="Release to the relay")
    expect(dialog.get_by_label("Recipients")).to_have_value("bob@example.com")
    dialog.get_by_label("Recipients").fill("qa@example.org")
    dialog.get_by_role("button", name="Release").click()
    expect(dialog).to_be_hidden()

    released, _ = relay.store.wait_for(lambda m: m.subject == "Ship it", count=1, timeout=10)
    assert [m.envelope.recipients for m in released] == [("qa@example.org",)]


def test_release_is_disabled_without_a_relay(three: UI) -> None:
    three.open_message("a")
    expect(three.page.get_by_role("button", name="Release")).to_be_disabled()
