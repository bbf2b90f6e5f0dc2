"""A message past a parse limit says so in the message pane ("Shown as raw: nested 900 deep, limit 100") and its
Text tab shows its source; ordinary mail shows no such notice."""

from __future__ import annotations

import smtplib

import poison_mail
import pytest
from browser import UI, browser_fixture, expect, ui_fixture  # noqa: F401
from mailtools import make_message, send

pytestmark = pytest.mark.browser


def test_a_raw_shown_message_carries_a_visible_notice(ui: UI) -> None:
    with smtplib.SMTP(ui.server.smtp_host, ui.server.smtp_port, timeout=30) as client:
        client.sendmail("poison@example.com", ["victim@example.com"], poison_mail.deep_multipart())
    ui.open_message("deep multipart")
    notice = ui.page.get_by_role("note")
    expect(notice).to_be_visible()
    expect(notice).to_have_text("Shown as raw: nested 900 deep, limit 100")
    ui.tab("Text")
    expect(ui.page.locator("#tab-panel")).to_contain_text('Content-Type: multipart/mixed; boundary="b899"')


def test_ordinary_mail_has_no_notice(ui: UI) -> None:
    send(ui.server, make_message(subject="ordinary"))
    ui.open_message("ordinary")
    expect(ui.page.locator("#raw-notice")).to_be_hidden()
