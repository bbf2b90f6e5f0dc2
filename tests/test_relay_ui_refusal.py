"""The UI's Release action, when the relay would get the password in cleartext: the dialog stays open and says
why and how to allow it, and the relay receives nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser import UI, Browser, browser_fixture, expect, open_ui  # noqa: F401  (fixtures)
from mailtools import make_message, send

from mailtrap_lite import MailServer

pytestmark = pytest.mark.browser


@pytest.fixture
def ui_and_relay(browser: Browser) -> Iterator[tuple[UI, MailServer]]:
    """The UI of a server configured with credentials for a relay that offers no STARTTLS."""
    with MailServer(smtp_auth="required", smtp_users={"user": "pass"}) as relay, MailServer(
        http_port=0, relay=f"smtp://user:pass@127.0.0.1:{relay.smtp_port}"
    ) as server:
        ui = open_ui(browser, server)
        yield ui, relay
        ui.page.context.close()


def test_release_to_a_relay_without_starttls_explains_the_refusal(ui_and_relay: tuple[UI, MailServer]) -> None:
    ui, relay = ui_and_relay
    send(ui.server, make_message(subject="Ship it"))
    ui.open_message("Ship it")
    ui.page.get_by_role("button", name="Release").click()
    dialog = ui.page.get_by_role("dialog", name="Release to the relay")
    dialog.get_by_role("button", name="Release").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        f"SMTP error: relay 127.0.0.1:{relay.smtp_port} offers no STARTTLS; refusing to send the password in "
        "cleartext (add ?insecure-auth=1 to --relay to allow it)")
    expect(dialog).to_be_visible()
    assert len(relay.store) == 0
