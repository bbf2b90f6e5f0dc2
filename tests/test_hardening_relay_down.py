"""A relay that is down (nothing listening) or stops mid-conversation makes release answer a clear 400 with the
reason; the capture side is not affected and the captured message stays where it was."""

from __future__ import annotations

import socket

from http_api import Api
from mailtools import make_message, send

from mailtrap_lite import MailServer


def free_port() -> int:
    """A loopback port that nothing listens on (bound once to pick it, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def release(server: MailServer) -> tuple[int, str]:
    send(server, make_message(subject="to be released"))
    message = server.store.latest()
    assert message is not None
    answer = Api(server.http_url or "").request("POST", f"/api/v1/message/{message.id}/release",
                                                {"To": ["ops@example.com"]})
    return answer.status, answer.text


def test_release_to_a_relay_that_is_down_is_a_400_with_the_reason() -> None:
    with MailServer(http_port=0, relay=f"smtp://127.0.0.1:{free_port()}") as server:
        status, reason = release(server)
        assert status == 400
        assert reason.startswith("SMTP error: ") and "refused" in reason.lower()
        send(server, make_message(subject="still capturing"))
        assert [m.subject for m in server.store.snapshot()] == ["to be released", "still capturing"]


def test_release_to_a_relay_that_hangs_up_is_a_400_with_the_reason() -> None:
    with MailServer(http_port=0) as relay:
        relay.fault_engine.add("connect:disconnect:times=0")
        with MailServer(http_port=0, relay=f"smtp://{relay.smtp_host}:{relay.smtp_port}") as server:
            status, reason = release(server)
            assert status == 400
            assert reason.startswith("SMTP error: ")
            assert len(relay.store) == 0
            assert len(server.store) == 1
