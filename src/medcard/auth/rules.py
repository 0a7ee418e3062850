"""Pure login rules: when a run of refused logins locks a username or an address (R-SEC-06)."""

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
