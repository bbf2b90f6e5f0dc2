"""The snippet of plain text mail is read from the start of its body only, and is the same as decoding it all.

A list page shows 250 characters of each message; for a large plain message the server decodes only the first
kilobytes. Cutting a quoted-printable body can split a word at a soft line break, and whitespace-heavy text can
need more than the first kilobyte: neither may change what the list shows.
"""

from __future__ import annotations

import quopri
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from mailtrap_lite.message import Envelope, Message, SmtpFacts, plain_snippet
from mailtrap_lite.plain_mail import decode_body

word = st.text("abcdefghijklmnopqrstuvwxyz0123456789éü€", min_size=1, max_size=40)
gap = st.sampled_from([" ", "\n", "   ", "\n\n\n", "\t", " " * 30, "\n" * 20])
text = st.lists(st.tuples(word, gap).map("".join), min_size=1, max_size=400).map("".join)


def encoded(body: str, quoted_printable: bool) -> bytes:
    data = body.replace("\n", "\r\n").encode("utf-8")
    if quoted_printable:
        data = quopri.encodestring(data).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    return data


def reference(body: bytes, quoted_printable: bool) -> str:
    return " ".join(decode_body(body, quoted_printable).split())[:250]


@settings(max_examples=400, deadline=None)
@given(body=text, quoted_printable=st.booleans())
def test_the_snippet_from_the_start_of_the_body_is_that_of_the_whole_body(body: str, quoted_printable: bool) -> None:
    data = encoded(body, quoted_printable)
    assert plain_snippet(data, quoted_printable) == reference(data, quoted_printable)


def test_a_character_split_by_a_soft_line_break_at_the_cut_is_shown_whole() -> None:
    # Two words, then spaces that push a run of "é" across the first kilobyte, where the quoted-printable encoder
    # has put the two bytes of one "é" on either side of a soft line break: the 250th character of the snippet.
    body = "x" * 9 + " " + "w" * 206 + " " * 562 + "é" * 100 + " tail"
    data = encoded(body, quoted_printable=True)
    assert b"=C3=\r\n=A9" in data[:1100]
    assert plain_snippet(data, True) == reference(data, True)
    assert "\ufffd" not in plain_snippet(data, True)


def test_a_large_plain_message_lists_the_snippet_of_its_whole_text() -> None:
    body = ("paragraph " * 8 + "\n") * 5000  # about 450 KB of text
    raw = b"From: a@example.com\r\nSubject: big\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + encoded(
        body, True
    )
    message = Message("id", raw, Envelope("a@example.com", ("b@example.org",)), SmtpFacts(), datetime.now(timezone.utc))
    assert message.snippet == ("paragraph " * 25)[:250]
    assert message.snippet == reference(raw.partition(b"\r\n\r\n")[2], True)
