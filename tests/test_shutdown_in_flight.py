"""Stopping the server with clients connected: one waiting between commands is told ``421 4.3.2`` and closed, one
in the middle of DATA is cut off without a reply written into its upload, and the half-received message is not
stored (in durable mode: not in the file either)."""

from __future__ import annotations

from pathlib import Path

from test_smtp_bad_input import RawClient

from mailtrap_lite import MailServer


def test_stop_says_421_to_idle_clients_and_drops_half_sent_data(tmp_path: Path) -> None:
    server = MailServer(db=tmp_path / "mail.db").start()
    idle = RawClient(server)
    assert idle.command(b"EHLO idle.example").startswith("250")
    uploading = RawClient(server)
    for line in (b"EHLO busy.example", b"MAIL FROM:<a@example.com>", b"RCPT TO:<b@example.com>"):
        assert uploading.command(line).startswith("250")
    assert uploading.command(b"DATA").startswith("354")
    uploading.sock.sendall(b"Subject: half\r\n\r\nthe first half of a message")

    server.stop()

    assert idle.reply().startswith("421 4.3.2")
    assert idle.file.readline() == b""
    assert uploading.file.readline() == b""  # closed, nothing written into the upload
    idle.close()
    uploading.close()
    assert len(server.store) == 0
    with MailServer(db=tmp_path / "mail.db") as restarted:
        assert len(restarted.store) == 0
