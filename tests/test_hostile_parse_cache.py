"""The parse cache (issue #15, item 4): the full views of recently read messages are kept within a budget in bytes,
and deleting mail (one message, all of it, or the cap pruning it) drops its views at once, so memory comes back.

The server runs in this process, so the test reads the cache's size directly.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from http_api import Api

from mailtrap_lite import MailServer
from mailtrap_lite.message import PARSE_CACHE_BYTES, parse_cache_bytes

MIB = 1024 * 1024


def _send_with_attachment(server: MailServer, index: int, size: int) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", f"file {index}"
    message.set_content("see the attachment")
    message.add_attachment(bytes([index % 256]) * size, maintype="application", subtype="octet-stream",
                           filename=f"file{index}.bin")
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=30) as client:
        client.send_message(message)


def _view_all(api: Api) -> list[str]:
    ids = [m["ID"] for m in api.json("/api/v1/messages?limit=0")["messages"]]
    for message_id in ids:
        api.json(f"/api/v1/message/{message_id}")
    return ids


def test_deleted_mail_leaves_the_parse_cache_at_once(server: MailServer) -> None:
    api = Api(server.http_url or "")
    before = parse_cache_bytes()
    for index in range(3):
        _send_with_attachment(server, index, MIB)
    first = _view_all(api)[0]
    full = parse_cache_bytes()
    assert full - before > 3 * MIB  # three sources and three decoded attachments

    assert api.request("DELETE", "/api/v1/messages", body={"IDs": [first]}).status == 200
    assert full - parse_cache_bytes() > MIB  # that one's source and attachment

    assert api.request("DELETE", "/api/v1/messages").status == 200  # everything
    assert parse_cache_bytes() <= before  # (other tests' views may have made room meanwhile)


def test_the_cache_stays_within_its_budget_in_bytes(server: MailServer) -> None:
    api = Api(server.http_url or "")
    for index in range(PARSE_CACHE_BYTES // (4 * MIB) + 4):  # more than the budget holds, sources alone
        _send_with_attachment(server, index, 2 * MIB)
    _view_all(api)
    assert PARSE_CACHE_BYTES // 2 < parse_cache_bytes() <= PARSE_CACHE_BYTES
