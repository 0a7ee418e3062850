"""The sealer during a database outage (R-SEC-08 keeps the chain; the outage must not flood the
log): exponential, capped back-off, and one log line when it goes down and one when it recovers."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from medcard.audit import sealer


def test_r_sec_08_back_off_doubles_and_is_capped() -> None:
    """R-SEC-08: interval while it works; doubled per failed round; never past the cap."""
    delays = [sealer.next_delay(failures, interval=1.0, cap=10.0) for failures in range(7)]
    assert delays == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    assert sealer.next_delay(500, interval=1.0, cap=60.0) == 60.0


async def test_r_sec_08_sealer_backs_off_and_logs_once_per_state_change(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """R-SEC-08: six failed rounds (database refused) then recovery: the sleeps back off 2, 4,
    8, 10, 10, 10 s and return to 1 s; one 'down' line naming the cause without a traceback,
    one 'recovered' line; nothing per round."""
    outcomes: list[int | None] = [None] * 6 + [0, 0, 0]

    async def seal_pending(_sessions: Any) -> int:
        outcome = outcomes.pop(0)
        if outcome is None:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "Connection refused"))
        return outcome

    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if not outcomes:
            raise asyncio.CancelledError

    monkeypatch.setattr(sealer, "seal_pending", seal_pending)
    caplog.set_level(logging.INFO)
    with pytest.raises(asyncio.CancelledError):
        await sealer.run(None, interval=1.0, cap=10.0, sleep=sleep)  # type: ignore[arg-type]
    assert sleeps == [2.0, 4.0, 8.0, 10.0, 10.0, 10.0, 1.0, 1.0, 1.0]
    text = caplog.text
    assert text.count("audit_sealer_down") == 1 and "ConnectionRefusedError" in text
    assert text.count("audit_sealer_recovered") == 1
    assert "Traceback" not in text and "SELECT 1" not in text
