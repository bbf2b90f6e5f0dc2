"""The messages the benchmarks send: realistic 2 KB text mails and mails with a 100 KB attachment."""

from __future__ import annotations

import random
from email.message import EmailMessage

WORDS = [
    "invoice",
    "order",
    "shipping",
    "account",
    "password",
    "reset",
    "welcome",
    "report",
    "weekly",
    "summary",
    "meeting",
    "agenda",
    "project",
    "update",
    "release",
    "notes",
    "customer",
    "support",
    "ticket",
    "receipt",
    "payment",
    "reminder",
    "newsletter",
    "offer",
    "team",
    "review",
    "draft",
    "final",
]


def _text(rng: random.Random, size: int) -> str:
    lines, length = [], 0
    while length < size:
        line = " ".join(rng.choice(WORDS) for _ in range(11))
        lines.append(line)
        length += len(line) + 2
    return "\n".join(lines)


def build(index: int, *, attachment_bytes: int = 0, body_bytes: int = 1600, seed: int = 7) -> bytes:
    """Message number ``index`` as CRLF bytes: about 2 KB in all, plus an attachment when asked."""
    rng = random.Random(seed * 1_000_003 + index)
    message = EmailMessage()
    message["From"] = f"Sender {index % 97} <sender{index % 97}@example.com>"
    message["To"] = f"user{index % 13}@example.org"
    message["Subject"] = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} #{index}"
    message["Message-ID"] = f"<bench-{index}@example.com>"
    message.set_content(_text(rng, body_bytes))
    if attachment_bytes:
        payload = rng.randbytes(attachment_bytes)
        message.add_attachment(payload, maintype="application", subtype="octet-stream", filename=f"file{index}.bin")
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))


def on_the_wire(raw: bytes) -> bytes:
    """``raw`` dot-stuffed and followed by the end-of-data marker, ready to write after 354."""
    if raw.startswith(b"."):
        raw = b"." + raw
    return raw.replace(b"\r\n.", b"\r\n..") + b".\r\n"
