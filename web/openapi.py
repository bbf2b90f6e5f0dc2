"""``GET /api/v1/openapi.json``: an OpenAPI 3 description of every route (a test keeps it equal to the app's)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from mailtrap_lite import __version__

api_docs = Blueprint("api_docs", __name__)

JSON = dict[str, Any]


def _ref(name: str) -> JSON:
    return {"$ref": f"#/components/schemas/{name}"}


def _array(items: JSON) -> JSON:
    return {"type": "array", "items": items}


def _object(**properties: JSON) -> JSON:
    return {"type": "object", "properties": properties}


def _record(*, optional: tuple[str, ...] = (), **properties: JSON) -> JSON:
    """A response object: exactly these keys (Mailpit's shapes are fixed), each always present unless ``optional``."""
    return {**_object(**properties), "required": [name for name in properties if name not in optional],
            "additionalProperties": False}


def _nullable(schema: JSON) -> JSON:
    # OpenAPI 3.0 ignores keys beside a $ref, so a nullable reference goes through allOf
    return {"allOf": [schema], "nullable": True} if "$ref" in schema else {**schema, "nullable": True}


STRING: JSON = {"type": "string"}
INTEGER: JSON = {"type": "integer"}
BOOLEAN: JSON = {"type": "boolean"}
NUMBER: JSON = {"type": "number"}
DATE_TIME: JSON = {"type": "string", "format": "date-time"}
NULLABLE_STRING = _nullable(STRING)


def _path(name: str, description: str) -> JSON:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": STRING}


def _query(name: str, description: str, schema: JSON = STRING, required: bool = False) -> JSON:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


MESSAGE_ID = _path("message_id", "A message id, or `latest` (the newest message; with `query`, the newest match)")
PART_ID = _path("part_id", "A MIME part id such as `2` or `1.2`")
TAG = _path("tag", "A tag name (URL-encoded)")
SESSION_ID = _path("session_id", "An SMTP session id")
START = _query("start", "How many matches to skip", INTEGER)
LIMIT = _query("limit", "Page size; 0 = all", INTEGER)
TZ = _query("tz", "IANA time zone for dates in the query, e.g. Europe/Paris")
LATEST_QUERY = _query("query", "With `latest`: the search the message must match")
SEARCH = _query("query", "Search syntax: words, \"phrases\", -negation, from: to: subject: tag: is: has: ...",
                required=True)


def _text(description: str) -> JSON:
    return {"description": description, "content": {"text/plain": {"schema": STRING}}}


def _html(description: str) -> JSON:
    return {"description": description, "content": {"text/html": {"schema": STRING}}}


def _json(description: str, schema: JSON) -> JSON:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


OK = _text("`ok`")
BAD = _text("Bad input: the reason")
MISSING = _text("No such id")
NO_ROUTE = _text("No such route: an empty tag or one with a `/` in it")


def _op(summary: str, responses: JSON, parameters: list[JSON] | None = None, body: JSON | None = None) -> JSON:
    operation: JSON = {"summary": summary, "parameters": parameters or [], "responses": responses}
    if body is not None:
        operation["requestBody"] = {"required": False, "content": {"application/json": {"schema": body}}}
    return operation


SCHEMAS: JSON = {
    "Address": _record(Name=STRING, Address=STRING),
    "MessageSummary": _record(
        ID=STRING, MessageID=STRING, Read=BOOLEAN, From=_ref("Address"), To=_array(_ref("Address")),
        Cc=_array(_ref("Address")), Bcc=_array(_ref("Address")), ReplyTo=_array(_ref("Address")), Subject=STRING,
        Created=DATE_TIME, Username=STRING, Tags=_array(STRING), Size=INTEGER, Attachments=INTEGER, Snippet=STRING,
    ),
    "MessagesSummary": _record(
        total=INTEGER, unread=INTEGER, count=INTEGER, messages_count=INTEGER, messages_unread=INTEGER,
        start=INTEGER, tags=_array(STRING), messages=_array(_ref("MessageSummary")),
    ),
    "Attachment": _record(
        PartID=STRING, FileName=STRING, ContentType=STRING, ContentID=STRING, Size=INTEGER,
        Checksums=_record(MD5=STRING, SHA1=STRING, SHA256=STRING),
    ),
    "Message": _record(
        optional=("ShownAsRaw",),
        ID=STRING, MessageID=STRING, Read=BOOLEAN, From=_ref("Address"), To=_array(_ref("Address")),
        Cc=_array(_ref("Address")), Bcc=_array(_ref("Address")), ReplyTo=_array(_ref("Address")),
        ReturnPath=STRING, Subject=STRING,
        ListUnsubscribe=_record(Header=STRING, Links=_array(STRING), Errors=STRING, HeaderPost=STRING),
        Date=DATE_TIME, Tags=_array(STRING), Username=STRING, Text=STRING, HTML=STRING, Size=INTEGER,
        Inline=_array(_ref("Attachment")), Attachments=_array(_ref("Attachment")),
        # our extension, only on a message past a parse limit: why it is shown as raw
        ShownAsRaw={**STRING, "description": "Why the message is shown as raw (a parse limit); absent otherwise."
                    " Text is then the source, cut to its first MiB (this reason then says so and points to /raw)"},
    ),
    "Attempt": _record(
        Seq=INTEGER, Sender=STRING, Recipients=_array(STRING), RecipientCount=INTEGER,
        RejectedRecipients=_array(_record(Address=STRING, Code=INTEGER)), RejectedCount=INTEGER,
        ReplyCode=INTEGER, ReplyText=STRING, Fault=NULLABLE_STRING, MessageID=NULLABLE_STRING, Accepted=BOOLEAN,
        Time=DATE_TIME,
    ),
    "Session": _record(
        optional=("Transcript",), ID=STRING, Peer=STRING, Helo=STRING, TLS=BOOLEAN, Username=STRING,
        Started=DATE_TIME, Ended=DATE_TIME, Duration=NUMBER, Faults=_array(STRING), MessageIDs=_array(STRING),
        Attempts=_array(_ref("Attempt")), TranscriptLinesNotKept=INTEGER,
        Transcript=_array(_record(Elapsed=NUMBER, Direction=STRING, Text=STRING)),
    ),
    "SendRequest": {**_object(
        From={**_object(Email={"type": "string", "format": "email"}, Name=STRING), "required": ["Email"]},
        To=_array(_object(Email=STRING, Name=STRING)),
        Cc=_array(_object(Email=STRING, Name=STRING)), Bcc=_array(STRING),
        ReplyTo=_array(_object(Email=STRING, Name=STRING)), Subject=STRING, Text=STRING, HTML=STRING,
        Attachments=_array(_object(Content=STRING, Filename=STRING, ContentType=STRING, ContentID=STRING)),
        Headers={"type": "object", "additionalProperties": STRING}, Tags=_array(STRING),
    ), "required": ["From"]},  # Mailpit requires only From.Email
    "FaultRule": _object(
        id=STRING, stage=STRING, kind=STRING, action=STRING, code=INTEGER, enhanced=STRING, text=STRING,
        seconds=NUMBER, sender=NULLABLE_STRING, recipient=NULLABLE_STRING, times=INTEGER, after=INTEGER,
        probability=_nullable(NUMBER), seed=_nullable(INTEGER), sequence=_array(INTEGER), window=NUMBER,
        per_second=INTEGER, rule=STRING, matched=INTEGER, fired=INTEGER,
    ),
    "ChaosTriggers": _object(**{name: _record(ErrorCode=INTEGER, Probability=INTEGER)
                                for name in ("Sender", "Recipient", "Authentication")}),
    "Info": _record(
        Version=STRING, LatestVersion=STRING, Database=STRING, DatabaseSize=INTEGER, Messages=INTEGER,
        Unread=INTEGER, Tags={"type": "object", "additionalProperties": INTEGER},
        RuntimeStats=_record(Uptime=INTEGER, Memory=INTEGER, MessagesDeleted=INTEGER, SMTPAccepted=INTEGER,
                             SMTPAcceptedSize=INTEGER, SMTPRejected=INTEGER, SMTPIgnored=INTEGER),
    ),
    "WebUI": _record(
        Label=STRING, MessageRelay=_record(
            Enabled=BOOLEAN, SMTPServer=STRING, ReturnPath=STRING, AllowedRecipients=STRING,
            BlockedRecipients=STRING, OverrideFrom=STRING, PreserveMessageIDs=BOOLEAN, RecipientAllowlist=STRING),
        SpamAssassin=BOOLEAN, ChaosEnabled=BOOLEAN, DuplicatesIgnored=BOOLEAN, HideDeleteAllButton=BOOLEAN,
    ),
    "MessageSMTP": _record(
        ID=STRING, Envelope=_record(From=STRING, To=_array(STRING)), Peer=NULLABLE_STRING, Helo=NULLABLE_STRING,
        TLS=BOOLEAN, Username=NULLABLE_STRING, SessionID=NULLABLE_STRING, Session=_nullable(_ref("Session")),
    ),
    "WaitResult": _record(
        messages_count=INTEGER, count=INTEGER, timed_out=BOOLEAN, messages=_array(_ref("MessageSummary")),
    ),
}

IDS_BODY = _object(IDs=_array(STRING))


def _paths() -> JSON:
    summaries = _json("A page of message summaries", _ref("MessagesSummary"))
    return {
        "/livez": {"get": _op("Liveness probe (never behind auth)", {"200": OK})},
        "/readyz": {"get": _op("Readiness probe (never behind auth)", {
            "200": OK, "503": _text("One line per part that is not working")})},
        "/": {"get": _op("The inspection UI", {"200": _html("HTML page")})},
        "/api/v1/messages": {
            "get": _op("List messages, newest first", {"200": summaries, "400": BAD},
                       [START, LIMIT, _query("before", "Only messages received before this date")]),
            "put": _op("Mark messages read or unread (no IDs and no Search: all)", {"200": OK, "400": BAD}, [TZ],
                       _object(IDs=_array(STRING), Read=BOOLEAN, Search=STRING)),
            "delete": _op("Delete messages (an empty body deletes all)", {"200": OK}, body=IDS_BODY),
        },
        "/api/v1/search": {
            "get": _op("Search messages", {"200": summaries, "400": BAD}, [SEARCH, START, LIMIT, TZ]),
            "delete": _op("Delete every message matching the search", {"200": OK, "400": BAD}, [SEARCH, TZ]),
        },
        "/api/v1/message/{message_id}": {
            "get": _op("One message (marks it read)", {"200": _json("The message", _ref("Message")),
                                                        "400": BAD, "404": MISSING}, [MESSAGE_ID, LATEST_QUERY, TZ]),
        },
        "/api/v1/message/{message_id}/headers": {
            "get": _op("Headers by canonical name", {"200": _json("Headers", {
                "type": "object", "additionalProperties": _array(STRING)}), "400": BAD, "404": MISSING},
                [MESSAGE_ID, LATEST_QUERY, TZ]),
        },
        "/api/v1/message/{message_id}/raw": {
            "get": _op("The message as received", {"200": _text("Raw source"), "400": BAD, "404": MISSING},
                       [MESSAGE_ID, LATEST_QUERY, TZ, _query("dl", "1 = download as {ID}.eml")]),
        },
        "/api/v1/message/{message_id}/part/{part_id}": {
            "get": _op("An attachment or inline part", {"200": {"description": "The part's bytes"},
                                                        "404": MISSING}, [MESSAGE_ID, PART_ID]),
        },
        "/api/v1/message/{message_id}/release": {
            "post": _op("Deliver the message to the --relay server", {"200": OK, "400": BAD, "404": MISSING},
                        [MESSAGE_ID], _object(To=_array(STRING))),
        },
        "/api/v1/message/{message_id}/smtp": {
            "get": _op("Envelope, SMTP facts and session transcript of a message",
                       {"200": _json("SMTP details", _ref("MessageSMTP")), "404": MISSING}, [MESSAGE_ID]),
        },
        "/api/v1/message/{message_id}/links": {
            "get": _op("Links found in the message", {"200": _json("Links", _record(
                ID=STRING, Links=_array(STRING))), "404": MISSING}, [MESSAGE_ID]),
        },
        "/api/v1/message/{message_id}/codes": {
            "get": _op("One-time codes found in the subject and text", {"200": _json("Codes", _record(
                ID=STRING, Pattern=STRING, Codes=_array(STRING))), "400": BAD, "404": MISSING},
                [MESSAGE_ID, _query("pattern", "RE2 regular expression (at most 1,000 characters); its first group is "
                                               "the code", {"type": "string", "maxLength": 1000})]),
        },
        "/view/latest": {
            "get": _op("Redirect to the UI page of the newest message", {
                "302": {"description": "Redirect to /#/message/{ID}"}, "404": MISSING},
                [_query("query", "Search: the newest match")]),
        },
        "/view/{message_id}.html": {
            "get": _op("The HTML body, sandboxed (marks read)", {"200": _html("HTML"), "404": MISSING},
                       [MESSAGE_ID, _query("remote", "1 = allow remote images")]),
        },
        "/view/{message_id}.txt": {
            "get": _op("The text body (marks read)", {"200": _text("Text"), "404": MISSING}, [MESSAGE_ID]),
        },
        "/api/v1/tags": {
            "get": _op("Every tag in use", {"200": _json("Tags", _array(STRING))}),
            "put": _op("Replace the tags of messages", {"200": OK, "400": BAD},
                       body=_object(IDs=_array(STRING), Tags=_array(STRING))),
        },
        "/api/v1/tags/{tag}": {
            "put": _op("Rename a tag", {"200": OK, "400": BAD, "404": NO_ROUTE}, [TAG], _object(Name=STRING)),
            "delete": _op("Remove a tag from every message", {"200": OK, "400": BAD, "404": NO_ROUTE}, [TAG]),
        },
        "/api/v1/send": {
            "post": _op("Compose and store a message", {
                "200": _json("Stored", _record(ID=STRING)), "400": _json("Bad input", _record(Error=STRING)),
                "413": _json("Too large", _record(Error=STRING))}, body=_ref("SendRequest")),
        },
        "/api/v1/info": {"get": _op("Server information", {"200": _json("Info", _ref("Info"))})},
        "/api/v1/webui": {"get": _op("UI configuration", {"200": _json("Web UI settings", _ref("WebUI"))})},
        "/api/v1/sessions": {
            "get": _op("SMTP sessions, newest first (open ones, then finished ones by when they ended), without "
                       "transcripts; `total` counts every session kept", {"200": _json("Sessions", _record(
                           total=INTEGER, start=INTEGER, count=INTEGER, sessions=_array(_ref("Session")))),
                           "400": BAD},
                [_query("start", "How many sessions to skip", INTEGER),
                 _query("limit", "Page size, default 50; 0 = all", INTEGER)]),
        },
        "/api/v1/session/{session_id}": {
            "get": _op("One SMTP session with its transcript", {"200": _json("Session", _ref("Session")),
                                                                "404": MISSING}, [SESSION_ID]),
        },
        "/api/v1/wait": {
            "get": _op("Long-poll until `count` messages match `query`", {
                "200": _json("Enough messages matched", _ref("WaitResult")),
                "408": _json("Timed out; what matched so far", _ref("WaitResult")), "400": BAD,
                "503": _text("Too many requests are waiting already: the reason")},
                [_query("query", "Search syntax; empty = any message"), _query("count", "How many", INTEGER),
                 _query("timeout", "Seconds to wait (at most 300)", NUMBER), TZ]),
        },
        "/api/v1/faults": {
            "get": _op("Fault rules in evaluation order, with counters", {"200": _json("Rules", _array(
                _ref("FaultRule")))}),
            "post": _op("Add a fault rule (JSON fields, or {\"rule\": \"data:451:times=2\"})", {
                "200": _json("The rule as stored", _ref("FaultRule")), "400": BAD}, body=_ref("FaultRule")),
            "delete": _op("Remove every fault rule", {"200": OK}),
        },
        "/api/v1/faults/{rule_id}": {
            "delete": _op("Remove one fault rule", {"200": OK, "404": MISSING}, [_path("rule_id", "A rule id")]),
        },
        "/api/v1/chaos": {
            "get": _op("Mailpit chaos triggers (400 unless started with --chaos)", {
                "200": _json("Triggers", _ref("ChaosTriggers")), "400": BAD}),
            "put": _op("Replace the chaos triggers", {"200": _json("Triggers", _ref("ChaosTriggers")), "400": BAD},
                       body=_ref("ChaosTriggers")),
        },
        "/api/v1/openapi.json": {"get": _op("This document", {"200": _json("OpenAPI 3", {"type": "object"})})},
        "/api/events": {"get": _op("Websocket of live events (new, update, delete, truncate, prune, stats, "
                                   "session, faults)", {"101": {"description": "Switching to websocket"},
                                                       "400": _text("Not a websocket upgrade request")})},
    }


def document() -> JSON:
    """The OpenAPI 3 document."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "mailtrap-lite API", "version": __version__,
                 "description": "Mailpit's API v1, field for field, plus SMTP sessions, fault rules, links and "
                                "codes, and a long-poll wait."},
        "paths": _paths(),
        "components": {"schemas": SCHEMAS,
                       "securitySchemes": {"basic": {"type": "http", "scheme": "basic"}}},
    }


@api_docs.get("/api/v1/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3 document of every route."""
    return jsonify(document())
