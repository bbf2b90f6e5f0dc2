"""One fault model, three spellings: Python presets, the ``--fault`` string and the JSON dict all round-trip,
and bad input is one clear error naming the rule and the problem."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from mailtrap_lite import FaultEngine, FaultError, Faults, Rule, parse_rule, rule_from_dict
from mailtrap_lite.faults import Action, parse_chaos


def test_the_spec_examples_parse() -> None:
    bounce = parse_rule("rcpt:to=*@bounce.test:550:times=0")
    assert (bounce.stage, bounce.recipient, bounce.action.code, bounce.times) == ("rcpt", "*@bounce.test", 550, 0)
    assert bounce.action.line == "550 5.1.1 Mailbox unavailable"
    twice = parse_rule("data:451:times=2")
    assert (twice.stage, twice.times) == ("data", 2)
    assert twice.action.line == "451 4.3.0 Temporary local problem, try again later"
    assert parse_rule("data:delay=5").action == Action("delay", seconds=5.0)
    assert parse_rule("data:disconnect").action == Action("disconnect")
    random_421 = parse_rule("mail:421:probability=0.2")
    assert (random_421.probability, random_421.times) == (0.2, 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail:from=/^a:b@/:451 4.7.1 Try later:after=1",
         {"sender": "/^a:b@/", "code": 451, "enhanced": "4.7.1", "text": "Try later", "after": 1}),
        ('data:451:text="Busy: try later"', {"text": "Busy: try later"}),
        ("data:code=452:enhanced=4.3.1", {"code": 452, "enhanced": "4.3.1"}),
        ("rcpt:to=*@x.test:greylist=30", {"kind": "greylist", "window": 30.0, "code": 451, "enhanced": "4.7.1"}),
        ("mail:rate_limit=5", {"kind": "rate_limit", "per_second": 5, "code": 421, "enhanced": "4.7.0"}),
        ("data:sequence=451,451,250", {"kind": "sequence", "sequence": [451, 451, 250], "times": 0}),
        ("mail:451:probability=20%:seed=3", {"probability": 0.2, "seed": 3}),
        ("ehlo:hang:times=0:id=stuck", {"action": "hang", "times": 0, "id": "stuck"}),
        ("DATA_END:552", {"stage": "data_end", "code": 552, "enhanced": "5.3.4"}),
    ],
)
def test_the_string_syntax(text: str, expected: dict[str, object]) -> None:
    data = parse_rule(text).to_dict()
    assert {key: data[key] for key in expected} == expected


PRESETS: list[Callable[[Faults], Rule]] = [
    lambda f: f.fail_next(2, code=451),
    lambda f: f.fail_next(1, code=554, stage="mail", sender="*@spam.test"),
    lambda f: f.sequence([451, 452, 250]),
    lambda f: f.reject("/^bounce-.*@/", code=553),
    lambda f: f.greylist(1.5),
    lambda f: f.rate_limit(3),
    lambda f: f.rate_limit(3, code=451),
    lambda f: f.delay(0.25, stage="rcpt"),
    lambda f: f.hang(),
    lambda f: f.disconnect(),
    lambda f: f.refuse_connections(),
    lambda f: f.auth_fail(),
    lambda f: f.too_large(),
    lambda f: f.add("mail:from='odd: name@x':451"),
]


@pytest.mark.parametrize("preset", PRESETS)
def test_every_preset_round_trips_through_the_string_and_the_json(preset: Callable[[Faults], Rule]) -> None:
    rule = preset(Faults(FaultEngine()))
    assert rule.id
    wire = json.loads(json.dumps(rule.to_dict()))
    assert rule_from_dict(wire) == rule
    assert parse_rule(rule.to_text()) == rule
    assert rule_from_dict({"rule": wire["rule"], "id": rule.id}) == rule


def test_the_default_replies_carry_enhanced_status_codes() -> None:
    faults = Faults(FaultEngine())
    assert faults.greylist(1).action.line == "451 4.7.1 Greylisted, please try again in 1 seconds"
    assert faults.rate_limit(1).action.line.startswith("421 4.7.0 ")
    assert faults.auth_fail().action.line == "535 5.7.8 Authentication credentials invalid"
    assert faults.too_large().action.line.startswith("552 5.3.4 ")
    assert faults.fail_next().action.line.startswith("451 4.3.0 ")


def test_state_travels_only_when_asked() -> None:
    engine = FaultEngine()
    rule = engine.add("data:451:times=2")
    rule.fired = rule.matched = 1
    assert rule_from_dict(rule.to_dict()).fired == 0
    assert rule_from_dict(rule.to_dict(), state=True).fired == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("data", "no action"),
        ("bogus:451", "unknown stage 'bogus'"),
        ("data:399", "code 399 is outside 400-599"),
        ("data:600", "code 600 is outside 400-599"),
        ("data:451:times=-1", "times must be a whole number 0 or more, got -1"),
        ("data:451:after=two", "after must be a whole number, got 'two'"),
        ("rcpt:to=/(unclosed/:550", "invalid regex /(unclosed/"),
        ("data:451:probability=1.5", "probability must be between 0 and 1"),
        ("data:451:hang", "two actions"),
        ("data:451:times=1:times=2", "times given twice"),
        ("data:451:wat=1", "unknown option wat="),
        ("data:teapot", "unknown part 'teapot'"),
        ("data:451 5.1.1 mismatched", "enhanced status 5.1.1 does not match code 451"),
        ("mail:to=x@y:451", "a recipient pattern never matches at the mail stage"),
        ("connect:from=x@y:421", "a sender pattern never matches at the connect stage"),
        ("data:delay=0", "delay must be a number of seconds above 0"),
        ("data:greylist=5", "greylist works per sender/recipient pair, at the rcpt stage"),
        ("data:sequence=451,300", "sequence code 300 must be 2xx"),
        ("data:sequence=451:times=2", "takes no times="),
        ("mail:rate_limit=0", "rate_limit must be a whole number of attempts per second, 1 or more"),
        ('data:451:text="unclosed', 'unclosed "'),
        ("data:451::times=1", "empty part"),
        ("data:451:id=has space", "id 'has space' must be 1-64 letters"),
    ],
)
def test_bad_rule_strings_name_the_rule_and_the_problem(text: str, problem: str) -> None:
    with pytest.raises(FaultError) as error:
        parse_rule(text)
    assert error.value.rule == text
    assert problem in error.value.problem
    assert str(error.value) == f"fault rule {text!r}: {error.value.problem}"
    assert "\n" not in str(error.value)
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"action": "reply", "code": 451}, "'stage' is required"),
        ({"stage": "data", "code": 700}, "code 700 is outside 400-599"),
        ({"stage": "data", "code": "451"}, "'code' must be a whole number"),
        ({"stage": "data", "code": 451, "times": -2}, "times must be a whole number 0 or more"),
        ({"stage": "data", "code": 451, "colour": "red"}, "unknown key 'colour'"),
        ({"stage": "data", "action": "explode"}, "unknown action 'explode'"),
        ({"stage": "data", "action": "hang", "code": 451}, "'code' applies only to the reply action"),
        ({"stage": "rcpt", "code": 550, "recipient": "/[/"}, "invalid regex"),
        ({"rule": "data:999"}, "code 999 is outside 400-599"),
    ],
)
def test_bad_json_rules_are_rejected_with_the_problem(data: dict[str, object], problem: str) -> None:
    with pytest.raises(FaultError, match=r"^fault rule ") as error:
        rule_from_dict(data)
    assert problem in error.value.problem


def test_adding_several_rules_is_all_or_nothing() -> None:
    engine = FaultEngine()
    engine.add("data:451:id=taken")
    with pytest.raises(FaultError, match="already in use"):
        engine.add_all(["mail:421", "rcpt:550:id=taken"])
    with pytest.raises(FaultError, match="code 999"):
        engine.add_all(["mail:421", "rcpt:999"])
    assert [r.id for r in engine.rules()] == ["taken"]


def test_rule_changes_are_announced_as_faults_events() -> None:
    engine = FaultEngine()
    seen: list[list[str]] = []
    engine.bus.subscribe(lambda event: seen.append([r.id for r in event.data]) if event.type == "faults" else None)
    rule = engine.add("data:451")
    engine.remove(rule.id)
    assert seen == [[rule.id], []]


def test_chaos_strings_parse_like_mailpit() -> None:
    assert parse_chaos("Sender:451:50,recipients:452:10,AUTH:535:1") == {
        "Sender": {"ErrorCode": 451, "Probability": 50},
        "Recipient": {"ErrorCode": 452, "Probability": 10},
        "Authentication": {"ErrorCode": 535, "Probability": 1},
    }
    for bad, problem in [("Sender:451:5.5", "expected TRIGGER:CODE:PERCENT"), ("Size:451:5", "unknown trigger"),
                         ("Sender:700:5", "error code must be between 400 and 599"),
                         ("Sender:451:200", "probability must be between 0 and 100")]:
        with pytest.raises(FaultError, match=problem):
            parse_chaos(bad)


def test_a_stateful_kind_keeps_its_text_with_another_code() -> None:
    faults = Faults(FaultEngine())
    limit = faults.rate_limit(2, code=451)
    assert limit.action.line == "451 4.7.1 Rate limit exceeded: more than 2 per second, slow down"
    assert parse_rule("rcpt:greylist=5:450").action.line == "450 4.0.0 Greylisted, please try again in 5 seconds"
