"""A large message shown as raw (issue #15, item 2): its JSON view carries the first MiB of its source as
``Text``, and ``ShownAsRaw`` says so and where the whole source is; ``/raw`` still returns every byte.

Encoding a whole 23 MiB source into one JSON answer held the interpreter long enough to delay every SMTP client's
replies; a client that wants the source reads it from ``/raw``.
"""

from __future__ import annotations

import poison_mail
from http_api import Api
from test_hostile_parse_limits import deliver

from mailtrap_lite import MailServer

MiB = 1024 * 1024


def test_a_large_raw_message_has_its_text_cut_and_points_to_raw(server: MailServer) -> None:
    raw = poison_mail.many_parts(20_000)  # past the 1,000-part limit, and about 2 MiB
    assert len(raw) > 1.5 * MiB
    message_id = deliver(server, raw)
    api = Api(server.http_url or "")

    detail = api.json(f"/api/v1/message/{message_id}")

    assert detail["ShownAsRaw"].startswith("more than 1,000 parts, limit 1,000; text cut to its first 1,048,576")
    assert detail["ShownAsRaw"].endswith(f"the whole source is at GET /api/v1/message/{message_id}/raw")
    assert len(detail["Text"]) == MiB
    assert raw.decode().replace("\r\n", "\n").startswith(detail["Text"])
    assert api.get(f"/api/v1/message/{message_id}/raw").body == raw


def test_a_small_raw_message_keeps_its_whole_text(server: MailServer) -> None:
    raw = poison_mail.many_parts(1_500)
    message_id = deliver(server, raw)

    detail = Api(server.http_url or "").json(f"/api/v1/message/{message_id}")

    assert detail["ShownAsRaw"] == "more than 1,000 parts, limit 1,000"
    assert detail["Text"] == raw.decode().replace("\r\n", "\n")
