"""Attachments of any type never run in the UI's origin.

Two ways captured bytes could: a page of our origin loads a part's URL as a script, module, worker or stylesheet
(the UI's own policy allows anything from ``'self'``, so only the part's type can stop that), or a user opens the
part's URL and the browser renders it as a document (HTML, SVG, XHTML, XML). Script and style parts are served
as ``text/plain`` (``nosniff`` makes browsers refuse to run them); every part, and the raw source, text and headers
views, carries ``Content-Security-Policy: sandbox``, so a document opened from them gets an opaque origin and runs
no script. Image previews in the UI keep working, SVG included (an ``<img>`` never runs script).
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from browser import UI, browser_fixture, expect, open_ui, png  # noqa: F401  (fixture)
from http_api import Api
from mailtools import send
from playwright.sync_api import Browser

from mailtrap_lite import MailServer

SCRIPT = (b"self.partRan = 'script'; if (typeof document === 'undefined') { postMessage('worker ran') } "
          b"else { document.title = 'script ran'; fetch('/api/v1/messages', {method: 'DELETE'}) }")
STYLE = b"body { background-color: rgb(1, 2, 3) !important; }"
HTML = b"<title>page</title><p id=shown>page shown</p><script>document.title = 'html ran'</script>"
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" onload="document.title = \'svg ran\'">'
       b'<script>document.title = "svg script ran"</script><rect width="16" height="16" fill="red"/></svg>')
XHTML = (b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>page</title></head><body><p>x</p>'
         b"<script>document.title = 'xhtml ran'</script></body></html>")
XML = (b'<?xml version="1.0"?><root><title xmlns="http://www.w3.org/1999/xhtml">page</title>'
       b"<script xmlns=\"http://www.w3.org/1999/xhtml\">document.title = 'xml ran'</script></root>")
PARTS = [  # filename, content type, bytes
    ("x.js", "text/javascript", SCRIPT),
    ("x.mjs", "application/javascript", SCRIPT),
    ("old.js", "application/x-javascript", SCRIPT),
    ("style.css", "text/css", STYLE),
    ("page.html", "text/html", HTML),
    ("pic.svg", "image/svg+xml", SVG),
    ("page.xhtml", "application/xhtml+xml", XHTML),
    ("data.xml", "text/xml", XML),
    ("logo.png", "image/png", png()),
]
SERVED_AS = {"text/javascript": "text/plain; charset=utf-8", "application/javascript": "text/plain; charset=utf-8",
             "application/x-javascript": "text/plain; charset=utf-8", "text/css": "text/plain; charset=utf-8",
             "text/html": "text/html; charset=utf-8", "image/svg+xml": "image/svg+xml; charset=utf-8",
             "application/xhtml+xml": "application/xhtml+xml; charset=utf-8", "text/xml": "text/xml; charset=utf-8",
             "image/png": "image/png"}


def attack_mail() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", "parts of every type"
    message.set_content("see the attachments")
    for filename, content_type, content in PARTS:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


@pytest.fixture
def server() -> Iterator[MailServer]:
    with MailServer(http_port=0) as running:
        send(running, attack_mail())
        yield running


def part_urls(server: MailServer) -> dict[str, str]:
    """Each attachment's URL by file name."""
    message = server.store.latest()
    assert message is not None
    return {p.filename: f"{server.http_url}/api/v1/message/{message.id}/part/{p.part_id}" for p in message.attachments}


def test_each_part_is_served_inert_and_sandboxed(server: MailServer) -> None:
    urls = part_urls(server)
    for filename, content_type, content in PARTS:
        answer = Api("").get(urls[filename])
        assert answer.status == 200 and answer.body == content, filename  # the bytes are the attachment's
        assert answer.headers["Content-Type"] == SERVED_AS[content_type], filename
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in answer.headers["Content-Security-Policy"].split("; "), filename
        download = Api("").get(urls[filename] + "?dl=1")
        assert download.headers["Content-Disposition"] == f'attachment; filename="{filename}"'


