"""Every response matches ``/api/v1/openapi.json``: schemathesis generates requests for each documented operation
from the document itself and sends them to a real running server holding odd mail (no subject, attachments, an
inline image, an 8-bit body in a legacy charset, HTML only, tags, no addresses at all, broken headers and MIME).
Each answer must not be a 5xx, must have a documented status code and content type, and its body must match the
documented schema (response objects list exactly their keys)."""

from __future__ import annotations

import contextlib
import copy
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
import requests
import schemathesis
from http_api import Api
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from mailtools import make_message
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mailtrap_lite import MailServer

# Positive: valid requests by the document. Negative: requests the document rules out (wrong types, values off
# the enums, missing required parameters), which must still get a documented answer and never a 5xx.
EXAMPLES_PER_OPERATION = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 10}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Operations that change or empty the store run after those that read it, so reads see the odd mail.
METHOD_ORDER = {"get": 0, "put": 1, "post": 2, "delete": 3}

LEGACY_CHARSET = (
    b"From: =?iso-8859-1?q?J=F6rg?= <joerg@example.com>\r\nTo: bob@example.com\r\nSubject: Gr\xfc\xdfe\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n"
    b"\r\nGr\xfc\xdfe aus K\xf6ln, Code 482913\r\n"
)
UNDECLARED_8BIT = b"From: x@example.com\r\nTo: bob@example.com\r\nX-Tags: odd, 8bit\r\n\r\nbytes \xff\xfe\x80 here\r\n"
NO_ADDRESSES = b"Subject: nobody\r\nDate: not a date\r\n\r\nno From, no To, a Date that does not parse\r\n"
BROKEN_HEADERS = (b'From: "unterminated <x@\r\nTo: ,,, <>\r\nReply-To: @\r\nMessage-ID: <>\r\n'
                  b"Content-Type: multipart/mixed; boundary=nowhere\r\n\r\nno boundary ever comes\r\n")


def _odd_mail() -> Iterator[EmailMessage | bytes]:
    yield make_message(subject="", text="no subject here, code 123456")
    with_files = make_message(subject="Invoice", text="see https://example.com/invoice?id=1")
    with_files.add_alternative('<p>Logo <img src="cid:logo@x"> <a href="https://example.com/a">a</a></p>',
                               subtype="html")
    with_files.get_payload()[1].add_related(b"\x89PNG\r\n\x1a\n", maintype="image", subtype="png", cid="<logo@x>")
    with_files.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="invoice.pdf")
    with_files.add_attachment("name,total\n", subtype="csv", filename="r\u00e9sum\u00e9.csv")
    yield with_files
    html_only = EmailMessage()
    html_only["From"], html_only["To"], html_only["Cc"] = "Shop <shop@example.com>", "bob@example.com", "c@x.test"
    html_only["Subject"] = "=?utf-8?q?Caf=C3=A9?= deals"
    html_only["List-Unsubscribe"] = "<https://example.com/unsub>, <mailto:unsub@example.com>"
    html_only.set_content("<h1>Deals</h1><p>Only HTML</p>", subtype="html")
    yield html_only
    yield LEGACY_CHARSET
    yield UNDECLARED_8BIT
    yield NO_ADDRESSES
    yield BROKEN_HEADERS


@pytest.fixture
def odd_server() -> Iterator[MailServer]:
    """A server with the odd mail stored, one message sent through the API (no SMTP session) and a refused
    recipient in its sessions."""
    with MailServer(http_port=0, chaos="Sender:451:0") as server:
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
            for mail in _odd_mail():
                if isinstance(mail, bytes):
                    client.sendmail("x@example.com", ["bob@example.com", "hidden@example.com"], mail)
                else:
                    client.send_message(mail, to_addrs=["bob@example.com", "hidden@example.com"])
        api = Api(server.http_url or "")
        api.request("POST", "/api/v1/send", {"From": {"Email": "api@example.com"}, "Subject": "via the API, no SMTP"})
        api.request("POST", "/api/v1/faults", {"rule": "rcpt:to=*@refused.test:550"})
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
            client.sendmail("x@example.com", ["ok@example.com", "no@refused.test"], make_message().as_bytes())
        yield server


def _narrowed(document: dict[str, Any], server: MailServer) -> dict[str, Any]:
    """The served document, with path parameters drawn from what the server holds (and one unknown value each),
    so responses other than 404 are checked too."""
    api = Api(server.http_url or "")
    summaries = api.json("/api/v1/messages")["messages"]
    ids = [m["ID"] for m in summaries]
    message = api.json("/api/v1/message/" + next(m["ID"] for m in summaries if m["Attachments"]))
    choices = {
        "message_id": [*ids, "latest", "no-such-id"],
        "part_id": [p["PartID"] for p in message["Attachments"] + message["Inline"]] + ["9.9"],
        "session_id": [s["ID"] for s in api.json("/api/v1/sessions")["sessions"]] + ["no-such-session"],
        "rule_id": [r["id"] for r in api.json("/api/v1/faults")] + ["no-such-rule"],
        "tag": ["odd", "8bit", "missing"],
    }
    narrowed = copy.deepcopy(document)
    for item in narrowed["paths"].values():
        for operation in item.values():
            for parameter in operation["parameters"]:
                if parameter["in"] == "path":
                    parameter["schema"] = {"type": "string", "enum": choices[parameter["name"]]}
    return narrowed


def _operations(server: MailServer) -> list[Any]:
    document = Api(server.http_url or "").json("/api/v1/openapi.json")
    schema = schemathesis.openapi.from_dict(_narrowed(document, server))
    operations = [result.ok() for result in schema.get_all_operations()]
    return sorted(operations, key=lambda op: (METHOD_ORDER[op.method.lower()], op.path))


def _mismatches(operation: Any, base_url: str, mode: GenerationMode) -> list[str]:
    """Run the generated examples of one operation; return one line per distinct failure."""
    found: dict[str, str] = {}

    @settings(max_examples=EXAMPLES_PER_OPERATION[mode], derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        label = f"{mode.value}: {operation.method.upper()} {operation.path}"
        # The long-poll's own timeout stays short: a missing one means 10 s, a valid one up to 300 s.
        params = {"timeout": "0.1"} if operation.path == "/api/v1/wait" else None
        try:
            response = case.call(base_url=base_url, params=params, timeout=10)
        except requests.RequestException as error:
            found.setdefault(f"{label}: no answer", f"{label}: no answer within 10 s: {error}")
            return
        try:
            case.validate_response(response, checks=CHECKS)
        except (FailureGroup, Failure) as error:
            for failure in error.exceptions if isinstance(error, FailureGroup) else [error]:
                where = " ".join(failure.message.split("Value:")[0].split())
                key = f"{label}: {failure.title}: {where}"
                found.setdefault(key, f"{key} (got {response.status_code}: {response.text[:200]!r})")

    with contextlib.suppress(Unsatisfiable):  # negative mode: no parameters and no body, nothing to get wrong
        run()
    return list(found.values())


@pytest.mark.slow  # ~6 s per mode on an idle 2-core machine, 25-35 s when it is shared
@pytest.mark.parametrize("mode", list(EXAMPLES_PER_OPERATION), ids=lambda mode: mode.value)
def test_every_documented_operation_answers_as_documented(odd_server: MailServer, mode: GenerationMode) -> None:
    base_url = odd_server.http_url or ""
    mismatches = [line for op in _operations(odd_server) for line in _mismatches(op, base_url, mode)]
    assert mismatches == [], f"{len(mismatches)} mismatches:\n\n" + "\n\n".join(mismatches)
