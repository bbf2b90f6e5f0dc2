"""--max-total-size: the store keeps at most that many raw bytes of mail. The oldest messages make room for new
ones and are announced as a prune; a message larger than the whole budget is refused with 552 before the 250, so it
never wipes the mailbox; durable mode keeps on disk exactly what memory holds."""

from __future__ import annotations

import json
import smtplib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import websocket
from http_api import Api

from mailtrap_lite import MailServer
from mailtrap_lite.cli import build_parser, config_from_args
from mailtrap_lite.events import Event

WAIT = 10.0
MESSAGE_SIZE = 3000
BUDGET = 10_000  # three messages of MESSAGE_SIZE fit, a fourth does not


def raw_message(number: int, size: int = MESSAGE_SIZE) -> bytes:
    """A message of exactly ``size`` bytes as it is stored (CRLF lines, no line starting with a dot)."""
    head = f"From: a@example.com\r\nTo: b@example.com\r\nSubject: message {number}\r\n\r\n".encode()
    body_size = size - len(head) - 2
    lines = [b"x" * 76] * (body_size // 78)
    body = b"\r\n".join(lines) + b"\r\n"
    return head + body + b"y" * (size - len(head) - len(body) - 2) + b"\r\n"


def deliver(client: smtplib.SMTP, raw: bytes) -> tuple[int, str]:
    """One transaction on an open connection; the DATA reply (code, text)."""
    client.ehlo_or_helo_if_needed()
    client.mail("a@example.com")
    client.rcpt("b@example.com")
    code, text = client.data(raw)
    return code, text.decode()


def queued_id(reply: tuple[int, str]) -> str:
    code, text = reply
    assert code == 250, reply
    return text.rsplit(" ", 1)[1]


def connect_events(server: MailServer) -> websocket.WebSocket:
    ws = websocket.create_connection((server.http_url or "").replace("http://", "ws://") + "/api/events",
                                     timeout=WAIT)
    assert json.loads(ws.recv())["Type"] == "stats"
    return ws


def store_changes(ws: websocket.WebSocket, count: int) -> list[dict[str, Any]]:
    """The next ``count`` frames that change the list (new, prune, delete, truncate)."""
    frames: list[dict[str, Any]] = []
    while len(frames) < count:
        frame = json.loads(ws.recv())
        if frame["Type"] in ("new", "prune", "delete", "truncate"):
            frames.append(frame)
    return frames


def test_the_oldest_mail_makes_room_and_each_arrival_prunes_once() -> None:
    with MailServer(http_port=0, max_total_size=BUDGET) as server:
        announced: list[Event] = []
        server.bus.subscribe(lambda event: announced.append(event) if event.type == "prune" else None)
        ws = connect_events(server)
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=WAIT) as client:
            ids = [queued_id(deliver(client, raw_message(number))) for number in range(5)]
        frames = store_changes(ws, 7)
        ws.close()
        assert [f["Type"] for f in frames] == ["new", "new", "new", "prune", "new", "prune", "new"]
        assert [f["Data"]["ID"] for f in frames if f["Type"] == "new"] == ids
        assert [event.data for event in announced] == [(ids[0],), (ids[1],)]

        api = Api(server.http_url or "")
        listed = api.json("/api/v1/messages")
        assert listed["total"] == 3
        assert [m["ID"] for m in listed["messages"]] == ids[:1:-1]  # newest first
        assert api.get(f"/api/v1/message/{ids[0]}").status == 404
        info = api.json("/api/v1/info")
        assert (info["Messages"], info["DatabaseSize"]) == (3, 3 * MESSAGE_SIZE)


def test_a_message_larger_than_the_whole_budget_gets_552_and_nothing_is_lost() -> None:
    with MailServer(http_port=0, max_total_size=BUDGET) as server:
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=WAIT) as client:
            kept = [queued_id(deliver(client, raw_message(number))) for number in range(3)]
            code, text = deliver(client, raw_message(99, size=BUDGET + 1))
            assert code == 552
            assert text.startswith("5.3.4 ") and f"{BUDGET + 1} bytes" in text and "total storage limit" in text
            kept.append(queued_id(deliver(client, raw_message(4))))  # the connection goes on
        assert [m.id for m in server.store.snapshot()] == kept[1:]
        answer = Api(server.http_url or "").request(
            "POST", "/api/v1/send",
            {"From": {"Email": "a@example.com"}, "To": [{"Email": "b@example.com"}], "Text": "x" * BUDGET},
        )
        assert answer.status == 413
        assert "--max-total-size" in answer.json()["Error"]
        assert [m.id for m in server.store.snapshot()] == kept[1:]


def test_a_message_of_exactly_the_budget_is_kept_alone() -> None:
    with MailServer(max_total_size=BUDGET) as server:
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=WAIT) as client:
            deliver(client, raw_message(1))
            only = queued_id(deliver(client, raw_message(2, size=BUDGET)))
        assert [m.id for m in server.store.snapshot()] == [only]


def test_durable_mode_restarts_with_exactly_what_memory_held(tmp_path: Path) -> None:
    path = tmp_path / "mail.db"
    with MailServer(db=path, max_total_size=BUDGET) as server:
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=WAIT) as client:
            for number in range(6):
                queued_id(deliver(client, raw_message(number)))
        in_memory = [(m.id, m.subject) for m in server.store.snapshot()]
    assert [subject for _, subject in in_memory] == ["message 3", "message 4", "message 5"]
    with MailServer(db=path, max_total_size=BUDGET) as server:
        assert [(m.id, m.subject) for m in server.store.snapshot()] == in_memory
        assert server.store.total_size == 3 * MESSAGE_SIZE


def test_a_lower_budget_at_restart_prunes_the_file_too(tmp_path: Path) -> None:
    path = tmp_path / "mail.db"
    with (
        MailServer(db=path, max_total_size=BUDGET) as server,
        smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=WAIT) as client,
    ):
        for number in range(3):
            queued_id(deliver(client, raw_message(number)))
    with MailServer(db=path, max_total_size=2 * MESSAGE_SIZE) as server:
        assert [m.subject for m in server.store.snapshot()] == ["message 1", "message 2"]
    with MailServer(db=path, max_total_size=0) as server:  # unlimited: what the file still holds
        assert [m.subject for m in server.store.snapshot()] == ["message 1", "message 2"]


@pytest.mark.parametrize(
    ("flag", "expected"),
    [("1048576", 1_048_576), ("512K", 512 * 1024), ("512M", 512 * 1024**2), ("2G", 2 * 1024**3),
     ("1.5mib", 3 * 512 * 1024), ("0", 0)],
)
def test_the_flag_takes_bytes_or_units(flag: str, expected: int) -> None:
    config = config_from_args(build_parser().parse_args(["--max-total-size", flag]))
    assert config.max_total_size == expected


def test_the_default_budget_is_512_mib() -> None:
    assert config_from_args(build_parser().parse_args([])).max_total_size == 512 * 1024**2
    assert MailServer().config.max_total_size == 512 * 1024**2


def test_the_environment_sets_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILTRAP_LITE_MAX_TOTAL_SIZE", "1G")
    assert config_from_args(build_parser().parse_args([])).max_total_size == 1024**3


@pytest.mark.parametrize("value", ["lots", "-1", "12X"])
def test_a_bad_budget_is_one_line_naming_the_flag(value: str) -> None:
    result = subprocess.run([sys.executable, "-m", "mailtrap_lite", "--max-total-size", value],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--max-total-size" in result.stderr, result.stderr
