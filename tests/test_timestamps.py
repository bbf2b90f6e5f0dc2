"""Times in the API are written as Mailpit writes them (Go's RFC3339Nano), so clients that parse them keep working."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from mailtrap_lite.timestamps import format_timestamp, local_time, parse_timestamp, share_zone

PARIS_SUMMER = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("moment", "written"),
    [
        (datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc), "2024-05-01T12:00:00Z"),
        (datetime(2024, 5, 1, 12, 0, 0, 120000, tzinfo=timezone.utc), "2024-05-01T12:00:00.12Z"),
        (datetime(2024, 5, 1, 12, 0, 0, 1, tzinfo=PARIS_SUMMER), "2024-05-01T12:00:00.000001+02:00"),
        (datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
         "2024-12-31T23:59:59.999999-05:00"),
    ],
)
def test_times_are_written_like_go_rfc3339nano(moment: datetime, written: str) -> None:
    assert format_timestamp(moment) == written
    assert parse_timestamp(written) == moment


def test_a_time_without_a_zone_is_written_in_the_local_zone() -> None:
    naive = datetime(2024, 5, 1, 12, 0, 0, 500000)
    written = format_timestamp(naive)
    assert written is not None and written.startswith("2024-05-01T12:00:00.5")
    assert parse_timestamp(written) == naive.astimezone()


@pytest.fixture
def berlin_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process runs in Europe/Berlin (with its summer time) for one test."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("written", ["2024-01-15T12:00:00Z", "2024-07-15T12:00:00Z", "2024-03-31T00:59:59.5Z",
                                     "2024-03-31T01:00:00Z", "2024-10-27T00:59:59Z", "2024-10-27T01:00:00.25Z"])
def test_server_stamps_are_local_time_on_either_side_of_a_daylight_saving_change(
    berlin_zone: None, written: str
) -> None:
    epoch = parse_timestamp(written).timestamp()
    stamped = local_time(epoch)
    expected = datetime.fromtimestamp(epoch).astimezone()
    assert stamped == expected and stamped.utcoffset() == expected.utcoffset()
    assert stamped.tzname() == expected.tzname() in ("CET", "CEST")
    assert stamped.tzinfo is share_zone(expected).tzinfo  # one zone object per offset, however it was made
