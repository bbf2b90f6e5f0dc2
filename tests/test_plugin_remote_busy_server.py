"""Remote mode against a server whose long-poll slots are all taken: waits still work, they do not crash."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from mailtools import make_message, send

from mailtrap_lite import MailServer
from mailtrap_lite.errors import MailAssertionError
from mailtrap_lite.remote import RemoteServer


@pytest.fixture
def busy_server() -> Iterator[MailServer]:
    """A server with two HTTP workers (so one long-poll slot) and that slot held by another client's wait."""
    with MailServer(smtp_port=0, http_port=0, http_workers=2) as server:
        holder = threading.Thread(target=_hold_the_slot, args=(server,), daemon=True)
        holder.start()
        _wait_until_the_slot_is_taken(server)
        yield server


def _hold_the_slot(server: MailServer) -> None:
    """Wait for mail that never comes, asking again while the slot is taken (by our own probe)."""
    while True:
        try:
            urllib.request.urlopen(f"{server.http_url}/api/v1/wait?query=subject:never&timeout=30", timeout=40)
        except urllib.error.HTTPError as error:
            if error.code != 503:
                return
        except OSError:  # the server stopped
            return


def _wait_until_the_slot_is_taken(server: MailServer) -> None:
    """Ask for a short wait of our own until the server answers 503: then the holder has the only slot."""
    for _ in range(500):
        try:
            urllib.request.urlopen(f"{server.http_url}/api/v1/wait?timeout=0.01", timeout=10)
        except urllib.error.HTTPError as error:
            if error.code == 503:
                return
    raise AssertionError("the holder never took the long-poll slot")


def test_a_wait_on_a_busy_server_times_out_with_the_usual_report(busy_server: MailServer) -> None:
    with RemoteServer(busy_server.http_url or "") as remote:
        mailbox = remote.mailbox(watermark=True)
        with pytest.raises(MailAssertionError, match=r"nobody@example\.com"):
            mailbox.wait_for(to="nobody@example.com", timeout=1.5)


def test_a_wait_on_a_busy_server_still_sees_mail_that_arrives(busy_server: MailServer) -> None:
    with RemoteServer(busy_server.http_url or "") as remote:
        mailbox = remote.mailbox(watermark=True)
        sender = threading.Thread(target=send, args=(busy_server, make_message(to="late@example.com")))
        sender.start()
        message = mailbox.wait_for(to="late@example.com", timeout=15)
        sender.join()
    assert message.envelope.recipients == ("late@example.com",)
