"""Every message endpoint answers with Mailpit's shapes for mail sent over real SMTP: plain, HTML, attachments,
inline images, UTF-8 headers and Bcc, so Mailpit's clients (npm mailpit-api, cypress-mailpit, PyPI
mailpit-api-client) read it unchanged."""

from __future__ import annotations

import hashlib
import http.client
import re
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from http_api import Api

from mailtrap_lite import MailServer

SUMMARY_KEYS = ["ID", "MessageID", "Read", "From", "To", "Cc", "Bcc", "ReplyTo", "Subject", "Created", "Username",
                "Tags", "Size", "Attachments", "Snippet"]
MESSAGE_KEYS = ["ID", "MessageID", "Read", "From", "To", "Cc", "Bcc", "ReplyTo", "ReturnPath", "Subject",
                "ListUnsubscribe", "Date", "Tags", "Username", "Text", "HTML", "Size", "Inline", "Attachments"]
LIST_KEYS = ["total", "unread", "count", "messages_count", "messages_unread", "start", "tags", "messages"]
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?(Z|[+-]\d\d:\d\d)$")
LOGO = b"\x89PNG\r\n\x1a\n fake logo"
PDF = b"%PDF-1.4 quarterly numbers"


def _rich_message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Zoë Zimmer <zoe@example.org>"
    message["To"] = "Bob <bob@example.com>, carol@example.com"
    message["Cc"] = "dave@example.com"
    message["Reply-To"] = "help@example.org"
    message["Subject"] = "Grüße aus Köln ☕"
    message["Message-ID"] = "<rich-1@example.org>"
    message["List-Unsubscribe"] = "<mailto:unsub@example.org>, <https://example.org/unsub?u=1>"
    message.set_content("Hallo Bob, see https://example.org/welcome")
    message.add_alternative('<p>Hallo <b>Bob</b> <img src="cid:logo@example.org"></p>', subtype="html")
    message.get_payload()[1].add_related(LOGO, "image", "png", cid="<logo@example.org>", filename="logo.png",
                                         disposition="inline")
    message.add_attachment(PDF, "application", "pdf", filename="numbers.pdf")
    return message


@pytest.fixture
def sent(server: MailServer) -> Iterator[tuple[Api, str]]:
    """A server holding one rich message that was also Bcc'd to eve@example.com; yields (api, message id)."""
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.send_message(_rich_message(), to_addrs=[
            "bob@example.com", "carol@example.com", "dave@example.com", "eve@example.com"])
    api = Api(server.http_url or "")
    yield api, api.json("/api/v1/messages")["messages"][0]["ID"]


def test_the_list_has_mailpits_keys_in_order_and_counts(sent: tuple[Api, str]) -> None:
    api, message_id = sent
    listing = api.json("/api/v1/messages")
    assert list(listing) == LIST_KEYS
    assert (listing["total"], listing["unread"], listing["count"], listing["messages_count"]) == (1, 1, 1, 1)
    item = listing["messages"][0]
    assert list(item) == SUMMARY_KEYS
    assert item["ID"] == message_id and len(message_id) == 22
    assert item["MessageID"] == "rich-1@example.org"
    assert item["From"] == {"Name": "Zoë Zimmer", "Address": "zoe@example.org"}
    assert item["To"] == [{"Name": "Bob", "Address": "bob@example.com"}, {"Name": "", "Address": "carol@example.com"}]
    assert item["Cc"] == [{"Name": "", "Address": "dave@example.com"}]
    assert item["Bcc"] == [{"Name": "", "Address": "eve@example.com"}]
    assert item["ReplyTo"] == [{"Name": "", "Address": "help@example.org"}]
    assert item["Subject"] == "Grüße aus Köln ☕"
    assert RFC3339.match(item["Created"])
    assert item["Attachments"] == 1  # a count; the inline logo is not an attachment
    assert item["Snippet"].startswith("Hallo Bob")
    assert item["Read"] is False


def test_the_message_view_has_bodies_parts_and_marks_it_read(sent: tuple[Api, str]) -> None:
    api, message_id = sent
    message = api.json(f"/api/v1/message/{message_id}")
    assert list(message) == MESSAGE_KEYS
    assert message["Text"].startswith("Hallo Bob, see https://example.org/welcome")
    assert "<b>Bob</b>" in message["HTML"]
    assert message["ReturnPath"] == "zoe@example.org"
    assert RFC3339.match(message["Date"])
    [logo] = message["Inline"]
    assert (logo["FileName"], logo["ContentType"], logo["ContentID"], logo["Size"]) == (
        "logo.png", "image/png", "logo@example.org", len(LOGO))
    [pdf] = message["Attachments"]
    assert (pdf["FileName"], pdf["ContentType"], pdf["Size"]) == ("numbers.pdf", "application/pdf", len(PDF))
    assert pdf["Checksums"]["SHA256"] == hashlib.sha256(PDF).hexdigest()
    assert message["ListUnsubscribe"]["Links"] == ["mailto:unsub@example.org", "https://example.org/unsub?u=1"]
    assert api.json("/api/v1/messages")["unread"] == 0


