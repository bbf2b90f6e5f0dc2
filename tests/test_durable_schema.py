"""The ``--db`` file: a versioned SQLite schema in WAL mode; files it cannot read safely are refused in one line."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from http_api import Api
from test_cli import assert_one_line_error, run_cli

from mailtrap_lite import Envelope, MailServer
from mailtrap_lite.persistence import SCHEMA_VERSION

ARGS = ("--smtp", "127.0.0.1:0", "--no-http")
ENVELOPE = Envelope("a@example.com", ("b@example.com",))


def test_a_new_file_gets_the_current_schema_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with MailServer(db=path):
        pass
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_memory_stays_the_default() -> None:
    with MailServer(http_port=0) as server:
        assert server.journal is None
        info = Api(server.http_url or "").json("/api/v1/info")
        assert (info["Database"], info["DatabaseSize"]) == ("", 0)


def test_info_names_the_database_and_its_size(tmp_path: Path) -> None:
    path = tmp_path / "mail.db"
    with MailServer(http_port=0, db=path) as server:
        server.store.add(b"Subject: sized\r\n\r\n" + b"x" * 50_000, ENVELOPE)
        info = Api(server.http_url or "").json("/api/v1/info")
        assert info["Database"] == str(path)
        assert info["DatabaseSize"] > 50_000


def test_a_file_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    assert_one_line_error(run_cli(*ARGS, "--db", str(path)), "--db", f"schema version {SCHEMA_VERSION + 1}")


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE accounts (id INTEGER)")
    assert_one_line_error(run_cli(*ARGS, "--db", str(path)), "--db", "some other program")
    with sqlite3.connect(path) as db:  # and it was not touched
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("accounts",)]
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("these are my notes, not a database\n" * 100)
    assert_one_line_error(run_cli(*ARGS, "--db", str(path)), "--db", "not a database")


def test_a_directory_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    assert_one_line_error(run_cli(*ARGS, "--db", str(tmp_path / "missing" / "mail.db")), "--db", "cannot use")


def test_a_smaller_cap_keeps_the_newest_messages(tmp_path: Path) -> None:
    path = tmp_path / "mail.db"
    with MailServer(db=path) as first:
        for index in range(5):
            first.store.add(f"Subject: m{index}\r\n\r\nbody\r\n".encode(), ENVELOPE)
    with MailServer(db=path, max_messages=2) as second:
        assert [m.subject for m in second.store.snapshot()] == ["m3", "m4"]
    with MailServer(db=path) as third:  # the dropped ones are gone from the file too
        assert [m.subject for m in third.store.snapshot()] == ["m3", "m4"]
