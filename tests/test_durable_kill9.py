"""Durable mode (``--db PATH``): every message answered ``250`` survives ``kill -9``, with its tags and read state.

The server runs as the real command in a subprocess; the tests send over real SMTP, change state over the real
API, kill the process without warning, start it again on the same file and compare what comes back.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from pathlib import Path

import pytest
from durable_load import DurableCli, LoadSenders, deliver, mail

SENDERS = 4
ACKED_BEFORE_KILL = 60


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
    senders = LoadSenders(first, SENDERS)
    assert senders.wait_for_acks(ACKED_BEFORE_KILL), f"only {len(senders.acked)} messages acknowledged"
    first.kill()  # while the senders are mid-conversation
    senders.join()
    with senders.lock:
        acknowledged = set(senders.acked)

    second = DurableCli(db)
    running.append(second)
    stored = set(second.stored())
    assert acknowledged <= stored, f"lost {len(acknowledged - stored)} acknowledged messages"
    # at most the one in-flight transaction per sender can be stored without its 250 having reached the client
    assert len(stored - acknowledged) <= SENDERS
