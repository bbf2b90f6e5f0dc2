"""Captured mail is hostile input. Scripts in it never run, neither in the UI's origin nor in the preview frame;
nothing is fetched from the mail's remote URLs until the user allows remote images; markup in subjects and file
names is shown as text; and a 5 MB message does not lock up the page."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from browser import UI, browser_fixture, expect, ui_fixture  # noqa: F401  (fixtures)
from mailtools import make_message, send
from playwright.sync_api import Dialog, Frame

pytestmark = pytest.mark.browser

EVIL = "evil.invalid"
HOSTILE_HTML = f"""<!doctype html><html><head>
<meta http-equiv="refresh" content="0; url=http://{EVIL}/refresh">
<link rel="stylesheet" href="http://{EVIL}/sheet.css">
<style>@import url("http://{EVIL}/import.css"); body {{ background: url("http://{EVIL}/css-bg.png"); }}</style>
<script>window.pwned = "script"; try {{ parent.pwned = "script"; }} catch (e) {{}}
  fetch("http://{EVIL}/fetch"); fetch("/api/v1/messages", {{method: "DELETE"}});</script>
</head><body onload="window.pwned = 'onload'">
<h1 id="headline">Totally normal newsletter</h1>
<img id="broken" src="does-not-exist" onerror="window.pwned = 'onerror'; new Image().src = 'http://{EVIL}/onerror'">
<img id="tracker" src="http://{EVIL}/tracker.png" alt="tracker">
<svg onload="window.pwned = 'svg'"><circle r="4"></circle></svg>
<a id="js-link" href="javascript:window.pwned = 'js-link'; parent.pwned = 'js-link'">Claim your prize</a>
<form id="form" action="/api/v1/send" method="post"><input name="From" value="x@y.z">
  <button id="submit" type="submit">Unsubscribe</button></form>
<iframe src="javascript:parent.pwned = 'nested'"></iframe>
</body></html>"""


def hostile_mail(subject: str) -> EmailMessage:
    """A message carrying every trick at once, with markup in its subject and an attachment's file name."""
    message = make_message("Mallory <mallory@example.com>", "victim@example.com", subject,
                           "Plain part of the hostile mail.")
    message.add_alternative(HOSTILE_HTML, subtype="html")
    message.add_attachment(b"hello", maintype="text", subtype="plain", filename="<img src=x onerror=alert(1)>.txt")
    return message


def preview_frame(ui: UI) -> Frame:
    """The sandboxed preview frame, once its document has loaded."""
    expect(ui.page.frame_locator("iframe.preview-frame").locator("#headline")).to_have_text(
        "Totally normal newsletter"
    )
    frame = next(f for f in ui.page.frames if "/view/" in f.url)
    return frame


def flag(frame: Frame) -> object:
    """The `window.pwned` flag the hostile scripts try to set (None when unset)."""
    return frame.evaluate("() => window.pwned ?? null")


def evil_requests(ui: UI) -> list[str]:
    """Every request that left the browser for the mail's remote host."""
    return [url for url in ui.requests_sent() if EVIL in url]


def test_scripts_in_mail_never_run(ui: UI) -> None:
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    ui.page.on("dialog", record)
    subject = "<script>window.pwned='subject'</script> Win a prize"
    send(ui.server, hostile_mail(subject))

    ui.open_message(subject)
    frame = preview_frame(ui)
    frame.locator("#js-link").click()
    frame.locator("#submit").click()

    assert flag(frame) is None
    assert flag(ui.page.main_frame) is None
    assert dialogs == []
    assert len(ui.server.store) == 1, "the mail's script or form reached the API"
    assert not any(url.endswith("/api/v1/send") for url in ui.requests_sent())
    assert frame.url.endswith(".html"), "the meta refresh navigated the preview"


def test_nothing_is_fetched_from_remote_urls_until_allowed(ui: UI) -> None:
    send(ui.server, hostile_mail("Remote content"))
    ui.open_message("Remote content")
    preview_frame(ui)
    ui.every_tab()
    preview_frame(ui)
    assert evil_requests(ui) == []

    with ui.page.expect_request(lambda request: request.url == f"http://{EVIL}/tracker.png"):
        ui.page.get_by_role("button", name="Load remote content").click()
    expect(ui.page.locator("#tab-panel")).to_contain_text("Remote content allowed for this message.")


def test_markup_in_subjects_and_file_names_is_shown_as_text(ui: UI) -> None:
    subject = "<b>Bold</b> & <img src=x onerror=alert(1)>"
    send(ui.server, hostile_mail(subject))

    expect(ui.row(subject).locator(".row-subject")).to_have_text(subject)
    ui.open_message(subject)
    expect(ui.page.locator("#message-subject")).to_have_text(subject)
    ui.tab("Attachments")
    expect(ui.page.locator(".attachment-name")).to_have_text("<img src=x onerror=alert(1)>.txt")
    injected = ui.page.locator("#message-list img, #message-subject img, #tab-panel img:not(.attachment-preview)")
    assert injected.count() == 0
    assert flag(ui.page.main_frame) is None


def test_a_5_mb_table_keeps_the_page_responsive(ui: UI) -> None:
    rows = "".join(f"<tr><td>row {i}</td><td>{'x' * 40}</td></tr>" for i in range(90_000))
    big = EmailMessage()
    big["From"] = "bulk@example.com"
    big["To"] = "bob@example.com"
    big["Subject"] = "Huge report"
    big.set_content(f"<table>{rows}</table>", subtype="html")
    assert len(big.as_bytes()) > 5_000_000
    send(ui.server, big)
    send(ui.server, make_message(subject="Small one"))

    ui.open_message("Huge report")
    ui.tab("HTML source")
    expect(ui.page.locator("#tab-panel")).to_contain_text("Showing the first 512.0 KB")
    ui.tab("HTML")
    ui.open_message("Small one")
    expect(ui.page.locator("#message-subject")).to_have_text("Small one")
