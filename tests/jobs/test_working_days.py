"""R-INS-04: a deferred scheme's reimbursement runs after N Chinese working days of the policy
calendar (holidays and make-up working days included)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.jobs.service import run_at_after_working_days, working_days_after
from medcard.kit.clock import CHINA
from medcard.policy import service as policy
from tests.factories import Demo


async def test_r_ins_04_resident_3_and_new_rural_5_working_days_across_national_day(
    db: AsyncSession, demo: Demo
) -> None:
    calendar = await policy.calendar(db, on=date(2026, 9, 30))
    # Wed 30 Sep 2026; 1–7 Oct are holidays, Sat 10 Oct is a make-up working day.
    assert working_days_after(date(2026, 9, 30), 3, calendar) == date(2026, 10, 10)
    assert working_days_after(date(2026, 9, 30), 5, calendar) == date(2026, 10, 13)
    assert working_days_after(date(2026, 11, 27), 3, calendar) == date(2026, 12, 2)  # Fri → Wed


async def test_r_ins_04_run_at_is_9_am_china_time_counted_from_the_china_date(db: AsyncSession, demo: Demo) -> None:
    # 17:30 UTC on 30 Sep is already 1 Oct in China: counting starts from the holiday.
    paid = datetime(2026, 9, 30, 17, 30, tzinfo=UTC)
    run_at = await run_at_after_working_days(db, after=paid, days=3)
    assert run_at == datetime(2026, 10, 10, 9, 0, tzinfo=CHINA)
    earlier = await run_at_after_working_days(db, after=datetime(2026, 9, 29, 2, 0, tzinfo=UTC), days=3)
    assert earlier == datetime(2026, 10, 9, 9, 0, tzinfo=CHINA)  # 30 Sep, 8 Oct, 9 Oct
