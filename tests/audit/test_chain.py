"""The audit log is a tamper-evident SM3 hash chain, linked by the sealer after commit (R-SEC-08)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.audit import chain
from medcard.audit.service import Actor, record
from medcard.config import Settings
from medcard.kit.clock import clock
from medcard.models import AuditEvent
from tests.factories import Demo, verified_account


async def _unsealed_history(db: AsyncSession, steps: int = 4) -> list[AuditEvent]:
    account = await verified_account(db)
    events = [
        await record(db, actor=Actor.system("test"), action=f"test.step{i}", subject=account, details={"i": i})
        for i in range(steps)
    ]
    await db.commit()
    return events


async def _seal_everything(db: AsyncSession) -> int:
    sealed = 0
    while batch := await chain.seal(db):
        sealed += batch
    await db.commit()
    return sealed


async def _some_history(db: AsyncSession) -> list[AuditEvent]:
    events = await _unsealed_history(db)
    await _seal_everything(db)
    return events


async def _hashes(db: AsyncSession) -> dict[int, str]:
    rows = (await db.execute(select(AuditEvent.chain_seq, AuditEvent.row_hash).where(AuditEvent.chain_seq > 0))).all()
    return {int(seq): str(row_hash) for seq, row_hash in rows}


async def test_r_sec_08_sealed_rows_form_an_intact_chain(db: AsyncSession, demo: Demo) -> None:
    events = await _some_history(db)
    assert all(event.row_hash and event.chain_seq for event in events)
    assert [event.prev_hash for event in events[1:]] == [event.row_hash for event in events[:-1]]
    report = await chain.verify(db)
    assert report.intact, report.problems
    assert report.rows >= 4 and report.pending == 0


async def test_r_sec_08_commit_leaves_rows_pending_and_verify_does_not_fail(db: AsyncSession, demo: Demo) -> None:
    """R-SEC-08: recording no longer links at commit; the rows wait for the sealer, reported as pending."""
    events = await _unsealed_history(db, steps=3)
    assert all(event.chain_seq is None and event.row_hash is None for event in events)
    report = await chain.verify(db, grace=timedelta(seconds=60))
    assert report.intact and report.healthy, report.problems
    assert report.pending >= 3 and report.stale == 0
    await _seal_everything(db)
    sealed = await chain.verify(db)
    assert sealed.intact and sealed.pending == 0 and sealed.rows == report.rows + report.pending


async def test_r_sec_08_rows_pending_past_the_grace_period_are_stale(db: AsyncSession, demo: Demo) -> None:
    """R-SEC-08: a sealer that stopped shows up as stale rows: not tampering, but not healthy either."""
    await _unsealed_history(db, steps=2)
    clock.freeze(clock.now() + timedelta(minutes=5))
    report = await chain.verify(db, grace=timedelta(seconds=60))
    assert report.intact and not report.healthy
    assert report.stale == report.pending >= 2


async def test_r_sec_08_sealing_is_idempotent(db: AsyncSession, demo: Demo) -> None:
    """R-SEC-08: sealing again finds nothing and changes no sealed row."""
    await _some_history(db)
    before = await _hashes(db)
    assert await chain.seal(db) == 0
    assert await _seal_everything(db) == 0
    assert await _hashes(db) == before


async def test_r_sec_08_sealing_in_small_batches_gives_one_contiguous_chain(db: AsyncSession, demo: Demo) -> None:
    """R-SEC-08: batches append to each other; positions stay 1..N."""
    await _unsealed_history(db, steps=5)
    pending = (await chain.verify(db)).pending
    counts = []
    while batch := await chain.seal(db, batch=2):
        counts.append(batch)
    assert sum(counts) == pending and max(counts) == 2
    hashes = await _hashes(db)
    assert sorted(hashes) == list(range(1, len(hashes) + 1))
    assert (await chain.verify(db)).intact


async def test_r_sec_08_a_late_row_with_an_earlier_time_is_appended_not_inserted(db: AsyncSession, demo: Demo) -> None:
    """R-SEC-08: a long transaction commits after a seal with a row written earlier: the sealer appends it
    and never re-orders or re-hashes what it already sealed."""
    events = await _some_history(db)
    before = await _hashes(db)
    late = await record(db, actor=Actor.system("test"), action="test.late", subject=demo.hospital)
    late.at = events[0].at - timedelta(seconds=30)
    await db.commit()
    assert await _seal_everything(db) == 1
    assert late.chain_seq == max(before) + 1
    assert {seq: row_hash for seq, row_hash in (await _hashes(db)).items() if seq in before} == before
    assert (await chain.verify(db)).intact


async def test_r_sec_08_a_row_taken_out_of_the_chain_is_caught(db: AsyncSession, demo: Demo) -> None:
    """R-SEC-08: clearing a sealed row's position (so the sealer would re-link an edited copy) is tampering."""
    events = await _some_history(db)
    await db.execute(
        update(AuditEvent)
        .where(AuditEvent.id == events[-1].id)
        .values(chain_seq=None, details={"i": 99})
        .execution_options(synchronize_session=False)
    )
    report = await chain.verify(db)
    assert not report.intact
    assert any("no chain position" in problem for problem in report.problems)


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
    report = await chain.verify(db)
    assert report.intact and report.pending == 0


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


