"""The UI's own page cannot be turned against its user: a strict Content-Security-Policy (our origin only, no
inline script), markup with no inline script, style or event handler for that policy to have to allow, and
scripts that never hand message data to the HTML parser."""

from __future__ import annotations

import re
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

from mailtrap_lite import MailServer

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
HTML_SINKS = re.compile(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(")


class InlineCode(HTMLParser):
    """Collects inline scripts, inline styles and event-handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self._in_script = True
        if tag == "style":
            self.found.append("<style> element")
        self.found.extend(f"{name}= on <{tag}>" for name in names if name.startswith("on") or name == "style")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.found.append(f"inline script: {data.strip()[:40]}")


def fetch(server: MailServer, path: str) -> tuple[dict[str, str], str]:
    with urllib.request.urlopen(f"{server.http_url}{path}", timeout=10) as response:
        return dict(response.headers), response.read().decode("utf-8")


def test_the_page_forbids_inline_script_and_foreign_origins(server: MailServer) -> None:
    headers, _ = fetch(server, "/")
    policy = [part.strip() for part in headers["Content-Security-Policy"].split(";")]
    assert "default-src 'self'" in policy
    assert not any("unsafe-inline" in part or "unsafe-eval" in part or "*" in part for part in policy)


def test_static_files_carry_the_policy_too(server: MailServer) -> None:
    headers, body = fetch(server, "/ui/js/main.js")
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "javascript" in headers["Content-Type"]
    assert "connectEvents" in body


def test_the_page_has_no_inline_code(server: MailServer) -> None:
    _, html = fetch(server, "/")
    parser = InlineCode()
    parser.feed(html)
    assert parser.found == []
    assert '<script type="module" src="/ui/js/main.js">' in html


def test_scripts_never_parse_strings_as_html() -> None:
    offenders = [f"{path.name}: {match.group(0)}" for path in sorted(STATIC.rglob("*.js"))
                 for match in HTML_SINKS.finditer(path.read_text(encoding="utf-8"))]
    assert offenders == []
