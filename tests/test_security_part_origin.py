"""An attachment opened on its own (``/api/v1/message/{ID}/part/{PartID}``) cannot run script in the UI's origin,
even when the mail makes one part an HTML page and another the script it loads; a part whose declared content type
is garbage is served as ``application/octet-stream`` instead of breaking the response."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator

import pytest
from browser import browser_fixture  # noqa: F401  (fixture)
from http_api import Api
from playwright.sync_api import Browser

from mailtrap_lite import MailServer

ATTACK = (
    b"From: a@example.com\r\nTo: b@example.com\r\nSubject: two-part attack\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n'
    b"--B\r\nContent-Type: text/plain\r\n\r\nopen the attachment\r\n"
    b'--B\r\nContent-Type: text/html\r\nContent-Disposition: attachment; filename="page.html"\r\n\r\n'
    b"<title>page</title><script>document.title = 'inline script ran'</script>"
    b'<script src="3"></script><p id="shown">page shown</p>\r\n'
    b'--B\r\nContent-Type: application/javascript\r\nContent-Disposition: attachment; filename="x.js"\r\n\r\n'
    b"document.title = 'loaded script ran'; fetch('/api/v1/messages', {method: 'DELETE'});\r\n"
    b"--B--\r\n"
)


@pytest.fixture
def server() -> Iterator[MailServer]:
    with MailServer(http_port=0) as running:
        with smtplib.SMTP(running.smtp_host, running.smtp_port, timeout=10) as client:
            client.sendmail("a@example.com", ["b@example.com"], ATTACK)
        yield running


def test_an_html_attachment_cannot_run_script_in_the_ui_origin(server: MailServer, browser: Browser) -> None:
    message = server.store.latest()
    assert message is not None
    assert [p.part_id for p in message.attachments] == ["2", "3"]
    page = browser.new_page()
    try:
        page.goto(f"{server.http_url}/api/v1/message/{message.id}/part/2")
        assert page.locator("#shown").inner_text() == "page shown"  # the page itself is shown...
        assert page.title() == "page"  # ...but neither its inline script nor the script part ran
        page.goto(f"{server.http_url}/api/v1/message/{message.id}/part/3")  # a round trip: anything pending ran
    finally:
        page.close()
    assert len(server.store) == 1


def test_parts_are_served_in_a_sandbox_without_scripts(server: MailServer) -> None:
    message = server.store.latest()
    assert message is not None
    for part in message.attachments:
        answer = Api(server.http_url or "").get(f"/api/v1/message/{message.id}/part/{part.part_id}")
        policy = answer.headers["Content-Security-Policy"]
        assert "sandbox" in policy and "default-src 'none'" in policy


def test_a_garbage_content_type_is_served_as_octet_stream(server: MailServer) -> None:
    raw = (b"Subject: odd type\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
           b'--B\r\nContent-Type:\x80 application/pdf\r\nContent-Disposition: attachment; filename="a.pdf"\r\n\r\n'
           b"%PDF\r\n--B--\r\n")
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.sendmail("a@example.com", ["b@example.com"], raw)
    message = server.store.latest()
    assert message is not None
    (part,) = message.attachments
    answer = Api(server.http_url or "").get(f"/api/v1/message/{message.id}/part/{part.part_id}")
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/octet-stream"
    assert answer.body == b"%PDF"
