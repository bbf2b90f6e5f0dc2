"""SIGTERM while senders are busy: the command exits cleanly, clients between messages are told ``421``, a DATA
in flight is either finished (and acknowledged) or cut off (and not stored), and in durable mode exactly the
acknowledged messages are there after a restart."""

from __future__ import annotations

from pathlib import Path

from durable_load import DurableCli, LoadSenders

SENDERS = 6
ACKED_BEFORE_SIGTERM = 40


def test_sigterm_during_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    db = tmp_path / "mail.db"
    first = DurableCli(db)
    senders = LoadSenders(first, SENDERS)
    try:
        assert senders.wait_for_acks(ACKED_BEFORE_SIGTERM), f"only {len(senders.acked)} messages acknowledged"
        code, _, err = first.stop()  # SIGTERM
    finally:
        if first.process.poll() is None:
            first.kill()
    senders.join()
    assert code == 0, err
    assert "Traceback" not in err
    assert senders.codes <= {250, 421}, senders.codes

    second = DurableCli(db)
    try:
        stored = second.stored()
        total = second.api.json("/api/v1/messages")["total"]
    finally:
        second.kill()
    with senders.lock:
        assert set(stored) == set(senders.acked)  # nothing acknowledged lost, nothing unacknowledged half-kept
        assert total == len(senders.acked)  # and nothing stored twice
