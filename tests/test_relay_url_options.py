"""The ``--relay`` URL's options (``insecure-auth``, ``tls-verify``, ``tls-ca``): what they set, and how a mistake in
them ends at start-up, in one line naming ``--relay``, without repeating the password."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mailtrap_lite import ConfigError, MailServer
from mailtrap_lite.relay import parse_relay_url
from mailtrap_lite.tls import self_signed


def test_by_default_tls_is_verified_and_credentials_need_tls() -> None:
    target = parse_relay_url("smtp://user:pass@mail.example.com:587")
    assert (target.insecure_auth, target.tls_verify, target.tls_ca) == (False, True, None)


def test_the_options_are_read_from_the_query(tmp_path: Path) -> None:
    ca = self_signed(tmp_path).ca_path
    target = parse_relay_url(f"smtp://user:pass@lab:2525?insecure-auth=1&tls-ca={ca}")
    assert (target.host, target.port, target.username, target.password) == ("lab", 2525, "user", "pass")
    assert (target.insecure_auth, target.tls_verify, target.tls_ca) == (True, True, ca)
    lab = parse_relay_url("smtps://lab?tls-verify=false")
    assert (lab.port, lab.insecure_auth, lab.tls_verify) == (465, False, False)


@pytest.mark.parametrize(
    ("query", "problem"),
    [("insecure_auth=1", "unknown option 'insecure_auth'; known: insecure-auth, tls-ca, tls-verify"),
     ("insecure-auth=maybe", "insecure-auth='maybe': expected 1 or 0"),
     ("tls-verify=0&tls-verify=1", "option 'tls-verify' given twice"),
     ("tls-verify=0&tls-ca=ca.pem", "tls-ca=FILE and tls-verify=0 contradict each other; give one of them")],
)
def test_a_bad_option_is_a_config_error_naming_the_flag(query: str, problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_relay_url(f"smtp://user:hunter2@mail.example.com:587?{query}")
    assert (error.value.flag, error.value.problem) == ("--relay", problem)


def test_a_ca_file_that_cannot_be_loaded_is_refused_at_start_up(tmp_path: Path) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate")
    for path in (garbage, tmp_path / "missing.pem"):
        with pytest.raises(ConfigError) as error:
            MailServer(relay=f"smtp://mail.example.com:587?tls-ca={path}").start()
        assert error.value.flag == "--relay"
        assert error.value.problem.startswith(f"tls-ca={path}: cannot load CA certificates (")


@pytest.mark.parametrize("url", ["http://user:hunter2@mail.example.com", "smtp://user:hunter2@mail.example.com:x"])
def test_errors_never_repeat_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_relay_url(url)
    assert "hunter2" not in str(error.value)
    assert "user:***@mail.example.com" in str(error.value)


def test_the_command_line_explains_a_bad_relay_option_in_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mailtrap_lite", "--smtp", "127.0.0.1:0", "--no-http",
         "--relay", "smtp://user:hunter2@mail.example.com:587?insecure-auth=sure"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "--relay" in line and "insecure-auth='sure': expected 1 or 0" in line
    assert "hunter2" not in result.stderr
