"""The pytest plugin, registered through the ``pytest11`` entry point: fixtures, a marker and options, nothing else.

``mailtrap_server`` is one capture server per session (so one per xdist worker) on a free port, or a client for
an already running server with ``--mailtrap-url``. ``mailtrap`` is each test's isolated view on it (a
:class:`~mailtrap_lite.mailbox.Mailbox`). The configuration fixtures (``mailtrap_tls``, ``mailtrap_auth``,
``mailtrap_config``) are meant to be overridden in a ``conftest.py``, as pytest-httpserver's are.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from typing import Any

import pytest

from mailtrap_lite.errors import MailAssertionError
from mailtrap_lite.mailbox import Mailbox
from mailtrap_lite.remote import RemoteServer
from mailtrap_lite.server import MailServer

URL_VARIABLE = "MAILTRAP_LITE_URL"
SMTP_VARIABLE = "MAILTRAP_LITE_SMTP_ADDRESS"
_MARKER_OPTIONS = {"faults", "fresh_server", "timeout"}
_passed_key = pytest.StashKey[bool]()
_mailbox_key = pytest.StashKey[Mailbox]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Remote mode's command-line options and the ini options."""
    group = parser.getgroup("mailtrap", "mailtrap-lite SMTP capture")
    group.addoption(
        "--mailtrap-url",
        default=os.environ.get(URL_VARIABLE) or None,
        help=f"use the running mailtrap-lite server with this HTTP URL instead of starting one (env {URL_VARIABLE})",
    )
    group.addoption(
        "--mailtrap-smtp",
        default=os.environ.get(SMTP_VARIABLE) or None,
        metavar="HOST:PORT",
        help=f"that server's SMTP address (default: the URL's host, port 1025; env {SMTP_VARIABLE})",
    )
    parser.addini("mailtrap_smtp_port", "fixed SMTP port for the session server; xdist worker N adds N", default="0")
    parser.addini("mailtrap_timeout", "default seconds that waits wait", default="5")


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker."""
    config.addinivalue_line(
        "markers",
        "mailtrap(faults=[...], fresh_server=False, timeout=None): fault rules to start the test with, "
        "a dedicated server for this test, and the default wait timeout",
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember whether the test body passed (the unused-fault check only reports on tests that passed), and add
    a "Captured mail" section to a failure that did not already carry the mail report."""
    report: pytest.TestReport = yield
    if report.when == "call":
        item.stash[_passed_key] = report.passed
        mailbox = item.stash.get(_mailbox_key, None)
        already_reported = call.excinfo is not None and call.excinfo.errisinstance(MailAssertionError)
        if report.failed and mailbox is not None and not already_reported:
            report.sections.append(("Captured mail", mailbox.summary()))
    return report


@pytest.fixture(scope="session")
def mailtrap_tls() -> bool:
    """Override to return True: the shared server offers STARTTLS and implicit TLS with a per-session CA."""
    return False


@pytest.fixture(scope="session")
def mailtrap_auth() -> str | dict[str, str] | None:
    """Override to return ``"accept-any"`` (any credentials work) or ``{"user": "password"}`` (AUTH required)."""
    return None


@pytest.fixture(scope="session")
def mailtrap_config(pytestconfig: pytest.Config, mailtrap_tls: bool, mailtrap_auth: Any) -> dict[str, Any]:
    """Keyword arguments for :class:`~mailtrap_lite.MailServer`; override to add more (e.g. ``http_port=0``)."""
    options: dict[str, Any] = {"smtp_port": _smtp_port(pytestconfig)}
    if mailtrap_tls:
        options.update(tls_self_signed=True, smtps_port=0)
    if mailtrap_auth == "accept-any":
        options["smtp_auth"] = "accept-any"
    elif mailtrap_auth:
        options.update(smtp_auth="required", smtp_users=dict(mailtrap_auth))
    return options


@pytest.fixture(scope="session")
def mailtrap_server(
    pytestconfig: pytest.Config, mailtrap_config: dict[str, Any]
) -> Iterator[MailServer | RemoteServer]:
    """The session's server: started here on a free port, or the remote one named by ``--mailtrap-url``."""
    url = pytestconfig.getoption("mailtrap_url")
    if url:
        with RemoteServer(url, pytestconfig.getoption("mailtrap_smtp")) as remote:
            yield remote
        return
    with MailServer(**mailtrap_config) as server:
        yield server


@pytest.fixture
def mailtrap(
    request: pytest.FixtureRequest, mailtrap_server: MailServer | RemoteServer, mailtrap_config: dict[str, Any]
) -> Iterator[Mailbox]:
    """This test's view: mail, attempts and fault rules of earlier tests are invisible; its own rules are removed."""
    marker = request.node.get_closest_marker("mailtrap")
    options = dict(marker.kwargs) if marker else {}
    unknown = sorted(set(options) - _MARKER_OPTIONS)
    if unknown:
        raise pytest.UsageError(f"unknown mailtrap marker option(s): {', '.join(unknown)}")
    timeout = float(options.get("timeout") or _ini_number(request.config, "mailtrap_timeout", float))
    if options.get("fresh_server"):
        with MailServer(**{**mailtrap_config, "smtp_port": 0}) as fresh:
            yield from _view(request, fresh, timeout, options.get("faults", ()))
    else:
        yield from _view(request, mailtrap_server, timeout, options.get("faults", ()))


def _view(
    request: pytest.FixtureRequest, server: MailServer | RemoteServer, timeout: float, faults: Any
) -> Iterator[Mailbox]:
    __tracebackhide__ = True
    mailbox = server.mailbox(watermark=True, timeout=timeout)
    request.node.stash[_mailbox_key] = mailbox
    try:
        for rule in faults:
            mailbox.faults.add(rule)
        yield mailbox
        if request.node.stash.get(_passed_key, False):
            mailbox.check()
    finally:
        mailbox.close()


def _ini_number(config: pytest.Config, name: str, kind: type[int] | type[float]) -> Any:
    value = config.getini(name)
    try:
        return kind(value)
    except ValueError:
        raise pytest.UsageError(f"ini option {name}: {value!r} is not a number") from None


def _smtp_port(config: pytest.Config) -> int:
    port: int = _ini_number(config, "mailtrap_smtp_port", int)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if port and worker.startswith("gw"):
        port += int(worker[2:])
    return port
