"""Probabilistic rules and Mailpit chaos: seeded, so the same seed replays the same outcomes on every run."""

from __future__ import annotations

import smtplib

import pytest

from mailtrap_lite import ConfigError, FaultError, MailServer


def mail_outcomes(server: MailServer, n: int = 40) -> list[int]:
    """``n`` MAIL FROM commands on one connection (RSET between): the reply code of each."""
    codes = []
    with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
        client.ehlo()
        for _ in range(n):
            codes.append(client.mail("alice@example.com")[0])
            client.rset()
    return codes


def run(seed: int | None, *rules: str, chaos: str | None = None) -> list[int]:
    with MailServer(seed=seed, faults=list(rules), chaos=chaos) as server:
        return mail_outcomes(server)


def test_a_seeded_probabilistic_rule_gives_the_same_outcomes_on_every_run() -> None:
    first = run(7, "mail:451:probability=0.5")
    assert run(7, "mail:451:probability=0.5") == first
    assert set(first) == {250, 451}
    assert run(8, "mail:451:probability=0.5") != first


def test_a_rule_replays_the_same_whatever_was_added_before_it() -> None:
    alone = run(7, "mail:451:probability=0.5")
    with MailServer(seed=7) as server:
        server.faults.fail_next(3, stage="data")
        server.faults.remove(server.faults.fail_next(1, stage="rcpt"))
        server.faults.add("mail:451:probability=0.5")
        assert mail_outcomes(server) == alone


def test_a_rule_can_carry_its_own_seed() -> None:
    assert run(1, "mail:451:probability=0.5:seed=3") == run(2, "mail:451:probability=0.5:seed=3")


def test_the_engine_keeps_a_drawn_seed_so_an_unseeded_run_can_be_replayed() -> None:
    with MailServer(faults=["mail:451:probability=0.5"]) as server:
        seed = server.fault_engine.seed
        first = mail_outcomes(server)
    assert run(seed, "mail:451:probability=0.5") == first


def test_times_caps_a_probabilistic_rule() -> None:
    assert run(7, "mail:451:probability=1:times=3").count(451) == 3


def test_chaos_triggers_map_onto_probabilistic_rules() -> None:
    with MailServer(chaos="Sender:452:100") as server:
        assert server.fault_engine.chaos_enabled
        assert server.fault_engine.chaos()["Sender"] == {"ErrorCode": 452, "Probability": 100}
        with smtplib.SMTP(server.smtp_host, server.smtp_port, timeout=10) as client:
            client.ehlo()
            assert client.mail("alice@example.com") == (452, b"4.3.1 Chaos sender error")
        assert server.faults.rules() == []  # chaos lives beside the rules; clear() leaves it alone
        server.fault_engine.set_chaos({})
        assert set(mail_outcomes(server, 5)) == {250}
        assert server.sessions.attempts()[0].fault == "chaos-sender"


def test_seeded_chaos_replays() -> None:
    first = run(5, chaos="Sender:451:50")
    assert run(5, chaos="Sender:451:50") == first
    assert set(first) == {250, 451}


def test_chaos_is_off_unless_configured() -> None:
    with MailServer() as server:
        assert not server.fault_engine.chaos_enabled
        assert all(t["Probability"] == 0 for t in server.fault_engine.chaos().values())


@pytest.mark.parametrize(
    ("triggers", "problem"),
    [
        ({"Sender": {"ErrorCode": 399, "Probability": 5}}, "error code must be between 400 and 599"),
        ({"Recipient": {"ErrorCode": 451, "Probability": 101}}, "probability must be between 0 and 100"),
        ({"Bogus": {"ErrorCode": 451, "Probability": 1}}, "unknown chaos trigger 'Bogus'"),
    ],
)
def test_set_chaos_validates_and_changes_nothing_on_error(triggers: dict, problem: str) -> None:
    with MailServer(chaos="Sender:451:10") as server:
        before = server.fault_engine.chaos()
        with pytest.raises(FaultError, match=problem):
            server.fault_engine.set_chaos({"Authentication": {"ErrorCode": 535, "Probability": 1}, **triggers})
        assert server.fault_engine.chaos() == before


def test_set_chaos_resets_triggers_left_out_and_takes_mailpit_defaults() -> None:
    with MailServer(chaos="Sender:451:10,Recipient:452:20") as server:
        new = server.fault_engine.set_chaos({"recipient": {"Probability": 5}})
    assert new == {
        "Sender": {"ErrorCode": 451, "Probability": 0},
        "Recipient": {"ErrorCode": 451, "Probability": 5},
        "Authentication": {"ErrorCode": 535, "Probability": 0},
    }


def test_bad_chaos_configuration_names_the_flag() -> None:
    with pytest.raises(ConfigError, match=r"^--chaos: trigger 'Sender:600:5': error code must be between 400"):
        MailServer(chaos="Sender:600:5")
