"""Remote mode: the pytest fixture's API against a server that runs elsewhere, over its HTTP API.

:class:`RemoteSource` is a :class:`~mailtrap_lite.mailbox.MailSource` that keeps a local, ordered log of the
messages and SMTP attempts that appeared after it connected, so per-test watermarks work as they do in process.
It reads the Mailpit-compatible endpoints (``/api/v1/messages``, ``/message/{ID}/raw``) and our extensions
(``/message/{ID}/smtp`` for the envelope, ``/api/v1/sessions`` for attempts, ``/api/v1/faults``). Blocking waits
use the long-poll ``/api/v1/wait``; asyncio waits listen on the ``/api/events`` websocket. Neither polls.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import datetime
from typing import Any

import websocket

from mailtrap_lite.config import parse_address
from mailtrap_lite.criteria import Tags
from mailtrap_lite.errors import MailtrapError
from mailtrap_lite.fault_presets import FaultBackend, Faults
from mailtrap_lite.faults import Rule, rule_from_dict
from mailtrap_lite.mailbox import DEFAULT_TIMEOUT, Mailbox, SmtpAttempt
from mailtrap_lite.message import Envelope, Message, Predicate, SmtpFacts
from mailtrap_lite.timestamps import parse_timestamp
from mailtrap_lite.tls import TlsFiles

DEFAULT_SMTP_PORT = 1025
_PAGE = 100
_HTTP_GRACE = 10.0  # extra seconds an HTTP read may take beyond the long-poll's own timeout
_BUSY_BACKOFF = 0.5  # seconds before asking again when the server has no free long-poll slot (503)


class RemoteError(MailtrapError):
    """The remote server could not be reached or answered something unexpected."""


class Api:
    """A small JSON client for one server's HTTP API (HTTP Basic auth taken from ``user:pass@`` in the URL)."""

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RemoteError(f"--mailtrap-url: expected http(s)://host:port, got {url!r}")
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        self.base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
        self.host = parts.hostname
        self._headers = {"Accept": "application/json"}
        if parts.username is not None:
            token = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
            self._headers["Authorization"] = "Basic " + base64.b64encode(token.encode()).decode()

    def request(
        self, method: str, path: str, body: Any = None, timeout: float = 10.0, accept: tuple[int, ...] = ()
    ) -> tuple[int, bytes]:
        """Send one request; returns (status, body). Statuses other than 2xx and ``accept`` raise RemoteError."""
        data = None if body is None else json.dumps(body).encode()
        headers = dict(self._headers, **({"Content-Type": "application/json"} if data is not None else {}))
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            if error.code in accept:
                return error.code, error.read()
            reason = error.read().decode("utf-8", "replace").strip()
            raise RemoteError(f"{method} {path} answered {error.code}: {reason}") from None
        except OSError as error:
            raise RemoteError(f"cannot reach {self.base}: {error}") from None

    def json(self, method: str, path: str, body: Any = None, **options: Any) -> Any:
        """``request`` and decode the JSON answer."""
        return json.loads(self.request(method, path, body, **options)[1] or b"null")

    def websocket_url(self, path: str) -> str:
        """The ws(s):// URL of ``path`` on this server."""
        return "ws" + self.base[len("http"):] + path


class RemoteFaults:
    """A fault backend over ``/api/v1/faults`` (rules travel as :meth:`Rule.to_dict` JSON)."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def add(self, rule: Rule) -> Rule:
        """Add the rule on the server; returns it as the server stored it (with its id)."""
        return rule_from_dict(self.api.json("POST", "/api/v1/faults", rule.to_dict(state=False)), state=True)

    def remove(self, rule_id: str) -> bool:
        """Remove one rule; False when the server did not have it."""
        status, _ = self.api.request("DELETE", "/api/v1/faults/" + urllib.parse.quote(rule_id), accept=(404,))
        return status != 404

    def clear(self) -> None:
        """Remove every rule on the server."""
        self.api.request("DELETE", "/api/v1/faults")

    def rules(self) -> list[Rule]:
        """The server's rules with their counters."""
        return [rule_from_dict(data, state=True) for data in self.api.json("GET", "/api/v1/faults")]


