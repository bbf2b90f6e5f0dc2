"""The pre-scan that guards the MIME parser sees what the parser will see: for generated MIME trees (multiparts,
digests with their default message/rfc822 parts, message/rfc822 parts, quoted, unquoted and RFC 2231 boundaries,
CRLF, LF and bare CR line endings), its depth and part count are never less than the parsed tree's, so no
message can slip past a limit by being read differently. (Depths stay small here: the limits themselves are tested
with real deliveries in ``test_hostile_parse_limits.py``.)
"""

from __future__ import annotations

import email
import email.policy
import os
from email.message import Message

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailtrap_lite.mime_limits import measure

EXAMPLES = int(os.environ.get("MAILTRAP_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

boundary_forms = st.sampled_from(['boundary="{b}"', "boundary={b}", "boundary*=us-ascii''{b}",
                                  'boundary*0="{b}"', 'BOUNDARY="{b}"'])


@st.composite
def part(draw: st.DrawFn, depth: int = 0, in_digest: bool = False) -> str:
    """One MIME entity (headers, blank line, body) with "\\n" line ends."""
    kind = draw(st.sampled_from(["leaf", "multipart", "message"]) if depth < 6 else st.just("leaf"))
    if kind == "leaf":
        if in_digest and draw(st.booleans()):  # no Content-Type in a digest: a message/rfc822 by default
            return "\nSubject: digest entry\n\nentry text\n"
        return "Content-Type: text/plain\n\n" + draw(st.sampled_from(["text\n", "-- not a boundary\n", "--\n"]))
    if kind == "message":
        return "Content-Type: message/rfc822\n\nSubject: inner\n" + draw(part(depth + 1))
    subtype = draw(st.sampled_from(["mixed", "alternative", "digest"]))
    boundary = f"b{depth}{draw(st.sampled_from(['', 'x', '=_1']))}"
    children = draw(st.lists(part(depth + 1, subtype == "digest"), min_size=1, max_size=3))
    body = "".join(f"--{boundary}\n{child}" for child in children) + f"--{boundary}--\n"
    form = draw(boundary_forms).format(b=boundary)
    return f"Content-Type: multipart/{subtype}; {form}\n\npreamble\n{body}"


def _tree(message: Message, depth: int = 0) -> tuple[int, int]:
    """(height, entities) of the parsed tree; a message/rfc822 part and the message in it are one entity."""
    payload = message.get_payload()
    if not message.is_multipart() or not isinstance(payload, list):
        return depth, 1
    deepest, entities = depth, 1
    for child in payload:
        child_depth, child_entities = _tree(child, depth + 1)
        deepest = max(deepest, child_depth)
        entities += child_entities - (message.get_content_maintype() == "message")
    return deepest, entities


@FUZZ
@given(part(), st.sampled_from(["\r\n", "\n", "\r"]))
def test_the_prescan_never_sees_less_than_the_parser(entity: str, line_end: str) -> None:
    raw = ("From: a@example.com\n" + entity).replace("\n", line_end).encode()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    depth, entities = _tree(parsed)
    found = measure(raw)
    assert found.problem == ""
    assert found.depth >= depth
    assert found.parts >= entities