async def test_r_sec_08_a_checkpoint_signs_the_sealed_head_only(
    db: AsyncSession, demo: Demo, settings: Settings
) -> None:
    """R-SEC-08: pending rows are not covered until they are sealed; seal_and_checkpoint seals them first."""
    await _some_history(db)
    head = await chain.checkpoint(db, secret=settings.secret_key)
    await _unsealed_history(db, steps=2)
    assert await chain.checkpoint(db, secret=settings.secret_key) == head
    mark = await chain.seal_and_checkpoint(db, secret=settings.secret_key)
    assert head is not None and mark is not None and mark.chain_seq == head.chain_seq + 2
    report = await chain.verify(db, secret=settings.secret_key)
    assert report.intact and report.pending == 0 and report.checkpoints == 2


def test_r_sec_08_audit_retention_cannot_be_set_below_180_days(settings: Settings) -> None:
    assert settings.audit_retention_days >= 180
    with pytest.raises(ValidationError):
        Settings(audit_retention_days=179, _env_file=None)  # type: ignore[call-arg]


async def test_r_sec_08_verify_starts_after_the_newest_checkpoint(
    db: AsyncSession, demo: Demo, settings: Settings
) -> None:
    """R-SEC-08: with the secret, the default walk reads only the rows sealed after the newest
    signed checkpoint that holds (its cost follows the new rows, not the whole log)."""
    await _some_history(db)
    mark = await chain.checkpoint(db, secret=settings.secret_key)
    assert mark is not None
    later = await _some_history(db)
    report = await chain.verify(db, secret=settings.secret_key)
    assert report.intact, report.problems
    assert report.start == mark.chain_seq
    assert report.rows == len(later) == max(event.chain_seq or 0 for event in later) - mark.chain_seq
    full = await chain.verify(db, secret=settings.secret_key, full=True)
    assert full.intact and full.start == 0 and full.rows == mark.chain_seq + len(later)


async def test_r_sec_08_tampering_after_the_checkpoint_is_found_by_the_default_walk(
    db: AsyncSession, demo: Demo, settings: Settings
) -> None:
    """R-SEC-08: an edit or a deletion after the newest checkpoint breaks the default verify."""
    await _some_history(db)
    await chain.checkpoint(db, secret=settings.secret_key)
    later = await _some_history(db)
    await db.execute(
        update(AuditEvent)
        .where(AuditEvent.id == later[1].id)
        .values(details={"i": 99})
        .execution_options(synchronize_session=False)
    )
    await db.execute(delete(AuditEvent).where(AuditEvent.id == later[2].id))
    report = await chain.verify(db, secret=settings.secret_key)
    assert any(f"row {later[1].chain_seq}: content" in problem for problem in report.problems)
    assert any("missing" in problem for problem in report.problems)


async def test_r_sec_08_an_old_edit_that_keeps_its_hash_needs_the_full_walk(
    db: AsyncSession, demo: Demo, settings: Settings
) -> None:
    """R-SEC-08: the default walk trusts rows pinned by a checkpoint; ``full`` rechecks them all."""
    events = await _some_history(db)
    await chain.checkpoint(db, secret=settings.secret_key)
    await db.execute(
        update(AuditEvent)
        .where(AuditEvent.id == events[1].id)
        .values(details={"i": 99})
        .execution_options(synchronize_session=False)
    )
    assert (await chain.verify(db, secret=settings.secret_key)).intact
    full = await chain.verify(db, secret=settings.secret_key, full=True)
    assert any(f"row {events[1].chain_seq}: content" in problem for problem in full.problems)
