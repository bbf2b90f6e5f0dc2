"""Our additions to Mailpit's API: SMTP session transcripts (rejected attempts included), how a message arrived,
the links in a message and its one-time codes, and the server's info."""

from __future__ import annotations

import smtplib
from urllib.parse import quote

import pytest
from http_api import Api
from mailtools import make_message, send

from mailtrap_lite import MailServer


def test_sessions_show_every_attempt_with_its_reply(server: MailServer) -> None:
    api = Api(server.http_url or "")
    api.request("POST", "/api/v1/faults", {"rule": "data:451"})
    with pytest.raises(smtplib.SMTPDataError):
        send(server, make_message(subject="first try"))
    send(server, make_message(subject="second try"))
    listing = api.json("/api/v1/sessions")
    assert listing["total"] == 2
    newest, oldest = listing["sessions"]
    assert [a["ReplyCode"] for a in oldest["Attempts"]] == [451]
    assert oldest["Attempts"][0]["Fault"] and oldest["MessageIDs"] == []
    assert [a["ReplyCode"] for a in newest["Attempts"]] == [250] and len(newest["MessageIDs"]) == 1
    assert "Transcript" not in newest

    detail = api.json(f"/api/v1/session/{oldest['ID']}")
    lines = [(line["Direction"], line["Text"]) for line in detail["Transcript"]]
    assert ("C", "DATA") in [(direction, text.upper()) for direction, text in lines]
    assert any(direction == "F" for direction, _ in lines)  # the fault that fired
    assert any(direction == "S" and text.startswith("451") for direction, text in lines)
    assert api.get("/api/v1/session/nope").status == 404


def test_each_attempt_lists_its_own_recipients(server: MailServer) -> None:
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.send_message(make_message(), "a@example.com", ["b@example.com", "c@example.com"])
        client.send_message(make_message(), "a@example.com", ["b@example.com"])
        client.send_message(make_message(), "a@example.com", ["b@example.com", "c@example.com", "d@example.com"])
    session = Api(server.http_url or "").json("/api/v1/sessions")["sessions"][0]
    assert [a["Recipients"] for a in session["Attempts"]] == [
        ["b@example.com", "c@example.com"], ["b@example.com"], ["b@example.com", "c@example.com", "d@example.com"]
    ]


def test_a_message_knows_how_it_arrived(server: MailServer) -> None:
    send(server, make_message(to="bob@example.com"), to_addrs=["bob@example.com", "hidden@example.com"])
    smtp = Api(server.http_url or "").json("/api/v1/message/latest/smtp")
    assert smtp["Envelope"] == {"From": "alice@example.com", "To": ["bob@example.com", "hidden@example.com"]}
    assert smtp["Session"]["ID"] == smtp["SessionID"]
    assert any(line["Text"].upper().startswith("MAIL FROM") for line in smtp["Session"]["Transcript"])


def test_links_in_text_and_html_in_order_without_duplicates(server: MailServer) -> None:
    message = make_message(text="Confirm: https://app.example/confirm?t=1 (or https://app.example/help).")
    message.add_alternative('<a href="https://app.example/confirm?t=1">Confirm</a> <a href="mailto:x@y">x</a>',
                            subtype="html")
    send(server, message)
    links = Api(server.http_url or "").json("/api/v1/message/latest/links")["Links"]
    assert links == ["https://app.example/confirm?t=1", "https://app.example/help"]


@pytest.mark.parametrize(
    ("pattern", "codes"),
    [("", ["482913"]), (r"ref ([A-Z]{3}-\d+)", ["ABC-77"]), (r"\d{2}", ["48", "29", "13", "77"])],
)
def test_one_time_codes_are_found_by_pattern(server: MailServer, pattern: str, codes: list[str]) -> None:
    send(server, make_message(subject="Your login", text="Use 482913 to sign in (ref ABC-77)."))
    found = Api(server.http_url or "").json(f"/api/v1/message/latest/codes?pattern={quote(pattern)}")
    assert found["Codes"] == codes


def test_a_bad_code_pattern_is_a_400(server: MailServer) -> None:
    send(server, make_message())
    answer = Api(server.http_url or "").get(f"/api/v1/message/latest/codes?pattern={quote('(unclosed')}")
    assert answer.status == 400 and "not a valid regular expression" in answer.text


def test_info_counts_messages_tags_and_smtp_traffic(server: MailServer) -> None:
    tagged = make_message()
    tagged["X-Tags"] = "alpha"
    send(server, tagged)
    send(server, make_message())
    info = Api(server.http_url or "").json("/api/v1/info")
    assert (info["Messages"], info["Unread"], info["Tags"]) == (2, 2, {"alpha": 1})
    stats = info["RuntimeStats"]
    assert stats["SMTPAccepted"] == 2 and stats["SMTPAcceptedSize"] > 0 and stats["MessagesDeleted"] == 0
