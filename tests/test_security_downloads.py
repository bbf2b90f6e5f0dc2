"""Attachment downloads carry a safe ``Content-Disposition``: whatever file name a hostile message declares, the
header names one plain file (no directories, no quotes or separators that end the parameter, no control
characters that start a new header), and a name that is not plain ASCII survives only in the percent-encoded
``filename*``."""

from __future__ import annotations

import re
import smtplib
from collections.abc import Iterator
from urllib.parse import unquote

import pytest
from http_api import Api

from mailtrap_lite import MailServer

HOSTILE_NAMES = {
    "../../etc/passwd": "passwd",
    "..\\..\\windows\\system32\\evil.dll": "evil.dll",
    'report.pdf"; filename="evil.exe': None,
    "report.pdf; filename=evil.exe": None,
    "a\tb\x0bc\x1bd.txt": None,
    "na\u00efve r\u00e9sum\u00e9.pdf": "na\u00efve r\u00e9sum\u00e9.pdf",
    "/absolute/path/secret.key": "secret.key",
    "..": None,
    "%2e%2e%2fsecret": "%2e%2e%2fsecret",
}
SAFE_PARAMETER = re.compile(r'^filename="[A-Za-z0-9 ._()\-+,=@\[\]{}!#$&\'~^`]*"$')


def hostile_mail(filename: str) -> bytes:
    quoted = filename.encode("utf-8").replace(b"\\", b"\\\\").replace(b'"', b'\\"')
    return (b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hostile name\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee file\r\n'
            b"--B\r\nContent-Type: application/octet-stream\r\n"
            b'Content-Disposition: attachment; filename="' + quoted + b'"\r\n\r\n'
            b"PAYLOAD\r\n--B--\r\n")


@pytest.fixture(scope="module")
def server() -> Iterator[MailServer]:
    with MailServer(http_port=0) as running:
        yield running


def disposition_parts(header: str) -> list[str]:
    """Split a Content-Disposition value on the semicolons that separate parameters (outside quotes)."""
    return [p.strip() for p in re.findall(r'(?:[^;"]|"(?:[^"\\]|\\.)*")+', header)]


@pytest.mark.parametrize("declared", list(HOSTILE_NAMES))
@pytest.mark.parametrize("download", [True, False])
def test_attachment_names_cannot_inject_headers_or_paths(server: MailServer, declared: str, download: bool) -> None:
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.sendmail("a@example.com", ["b@example.com"], hostile_mail(declared))
    message = server.store.latest()
    assert message is not None
    (part,) = message.attachments
    answer = Api(server.http_url or "").get(f"/api/v1/message/{message.id}/part/{part.part_id}"
                                             + ("?dl=1" if download else ""))
    assert answer.status == 200
    assert answer.body == b"PAYLOAD"
    header = answer.headers["Content-Disposition"]
    assert "\r" not in header and "\n" not in header
    kind, *parameters = disposition_parts(header)
    assert kind == ("attachment" if download else "inline")
    assert len(parameters) in (1, 2), header  # filename, and filename* when the name is not plain ASCII
    fallback, *exact = parameters
    assert SAFE_PARAMETER.match(fallback), fallback
    if exact:
        assert exact[0].startswith("filename*=UTF-8''"), header
        name = unquote(exact[0].removeprefix("filename*=UTF-8''"))
    else:
        name = fallback.removeprefix('filename="').removesuffix('"')
    assert "/" not in name and "\\" not in name and name not in ("", ".", "..")
    assert all(ch.isprintable() for ch in name)
    expected = HOSTILE_NAMES[declared]
    if expected is not None:
        assert name == expected


def test_raw_download_is_named_after_the_message_id(server: MailServer) -> None:
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.sendmail("a@example.com", ["b@example.com"], hostile_mail("../x"))
    message = server.store.latest()
    assert message is not None
    answer = Api(server.http_url or "").get(f"/api/v1/message/{message.id}/raw?dl=1")
    assert answer.headers["Content-Disposition"] == f'attachment; filename="{message.id}.eml"'
    assert re.fullmatch(r"[0-9A-Za-z]{22}", message.id)
