"""The message list follows the mailbox live: mail sent while the page is open appears without a reload,
deletes made anywhere disappear, and the unread count in the title keeps up."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest
from browser import UI, Browser, browser_fixture, expect, open_ui, ui_fixture  # noqa: F401  (fixtures)
from mailtools import make_message, send

from mailtrap_lite import MailServer

pytestmark = pytest.mark.browser

UNREAD = re.compile(r"\bunread\b")


def delete_over_api(ui: UI, message_ids: list[str] | None = None) -> None:
    """Delete messages as another client would (no body = delete all)."""
    body = json.dumps({"IDs": message_ids}).encode() if message_ids else None
    request = urllib.request.Request(f"{ui.server.http_url}/api/v1/messages", data=body, method="DELETE",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def test_mail_sent_while_the_page_is_open_appears_without_reload(ui: UI) -> None:
    expect(ui.page.locator("#list-status")).to_have_text("No messages yet.")
    navigations: list[str] = []
    ui.page.on("load", lambda page: navigations.append(page.url))

    send(ui.server, make_message(sender="Carol <carol@example.com>", subject="Password reset", text="Your code"))

    row = ui.row("Password reset")
    expect(row).to_be_visible()
    expect(row).to_have_class(UNREAD)
    expect(row.locator(".row-from")).to_have_text("Carol")
    expect(row.locator(".row-snippet")).to_have_text("Your code")
    expect(row.locator(".row-time")).to_have_text("just now")
    expect(ui.page).to_have_title("(1) mailtrap-lite")
    assert navigations == []


def test_newest_mail_is_listed_first(ui: UI) -> None:
    for subject in ("first", "second", "third"):
        send(ui.server, make_message(subject=subject))
    expect(ui.page.locator("#message-list .row-subject")).to_have_text(["third", "second", "first"])
    expect(ui.page).to_have_title("(3) mailtrap-lite")


def test_opening_a_message_marks_it_read_in_list_and_title(ui: UI) -> None:
    send(ui.server, make_message(subject="Read me"))
    send(ui.server, make_message(subject="Leave me"))
    expect(ui.page).to_have_title("(2) mailtrap-lite")

    ui.open_message("Read me")

    expect(ui.row("Read me")).not_to_have_class(UNREAD)
    expect(ui.row("Leave me")).to_have_class(UNREAD)
    expect(ui.page).to_have_title("(1) mailtrap-lite")


def test_messages_deleted_by_another_client_disappear(ui: UI) -> None:
    send(ui.server, make_message(subject="Keep"))
    send(ui.server, make_message(subject="Remove"))
    expect(ui.page.locator("#message-list li")).to_have_count(2)
    delete_over_api(ui, [ui.message_id("Remove")])
    expect(ui.row("Remove")).to_have_count(0)
    expect(ui.row("Keep")).to_be_visible()

    delete_over_api(ui)
    expect(ui.page.locator("#message-list li")).to_have_count(0)
    expect(ui.page.locator("#list-status")).to_have_text("No messages yet.")
    expect(ui.page).to_have_title("mailtrap-lite")


def test_the_open_message_closes_when_it_is_deleted_elsewhere(ui: UI) -> None:
    send(ui.server, make_message(subject="Short-lived"))
    ui.open_message("Short-lived")

    delete_over_api(ui)

    expect(ui.page.locator("#message-view")).to_be_hidden()
    expect(ui.page.locator("#empty-pane")).to_be_visible()


def test_mail_dropped_at_the_capacity_limit_leaves_the_list_and_the_pane(browser: Browser) -> None:
    with MailServer(http_port=0, max_messages=2) as server:
        ui = open_ui(browser, server)
        send(server, make_message(subject="oldest"))
        send(server, make_message(subject="middle"))
        ui.open_message("middle")
        ui.open_message("oldest")

        send(server, make_message(subject="newest"))

        expect(ui.page.locator("#message-list .row-subject")).to_have_text(["newest", "middle"])
        expect(ui.page.locator("#message-view")).to_be_hidden()
        ui.open_message("newest")
        send(server, make_message(subject="newer still"))
        expect(ui.page.locator("#message-list .row-subject")).to_have_text(["newer still", "newest"])
        expect(ui.page.locator("#message-subject")).to_have_text("newest")
        expect(ui.page.locator("#message-view")).to_be_visible()
        ui.page.context.close()
