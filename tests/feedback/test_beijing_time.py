"""Beijing time wherever a person reads a time (issue 9): the audit log, the sandbox SMS inbox and
the bound devices show UTC+8 and say once that their times are Beijing time."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from medcard.adapters import Adapters
from medcard.kit.clock import clock
from medcard.web.render import beijing, grouped
from tests.factories import Demo, bearer, patient_token, staff_token

# 16:30 UTC on 30 November is 00:30 on 1 December in Beijing: the date moves too.
UTC_EVENING = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
BEIJING = "2026-12-01 00:30"
NOTE = "时间均为北京时间"


def test_beijing_time_reads_utc_and_naive_utc_the_same() -> None:
    assert beijing(UTC_EVENING) == BEIJING
    assert beijing(UTC_EVENING.replace(tzinfo=None)) == BEIJING  # SQLite hands back naive UTC
    assert beijing(UTC_EVENING.isoformat(), "%H:%M:%S") == "00:30:00"
    assert beijing(None) == ""


def test_numbers_are_grouped_for_reading() -> None:
    assert grouped("13912345678") == "139 1234 5678"
    assert grouped("139****5678") == "139 **** 5678"
    assert grouped("1101011234567890") == "1101 0112 3456 7890"


async def test_the_console_audit_log_is_in_beijing_time(client: httpx.AsyncClient, demo: Demo) -> None:
    clock.freeze(UTC_EVENING)
    reviewer = bearer(await staff_token(client, "reviewer1"))  # its login is an audit row
    log = await client.get("/console/audit", headers=reviewer)
    assert f"{BEIJING}:00" in log.text and "2026-11-30 16:30" not in log.text
    assert log.text.count(NOTE) == 1


async def test_devices_are_in_beijing_time(client: httpx.AsyncClient, adapters: Adapters, demo: Demo) -> None:
    clock.freeze(UTC_EVENING)
    patient = bearer(await patient_token(client, adapters))
    security = await client.get("/security", headers=patient)
    if 'class="device"' in security.text:
        assert BEIJING in security.text and "(UTC)" not in security.text
    assert security.text.count(NOTE) == 1


async def test_the_sms_inbox_is_in_beijing_time(client: httpx.AsyncClient, adapters: Adapters, demo: Demo) -> None:
    clock.freeze(UTC_EVENING)
    await adapters.sms.send("13912345678", "verify_code", {"code": "123456", "minutes": "5"})
    inbox = await client.get("/sandbox/sms")
    assert f"{BEIJING}:00" in inbox.text and "139 1234 5678" in inbox.text
    assert inbox.text.count(NOTE) == 1
