"""The Faults panel edits the same SMTP fault rules as the REST API and the CLI: a rule added in the browser is
hit by the next smtplib send, removing it restores normal delivery, and fired faults show in the SMTP tab."""

from __future__ import annotations

import smtplib

import pytest
from browser import UI, browser_fixture, expect, ui_fixture  # noqa: F401  (fixtures)
from mailtools import make_message, send

pytestmark = pytest.mark.browser


def open_panel(ui: UI) -> None:
    ui.page.get_by_role("button", name="Faults").click()
    expect(ui.page.get_by_role("dialog", name="SMTP fault rules")).to_be_visible()


def test_a_rule_added_in_the_panel_is_hit_by_the_next_send(ui: UI) -> None:
    open_panel(ui)
    expect(ui.page.locator("#fault-list")).to_have_text("No rules: every SMTP command succeeds.")
    ui.page.get_by_label("Stage").select_option("rcpt")
    ui.page.get_by_label("Code").fill("550")
    ui.page.get_by_label("Recipient matches").fill("*@bounce.test")
    ui.page.get_by_label("Times").fill("0")
    ui.page.get_by_role("button", name="Add rule").click()

    rule = ui.page.locator("#fault-list .fault-rule")
    expect(rule).to_have_count(1)
    expect(rule.locator("code")).to_contain_text("rcpt")
    expect(rule.locator("code")).to_contain_text("*@bounce.test")
    expect(ui.page.get_by_role("button", name="Faults (1 active)")).to_be_attached()

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(ui.server, make_message(to="nobody@bounce.test"))
    assert refused.value.recipients["nobody@bounce.test"][0] == 550
    send(ui.server, make_message(to="bob@example.com", subject="Still delivered"))
    expect(ui.row("Still delivered")).to_be_visible()
    expect(rule.locator(".hint")).to_contain_text("fired 1")

    rule.get_by_role("button", name="Remove rule").click()
    expect(ui.page.locator("#fault-list")).to_have_text("No rules: every SMTP command succeeds.")
    send(ui.server, make_message(to="nobody@bounce.test", subject="Delivered again"))
    expect(ui.row("Delivered again")).to_be_visible()


def test_a_rule_in_cli_syntax_works_and_a_bad_one_is_explained(ui: UI) -> None:
    open_panel(ui)
    rule_text = ui.page.get_by_label("Rule in the --fault syntax")
    rule_text.fill("data:bogus")
    ui.page.get_by_role("button", name="Add rule").click()
    expect(ui.page.locator("#fault-error")).not_to_be_empty()
    expect(ui.page.locator("#fault-list .fault-rule")).to_have_count(0)

    rule_text.fill("data:451:times=1")
    ui.page.get_by_role("button", name="Add rule").click()
    expect(ui.page.locator("#fault-list .fault-rule code")).to_have_text("data:451")
    expect(ui.page.locator("#fault-error")).to_be_empty()

    with pytest.raises(smtplib.SMTPDataError) as rejected:
        send(ui.server)
    assert rejected.value.smtp_code == 451


def test_fired_faults_appear_in_the_message_transcript(ui: UI) -> None:
    open_panel(ui)
    ui.page.get_by_label("Rule in the --fault syntax").fill("data:delay=0.05")
    ui.page.get_by_role("button", name="Add rule").click()
    expect(ui.page.locator("#fault-list .fault-rule")).to_have_count(1)
    ui.page.keyboard.press("Escape")
    expect(ui.page.get_by_role("dialog", name="SMTP fault rules")).to_be_hidden()

    send(ui.server, make_message(subject="Slow delivery"))
    ui.open_message("Slow delivery")
    ui.tab("SMTP")
    fault_line = ui.page.locator(".transcript tr.line-fault")
    expect(fault_line).to_have_count(1)
    expect(fault_line).to_contain_text("delay")
    expect(ui.page.locator(".facts")).not_to_contain_text("Faults firednone")
