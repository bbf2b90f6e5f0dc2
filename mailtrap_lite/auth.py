"""SMTP AUTH: accept any credentials, or check them against a ``user:password`` file."""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import AuthResult, LoginPassword

from mailtrap_lite.errors import ConfigError


def load_users(path: str | Path, flag: str = "--smtp-auth-file") -> dict[str, str]:
    """Read ``user:password`` lines (blank lines and ``#`` comments skipped). Raises ConfigError naming the line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(flag, f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    users: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user:
            raise ConfigError(flag, f"{path} line {number}: expected user:password")
        users[user] = password
    if not users:
        raise ConfigError(flag, f"{path} has no user:password lines")
    return users


class Authenticator:
    """aiosmtpd authenticator: ``users=None`` accepts anything; otherwise passwords must match."""

    def __init__(self, users: dict[str, str] | None) -> None:
        self.users = users

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        """Decide one AUTH attempt (constant-time comparison, so timing reveals nothing)."""
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        if self.users is None:
            return AuthResult(success=True, auth_data=auth_data)
        expected = self.users.get(login)
        supplied = auth_data.password.decode("utf-8", "replace")
        ok = expected is not None and hmac.compare_digest(expected.encode(), supplied.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
