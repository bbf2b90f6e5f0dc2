"""One message: its JSON view, headers, raw source, parts, and the rendered HTML and text views.

Every ``{ID}`` here also accepts ``latest`` (optionally ``?query=`` to pick the newest match). As in Mailpit, the
message view and the ``/view`` pages mark the message read; headers, raw and parts do not.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, redirect, request
from werkzeug.wrappers import Response as WerkzeugResponse

from mailtrap_lite.message import Message
from mailtrap_lite.web.errors import not_found
from mailtrap_lite.web.large_responses import built_within_budget
from mailtrap_lite.web.lookup import LATEST, find_message, mail_server, wants_download
from mailtrap_lite.web.serialize import headers, message_detail

api_message = Blueprint("api_message", __name__)

_CID_RE = re.compile(r"""(["'(=]\s*)cid:([^"')\s>]+)""", re.IGNORECASE)
_PATH_SEPARATORS = re.compile(r"[\\/]")
_NOT_PLAIN_ASCII = re.compile(r"[^A-Za-z0-9 ._()\-+,=@\[\]{}!#$&'~^`]")
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")  # RFC 6838 names only

# Captured HTML is hostile: no scripts, no plugins, no forms, a unique origin (sandbox), framed only by our UI.
_VIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline' {images}; img-src {images}; font-src {images}; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox allow-popups "
    "allow-popups-to-escape-sandbox"
)


# A part opened on its own (an .html or .svg attachment) must not run script in our origin either; PDFs are left
# out because browsers refuse to show a PDF in a sandboxed document (and a PDF cannot script the page).
_PART_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; media-src 'self'; sandbox"
# Raw source, text and headers are served as text, and no browser makes a document of them; sandboxed all the same.
_CAPTURED_TEXT_POLICY = "default-src 'none'; sandbox"

# Types that a page of our origin would run or apply if it loaded the part's URL (<script src>, a worker, an import,
# <link rel=stylesheet>), whatever Content-Security-Policy the part itself carries: the HTML standard's JavaScript
# MIME types, CSS and WebAssembly. Such parts are served as plain text, which nosniff keeps browsers from running.
_ACTIVE_TYPES = frozenset({
    "application/ecmascript", "application/javascript", "application/x-ecmascript", "application/x-javascript",
    "text/ecmascript", "text/javascript", "text/javascript1.0", "text/javascript1.1", "text/javascript1.2",
    "text/javascript1.3", "text/javascript1.4", "text/javascript1.5", "text/jscript", "text/livescript",
    "text/x-ecmascript", "text/x-javascript", "text/css", "application/wasm",
})
_INERT_TEXT = "text/plain; charset=utf-8"


def _read(message: Message) -> Message:
    mail_server().store.set_read([message.id], True)
    return message


@api_message.get("/api/v1/message/<message_id>")
def message(message_id: str) -> Response:
    """The full message (marks it read)."""
    found = _read(find_message(message_id))

    def detail() -> Response:
        return jsonify(message_detail(found, mail_server().store))

    return built_within_budget(len(found.text) + len(found.html), detail)


@api_message.get("/api/v1/message/<message_id>/headers")
def message_headers(message_id: str) -> Response:
    """Every header, keyed by its canonical name."""
    response = jsonify(headers(find_message(message_id)))
    response.headers["Content-Security-Policy"] = _CAPTURED_TEXT_POLICY
    return response


@api_message.get("/api/v1/message/<message_id>/raw")
def message_raw(message_id: str) -> Response:
    """The message exactly as received (``?dl=1`` downloads it as ``{ID}.eml``)."""
    found = find_message(message_id)
    response = _captured_text(Response(found.raw))
    if wants_download():
        response.headers["Content-Disposition"] = f'attachment; filename="{found.id}.eml"'
    return response


@api_message.get("/api/v1/message/<message_id>/part/<part_id>")
def message_part(message_id: str, part_id: str) -> Response:
    """One attachment or inline part's decoded bytes, with its own content type unless that type could run in our
    origin (script and style are served as plain text). Documents (HTML, SVG, XML) open in a sandbox."""
    found = find_message(message_id)
    part = found.part(part_id)
    if part is None:
        raise not_found()
    response = Response(part.content, mimetype=part_mimetype(part.content_type))
    disposition = "attachment" if wants_download() else "inline"
    response.headers["Content-Disposition"] = download_disposition(disposition, part.filename or part.part_id)
    if part.content_type != "application/pdf":
        response.headers["Content-Security-Policy"] = _PART_POLICY
    return response


def part_mimetype(declared: str) -> str:
    """The media type a part is served with: its own, except script and style types (plain text, so they cannot
    run) and types that are not well-formed (a hostile one would break the header: plain bytes)."""
    if declared in _ACTIVE_TYPES:
        return "text/plain"
    return declared if _MIME_TYPE.fullmatch(declared) else "application/octet-stream"


def _captured_text(response: Response) -> Response:
    """Captured content served as UTF-8 plain text in a sandbox."""
    response.headers["Content-Type"] = _INERT_TEXT
    response.headers["Content-Security-Policy"] = _CAPTURED_TEXT_POLICY
    return response


def download_disposition(kind: str, filename: str) -> str:
    """A ``Content-Disposition`` that a hostile file name cannot abuse: only its last path segment, control
    characters dropped, a plain-ASCII ``filename`` and, when that had to change the name, the exact name in
    RFC 6266 ``filename*``."""
    name = "".join(ch for ch in _PATH_SEPARATORS.split(filename)[-1] if ch.isprintable()).strip()
    if name.strip(".") == "":
        name = "attachment"
    fallback = _NOT_PLAIN_ASCII.sub("_", name)
    if fallback == name:
        return f'{kind}; filename="{name}"'
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _inline_html(found: Message) -> str:
    """The HTML body with ``cid:`` references pointing at the part URLs."""
    parts = {p.content_id.lower(): p.part_id for p in (*found.inline, *found.attachments) if p.content_id}

    def replace(match: re.Match[str]) -> str:
        part_id = parts.get(match.group(2).lower())
        if part_id is None:
            return match.group(0)
        return f"{match.group(1)}/api/v1/message/{found.id}/part/{quote(part_id)}"

    return _CID_RE.sub(replace, found.html)


@api_message.get("/view/latest")
def view_latest() -> WerkzeugResponse:
    """Redirect to the UI page of the newest message (matching ``?query=`` when given), as Mailpit does."""
    found = find_message(LATEST)
    return redirect(f"/#/message/{found.id}", code=302)


@api_message.get("/view/<message_id>.html")
def view_html(message_id: str) -> Response:
    """The HTML body, rendered safely: no script runs and remote images load only with ``?remote=1``."""
    found = _read(find_message(message_id))
    if not found.html:
        raise not_found("This message does not contain a HTML part")
    response = built_within_budget(len(found.html), lambda: Response(_inline_html(found), mimetype="text/html"))
    images = "'self' data: http: https:" if request.args.get("remote") in ("1", "true") else "'self' data:"
    response.headers["Content-Security-Policy"] = _VIEW_POLICY.format(images=images)
    return response


@api_message.get("/view/<message_id>.txt")
def view_text(message_id: str) -> Response:
    """The text body."""
    found = _read(find_message(message_id))
    return _captured_text(built_within_budget(len(found.text), lambda: Response(found.text)))
