"""A one-shot fault that never fired fails the test at teardown: the test did not exercise what it set up."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

UNUSED_FAULT = '''
def test_sets_up_a_failure_but_sends_nothing(mailtrap):
    mailtrap.faults.fail_next(2, code=451)
'''

UNUSED_FAULT_IN_A_FAILING_TEST = '''
def test_fails_for_its_own_reason(mailtrap):
    mailtrap.faults.fail_next(1)
    assert 1 == 2
'''

ALWAYS_ON_RULE = '''
def test_a_rule_for_every_attempt_is_not_one_shot(mailtrap):
    mailtrap.faults.reject("nobody@example.com")
'''


def test_an_unused_one_shot_fault_errors_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_unused=UNUSED_FAULT)
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_sets_up_a_failure_but_sends_nothing*",
            "E * mailtrap: fault rule(s) added in this test never fired: f* (data:451:times=2). "
            "The test did not exercise the failure it set up.",
            "E * This test captured no messages.",
        ]
    )


def test_a_test_that_already_failed_is_not_buried_under_a_teardown_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_failing=UNUSED_FAULT_IN_A_FAILING_TEST)
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(failed=1)


def test_rules_that_apply_every_time_are_not_checked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_always=ALWAYS_ON_RULE)
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1)
