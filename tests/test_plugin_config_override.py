"""``mailtrap_config`` is overridable in a conftest and can build on the plugin's own settings."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_mailtrap_config_can_build_on_the_plugins_own(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def mailtrap_config(mailtrap_config):
            return {**mailtrap_config, "http_port": 0, "max_message_size": 1000}
        """
    )
    pytester.makepyfile(
        """
        import smtplib
        import urllib.request

        import pytest

        def test_web_ui_on_and_a_small_size_limit(mailtrap):
            assert urllib.request.urlopen(mailtrap.http_url + "/livez").status == 200
            with smtplib.SMTP(mailtrap.host, mailtrap.port, timeout=10) as smtp:
                with pytest.raises(smtplib.SMTPException):
                    smtp.sendmail("a@example.com", ["b@example.com"], "Subject: big\\r\\n\\r\\n" + "x" * 2000)
            mailtrap.assert_not_sent()
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1)
