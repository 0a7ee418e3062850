"""The audit log is a tamper-evident SM3 hash chain (R-SEC-08)."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.audit import chain
from medcard.audit.service import Actor, record
from medcard.config import Settings
from medcard.models import AuditEvent
from tests.factories import Demo, verified_account


async def _some_history(db: AsyncSession) -> list[AuditEvent]:
    account = await verified_account(db)
    events = [
        await record(db, actor=Actor.system("test"), action=f"test.step{i}", subject=account, details={"i": i})
        for i in range(4)
    ]
    await db.commit()
    return events


async def test_r_sec_08_committed_rows_form_an_intact_chain(db: AsyncSession, demo: Demo) -> None:
    events = await _some_history(db)
    assert all(event.row_hash and event.chain_seq for event in events)
    assert [event.prev_hash for event in events[1:]] == [event.row_hash for event in events[:-1]]
    report = await chain.verify(db)
    assert report.intact, report.problems
    assert report.rows >= 4


async def test_r_sec_08_editing_one_row_breaks_the_chain(db: AsyncSession, demo: Demo) -> None:
    events = await _some_history(db)
    await db.execute(
        update(AuditEvent)
        .where(AuditEvent.id == events[1].id)
        .values(details={"i": 99})
        .execution_options(synchronize_session=False)
    )
    report = await chain.verify(db)
    assert not report.intact
    assert any(f"row {events[1].chain_seq}: content" in problem for problem in report.problems)


async def test_r_sec_08_deleting_one_row_breaks_the_chain(db: AsyncSession, demo: Demo) -> None:
    events = await _some_history(db)
    await db.execute(delete(AuditEvent).where(AuditEvent.id == events[2].id))
    report = await chain.verify(db)
    assert not report.intact
    assert any("missing" in problem for problem in report.problems)


async def test_r_sec_08_rehashing_an_edited_row_still_breaks_the_next_link(db: AsyncSession, demo: Demo) -> None:
    events = await _some_history(db)
    target = await db.scalar(select(AuditEvent).where(AuditEvent.id == events[1].id))
    assert target is not None
    target.details = {"i": 42}
    target.row_hash = chain.link(target.prev_hash or "", target)
    await db.flush()
    report = await chain.verify(db)
    assert any(f"row {events[2].chain_seq}: previous-hash link broken" in p for p in report.problems)


async def test_r_sec_08_rolled_back_requests_leave_no_gap(
    client: httpx.AsyncClient, db: AsyncSession, demo: Demo
) -> None:
    response = await client.post("/api/v1/auth/staff", json={"username": "cashier1", "password": "wrong"})
    assert response.status_code == 401
    await _some_history(db)
    assert (await chain.verify(db)).intact


async def _rewrite_from(db: AsyncSession, seq: int) -> None:
    """What an attacker with write access does: edit a row, then recompute every later hash."""
    rows = (
        await db.scalars(select(AuditEvent).where(AuditEvent.chain_seq >= seq).order_by(AuditEvent.chain_seq))
    ).all()
    rows[0].details = {"i": 7}
    prev = rows[0].prev_hash or ""
    for row in rows:
        row.prev_hash = prev
        row.row_hash = prev = chain.link(prev, row)
    await db.flush()


async def test_r_sec_08_a_recomputed_chain_is_caught_by_the_signed_checkpoint(
    db: AsyncSession, demo: Demo, settings: Settings
) -> None:
    events = await _some_history(db)
    assert await chain.checkpoint(db, secret=settings.secret_key) is not None
    await _rewrite_from(db, events[1].chain_seq or 0)
    assert (await chain.verify(db)).intact  # the unkeyed chain alone cannot tell
    report = await chain.verify(db, secret=settings.secret_key)
    assert not report.intact and any("rewritten" in problem for problem in report.problems)


async def test_r_sec_08_a_forged_checkpoint_is_caught(db: AsyncSession, demo: Demo, settings: Settings) -> None:
    await _some_history(db)
    mark = await chain.checkpoint(db, secret="not-the-deployment-secret-0123456789abcdef")
    assert mark is not None
    report = await chain.verify(db, secret=settings.secret_key)
    assert any("signature does not match" in problem for problem in report.problems)


async def test_r_sec_08_checkpoints_verify_on_an_untouched_chain(
    db: AsyncSession, demo: Demo, settings: Settings
) -> None:
    await _some_history(db)
    await chain.checkpoint(db, secret=settings.secret_key)
    await _some_history(db)
    await chain.checkpoint(db, secret=settings.secret_key)
    report = await chain.verify(db, secret=settings.secret_key)
    assert report.intact and report.checkpoints >= 2


def test_r_sec_08_audit_retention_cannot_be_set_below_180_days(settings: Settings) -> None:
    assert settings.audit_retention_days >= 180
    with pytest.raises(ValidationError):
        Settings(audit_retention_days=179, _env_file=None)  # type: ignore[call-arg]
