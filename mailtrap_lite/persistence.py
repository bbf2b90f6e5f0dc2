"""Durable mode (``--db PATH``): every stored message, its tags and its read flag kept in a SQLite file.

The store calls the journal while it holds its own lock, *before* it changes memory, so the file and the store
never disagree: a message is written and committed (WAL, ``synchronous=FULL``) before SMTP answers ``250``, which
is why ``kill -9`` right after the reply loses nothing. When a write fails, the journal raises
:class:`~mailtrap_lite.errors.StorageError` and the store changes nothing; SMTP then answers ``452``/``451``.

The schema is versioned with ``PRAGMA user_version``: a file written by a newer mailtrap-lite is refused with a
clear message instead of being misread.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from mailtrap_lite.errors import ConfigError, StorageError
from mailtrap_lite.message import Envelope, Message, SmtpFacts

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE messages (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    sender      TEXT NOT NULL,
    recipients  TEXT NOT NULL,
    peer        TEXT NOT NULL,
    helo        TEXT NOT NULL,
    tls         INTEGER NOT NULL,
    auth_user   TEXT NOT NULL,
    session_id  TEXT NOT NULL,
    read        INTEGER NOT NULL DEFAULT 0,
    tags        TEXT NOT NULL DEFAULT '[]',
    raw         BLOB NOT NULL
);
"""


@dataclass(frozen=True)
class StoredMessage:
    """One message as read back from the file: the message and its mutable state."""

    message: Message
    read: bool
    tags: tuple[str, ...]


class SqliteJournal:
    """Writes store changes to a SQLite file and reads them back at start-up. Safe to call from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            self.connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        except sqlite3.DatabaseError as error:
            raise ConfigError("--db", f"cannot use {path}: {error}") from None
        try:
            self._prepare()
        except sqlite3.DatabaseError as error:
            self.connection.close()
            raise ConfigError("--db", f"cannot use {path}: {error}") from None
        except ConfigError:
            self.connection.close()
            raise

    def _prepare(self) -> None:
        """Check the file is ours (or empty) before changing anything in it, then set it up."""
        connection = self.connection
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ConfigError(
                "--db", f"{self.path} has schema version {version}; this mailtrap-lite reads up to {SCHEMA_VERSION}"
            )
        tables = connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        if version == 0 and tables:
            raise ConfigError("--db", f"{self.path} is a SQLite file of some other program")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        if version == 0:
            connection.executescript(f"BEGIN; {_SCHEMA} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")

    def size_bytes(self) -> int:
        """Bytes the database takes on disk (the main file and its write-ahead log)."""
        files = (self.path, self.path.with_name(self.path.name + "-wal"))
        return sum(f.stat().st_size for f in files if f.exists())

    def close(self) -> None:
        """Checkpoint the WAL into the main file and close."""
        with self._lock:
            with contextlib.suppress(sqlite3.Error):  # the data is safe in the WAL; the next open replays it
                self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.connection.close()

    # -- reading at start-up -----------------------------------------------------------------------------------

    def load(self) -> Iterator[StoredMessage]:
        """Every stored message, oldest first."""
        rows = self.connection.execute(
            "SELECT id, received_at, sender, recipients, peer, helo, tls, auth_user, session_id, read, tags, raw "
            "FROM messages ORDER BY position"
        )
        for row in rows:
            (message_id, received_at, sender, recipients, peer, helo, tls, auth_user, session_id, read, tags,
             raw) = row
            message = Message(
                message_id,
                raw,
                Envelope(sender, tuple(json.loads(recipients))),
                SmtpFacts(peer=peer, helo=helo, tls=bool(tls), auth_user=auth_user, session_id=session_id),
                datetime.fromisoformat(received_at),
            )
            yield StoredMessage(message, bool(read), tuple(json.loads(tags)))

    # -- the hooks the store calls ------------------------------------------------------------------------------

    def added(self, message: Message, tags: tuple[str, ...], evicted: Iterable[str]) -> None:
        """Write a new message (and drop the ones the cap evicts) in one committed transaction."""
        smtp, envelope = message.smtp, message.envelope
        self._write(
            [
                (
                    "INSERT INTO messages (id, received_at, sender, recipients, peer, helo, tls, auth_user, "
                    "session_id, tags, raw) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(
                        message.id, message.received_at.isoformat(), envelope.sender,
                        json.dumps(list(envelope.recipients)), smtp.peer, smtp.helo, int(smtp.tls), smtp.auth_user,
                        smtp.session_id, json.dumps(list(tags)), message.raw,
                    )],
                ),
                ("DELETE FROM messages WHERE id = ?", [(i,) for i in evicted]),
            ]
        )

    def deleted(self, ids: Iterable[str]) -> None:
        """Forget these messages."""
        self._write([("DELETE FROM messages WHERE id = ?", [(i,) for i in ids])])

    def cleared(self) -> None:
        """Forget every message."""
        self._write([("DELETE FROM messages", [()])])

    def read_changed(self, ids: Iterable[str], read: bool) -> None:
        """Record the read flag of these messages."""
        self._write([("UPDATE messages SET read = ? WHERE id = ?", [(int(read), i) for i in ids])])

    def tags_changed(self, tags_by_id: Mapping[str, tuple[str, ...]]) -> None:
        """Record the new tags of these messages."""
        rows = [(json.dumps(list(tags)), i) for i, tags in tags_by_id.items()]
        self._write([("UPDATE messages SET tags = ? WHERE id = ?", rows)])

    def _write(self, statements: Sequence[tuple[str, Sequence[Sequence[object]]]]) -> None:
        with self._lock:
            try:
                with _transaction(self.connection):
                    for sql, rows in statements:
                        if rows:
                            self.connection.executemany(sql, rows)
            except sqlite3.Error as error:
                raise StorageError(str(error), full=_is_full(error)) from error


class _transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back when anything inside fails (the connection is autocommit)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> None:
        self.connection.execute("BEGIN IMMEDIATE")

    def __exit__(self, error_type: object, *rest: object) -> None:
        try:
            if error_type is None:
                self.connection.execute("COMMIT")
        finally:
            if self.connection.in_transaction:  # the body or the COMMIT itself failed
                self.connection.execute("ROLLBACK")


def _is_full(error: sqlite3.Error) -> bool:
    """True when SQLite says the disk (or the allowed file size) is full."""
    name = getattr(error, "sqlite_errorname", "")  # Python 3.11+; older versions only have the message
    return name == "SQLITE_FULL" or "full" in str(error).lower()
