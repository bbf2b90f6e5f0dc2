"""Hostile and broken mail never breaks the model or the API: generated and mutated messages (broken boundaries,
bad charsets, RFC 2047 garbage, multiparts nested 100 deep, NUL bytes, 8-bit headers, missing headers) are
stored, every ``Message`` property answers without raising, every API view of them answers without a 500, and
the raw source always comes back byte for byte.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from http_api import Api
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailtrap_lite import Envelope, MailServer, Message

# `make soak` raises the number of examples through MAILTRAP_FUZZ_EXAMPLES
EXAMPLES = int(os.environ.get("MAILTRAP_FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ENVELOPE = Envelope("fuzz@example.com", ("victim@example.com",))

CHARSETS = ["utf-8", "us-ascii", "iso-8859-1", "x-no-such-charset", "utf-7", "", "utf-16", "\x00", "gb2312"]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", "bogus", ""]
HEADER_NAMES = ["Subject", "From", "To", "Cc", "Bcc", "Reply-To", "Date", "Message-ID", "X-Tags",
                "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "List-Unsubscribe"]

junk_bytes = st.binary(max_size=200)
encoded_words = st.builds(
    lambda charset, kind, text: f"=?{charset}?{kind}?{text}?=".encode("utf-8", "surrogateescape"),
    st.sampled_from(CHARSETS),
    st.sampled_from(["Q", "B", "q", "b", "X", ""]),
    st.text(max_size=40),
)
header_values = st.one_of(junk_bytes, encoded_words, st.text(max_size=80).map(lambda t: t.encode("utf-8")),
                          st.just(b"<<<@@@>>>,,;;\"unterminated"), st.just(b"\x00\x00\x00"))
header_names = st.one_of(st.sampled_from([n.encode() for n in HEADER_NAMES]), st.binary(min_size=1, max_size=20).filter(
    lambda name: b":" not in name and b"\n" not in name and b"\r" not in name))


@st.composite
def headers(draw: st.DrawFn) -> bytes:
    """Zero or more header lines, any of them missing, repeated, 8-bit or garbage."""
    lines = draw(st.lists(st.tuples(header_names, header_values), max_size=8))
    return b"".join(name + b": " + value.replace(b"\n", b" ").replace(b"\r", b" ") + b"\r\n" for name, value in lines)


@st.composite
def leaf_part(draw: st.DrawFn) -> bytes:
    content_type = draw(st.sampled_from(["text/plain", "text/html", "application/octet-stream", "image/png",
                                         "message/rfc822", "text/x-garbage", "", "multipart/broken"]))
    charset = draw(st.sampled_from(CHARSETS))
    encoding = draw(st.sampled_from(ENCODINGS))
    filename = draw(st.one_of(st.none(), st.text(max_size=30), st.just("../../etc/passwd")))
    head = f"Content-Type: {content_type}; charset=\"{charset}\"\r\nContent-Transfer-Encoding: {encoding}\r\n"
    if filename is not None:
        head += f'Content-Disposition: attachment; filename="{filename}"\r\n'
    return head.encode("utf-8", "surrogateescape") + b"\r\n" + draw(junk_bytes) + b"\r\n"


@st.composite
def mime_body(draw: st.DrawFn, depth: int = 0) -> bytes:
    """A part: a leaf, or a multipart whose boundary may be missing, wrong, unterminated or reused."""
    if depth >= 3 or draw(st.booleans()):
        return draw(leaf_part())
    boundary = draw(st.sampled_from(["b1", "b1", "", "a b c", "x" * 80, "=?utf-8?q?x?="]))
    used = draw(st.sampled_from([boundary, boundary, "other", ""]))
    children = draw(st.lists(mime_body(depth + 1), max_size=3))
    body = b"".join(b"--" + used.encode() + b"\r\n" + child for child in children)
    if draw(st.booleans()):
        body += b"--" + used.encode() + b"--\r\n"
    head = f'Content-Type: multipart/{draw(st.sampled_from(["mixed", "alternative", "related"]))}; '
    head += f'boundary="{boundary}"\r\n'
    return head.encode() + b"\r\n" + body


@st.composite
def generated_mail(draw: st.DrawFn) -> bytes:
    return draw(headers()) + draw(mime_body())


def nested(depth: int) -> bytes:
    """A multipart nested ``depth`` levels deep with a text part at the bottom."""
    inner = b"Content-Type: text/plain\r\n\r\nbottom of the well\r\n"
    for level in range(depth):
        inner = (f'Content-Type: multipart/mixed; boundary="level{level}"\r\n\r\n--level{level}\r\n'.encode()
                 + inner + f"--level{level}--\r\n".encode())
    return b"Subject: deep\r\n" + inner


VALID = (b"From: Alice <alice@example.com>\r\nTo: bob@example.com\r\nSubject: =?utf-8?q?caf=C3=A9?=\r\n"
         b"Message-ID: <m1@example.com>\r\nDate: Mon, 2 Jan 2023 10:00:00 +0000\r\n"
         b'Content-Type: multipart/mixed; boundary="zz"\r\n\r\n--zz\r\nContent-Type: text/html; charset=utf-8\r\n\r\n'
         b'<p>Hi <a href="https://example.com/x">link</a></p>\r\n--zz\r\nContent-Type: application/pdf\r\n'
         b'Content-Disposition: attachment; filename="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
         b"JVBERi0xLjQK\r\n--zz--\r\n")


@st.composite
def mutated_mail(draw: st.DrawFn) -> bytes:
    """A valid message with bytes deleted, inserted, duplicated or cut off."""
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["delete", "insert", "duplicate", "truncate"]))
        if action == "delete":
            del data[at:at + draw(st.integers(1, 40))]
        elif action == "insert":
            data[at:at] = draw(st.one_of(junk_bytes, st.sampled_from([b"\x00", b"\r\n--zz\r\n", b"\xff\xfe", b"=?"])))
        elif action == "duplicate":
            data[at:at] = data[at:at + 60]
        else:
            del data[at:]
    return bytes(data)


@pytest.fixture(scope="module")
def server() -> Iterator[MailServer]:
    with MailServer(http_port=0, max_messages=200) as running:
        yield running


def every_property(message: Message) -> None:
    """Touch everything the model offers; any exception fails the test."""
    for name in ("subject", "message_id", "from_", "to", "cc", "bcc", "reply_to", "date", "snippet", "headers",
                 "text", "html", "attachments", "inline", "links", "search_text", "size"):
        getattr(message, name)
    message.email.get_body()
    message.header("Subject")
    message.find(r"(\d{4,})")
    for part in (*message.attachments, *message.inline):
        assert message.part(part.part_id) is not None
        part.checksums()


def check_api(server: MailServer, message: Message) -> None:
    api = Api(server.http_url or "")
    paths = [f"/api/v1/message/{message.id}", f"/api/v1/message/{message.id}/headers",
             f"/view/{message.id}.html", f"/view/{message.id}.txt", f"/api/v1/message/{message.id}/links",
             "/api/v1/messages?limit=5", f"/api/v1/message/{message.id}/raw?dl=1"]
    paths += [f"/api/v1/message/{message.id}/part/{p.part_id}?dl=1" for p in (*message.attachments, *message.inline)]
    for path in paths:
        answer = api.get(path)
        assert answer.status in (200, 404), (path, answer.status, answer.body[:300])
    raw = api.get(f"/api/v1/message/{message.id}/raw")
    assert raw.status == 200 and raw.body == message.raw


def check(server: MailServer, raw: bytes) -> None:
    message = server.store.add(raw, ENVELOPE)
    assert message.raw == raw
    every_property(message)
    check_api(server, message)


@FUZZ
@given(raw=generated_mail())
def test_generated_mail_never_breaks_the_model_or_the_api(server: MailServer, raw: bytes) -> None:
    check(server, raw)


@FUZZ
@given(raw=mutated_mail())
def test_mutated_mail_never_breaks_the_model_or_the_api(server: MailServer, raw: bytes) -> None:
    check(server, raw)


@FUZZ
@given(raw=st.binary(max_size=2000))
def test_arbitrary_bytes_are_kept_and_shown(server: MailServer, raw: bytes) -> None:
    check(server, raw)


def test_multiparts_nested_100_deep_are_shown(server: MailServer) -> None:
    raw = nested(100)
    check(server, raw)
    message = server.store.snapshot()[-1]
    assert message.subject == "deep"
    assert message.text.strip() == "bottom of the well"


def test_nul_bytes_and_8bit_headers_are_shown_as_far_as_they_parse(server: MailServer) -> None:
    raw = b"Subject: caf\xe9 \x00 nul\r\nFrom: \xff\xfe <x@example.com>\r\n\r\nbody \x00 with nul\r\n"
    check(server, raw)
    message = server.store.snapshot()[-1]
    assert message.subject.startswith("caf")
    assert "body" in message.text


def test_a_charset_name_with_a_nul_byte_is_shown_as_utf8(server: MailServer) -> None:
    raw = b'Subject: nul charset\r\nContent-Type: text/plain; charset="\x00"\r\n\r\nplain words\r\n'
    check(server, raw)
    assert server.store.snapshot()[-1].text.strip() == "plain words"
