"""``POST /api/v1/send`` builds a real MIME message and stores it through the same path as SMTP: it shows up in
the list, on the websocket, with tags, Bcc kept out of the headers, attachments and inline images."""

from __future__ import annotations

import base64

import pytest
from http_api import Api

from mailtrap_lite import MailServer

LOGO = b"\x89PNG\r\n\x1a\n logo bytes"


def _request(**extra: object) -> dict[str, object]:
    """What cypress-mailpit sends: every key present."""
    body: dict[str, object] = {
        "From": {"Email": "john@example.com", "Name": "John"},
        "To": [{"Email": "jane@example.com", "Name": "Jane"}],
        "Cc": [{"Email": "cc@example.com", "Name": ""}],
        "Bcc": ["bcc@example.com"],
        "ReplyTo": [{"Email": "reply@example.com", "Name": ""}],
        "Subject": "Welcome, Jane ☀",
        "Text": "Your code is 424242",
        "HTML": '<p>Your code is <b>424242</b> <img src="cid:logo"></p>',
        "Attachments": [
            {"Content": base64.b64encode(b"a,b\n1,2\n").decode(), "Filename": "data.csv"},
            {"Content": "data:image/png;base64," + base64.b64encode(LOGO).decode(), "Filename": "logo.png",
             "ContentID": "logo"},
        ],
        "Headers": {"X-Campaign": "spring"},
        "Tags": ["onboarding"],
    }
    body.update(extra)
    return body


def test_a_sent_message_is_stored_like_smtp_mail(server: MailServer) -> None:
    api = Api(server.http_url or "")
    answer = api.request("POST", "/api/v1/send", _request())
    assert answer.status == 200
    message_id = answer.json()["ID"]
    message = api.json(f"/api/v1/message/{message_id}")
    assert message["From"] == {"Name": "John", "Address": "john@example.com"}
    assert message["To"] == [{"Name": "Jane", "Address": "jane@example.com"}]
    assert message["Bcc"] == [{"Name": "", "Address": "bcc@example.com"}]  # from the envelope
    assert message["Subject"] == "Welcome, Jane ☀"
    assert message["Text"].strip() == "Your code is 424242"
    assert message["Tags"] == ["onboarding"]
    assert [a["FileName"] for a in message["Attachments"]] == ["data.csv"]
    [logo] = message["Inline"]
    assert (logo["ContentID"], logo["Size"]) == ("logo", len(LOGO))
    raw = api.get(f"/api/v1/message/{message_id}/raw").text
    assert "bcc@example.com" not in raw and "X-Campaign: spring" in raw
    assert api.json(f"/api/v1/message/{message_id}/codes")["Codes"] == ["424242"]


def test_blank_placeholder_addresses_are_ignored(server: MailServer) -> None:
    api = Api(server.http_url or "")
    answer = api.request("POST", "/api/v1/send", _request(Cc=[{"Email": "", "Name": ""}], Bcc=[""]))
    assert answer.status == 200
    message = api.json(f"/api/v1/message/{answer.json()['ID']}")
    assert (message["Cc"], message["Bcc"]) == ([], [])


def test_only_from_is_required(server: MailServer) -> None:
    api = Api(server.http_url or "")
    answer = api.request("POST", "/api/v1/send", {"from": {"email": "solo@example.com"}})
    assert answer.status == 200
    assert api.json("/api/v1/message/latest")["From"]["Address"] == "solo@example.com"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"To": [{"Email": "x@example.com"}]}, "From.Email is required"),
        (_request(To=[{"Email": "not-an-address"}]), "invalid To address: not-an-address"),
        (_request(Headers={"subject": "sneaky"}), 'cannot overwrite header: "subject"'),
        (_request(Headers={"X-Tags": "a"}), 'cannot overwrite header: "X-Tags"'),
        (_request(Attachments=[{"Content": "%%%", "Filename": "x.bin"}]), "invalid base64"),
        (_request(To="jane@example.com"), "To must be a list of objects"),
        (_request(Subject="two\r\nlines"), "cannot build the message"),
        (_request(Text="\ud800 half a character"), "cannot build the message"),
        (_request(Attachments=[{"Content": "aGk=", "Filename": "a\nb.txt"}]), "cannot build the message"),
    ],
)
def test_bad_requests_are_400_with_a_json_error(server: MailServer, body: dict[str, object], error: str) -> None:
    answer = Api(server.http_url or "").request("POST", "/api/v1/send", body)
    assert answer.status == 400
    assert error in answer.json()["Error"]


def test_a_message_over_the_size_limit_is_413() -> None:
    with MailServer(http_port=0, max_message_size=10_000) as server:
        answer = Api(server.http_url or "").request("POST", "/api/v1/send", _request(Text="x" * 30_000))
        assert answer.status == 413
        assert answer.json() == {"Error": "http: request body too large"}
