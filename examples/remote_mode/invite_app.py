"""A team-invite web service (standard library only) that mails each invitation over SMTP.

    SMTP_HOST=127.0.0.1 SMTP_PORT=1025 python invite_app.py --listen 127.0.0.1:8000
    curl -X POST -d '{"email": "bob@example.com", "team": "Ops"}' http://127.0.0.1:8000/invite

``POST /invite`` answers 202 once the mail is accepted, 400 for a bad request, and 503 when the mail server
refuses or cannot be reached (the caller may try again). It prints its address once it listens.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import smtplib
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SENDER = "invites@example.com"


def invitation(email: str, team: str) -> EmailMessage:
    """The invitation mail, with a one-time join link."""
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = email
    message["Subject"] = f"You are invited to {team}"
    message.set_content(f"Join {team}: https://teams.example.com/join/{secrets.token_urlsafe(16)}\n")
    return message


class InviteHandler(BaseHTTPRequestHandler):
    """``POST /invite`` with a JSON body ``{"email": ..., "team": ...}``."""

    def do_POST(self) -> None:
        """Validate the request and mail the invitation."""
        if self.path != "/invite":
            self._answer(404, "not found")
            return
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            email, team = str(body["email"]), str(body["team"])
        except (ValueError, KeyError, TypeError):
            self._answer(400, 'expected a JSON body like {"email": "bob@example.com", "team": "Ops"}')
            return
        if "@" not in email:
            self._answer(400, f"email: {email!r} is not an address")
            return
        host, port = os.environ.get("SMTP_HOST", "127.0.0.1"), int(os.environ.get("SMTP_PORT", "1025"))
        try:
            with smtplib.SMTP(host, port, timeout=30) as client:
                client.send_message(invitation(email, team))
        except (smtplib.SMTPException, OSError) as error:
            self._answer(503, f"could not send the invitation: {error}")
            return
        self._answer(202, f"invited {email}")

    def _answer(self, status: int, text: str) -> None:
        data = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Keep stdout for the address line; requests are not logged."""


def main() -> None:
    """Serve until killed."""
    parser = argparse.ArgumentParser(description="team-invite web service")
    parser.add_argument("--listen", default="127.0.0.1:8000", metavar="HOST:PORT", help="port 0 picks a free one")
    host, _, port = parser.parse_args().listen.rpartition(":")
    server = ThreadingHTTPServer((host, int(port)), InviteHandler)
    print(f"invite_app: listening on http://{host}:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
