"""Captured mail is hostile input: nothing in a message can run script in the API's origin, whether it is viewed
as HTML, opened as an attachment or fetched raw."""

from __future__ import annotations

from email.message import EmailMessage

from http_api import Api
from mailtools import make_message, send

from mailtrap_lite import MailServer

EVIL_HTML = '<p>hi</p><script>fetch("/api/v1/messages", {method: "DELETE"})</script><img src=x onerror=alert(1)>'


def _evil_message() -> EmailMessage:
    message = make_message(subject="evil")
    message.add_alternative(EVIL_HTML, subtype="html")
    message.add_attachment(EVIL_HTML.encode(), "text", "html", filename="invoice.html")
    message.add_attachment(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image", "svg+xml",
                           filename="logo.svg")
    return message


def test_the_html_view_is_sandboxed_without_scripts(server: MailServer) -> None:
    send(server, _evil_message())
    answer = Api(server.http_url or "").get("/view/latest.html")
    policy = answer.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "allow-scripts" not in policy and "script-src" not in policy
    assert "default-src 'none'" in policy


def test_active_attachments_are_served_sandboxed(server: MailServer) -> None:
    send(server, _evil_message())
    api = Api(server.http_url or "")
    for attachment in api.json("/api/v1/message/latest")["Attachments"]:
        answer = api.get(f"/api/v1/message/latest/part/{attachment['PartID']}")
        policy = answer.headers["Content-Security-Policy"]
        assert "sandbox" in policy and "allow-scripts" not in policy, attachment["FileName"]
        assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_raw_source_is_plain_text_that_browsers_may_not_sniff(server: MailServer) -> None:
    send(server, _evil_message())
    answer = Api(server.http_url or "").get("/api/v1/message/latest/raw")
    assert answer.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
