"""Pure login rules (R-SEC-06): the lock's Retry-After and the progressive delay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from medcard.auth import rules

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("failures", "seconds_ago", "expected"),
    [
        (0, 0, None),  # nothing failed
        (4, 0, None),  # below the free count
        (5, 0, 1),  # the 5th failure: 1 s
        (6, 0, 2),
        (8, 0, 8),
        (11, 0, 60),  # 64 s capped at 60
        (40, 0, 60),
        (8, 3, 5),  # counted from the latest failure
        (8, 8, None),  # already waited
    ],
)
def test_r_sec_06_progressive_delay_doubles_from_the_free_count_up_to_the_cap(
    failures: int, seconds_ago: int, expected: int | None
) -> None:
    latest = NOW - timedelta(seconds=seconds_ago) if failures else None
    assert rules.progressive_delay(failures, latest, free=5, cap_seconds=60, now=NOW) == expected


def test_r_sec_06_retry_after_counts_until_the_limit_th_failure_leaves_the_window() -> None:
    window = timedelta(minutes=15)
    assert rules.retry_after(None, window=window, now=NOW) is None
    assert rules.retry_after(NOW - timedelta(minutes=10), window=window, now=NOW) == 300
    assert rules.retry_after(NOW - timedelta(minutes=15), window=window, now=NOW) is None
