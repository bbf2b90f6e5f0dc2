"""``--fault``, ``--chaos`` and ``--seed`` on the command line behave as their Python equivalents; a bad one is one
line on stderr naming the flag and the rule, exit status 2."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fault_clients import Outcome, try_send
from test_cli import RunningCli

from mailtrap_lite import MailServer

SCRIPT = str(Path(sys.executable).with_name("mailtrap-lite"))


@contextmanager
def cli_server(*args: str) -> Iterator[tuple[str, int]]:
    """``mailtrap-lite --smtp 127.0.0.1:0 --no-http ARGS`` in a subprocess; yields the SMTP host and port it printed."""
    running = RunningCli("--smtp", "127.0.0.1:0", "--no-http", *args, http=False)
    try:
        host, port = running.address("SMTP on").rsplit(":", 1)
        yield host, int(port)
    finally:
        code, _, err = running.stop()
        assert code == 0, err


def cli_outcomes(*args: str, n: int, **send: str) -> list[Outcome]:
    with cli_server(*args) as (host, port):
        return [try_send(host, port, **send) for _ in range(n)]


def python_outcomes(faults: list[str], n: int, seed: int | None = None, **send: str) -> list[Outcome]:
    with MailServer(faults=faults, seed=seed) as server:
        return [try_send(server.smtp_host, server.smtp_port, **send) for _ in range(n)]


def test_fault_flag_behaves_as_fail_next() -> None:
    assert cli_outcomes("--fault", "data:451:times=2", n=3) == [451, 451, 250]
    with MailServer() as server:
        server.faults.fail_next(2, code=451)
        assert [try_send(server.smtp_host, server.smtp_port) for _ in range(3)] == [451, 451, 250]


@pytest.mark.parametrize(
    ("rules", "send"),
    [
        (["rcpt:to=*@bounce.test:550:times=0"], {"to": "x@bounce.test"}),
        (["mail:from=/^bot[0-9]+@/:421:times=0", "data:sequence=451,250,452"], {"sender": "bot1@example.com"}),
        (["mail:from=/^bot[0-9]+@/:421:times=0", "data:sequence=451,250,452"], {"sender": "human@example.com"}),
        (["rcpt:greylist=60"], {}),
        (["data_end:disconnect:times=2"], {}),
    ],
)
def test_repeatable_fault_flags_match_the_python_rules(rules: list[str], send: dict[str, str]) -> None:
    args = [arg for rule in rules for arg in ("--fault", rule)]
    assert cli_outcomes(*args, n=4, **send) == python_outcomes(rules, 4, **send)


def test_seed_replays_probabilistic_rules_as_in_python() -> None:
    rule = "mail:451:probability=0.5"
    from_cli = cli_outcomes("--seed", "11", "--fault", rule, n=12)
    assert from_cli == python_outcomes([rule], 12, seed=11)
    assert set(from_cli) == {250, 451}


def test_chaos_flag() -> None:
    assert cli_outcomes("--chaos", "Recipient:452:100", n=2) == [452, 452]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCRIPT, "--smtp", "127.0.0.1:0", "--no-http", *args],
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize(
    ("flags", "line"),
    [
        (["--fault", "data:999"], "--fault: rule 'data:999': code 999 is outside 400-599"),
        (["--fault", "data:451:times=-1"], "--fault: rule 'data:451:times=-1': times must be a whole number 0 or more"),
        (["--fault", "rcpt:to=/([/:550"], "--fault: rule 'rcpt:to=/([/:550': invalid regex /([/"),
        (["--fault", "data:451", "--fault", "dta:451"], "--fault: rule 'dta:451': unknown stage 'dta'"),
        (["--fault", "data"], "--fault: rule 'data': no action"),
        (["--chaos", "Sender:451:500"], "--chaos: trigger 'Sender:451:500': probability must be between 0 and 100"),
    ],
)
def test_a_bad_rule_is_one_line_naming_the_flag_and_exit_2(flags: list[str], line: str) -> None:
    result = run_cli(*flags)
    assert result.returncode == 2, result
    assert result.stderr.startswith(f"mailtrap-lite: error: {line}")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stdout == ""
