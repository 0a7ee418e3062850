"""Pure login rules: when a run of refused logins locks a username at an address, delays the
username everywhere, or stops an address (R-SEC-06)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta


def retry_after(limit_th_latest: datetime | None, *, window: timedelta, now: datetime) -> int | None:
    """Seconds until a lock ends, or None when there is no lock.

    ``limit_th_latest`` is the time of the ``limit``-th most recent counted event inside the
    window (None when there are fewer): the lock holds until that event leaves the window,
    because from then on fewer than ``limit`` remain.
    """
    if limit_th_latest is None or limit_th_latest + window <= now:
        return None
    return max(1, math.ceil((limit_th_latest + window - now).total_seconds()))


def progressive_delay(
    failures: int, latest: datetime | None, *, free: int, cap_seconds: int, now: datetime
) -> int | None:
    """Seconds a username must wait before its next login attempt, or None.

    ``failures`` refused logins for the username in the window (from any address), the latest
    at ``latest``. The first ``free - 1`` cost nothing; from the ``free``-th on the next attempt
    waits 1 s, then 2 s, 4 s … doubling per failure, at most ``cap_seconds``, counted from the
    latest failure. The server never sleeps: the caller answers 429 with this Retry-After.
    """
    if latest is None or failures < free:
        return None
    delay = min(2 ** min(failures - free, 30), cap_seconds)
    remaining = math.ceil((latest + timedelta(seconds=delay) - now).total_seconds())
    return remaining if remaining > 0 else None
