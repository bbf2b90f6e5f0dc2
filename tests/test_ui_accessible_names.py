"""Every control in the UI has an accessible name (what a screen reader announces), read from Chromium's own
accessibility tree, and the page runs without Content-Security-Policy violations or script errors."""

from __future__ import annotations

import pytest
from browser import UI, browser_fixture, expect, invoice_mail, ui_fixture  # noqa: F401  (fixtures)
from mailtools import send

pytestmark = pytest.mark.browser

CONTROL_ROLES = {"button", "link", "textbox", "searchbox", "checkbox", "combobox", "spinbutton", "tab", "Iframe",
                 "img", "dialog", "listbox", "menuitem", "radio", "switch"}


def unnamed_controls(ui: UI) -> list[str]:
    """Controls in the accessibility tree with an empty name, as ``role (html tag#id)``."""
    session = ui.page.context.new_cdp_session(ui.page)
    tree = session.send("Accessibility.getFullAXTree")
    missing = []
    for node in tree["nodes"]:
        if node.get("ignored"):
            continue
        role = node.get("role", {}).get("value", "")
        name = str(node.get("name", {}).get("value", "")).strip()
        if role in CONTROL_ROLES and not name:
            missing.append(f"{role} (backend node {node.get('backendDOMNodeId')})")
    session.detach()
    return missing


def test_the_check_notices_a_control_without_a_name(ui: UI) -> None:
    ui.page.evaluate("() => document.body.append(document.createElement('button'))")
    assert len(unnamed_controls(ui)) == 1


def test_every_control_has_an_accessible_name(ui: UI) -> None:
    send(ui.server, invoice_mail("Named controls"))
    ui.open_message("Named controls")
    assert unnamed_controls(ui) == []
    ui.tab("Attachments")
    assert unnamed_controls(ui) == []
    ui.page.get_by_role("button", name="Faults").click()
    expect(ui.page.get_by_role("dialog", name="SMTP fault rules")).to_be_visible()
    assert unnamed_controls(ui) == []


def test_the_page_runs_clean_under_its_content_security_policy(ui: UI) -> None:
    send(ui.server, invoice_mail("Clean run"))
    ui.open_message("Clean run")
    ui.every_tab()
    expect(ui.page.frame_locator("iframe.preview-frame").locator("h1")).to_have_text("Invoice #42")
    page_errors = [error for error in ui.console_errors if "/view/" not in error]
    assert page_errors == []
