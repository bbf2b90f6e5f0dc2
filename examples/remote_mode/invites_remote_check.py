"""The tests of the third process: the app and the mail server already run elsewhere.

    pytest invites_remote_check.py --mailtrap-url http://127.0.0.1:8025 --mailtrap-smtp 127.0.0.1:1025

``INVITE_APP_URL`` names the app. The ``mailtrap`` fixture works as it does in process, over the server's REST
API, its long-poll wait and its websocket; each test sees only its own mail, attempts and fault rules. The file
name does not start with ``test_`` so that the main suite's collection skips it: ``test_remote_mode.py`` runs it.
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.error
import urllib.request

from mailtrap_lite import Mailbox

APP = os.environ.get("INVITE_APP_URL", "http://127.0.0.1:8000")


def invite(email: str, team: str = "Ops") -> int:
    """Ask the app to invite ``email``; returns the HTTP status."""
    body = json.dumps({"email": email, "team": team}).encode()
    request = urllib.request.Request(APP + "/invite", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_an_invitation_is_mailed(mailtrap: Mailbox) -> None:
    assert invite("bob@example.com", team="Ops") == 202
    mail = mailtrap.wait_for(to="bob@example.com")
    assert mail.subject == "You are invited to Ops"
    assert mail.links[0].startswith("https://teams.example.com/join/")


def test_each_test_sees_only_its_own_mail(mailtrap: Mailbox) -> None:
    assert mailtrap.messages == []
    assert invite("carol@example.com") == 202
    mailtrap.wait_for(to="carol@example.com")
    assert [m.envelope.recipients for m in mailtrap.messages] == [("carol@example.com",)]


def test_fault_rules_travel_to_the_remote_server(mailtrap: Mailbox) -> None:
    mailtrap.faults.fail_next(1, code=451)
    assert invite("dan@example.com") == 503
    assert invite("dan@example.com") == 202
    mailtrap.wait_for(to="dan@example.com")
    assert [a.reply_code for a in mailtrap.attempts] == [451, 250]


def test_async_waits_listen_on_the_websocket(mailtrap: Mailbox) -> None:
    async def scenario() -> str:
        waiting = asyncio.create_task(mailtrap.wait_for_async(to="erin@example.com"))
        assert await asyncio.to_thread(invite, "erin@example.com") == 202
        return (await waiting).subject

    assert asyncio.run(scenario()) == "You are invited to Ops"
