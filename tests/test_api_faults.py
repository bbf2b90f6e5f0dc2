"""Fault rules over REST: add (JSON fields or the CLI string), list with counters, remove; Mailpit's chaos API.
The rules added here really make the SMTP server fail."""

from __future__ import annotations

import smtplib

import pytest
from http_api import Api
from mailtools import make_message, send

from mailtrap_lite import MailServer


def test_a_rule_added_over_rest_makes_smtp_fail_and_counts_its_firing(server: MailServer) -> None:
    api = Api(server.http_url or "")
    added = api.request("POST", "/api/v1/faults", {"stage": "data", "code": 451, "times": 1})
    assert added.status == 200
    rule = added.json()
    assert (rule["stage"], rule["code"], rule["times"], rule["fired"]) == ("data", 451, 1, 0) and rule["id"]
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(server, make_message())
    assert refused.value.smtp_code == 451
    send(server, make_message())  # the one-shot rule is used up
    [listed] = api.json("/api/v1/faults")
    assert (listed["id"], listed["fired"]) == (rule["id"], 1)


def test_the_cli_syntax_works_too_and_keys_ignore_case(server: MailServer) -> None:
    api = Api(server.http_url or "")
    by_string = api.request("POST", "/api/v1/faults", {"rule": "rcpt:to=*@bounce.test:550:times=0"}).json()
    assert (by_string["stage"], by_string["recipient"], by_string["code"]) == ("rcpt", "*@bounce.test", 550)
    by_fields = api.request("POST", "/api/v1/faults", {"Stage": "mail", "Action": "disconnect"}).json()
    assert by_fields["action"] == "disconnect"
    assert [r["id"] for r in api.json("/api/v1/faults")] == [by_string["id"], by_fields["id"]]


def test_rules_are_removed_one_by_one_or_all_at_once(server: MailServer) -> None:
    api = Api(server.http_url or "")
    first = api.request("POST", "/api/v1/faults", {"rule": "data:451"}).json()["id"]
    api.request("POST", "/api/v1/faults", {"rule": "mail:421"})
    assert api.request("DELETE", f"/api/v1/faults/{first}").text == "ok"
    assert api.request("DELETE", f"/api/v1/faults/{first}").status == 404
    assert len(api.json("/api/v1/faults")) == 1
    assert api.request("DELETE", "/api/v1/faults").text == "ok"
    assert api.json("/api/v1/faults") == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"stage": "lunch", "code": 451}, "stage"),
        ({"stage": "data", "code": 250}, "code"),
        ({"stage": "data", "code": "451"}, "'code' must be a whole number"),
        ({"rule": "data:451:times=often"}, "times"),
        ({"code": 451}, "'stage' is required"),
    ],
)
def test_bad_rules_are_400_with_a_reason(server: MailServer, body: dict[str, object], reason: str) -> None:
    answer = Api(server.http_url or "").request("POST", "/api/v1/faults", body)
    assert answer.status == 400 and reason in answer.text


def test_chaos_is_off_unless_the_server_was_started_with_it(server: MailServer) -> None:
    answer = Api(server.http_url or "").get("/api/v1/chaos")
    assert (answer.status, answer.text) == (400, "Chaos is not enabled")


def test_chaos_triggers_read_and_replace_like_mailpit() -> None:
    with MailServer(http_port=0, chaos="Sender:451:0") as server:
        api = Api(server.http_url or "")
        assert api.json("/api/v1/chaos")["Sender"] == {"ErrorCode": 451, "Probability": 0}
        assert api.json("/api/v1/webui")["ChaosEnabled"] is True
        answer = api.request("PUT", "/api/v1/chaos", {"Recipient": {"ErrorCode": 550, "Probability": 100}})
        assert answer.json()["Recipient"] == {"ErrorCode": 550, "Probability": 100}
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            send(server, make_message())
        bad = api.request("PUT", "/api/v1/chaos", {"Sender": {"ErrorCode": 200, "Probability": 5}})
        assert (bad.status, bad.text) == (400, "error code must be between 400 and 599")
