"""Reading a message in the UI: every tab shows its view of the mail, and the .eml and attachments download."""

from __future__ import annotations

import pytest
from browser import INVOICE_PDF, UI, browser_fixture, expect, invoice_mail, loaded_width, ui_fixture  # noqa: F401
from mailtools import send
from playwright.sync_api import Locator

pytestmark = pytest.mark.browser

SUBJECT = "Invoice #42 is ready"


@pytest.fixture
def invoice(ui: UI) -> UI:
    """The UI with the invoice mail received and opened."""
    send(ui.server, invoice_mail(SUBJECT))
    ui.open_message(SUBJECT)
    return ui


def test_header_shows_sender_recipients_and_subject(invoice: UI) -> None:
    meta = invoice.page.locator("#message-meta")
    expect(meta).to_contain_text("Acme Billing <billing@acme.test>")
    expect(meta).to_contain_text("Bob Buyer <bob@example.com>")
    expect(invoice.page.locator("#message-subject")).to_have_text(SUBJECT)


def test_html_tab_renders_in_a_sandboxed_frame_with_cid_images(invoice: UI) -> None:
    frame_element = invoice.page.locator("iframe.preview-frame")
    expect(frame_element).to_have_attribute("sandbox", "")
    expect(frame_element).to_have_attribute("src", f"/view/{invoice.message_id(SUBJECT)}.html")
    frame = invoice.page.frame_locator("iframe.preview-frame")
    expect(frame.locator("h1")).to_have_text("Invoice #42")
    message = invoice.server.store.get(invoice.message_id(SUBJECT))
    assert message is not None
    logo = frame.locator("#logo")
    expect(logo).to_have_attribute("src", f"/api/v1/message/{message.id}/part/{message.inline[0].part_id}")
    assert loaded_width(logo) == 8, "the cid: image did not load inside the sandboxed frame"


def test_width_switch_resizes_the_preview(invoice: UI) -> None:
    invoice.page.set_viewport_size({"width": 1600, "height": 900})
    frame_element = invoice.page.locator("iframe.preview-frame")
    invoice.page.get_by_role("button", name="Mobile").click()
    expect(invoice.page.get_by_role("button", name="Mobile")).to_have_attribute("aria-pressed", "true")
    assert width(frame_element) == pytest.approx(375, abs=1)
    invoice.page.get_by_role("button", name="Tablet").click()
    assert width(frame_element) == pytest.approx(768, abs=1)
    invoice.page.get_by_role("button", name="Desktop").click()
    assert width(frame_element) > 768


def width(element: Locator) -> float:
    """The rendered width of an element in CSS pixels."""
    box = element.bounding_box()
    assert box is not None
    return box["width"]


def test_every_tab_shows_its_view(invoice: UI) -> None:
    panel = invoice.page.locator("#tab-panel")

    invoice.tab("Text")
    expect(panel).to_contain_text("Your invoice is attached. Pay online: https://pay.acme.test/i/42")

    invoice.tab("HTML source")
    expect(panel).to_contain_text('<h1>Invoice #42</h1>')

    invoice.tab("Headers")
    subject_row = panel.locator("tr").filter(has=invoice.page.locator("th", has_text="Subject"))
    expect(subject_row.locator("td")).to_have_text(SUBJECT)

    invoice.tab("Raw")
    expect(panel).to_contain_text("Content-Type: multipart/mixed")
    expect(panel).to_contain_text("Content-Disposition: attachment; filename=\"invoice-42.pdf\"")

    invoice.tab("Attachments")
    expect(panel.locator(".attachment-name")).to_have_text(["invoice-42.pdf", "logo.png"])
    preview = panel.get_by_role("img", name="Preview of logo.png")
    expect(preview).to_be_visible()
    assert loaded_width(preview) == 8

    invoice.tab("Links")
    link = panel.get_by_role("link", name="https://pay.acme.test/i/42")
    expect(link).to_have_attribute("href", "https://pay.acme.test/i/42")
    expect(link).to_have_attribute("rel", "noopener noreferrer")

    invoice.tab("SMTP")
    expect(panel.locator(".facts")).to_contain_text("<billing@acme.test>")
    expect(panel.locator(".facts")).to_contain_text("<bob@example.com>")
    expect(panel.locator(".transcript")).to_contain_text("mail FROM:<billing@acme.test>")
    expect(panel.locator(".transcript")).to_contain_text("250 2.0.0 Ok: queued as")

    invoice.tab("HTML")
    expect(invoice.page.frame_locator("iframe.preview-frame").locator("h1")).to_have_text("Invoice #42")


def test_download_eml_gives_the_raw_message(invoice: UI) -> None:
    with invoice.page.expect_download() as download_info:
        invoice.page.get_by_role("link", name="Download .eml").click()
    download = download_info.value
    assert download.suggested_filename == f"{invoice.message_id(SUBJECT)}.eml"
    with open(download.path(), "rb") as saved:
        stored = invoice.server.store.get(invoice.message_id(SUBJECT))
        assert stored is not None and saved.read() == stored.raw


def test_download_attachment_gives_its_bytes(invoice: UI) -> None:
    invoice.tab("Attachments")
    with invoice.page.expect_download() as download_info:
        invoice.page.get_by_role("link", name="Download invoice-42.pdf").click()
    download = download_info.value
    assert download.suggested_filename == "invoice-42.pdf"
    with open(download.path(), "rb") as saved:
        assert saved.read() == INVOICE_PDF


def test_a_message_has_an_address_that_opens_it(invoice: UI) -> None:
    address = invoice.page.url
    assert address.endswith(f"#/message/{invoice.message_id(SUBJECT)}")
    other = invoice.page.context.new_page()
    other.goto(address)
    expect(other.locator("#message-subject")).to_have_text(SUBJECT)
    other.goto(f"{invoice.url}#/message/NoSuchMessage")
    expect(other.locator("#toast")).to_have_text("That message no longer exists.")
    expect(other.locator("#message-view")).to_be_hidden()
