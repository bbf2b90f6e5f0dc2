"""The whole QA journey in one go, as the issue puts it: with the page open, mail sent by smtplib appears without
a reload; it opens, every tab shows, the .eml and the attachment download, search finds it, delete removes it."""

from __future__ import annotations

import pytest
from browser import INVOICE_PDF, TABS, UI, browser_fixture, expect, invoice_mail, ui_fixture  # noqa: F401  (fixtures)
from mailtools import make_message, send

pytestmark = pytest.mark.browser


def test_receive_read_download_search_delete(ui: UI) -> None:
    send(ui.server, make_message(subject="Weekly digest"))
    send(ui.server, invoice_mail("Invoice #42 is ready"))
    expect(ui.page.locator("#message-list .row-subject")).to_have_text(["Invoice #42 is ready", "Weekly digest"])

    ui.open_message("Invoice #42 is ready")
    for tab in TABS:
        ui.tab(tab)
        expect(ui.page.locator("#tab-panel")).not_to_be_empty()
    with ui.page.expect_download() as eml:
        ui.page.get_by_role("link", name="Download .eml").click()
    assert eml.value.suggested_filename.endswith(".eml")
    ui.tab("Attachments")
    with ui.page.expect_download() as pdf:
        ui.page.get_by_role("link", name="Download invoice-42.pdf").click()
    with open(pdf.value.path(), "rb") as saved:
        assert saved.read() == INVOICE_PDF

    ui.page.get_by_role("searchbox", name="Search messages").fill("has:attachment")
    expect(ui.page.locator("#message-list .row-subject")).to_have_text(["Invoice #42 is ready"])
    ui.page.locator("#message-view").get_by_role("button", name="Delete").click()
    expect(ui.page.locator("#message-list li")).to_have_count(0)
    expect(ui.page.locator("#list-status")).to_have_text("No messages match this search.")

    ui.page.get_by_role("searchbox", name="Search messages").fill("")
    expect(ui.page.locator("#message-list .row-subject")).to_have_text(["Weekly digest"])
    assert [m.subject for m in ui.server.store.page(0, 0)[0]] == ["Weekly digest"]
