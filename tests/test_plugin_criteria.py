"""Criteria pick mail by field: strings, compiled regexes and predicates; ``to`` means the envelope recipients."""

from __future__ import annotations

import re

import pytest
from mail_senders import build_message, send_mail

from mailtrap_lite.mailbox import Mailbox


def test_to_matches_envelope_recipients_so_bcc_counts(mailtrap: Mailbox) -> None:
    message = build_message(to="bob@example.com")
    send_mail(mailtrap.host, mailtrap.port, message, to_addrs=["bob@example.com", "hidden@example.com"])
    assert len(mailtrap.filter(to="hidden@example.com")) == 1
    assert len(mailtrap.filter(bcc="hidden@example.com")) == 1
    assert mailtrap.filter(bcc="bob@example.com") == []
    assert [a.address for a in mailtrap.latest.to] == ["bob@example.com"]  # msg.to stays the To header


def test_addresses_compare_exactly_and_ignore_case(mailtrap: Mailbox) -> None:
    send_mail(mailtrap.host, mailtrap.port, build_message(to="Bob@Example.com", sender="Alice <alice@example.com>"))
    assert len(mailtrap.filter(to="bob@example.com", from_="ALICE@example.com")) == 1
    assert mailtrap.filter(to="bob@example.co") == []


def test_text_fields_match_substrings_regexes_and_predicates(mailtrap: Mailbox) -> None:
    send_mail(
        mailtrap.host,
        mailtrap.port,
        build_message(subject="Welcome aboard", text="Your code is 123456", html="<p>Click <b>here</b></p>"),
    )
    assert mailtrap.filter(subject="Welcome", text="code is", html="<b>here</b>", body="Click")
    assert mailtrap.filter(subject=re.compile(r"^welcome", re.IGNORECASE))
    assert mailtrap.filter(text=lambda text: "123456" in text)
    assert mailtrap.filter(subject="welcome") == []  # substrings are case-sensitive; use a regex for more


def test_cc_header_attachment_and_tag_criteria(mailtrap: Mailbox) -> None:
    message = build_message(
        headers={"Cc": "carol@example.com", "X-Priority": "1", "X-Tags": "invoice"},
        attachment=("invoice-42.pdf", b"%PDF-1.4"),
    )
    send_mail(mailtrap.host, mailtrap.port, message)
    found = mailtrap.filter(
        cc="carol@example.com",
        header=("X-Priority", "1"),
        has_attachment=True,
        attachment_name="invoice-42.pdf",
        tag="invoice",
    )
    assert len(found) == 1
    assert mailtrap.filter(has_attachment=False) == []
    assert mailtrap.filter(header=("X-Priority", "2")) == []


def test_criteria_combine_with_and(mailtrap: Mailbox) -> None:
    send_mail(mailtrap.host, mailtrap.port, build_message(to="bob@example.com", subject="One"))
    send_mail(mailtrap.host, mailtrap.port, build_message(to="carol@example.com", subject="One"))
    assert [m.envelope.recipients for m in mailtrap.filter(subject="One", to="carol@example.com")] == [
        ("carol@example.com",)
    ]


def test_a_misspelt_criterion_is_a_clear_error(mailtrap: Mailbox) -> None:
    with pytest.raises(TypeError, match="unknown mail criterion too; known criteria: to, cc"):
        mailtrap.filter(too="bob@example.com")
    with pytest.raises(TypeError, match="subject= must be a str, a compiled regex or a predicate"):
        mailtrap.filter(subject=42)


def test_address_gives_each_test_its_own_recipients(mailtrap: Mailbox) -> None:
    mine = mailtrap.address("ops")
    assert mine.startswith("ops+") and mine.endswith("@example.com")
    assert mailtrap.address("ops") == mine
    send_mail(mailtrap.host, mailtrap.port, build_message(to="ops@example.com"))
    send_mail(mailtrap.host, mailtrap.port, build_message(to=mine))
    assert [m.envelope.recipients for m in mailtrap.filter(to=mine)] == [(mine,)]
