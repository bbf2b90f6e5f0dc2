"""A tiny real HTTP client for the API tests (urllib against the running server, no test client, no mocks)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote


@dataclass
class Answer:
    """One HTTP response: status, headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        """The body as UTF-8 text."""
        return self.body.decode("utf-8")

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class Api:
    """Requests against one server's base URL, optionally with Basic auth."""

    def __init__(self, base_url: str, user: str | None = None, password: str = "") -> None:
        self.base_url = base_url
        self.auth = None if user is None else "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def request(
        self, method: str, path: str, body: Any = None, raw: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Answer:
        """Send one request; ``body`` is sent as JSON, ``raw`` as given."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        sent = dict(headers or {})
        if body is not None:
            sent.setdefault("Content-Type", "application/json")
        if self.auth:
            sent.setdefault("Authorization", self.auth)
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Answer(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, dict(error.headers), error.read())

    def get(self, path: str, **kwargs: Any) -> Answer:
        """GET ``path``."""
        return self.request("GET", path, **kwargs)

    def json(self, path: str) -> Any:
        """GET ``path`` and return its JSON, insisting on 200."""
        answer = self.get(path)
        assert answer.status == 200, (answer.status, answer.text)
        return answer.json()

    def search(self, query: str, **params: Any) -> list[str]:
        """Subjects of the messages matching ``query``, newest first."""
        extra = "".join(f"&{key}={quote(str(value))}" for key, value in params.items())
        found = self.json(f"/api/v1/search?query={quote(query)}{extra}")
        return [m["Subject"] for m in found["messages"]]