@pytest.mark.parametrize("view", ["raw", "headers", "txt"])
def test_raw_text_and_headers_are_sandboxed_text(server: MailServer, view: str) -> None:
    message = server.store.latest()
    assert message is not None
    path = f"/view/{message.id}.txt" if view == "txt" else f"/api/v1/message/{message.id}/{view}"
    answer = Api(server.http_url or "").get(path)
    assert answer.headers["Content-Type"] in ("text/plain; charset=utf-8", "application/json")
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


LOAD_AS_SUBRESOURCES = """async (urls) => {
  const settle = (element) => new Promise((resolve) => {
    element.onload = () => resolve("loaded");
    element.onerror = () => resolve("refused");
    document.head.append(element);
  });
  const classic = document.createElement("script");
  classic.src = urls["x.js"];
  const module = document.createElement("script");
  module.type = "module";
  module.src = urls["x.mjs"];
  const legacy = document.createElement("script");
  legacy.src = urls["old.js"];
  const style = document.createElement("link");
  style.rel = "stylesheet";
  style.href = urls["style.css"];
  const worker = new Promise((resolve) => {
    const running = new Worker(urls["x.js"]);
    running.onmessage = () => resolve("ran");
    running.onerror = () => resolve("refused");
  });
  return {
    classic: await settle(classic), module: await settle(module), legacy: await settle(legacy),
    style: await settle(style), worker: await worker,
    imported: await import(urls["x.mjs"]).then(() => "ran", () => "refused"),
    partRan: window.partRan || null, title: document.title,
    background: getComputedStyle(document.body).backgroundColor,
  };
}"""


def test_a_page_of_our_origin_cannot_load_a_part_as_script_or_style(browser: Browser, server: MailServer) -> None:
    ui = open_ui(browser, server)
    try:
        title = ui.page.title()
        outcome = ui.page.evaluate(LOAD_AS_SUBRESOURCES, part_urls(server))
    finally:
        ui.page.context.close()
    assert outcome == {"classic": "refused", "module": "refused", "legacy": "refused", "style": "refused",
                       "worker": "refused", "imported": "refused", "partRan": None, "title": title,
                       "background": outcome["background"]}
    assert outcome["background"] != "rgb(1, 2, 3)"
    assert len(server.store) == 1


@pytest.mark.parametrize("filename", ["x.js", "style.css", "page.html", "pic.svg", "page.xhtml", "data.xml"])
def test_opening_a_part_runs_nothing_in_the_ui_origin(browser: Browser, server: MailServer, filename: str) -> None:
    page = browser.new_page()
    try:
        page.goto(part_urls(server)[filename])
        facts = page.evaluate("""() => {
          let storage;
          try { storage = typeof localStorage.length } catch (error) { storage = "blocked" }
          return {origin: window.origin, storage, title: document.title, ran: window.partRan || null};
        }""")
        page.goto(f"{server.http_url}/livez")  # a round trip: anything the part started has run by now
    finally:
        page.close()
    assert facts["origin"] == "null" and facts["storage"] == "blocked"  # an opaque origin, not the UI's
    assert facts["ran"] is None and "ran" not in facts["title"]
    assert len(server.store) == 1


def test_image_previews_still_show_svg_included(browser: Browser, server: MailServer) -> None:
    ui = open_ui(browser, server)
    try:
        ui.open_message("parts of every type")
        ui.tab("Attachments")
        previews = ui.page.locator("img.attachment-preview")
        expect(previews).to_have_count(2)
        for index in range(2):
            preview = previews.nth(index)
            preview.scroll_into_view_if_needed()
            ui.page.wait_for_function("image => image.complete && image.naturalWidth > 0", arg=preview.element_handle())
        assert "ran" not in ui.page.title()
    finally:
        ui.page.context.close()
    assert len(server.store) == 1