def test_parts_come_back_as_their_bytes(sent: tuple[Api, str]) -> None:
    api, message_id = sent
    message = api.json(f"/api/v1/message/{message_id}")
    logo = api.get(f"/api/v1/message/{message_id}/part/{message['Inline'][0]['PartID']}")
    assert (logo.status, logo.body, logo.headers["Content-Type"]) == (200, LOGO, "image/png")
    assert logo.headers["Content-Disposition"] == 'inline; filename="logo.png"'
    pdf = api.get(f"/api/v1/message/{message_id}/part/{message['Attachments'][0]['PartID']}")
    assert pdf.body == PDF
    assert api.get(f"/api/v1/message/{message_id}/part/9.9").status == 404


def test_headers_use_go_canonical_keys_sorted(sent: tuple[Api, str]) -> None:
    api, message_id = sent
    headers = api.json(f"/api/v1/message/{message_id}/headers")
    assert list(headers) == sorted(headers)
    assert headers["Message-Id"] == ["<rich-1@example.org>"]
    assert headers["Subject"] == ["Grüße aus Köln ☕"]
    assert "Mime-Version" in headers and "Content-Type" in headers


def test_raw_is_the_message_as_received_and_downloads_as_eml(sent: tuple[Api, str]) -> None:
    api, message_id = sent
    raw = api.get(f"/api/v1/message/{message_id}/raw")
    assert raw.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert b"Subject: =?utf-8?" in raw.body and PDF not in raw.body  # encoded, as sent
    download = api.get(f"/api/v1/message/{message_id}/raw?dl=1")
    assert download.headers["Content-Disposition"] == f'attachment; filename="{message_id}.eml"'
    assert download.body == raw.body


def test_views_render_html_with_cid_images_and_text(sent: tuple[Api, str]) -> None:
    api, message_id = sent
    html = api.get(f"/view/{message_id}.html")
    part_id = api.json(f"/api/v1/message/{message_id}")["Inline"][0]["PartID"]
    assert f'src="/api/v1/message/{message_id}/part/{part_id}"' in html.text
    assert "sandbox" in html.headers["Content-Security-Policy"]
    text = api.get(f"/view/{message_id}.txt")
    assert text.text.startswith("Hallo Bob") and text.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_latest_stands_for_the_newest_message(sent: tuple[Api, str]) -> None:
    api, message_id = sent
    assert api.json("/api/v1/message/latest")["ID"] == message_id
    assert api.get("/api/v1/message/latest/raw").status == 200
    assert api.get("/view/latest.txt").status == 200


def test_unknown_ids_are_404_with_mailpits_body(sent: tuple[Api, str]) -> None:
    api, _ = sent
    for path in ("/api/v1/message/nope", "/api/v1/message/nope/headers", "/api/v1/message/nope/raw",
                 "/view/nope.html", "/api/v1/message/nope/part/1"):
        answer = api.get(path)
        assert (answer.status, answer.text) == (404, "404 page not found"), path


def test_a_message_without_html_has_no_html_view(server: MailServer) -> None:
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.sendmail("a@example.com", ["b@example.com"], b"Subject: plain\r\n\r\njust text\r\n")
    answer = Api(server.http_url or "").get("/view/latest.html")
    assert (answer.status, answer.text) == (404, "This message does not contain a HTML part")


def test_view_latest_redirects_to_the_ui_page_of_the_newest_message(sent: tuple[Api, str]) -> None:
    api, message_id = sent
    host_port = api.base_url.removeprefix("http://")
    connection = http.client.HTTPConnection(host_port, timeout=10)
    connection.request("GET", "/view/latest")
    answer = connection.getresponse()
    assert (answer.status, answer.getheader("Location")) == (302, f"/#/message/{message_id}")
    answer.read()  # the connection is kept alive: a response is read before the next request
    connection.request("GET", "/view/latest?query=subject:nothing-like-this")
    missing = connection.getresponse()
    assert (missing.status, missing.read()) == (404, b"Message not found")
    connection.close()