class RemoteSource:
    """A MailSource over HTTP: what arrived after construction, numbered in arrival order."""

    def __init__(self, url: str, smtp_host: str | None = None, smtp_port: int = DEFAULT_SMTP_PORT) -> None:
        self.api = Api(url)
        self.host = smtp_host or self.api.host
        self.port = smtp_port
        self.smtps_port: int | None = None
        self.http_url: str | None = self.api.base
        self.tls: TlsFiles | None = None
        self.credentials: tuple[str, str] | None = None
        self._lock = threading.RLock()
        self._known: set[str] = set()  # every message id seen, including those that predate this source
        self._created: dict[str, datetime] = {}
        self._tags: dict[str, Tags] = {}
        self._log: list[Message] = []  # messages that arrived after construction; seq = index + 1
        self._attempt_keys: set[int | tuple[str, int]] = set()
        self._finished_sessions: set[str] = set()
        self._attempts: list[dict[str, Any]] = []
        self._listeners: list[Callable[[], None]] = []
        self._socket: websocket.WebSocket | None = None
        self._faults = RemoteFaults(self.api)
        self._sync_messages(record=False)
        self._sync_attempts(record=False)

    # -- messages ---------------------------------------------------------------------------------------------

    def last_seq(self) -> int:
        """How many messages this source has seen arrive (after catching up with the server)."""
        self._sync_messages()
        return len(self._log)

    def messages_since(self, seq: int) -> list[Message]:
        """Messages that arrived after local number ``seq``, oldest first."""
        self._sync_messages()
        with self._lock:
            return self._log[seq:]

    def tags_of(self, message: Message) -> Tags:
        """The tags the server listed for the message at the last catch-up."""
        return self._tags.get(message.id, ())

    def wait_for(
        self, predicate: Predicate, count: int, timeout: float, since_seq: int
    ) -> tuple[list[Message], bool]:
        """Block until ``count`` messages after ``since_seq`` match: each round long-polls for the next arrival."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages_since(since_seq) if predicate(m)]
            remaining = deadline - time.monotonic()
            if len(found) >= count or remaining <= 0:
                return found, len(found) >= count
            self._long_poll_next_arrival(remaining)

    def _long_poll_next_arrival(self, timeout: float) -> None:
        """Return when the server stores a message newer than every one known here, or after ``timeout``."""
        with self._lock:
            newest = max(self._created.values(), default=None)
            at_newest = sum(1 for created in self._created.values() if newest is not None and created >= newest)
        query = f"after:{newest.isoformat()}" if newest is not None else ""
        params = urllib.parse.urlencode({"query": query, "count": at_newest + 1, "timeout": f"{timeout:.3f}"})
        status, _ = self.api.request("GET", f"/api/v1/wait?{params}", timeout=timeout + _HTTP_GRACE, accept=(408, 503))
        if status == 503:  # every long-poll slot of the server is taken: the caller looks again after a pause
            time.sleep(min(_BUSY_BACKOFF, timeout))

    def _sync_messages(self, record: bool = True) -> None:
        """Catch up with the server's message list, newest first, until a page reaches messages already known."""
        fresh: list[dict[str, Any]] = []
        start = 0
        while True:
            page = self.api.json("GET", f"/api/v1/messages?start={start}&limit={_PAGE}")["messages"]
            unknown = [item for item in page if item["ID"] not in self._known]
            fresh.extend(unknown)
            with self._lock:
                for item in page:
                    self._tags[item["ID"]] = tuple(item.get("Tags") or ())
            if len(unknown) < len(page) or len(page) < _PAGE:
                break
            start += _PAGE
        for item in reversed(fresh):  # oldest first, so local numbers follow arrival order
            self._remember(item, record)

    def _remember(self, item: dict[str, Any], record: bool) -> None:
        message_id = item["ID"]
        created = parse_timestamp(item["Created"])
        message = self._fetch(message_id, created) if record else None
        with self._lock:
            if message_id in self._known:
                return
            self._known.add(message_id)
            self._created[message_id] = created
            if message is not None:
                self._log.append(message)

    def _fetch(self, message_id: str, created: datetime) -> Message:
        quoted = urllib.parse.quote(message_id)
        _, raw = self.api.request("GET", f"/api/v1/message/{quoted}/raw")
        smtp = self.api.json("GET", f"/api/v1/message/{quoted}/smtp")
        envelope = Envelope(smtp["Envelope"]["From"], tuple(smtp["Envelope"]["To"]))
        facts = SmtpFacts(smtp["Peer"], smtp["Helo"], smtp["TLS"], smtp["Username"], smtp["SessionID"])
        return Message(message_id, raw, envelope, facts, created)

    # -- live arrivals (asyncio waits) ------------------------------------------------------------------------

    def on_new_message(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (in the websocket thread) for each ``new`` event; returns the unsubscribe function.

        Returns once the websocket is connected, so nothing stored after this call can be missed.
        """
        with self._lock:
            if self._socket is None:
                self._socket = websocket.create_connection(self.api.websocket_url("/api/events"), timeout=10)
                self._socket.settimeout(None)
                threading.Thread(target=self._read_events, args=(self._socket,), daemon=True).start()
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                self._listeners.remove(callback)

        return unsubscribe

    def _read_events(self, socket: websocket.WebSocket) -> None:
        while True:
            try:
                frame = socket.recv()
            except (websocket.WebSocketException, OSError):
                return
            if json.loads(frame or "{}").get("Type") == "new":
                with self._lock:
                    listeners = list(self._listeners)
                for listener in listeners:
                    listener()

    # -- attempts and faults ----------------------------------------------------------------------------------

    def last_attempt_seq(self) -> int:
        """How many SMTP attempts this source has seen finish."""
        self._sync_attempts()
        return len(self._attempts)

    def attempts_since(self, seq: int) -> list[SmtpAttempt]:
        """Attempts after local number ``seq``, each linked to its message when one was stored."""
        self._sync_attempts()
        self._sync_messages()
        with self._lock:
            fresh = self._attempts[seq:]
            stored = {message.id: message for message in self._log}
        return [
            SmtpAttempt(
                sender=a["Sender"],
                recipients=tuple(a["Recipients"]),
                rejected_recipients=tuple((r["Address"], r["Code"]) for r in a["RejectedRecipients"]),
                reply_code=a["ReplyCode"],
                reply_text=a["ReplyText"],
                fault=a["Fault"],
                message=stored.get(a["MessageID"]) if a["MessageID"] else None,
            )
            for a in fresh
        ]

    def _sync_attempts(self, record: bool = True) -> None:
        """Catch up with the attempts of the server's sessions, a page at a time: open sessions come first, then
        finished ones, most recently finished first, so the first session already seen finished ends the search."""
        sessions: list[dict[str, Any]] = []
        start = 0
        while True:
            page = self.api.json("GET", f"/api/v1/sessions?start={start}&limit={_PAGE}")["sessions"]
            known = next((i for i, s in enumerate(page) if s["ID"] in self._finished_sessions), None)
            sessions.extend(page[:known])
            if known is not None or len(page) < _PAGE:
                break
            start += _PAGE
        with self._lock:
            fresh = []
            for session in reversed(sessions):  # oldest first
                if session["Ended"]:
                    self._finished_sessions.add(session["ID"])
                for index, attempt in enumerate(session["Attempts"]):
                    key = attempt.get("Seq") or (session["ID"], index)
                    if key not in self._attempt_keys:
                        self._attempt_keys.add(key)
                        fresh.append(attempt)
            if record:
                self._attempts.extend(sorted(fresh, key=lambda attempt: attempt.get("Seq") or 0))

    def fault_backend(self) -> FaultBackend:
        """The server's rules over ``/api/v1/faults``."""
        return self._faults

    def close(self) -> None:
        """Close the websocket, if one was opened."""
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None


class RemoteServer:
    """The session fixture in remote mode: a server that runs elsewhere, seen through :class:`RemoteSource`."""

    def __init__(self, url: str, smtp: str | None = None) -> None:
        host, port = parse_address(smtp, "--mailtrap-smtp") if smtp else (None, DEFAULT_SMTP_PORT)
        self.source = RemoteSource(url, host, port)
        self.faults = Faults(self.source.fault_backend())
        self.smtp_host, self.smtp_port, self.http_url = self.source.host, self.source.port, self.source.http_url

    def mailbox(self, watermark: bool = False, timeout: float = DEFAULT_TIMEOUT) -> Mailbox:
        """A view with the fixture's API: everything since connecting, or with ``watermark`` from now on."""
        return Mailbox(self.source, watermark=watermark, timeout=timeout)

    def __enter__(self) -> RemoteServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.source.close()
