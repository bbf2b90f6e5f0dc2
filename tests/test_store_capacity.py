"""The store keeps at most --max-messages (dropping the oldest) and loses nothing under concurrent senders."""

from __future__ import annotations

import smtplib
import threading

from mailtools import make_message

from mailtrap_lite import MailServer
from mailtrap_lite.events import Event


def test_cap_drops_the_oldest() -> None:
    with MailServer(max_messages=3) as server:
        pruned: list[Event] = []
        server.bus.subscribe(lambda event: pruned.append(event) if event.type == "prune" else None)
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
            for number in range(5):
                client.send_message(make_message(subject=f"message {number}"))
        assert [m.subject for m in server.store.snapshot()] == ["message 2", "message 3", "message 4"]
        assert len(pruned) == 2


def test_zero_means_unlimited() -> None:
    with MailServer(max_messages=0) as server:
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
            for number in range(1_200):
                client.sendmail("a@example.com", ["b@example.com"], f"Subject: {number}\r\n\r\nx\r\n".encode())
        assert len(server.store) == 1_200


def test_twenty_concurrent_clients_lose_nothing() -> None:
    clients, per_client = 20, 100
    with MailServer(max_messages=0) as server:
        failures: list[BaseException] = []
        start = threading.Barrier(clients)

        def sender(number: int) -> None:
            try:
                start.wait(10)
                with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=30) as client:
                    for index in range(per_client):
                        body = f"Message-ID: <{number}-{index}@load.test>\r\nSubject: load\r\n\r\nx\r\n"
                        client.sendmail(f"client{number}@load.test", ["sink@load.test"], body.encode())
            except BaseException as error:  # reported below, in the test's thread
                failures.append(error)

        threads = [threading.Thread(target=sender, args=(n,)) for n in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not failures
        ids = sorted(m.message_id for m in server.store.snapshot())
        assert ids == sorted(f"{n}-{i}@load.test" for n in range(clients) for i in range(per_client))
