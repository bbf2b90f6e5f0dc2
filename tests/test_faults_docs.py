"""The fault injection docs are executed: every Python example runs, every preset row equals its ``--fault``
string, every CLI rule parses, and the JSON and error examples are what the code produces."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from mailtrap_lite import ConfigError, FaultEngine, Faults, MailServer, parse_rule, rule_from_dict

DOC = (Path(__file__).parent.parent / "docs" / "faults.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC, re.DOTALL)


@pytest.mark.parametrize("code", blocks("python"))
def test_python_examples_run(code: str) -> None:
    exec(compile(code, "docs/faults.md", "exec"), {})


PRESET_ROWS = re.findall(r"^\| `((?:fail_next|sequence|reject|greylist|rate_limit|delay|hang|disconnect|"
                         r"refuse_connections|auth_fail|too_large)\(.*?\))` \| .*? \| `([^`]+)` \|$", DOC, re.M)


def test_every_preset_is_in_the_table() -> None:
    assert len(PRESET_ROWS) == 12


@pytest.mark.parametrize(("call", "text"), PRESET_ROWS)
def test_each_preset_row_equals_its_fault_string(call: str, text: str) -> None:
    rule = eval(f"faults.{call}", {"faults": Faults(FaultEngine())})
    assert rule == parse_rule(text + f":id={rule.id}")


def test_every_cli_example_parses() -> None:
    rules = []
    for line in blocks("sh")[0].splitlines():
        words = shlex.split(line)
        rules += [words[i + 1] for i, word in enumerate(words) if word == "--fault"]
        rules += [r for w in words if w.startswith("MAILTRAP_LITE_FAULT=") for r in w.split("=", 1)[1].split(";")]
    assert len(rules) == 10
    for text in rules:
        assert parse_rule(text).to_text() == parse_rule(parse_rule(text).to_text()).to_text()


def test_the_json_example_is_the_json_form() -> None:
    shown = json.loads(blocks("json")[0])
    rule = FaultEngine().add("data:451:times=2")
    assert rule.to_dict() == shown
    assert rule_from_dict(shown) == rule


def test_the_error_examples_are_what_the_cli_prints() -> None:
    for command, printed in re.findall(r"^\$ mailtrap-lite --fault (.+)\n(.+)$", blocks("text")[0], re.M):
        with pytest.raises(ConfigError) as error:
            MailServer(faults=[shlex.split(command)[0]])
        assert printed == f"mailtrap-lite: error: {error.value}"
