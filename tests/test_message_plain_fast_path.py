"""Plain messages are summarised without the full MIME parser, and the result is exactly the full parser's.

Each generated message is summarised twice: as is (plain, so the fast reader takes it) and with one extra
header holding an encoded word, which sends it through the stdlib parser. Everything a list shows, and the text
a search looks in, must match.
"""

from __future__ import annotations

import quopri
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from mailtrap_lite.message import Envelope, Message, SmtpFacts
from mailtrap_lite.plain_mail import read_plain

FULL_PARSER = b"X-Via: =?us-ascii?q?full_parser?=\r\n"
RECEIVED = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)

printable = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60).filter(lambda s: "=?" not in s)
word = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)
address = st.builds("{}@{}.example".format, word, word)
mailbox = st.one_of(address, st.builds("{} <{}>".format, st.lists(word, min_size=1, max_size=3).map(" ".join), address))
mailboxes = st.lists(mailbox, min_size=1, max_size=3).map(", ".join)
date = st.sampled_from(["Mon, 2 Jan 2023 10:00:00 +0000", "2 Jan 2023 10:00 -0500", "not a date", "Tue, 3 Jan 2023"])
body = st.text(st.characters(blacklist_categories=("Cs",)), max_size=400)
# Long bodies, mostly words and line breaks: the snippet is read from the start of the body only.
long_body = st.lists(st.one_of(word, st.sampled_from([" ", "\n", "  ", "\n\n", "é", "€", "\t"])), min_size=200,
                     max_size=1500).map("".join)


def folded(value: str) -> str:
    """Fold a header value at its first space, as long headers are."""
    return value.replace(" ", "\r\n ", 1)


@st.composite
def plain_messages(draw: st.DrawFn) -> bytes:
    headers = [
        ("From", draw(mailbox)),
        ("To", draw(mailboxes)),
        ("Subject", draw(st.one_of(printable, printable.map(folded)))),
        ("Date", draw(date)),
        ("Message-ID", f"<{draw(word)}@example.com>"),
    ]
    for name, value in (("Cc", draw(mailboxes)), ("Reply-To", draw(mailbox)), ("X-Tags", draw(printable))):
        if draw(st.booleans()):
            headers.append((name, value))
    text = draw(st.one_of(body, long_body)).replace("\r", "").replace("\n", "\r\n").encode("utf-8")
    if draw(st.booleans()):
        encoding = draw(st.sampled_from(["7bit", "8bit", "quoted-printable"]))
        headers.append(("Content-Type", draw(st.sampled_from(["text/plain", 'text/plain; charset="utf-8"']))))
        headers.append(("Content-Transfer-Encoding", encoding))
        if encoding == "quoted-printable":
            text = quopri.encodestring(text).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    head = "".join(f"{name}: {value}\r\n" for name, value in draw(st.permutations(headers)))
    return head.encode("ascii") + b"\r\n" + text


def views_of(raw: bytes) -> tuple[object, str, str]:
    """The list summary, its snippet and the text a search matches against."""
    envelope = Envelope("sender@example.com", ("hidden@example.com", "shown@example.org"))
    message = Message("id", raw, envelope, SmtpFacts(), RECEIVED)
    return message.summary, message.snippet, message.search_text


@settings(max_examples=300, deadline=None)
@given(raw=plain_messages())
def test_the_fast_reader_summarises_and_indexes_plain_mail_exactly_as_the_full_parser_does(raw: bytes) -> None:
    assert read_plain(raw) is not None
    assert read_plain(FULL_PARSER + raw) is None
    assert views_of(raw) == views_of(FULL_PARSER + raw)


def test_mail_the_fast_reader_cannot_read_exactly_goes_to_the_full_parser() -> None:
    plain = b"From: a@example.com\r\nSubject: hi\r\n\r\nbody\r\n"
    assert read_plain(plain) is not None
    for extra in (
        b"Content-Type: text/html\r\n",
        b"Content-Type: text/plain; charset=latin-1\r\n",
        b"Content-Type: text/plain; name=notes.txt\r\n",
        b"Content-Transfer-Encoding: base64\r\n",
        b"Content-Transfer-Encoding: x-uuencode\r\n",
        b"Content-Disposition: attachment\r\n",
        b'To: "Doe, Jane" <jane@example.com>\r\n',
        b"Subject: caf\xc3\xa9\r\n",
        b"Subject: =?utf-8?q?caf=C3=A9?=\r\n",
    ):
        assert read_plain(extra + plain) is None, extra
