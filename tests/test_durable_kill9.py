"""Durable mode (``--db PATH``): every message answered ``250`` survives ``kill -9``, with its tags and read state.

The server runs as the real command in a subprocess; the tests send over real SMTP, change state over the real
API, kill the process without warning, start it again on the same file and compare what comes back.
"""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest
from http_api import Api
from test_cli import RunningCli

SENDERS = 4
ACKED_BEFORE_KILL = 60


class DurableCli(RunningCli):
    """The CLI on a database file, with its API at hand."""

    def __init__(self, db: Path) -> None:
        super().__init__("--smtp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--db", str(db), "-q")
        host, port = self.address("SMTP on").rsplit(":", 1)
        self.smtp_host, self.smtp_port = host, int(port)
        self.api = Api(self.address("web UI and API on"))

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs at all."""
        self.process.kill()
        self.process.wait(10)

    def stored(self) -> dict[str, dict[str, object]]:
        """Every stored message's summary, keyed by Message-ID."""
        listing = self.api.json("/api/v1/messages?limit=0")
        return {m["MessageID"]: m for m in listing["messages"]}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "mail.db"


@pytest.fixture
def running(db: Path) -> Iterator[list[DurableCli]]:
    """The servers a test starts; each is killed at the end whatever happened."""
    servers: list[DurableCli] = []
    yield servers
    for server in servers:
        if server.process.poll() is None:
            server.kill()


def mail(index: int) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "app@example.com"
    message["To"] = "user@example.com"
    message["Subject"] = f"durable {index}"
    message["Message-ID"] = f"<durable-{index}@example.com>"
    message.set_content(f"message number {index}")
    return message


def deliver(client: smtplib.SMTP, message: EmailMessage) -> int:
    """One mail transaction; returns the DATA reply code (250 means acknowledged)."""
    client.ehlo_or_helo_if_needed()
    client.mail("app@example.com")
    client.rcpt("user@example.com")
    code, _ = client.data(message.as_bytes(policy=SMTP))
    return code


def test_tags_and_read_state_survive_kill_9(db: Path, running: list[DurableCli]) -> None:
    first = DurableCli(db)
    running.append(first)
    with smtplib.SMTP(first.smtp_host, first.smtp_port, timeout=10) as client:
        codes = [deliver(client, mail(i)) for i in range(6)]
    assert codes == [250] * 6
    before = first.stored()
    ids = {message_id: summary["ID"] for message_id, summary in before.items()}
    read_ids = [ids[f"durable-{i}@example.com"] for i in (0, 1)]
    tagged_ids = [ids[f"durable-{i}@example.com"] for i in (2, 3)]
    assert first.api.request("PUT", "/api/v1/messages", body={"IDs": read_ids, "Read": True}).status == 200
    assert first.api.request("PUT", "/api/v1/tags", body={"IDs": tagged_ids, "Tags": ["invoice", "vip"]}).status == 200
    assert first.api.request("DELETE", "/api/v1/messages", body={"IDs": [ids[mail(5)["Message-ID"].strip("<>")]]}) \
        .status == 200
    expected = {k: (v["ID"], v["Read"], v["Tags"]) for k, v in first.stored().items()}
    first.kill()

    second = DurableCli(db)
    running.append(second)
    after = {k: (v["ID"], v["Read"], v["Tags"]) for k, v in second.stored().items()}
    assert after == expected
    assert len(after) == 5
    assert {v[0] for v in after.values() if v[1]} == set(read_ids)
    assert {v[0] for v in after.values() if v[2] == ["invoice", "vip"]} == set(tagged_ids)
    assert second.api.json(f"/api/v1/message/{read_ids[0]}")["Text"].strip() == "message number 0"


def test_every_acknowledged_message_survives_kill_9_under_load(db: Path, running: list[DurableCli]) -> None:
    first = DurableCli(db)
    running.append(first)
    acked: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()

    def sender(number: int) -> None:
        index = number * 1_000_000
        try:
            with smtplib.SMTP(first.smtp_host, first.smtp_port, timeout=10) as client:
                while True:
                    index += 1
                    message = mail(index)
                    if deliver(client, message) == 250:
                        with lock:
                            acked.append(message["Message-ID"].strip("<>"))
                            if len(acked) >= ACKED_BEFORE_KILL:
                                enough.set()
        except (smtplib.SMTPException, OSError):
            pass  # the server was killed under us: what matters is what it acknowledged before

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    assert enough.wait(60), f"only {len(acked)} messages acknowledged"
    first.kill()  # while the senders are mid-conversation
    for thread in threads:
        thread.join(15)
    with lock:
        acknowledged = set(acked)

    second = DurableCli(db)
    running.append(second)
    stored = set(second.stored())
    assert acknowledged <= stored, f"lost {len(acknowledged - stored)} acknowledged messages"
    # at most the one in-flight transaction per sender can be stored without its 250 having reached the client
    assert len(stored - acknowledged) <= SENDERS
