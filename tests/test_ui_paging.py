"""A big mailbox stays light in the browser: the list holds one page of 50 rows, the pager walks through the rest,
and j/k carry on across page boundaries."""

from __future__ import annotations

import smtplib

import pytest
from browser import UI, browser_fixture, expect, ui_fixture  # noqa: F401  (fixtures)
from mailtools import make_message

pytestmark = pytest.mark.browser

COUNT = 120


@pytest.fixture
def crowded(ui: UI) -> UI:
    """120 messages, "mail 1" oldest to "mail 120" newest, sent over one SMTP connection."""
    with smtplib.SMTP(ui.server.smtp_host, ui.server.smtp_port, timeout=30) as client:
        for number in range(1, COUNT + 1):
            client.send_message(make_message(subject=f"mail {number}"))
    expect(ui.page.locator("#page-info")).to_have_text(f"1\u201350 of {COUNT}")
    return ui


def test_only_one_page_is_in_the_page(crowded: UI) -> None:
    rows = crowded.page.locator("#message-list li")
    expect(rows).to_have_count(50)
    expect(rows.first.locator(".row-subject")).to_have_text("mail 120")
    expect(crowded.page.get_by_role("button", name="Newer")).to_be_disabled()

    crowded.page.get_by_role("button", name="Older").click()
    expect(crowded.page.locator("#page-info")).to_have_text(f"51\u2013100 of {COUNT}")
    expect(rows.first.locator(".row-subject")).to_have_text("mail 70")

    crowded.page.get_by_role("button", name="Older").click()
    expect(crowded.page.locator("#page-info")).to_have_text(f"101\u2013120 of {COUNT}")
    expect(rows).to_have_count(20)
    expect(rows.last.locator(".row-subject")).to_have_text("mail 1")
    expect(crowded.page.get_by_role("button", name="Older")).to_be_disabled()


def test_new_mail_on_a_later_page_keeps_the_page_and_updates_the_count(crowded: UI) -> None:
    crowded.page.get_by_role("button", name="Older").click()
    expect(crowded.page.locator("#page-info")).to_have_text(f"51\u2013100 of {COUNT}")
    with smtplib.SMTP(crowded.server.smtp_host, crowded.server.smtp_port, timeout=30) as client:
        client.send_message(make_message(subject="mail 121"))
    expect(crowded.page.locator("#page-info")).to_have_text(f"51\u2013100 of {COUNT + 1}")
    expect(crowded.page.locator("#message-list li").first.locator(".row-subject")).to_have_text("mail 71")


def test_j_and_k_cross_page_boundaries(crowded: UI) -> None:
    crowded.row("mail 71").locator(".row-open").focus()
    crowded.page.keyboard.press("j")
    expect(crowded.page.locator("#page-info")).to_have_text(f"51\u2013100 of {COUNT}")
    expect(crowded.row("mail 70").locator(".row-open")).to_be_focused()

    crowded.page.keyboard.press("k")
    expect(crowded.page.locator("#page-info")).to_have_text(f"1\u201350 of {COUNT}")
    expect(crowded.row("mail 71").locator(".row-open")).to_be_focused()
