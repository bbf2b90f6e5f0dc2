"""Builders of hostile messages (issue #15): each returns a complete raw message with CRLF line endings, every line
within SMTP's 1,000-byte limit, no line starting with a dot, ready for ``smtplib.SMTP.sendmail`` as it is.

The tests and the soak run (``bench.soak``) send these; the defaults are the sizes that broke the server before it
bounded its parsing (RecursionError, or tens to hundreds of seconds of CPU).
"""

from __future__ import annotations

_FOLD = 76  # characters per line where a builder folds or wraps (RFC 5322's recommended length)


def _message(headers: list[str], body: str) -> bytes:
    """Headers and a body joined with CRLF, as sent."""
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode("ascii")


def _base_headers(subject: str) -> list[str]:
    return [
        "From: Poison <poison@example.com>",
        "To: victim@example.com",
        f"Subject: {subject}",
        "Message-ID: <poison@example.com>",
        "Date: Mon, 07 Dec 2026 12:00:00 +0000",
        "MIME-Version: 1.0",
    ]


def _wrap(text: str, width: int = _FOLD) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)]


def nested_comments_from(depth: int = 500) -> bytes:
    """A From header whose address follows ``depth`` nested comments, ``(((...)))``, folded over many lines."""
    comment = "(" * depth + "x" + ")" * depth
    lines = _wrap(comment)
    from_header = "From: " + "\r\n ".join(lines) + "\r\n poison@example.com"
    headers = [from_header, *_base_headers("nested comments")[1:], "Content-Type: text/plain"]
    return _message(headers, "A From header with deeply nested comments.\r\n")


def deep_multipart(depth: int = 900) -> bytes:
    """A multipart/mixed nested ``depth`` levels deep, with one text part at the bottom."""
    head = [*_base_headers("deep multipart"), 'Content-Type: multipart/mixed; boundary="b0"']
    opening = "".join(f'--b{level}\r\nContent-Type: multipart/mixed; boundary="b{level + 1}"\r\n\r\n'
                      for level in range(depth - 1))
    leaf = f"--b{depth - 1}\r\nContent-Type: text/plain\r\n\r\nthe bottom\r\n"
    closing = "".join(f"--b{level}--\r\n" for level in reversed(range(depth)))
    return _message(head, opening + leaf + closing)


def angle_flood_html(size: int = 200_000) -> bytes:
    """An HTML body of ``size`` unclosed ``<`` characters (wrapped in lines)."""
    head = [*_base_headers("angle flood"), "Content-Type: text/html; charset=utf-8"]
    return _message(head, "\r\n".join(_wrap("<" * size)) + "\r\n")


_PADDING = "padding " * 5


def many_parts(parts: int = 250_000) -> bytes:
    """A multipart/mixed with ``parts`` small parts, every tenth an attachment (about 23 MiB at the default)."""
    head = [*_base_headers("many parts"), 'Content-Type: multipart/mixed; boundary="p"']
    chunks = []
    for index in range(parts):
        if index % 10:
            chunks.append(f"--p\r\nContent-Type: text/plain\r\n\r\npart {index} of many, {_PADDING}\r\n")
        else:
            chunks.append(f'--p\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; '
                          f'filename="f{index}.bin"\r\n\r\nattachment {index}\r\n')
    chunks.append("--p--\r\n")
    return _message(head, "".join(chunks))


def folded_subject(size: int = 1_000_000) -> bytes:
    """A Subject of about ``size`` characters of words, folded over many lines."""
    words = " ".join("word" for _ in range(size // 5))
    lines = []
    line = ""
    for word in words.split(" "):
        if line and len(line) + 1 + len(word) > _FOLD:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    headers = _base_headers("\r\n ".join(lines))
    return _message([*headers, "Content-Type: text/plain"], "A message with a huge folded subject.\r\n")
