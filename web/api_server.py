"""What the server says about itself: ``/api/v1/info`` and ``/api/v1/webui`` (Mailpit's shapes)."""

from __future__ import annotations

import resource
import sys
import time

from flask import Blueprint, Response, current_app, jsonify

from mailtrap_lite import __version__
from mailtrap_lite.events import Event
from mailtrap_lite.relay import parse_relay_url
from mailtrap_lite.web.lookup import mail_server

api_server = Blueprint("api_server", __name__)


class RuntimeStats:
    """Counters Mailpit reports that the store does not keep: uptime and bytes accepted."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.accepted_bytes = 0

    def on_event(self, event: Event) -> None:
        """Bus subscriber: count the size of every stored message."""
        if event.type == "new":
            self.accepted_bytes += event.data.size


def _memory_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


@api_server.get("/api/v1/info")
def info() -> Response:
    """Version, database, message counts, tag counts and runtime statistics."""
    server = mail_server()
    stats: RuntimeStats = current_app.extensions["mailtrap_stats"]
    return jsonify({
        "Version": f"v{__version__}",
        "LatestVersion": "disabled",
        "Database": str(server.config.db or ""),
        # in memory the "database" is the stored raw mail, the figure --max-total-size caps
        "DatabaseSize": server.journal.size_bytes() if server.journal else server.store.total_size,
        "Messages": len(server.store),
        "Unread": server.store.unread,
        "Tags": server.store.tag_counts(),
        "RuntimeStats": {
            "Uptime": int(time.monotonic() - stats.started),
            "Memory": _memory_bytes(),
            "MessagesDeleted": server.store.deleted_total,
            "SMTPAccepted": server.sessions.accepted,
            "SMTPAcceptedSize": stats.accepted_bytes,
            "SMTPRejected": server.sessions.rejected,
            "SMTPIgnored": 0,
        },
    })


@api_server.get("/api/v1/webui")
def webui() -> Response:
    """What the UI needs to know: whether release works and where it goes, and whether chaos is on."""
    server = mail_server()
    relay = parse_relay_url(server.config.relay) if server.config.relay else None
    return jsonify({
        "Label": "",
        "MessageRelay": {
            "Enabled": relay is not None,
            "SMTPServer": relay.address if relay else "",
            "ReturnPath": "",
            "AllowedRecipients": "",
            "BlockedRecipients": "",
            "OverrideFrom": "",
            "PreserveMessageIDs": False,
            "RecipientAllowlist": "",
        },
        "SpamAssassin": False,
        "ChaosEnabled": server.fault_engine.chaos_enabled,
        "DuplicatesIgnored": False,
        "HideDeleteAllButton": False,
    })
