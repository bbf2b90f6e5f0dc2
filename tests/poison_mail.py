"""Poison messages from issue #15: each a complete raw message (CRLF line endings, no line over 998 bytes) ready
for ``smtplib.SMTP.sendmail``. Each one once froze or broke the server; the soak (``bench.soak``) sends them all
while ordinary mail keeps flowing, and the tests of the bounded parser use them one by one.
"""

from __future__ import annotations

import base64

_LINE = 76  # folded lines stay well inside SMTP's 998-byte line limit


def _message(headers: list[str], body: bytes) -> bytes:
    """Headers (already folded, without line endings) and a CRLF body, joined into one raw message."""
    return "\r\n".join(headers).encode() + b"\r\n\r\n" + body


def _fold(name: str, value: str) -> str:
    """``Name: value`` folded at its spaces into lines of about ``_LINE`` (a longer word keeps a line to itself)."""
    lines, line = [], f"{name}:"
    for word in value.split(" "):
        if len(line) + 1 + len(word) > _LINE and line.strip():
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    return "\r\n".join(lines)


def _base(message_id: str, subject: str) -> list[str]:
    return [
        "To: victim@example.org",
        f"Subject: {subject}",
        f"Message-ID: <{message_id}@poison.example>",
        "Date: Mon, 07 Dec 2026 12:00:00 +0000",
        "MIME-Version: 1.0",
    ]


def nested_comments_from(depth: int = 500) -> bytes:
    """A From header whose display part is ``depth`` comments nested inside each other (RFC 5322 allows it)."""
    nested = "(" * depth + "x" + ")" * depth
    # Spaces between the parentheses are comment text too; they give the folding somewhere to break.
    spaced = " ".join(nested[i : i + 40] for i in range(0, len(nested), 40))
    return _message(
        [_fold("From", f"{spaced} <nested@poison.example>"), *_base("nested-comments", "nested comments"),
         "Content-Type: text/plain"],
        b"comments nested deep in From\r\n",
    )


def deep_multipart(depth: int = 900) -> bytes:
    """A multipart nested ``depth`` levels deep, a text part at the bottom."""
    head = [
        "From: deep@poison.example",
        *_base("deep-multipart", "deep multipart"),
        'Content-Type: multipart/mixed; boundary="b0"',
    ]
    lines: list[str] = []
    for level in range(1, depth):
        lines += [f"--b{level - 1}", f'Content-Type: multipart/mixed; boundary="b{level}"', ""]
    lines += [f"--b{depth - 1}", "Content-Type: text/plain", "", "the bottom"]
    lines += [f"--b{level}--" for level in range(depth - 1, -1, -1)]
    return _message(head, "\r\n".join(lines).encode() + b"\r\n")


def angle_flood_html(size: int = 200_000) -> bytes:
    """An HTML body of ``size`` ``<`` characters (base64 on the wire, so the decoded HTML is one line of them)."""
    encoded = base64.encodebytes(b"<" * size).replace(b"\n", b"\r\n")
    return _message(
        ["From: angles@poison.example", *_base("angle-flood", "angle flood"),
         "Content-Type: text/html; charset=us-ascii", "Content-Transfer-Encoding: base64"],
        encoded,
    )


def many_parts(parts: int = 250_000) -> bytes:
    """A multipart with ``parts`` small attachments (about 23 MiB at the default, under the 25 MiB size limit)."""
    head = ["From: parts@poison.example", *_base("many-parts", "many parts"),
            'Content-Type: multipart/mixed; boundary="p"']
    part = (
        '--p\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="p{0}"\r\n\r\n'
        "part {0}\r\n"
    )
    body = "".join(part.format(i) for i in range(parts)) + "--p--\r\n"
    return _message(head, body.encode())


def folded_subject(size: int = 1_000_000) -> bytes:
    """A Subject of about ``size`` characters of words, folded over many lines."""
    words = " ".join(["subject"] * (size // 8))
    head = [
        "From: subject@poison.example",
        "To: victim@example.org",
        _fold("Subject", words),
        "Message-ID: <folded-subject@poison.example>",
        "Date: Mon, 07 Dec 2026 12:00:00 +0000",
        "Content-Type: text/plain",
    ]
    return _message(head, b"a long subject\r\n")
