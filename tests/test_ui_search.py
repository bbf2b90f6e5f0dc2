"""The search box takes the API's search syntax (with a hint of it one click away), narrows the list as you
type, keeps following live mail that matches, and clearing it brings the whole mailbox back."""

from __future__ import annotations

import pytest
from browser import UI, browser_fixture, expect, ui_fixture  # noqa: F401  (fixtures)
from mailtools import make_message, send

pytestmark = pytest.mark.browser


@pytest.fixture
def mailbox(ui: UI) -> UI:
    """Three messages from different senders."""
    send(ui.server, make_message(sender="carol@example.com", subject="Quarterly report", text="numbers inside"))
    send(ui.server, make_message(sender="dave@example.com", subject="Lunch?", text="pizza at noon"))
    send(ui.server, make_message(sender="carol@example.com", subject="Re: Lunch?", text="yes, pizza"))
    expect(ui.page.locator("#message-list li")).to_have_count(3)
    return ui


def test_search_syntax_filters_the_list(mailbox: UI) -> None:
    search = mailbox.page.get_by_role("searchbox", name="Search messages")
    search.fill("from:carol")
    expect(mailbox.page.locator("#message-list .row-subject")).to_have_text(["Re: Lunch?", "Quarterly report"])
    expect(mailbox.page.locator("#list-status")).to_have_text("2 matching")

    search.fill("pizza -from:dave")
    expect(mailbox.page.locator("#message-list .row-subject")).to_have_text(["Re: Lunch?"])

    search.fill('subject:"no such thing"')
    expect(mailbox.page.locator("#message-list li")).to_have_count(0)
    expect(mailbox.page.locator("#list-status")).to_have_text("No messages match this search.")

    search.fill("")
    expect(mailbox.page.locator("#message-list li")).to_have_count(3)


def test_live_mail_joins_a_search_only_when_it_matches(mailbox: UI) -> None:
    mailbox.page.get_by_role("searchbox", name="Search messages").fill("is:unread from:carol")
    expect(mailbox.page.locator("#message-list li")).to_have_count(2)

    send(mailbox.server, make_message(sender="dave@example.com", subject="Not for this search"))
    send(mailbox.server, make_message(sender="carol@example.com", subject="Carol again"))

    expect(mailbox.page.locator("#message-list .row-subject")).to_have_text(
        ["Carol again", "Re: Lunch?", "Quarterly report"]
    )


def test_the_hint_explains_the_syntax(mailbox: UI) -> None:
    hint = mailbox.page.locator("#search-hint")
    expect(hint).to_be_hidden()
    mailbox.page.get_by_text("?", exact=True).click()
    expect(hint).to_be_visible()
    for token in ("from:", "subject:", "tag:", "is:unread", "has:attachment", "larger:2M"):
        expect(hint).to_contain_text(token)
