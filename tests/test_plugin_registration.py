"""Installing the package is enough: pytest finds the plugin through its ``pytest11`` entry point."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

pytest_plugins = ["pytester"]


def test_the_pytest11_entry_point_names_the_plugin() -> None:
    plugins = {entry.name: entry.value for entry in entry_points(group="pytest11")}
    assert plugins["mailtrap"] == "mailtrap_lite.pytest_plugin"


def test_a_new_project_gets_the_fixtures_options_and_marker(pytester: pytest.Pytester) -> None:
    fixtures = pytester.runpytest_inprocess("--fixtures")
    fixtures.stdout.fnmatch_lines(
        ["mailtrap -- *", "mailtrap_tls [[]session scope[]]*", "mailtrap_server [[]session scope[]]*"]
    )
    usage = pytester.runpytest_inprocess("--help")
    usage.stdout.fnmatch_lines(["*--mailtrap-url=MAILTRAP_URL*", "*mailtrap_smtp_port (string):*"])
    markers = pytester.runpytest_inprocess("--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.mailtrap(faults=[[]...[]], fresh_server=False, timeout=None):*"])
