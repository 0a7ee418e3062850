"""The tamper-evident audit log (R-SEC-08): an SM3 hash chain over ``audit_event`` rows.

Rows are written without hashes during a transaction; just before it commits, the
transaction takes the chain lock (a PostgreSQL advisory transaction lock; SQLite's
``BEGIN IMMEDIATE`` already serialises writers), reads the chain head and links its own
rows: ``row_hash = SM3(prev_hash || canonical(row))`` with a contiguous ``chain_seq``.
Taking the lock last means a transaction holding it waits for nothing else, so the chain
cannot deadlock with row locks; the cost is that audited commits are serialised.

:func:`verify` recomputes every link: an edited row changes its hash, a deleted row leaves
a gap in ``chain_seq`` and a broken ``prev_hash``. Because SM3 is unkeyed, someone with write
access could recompute every later hash after an edit; signed checkpoints (:func:`checkpoint`,
HMAC-SM3 under a key derived from the deployment secret, never stored in the database) pin the
chain head at intervals, so such a rewrite is detected too.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from medcard.kit.crypto import derive_key, hmac_sm3, sm3_hex
from medcard.models import AuditCheckpoint, AuditEvent

GENESIS = "0" * 64
PENDING_KEY = "medcard_audit_pending"
LOCK_SQL = text("SELECT pg_advisory_xact_lock(hashtext('medcard-audit-chain'))")


def canonical(row: AuditEvent) -> bytes:
    """The bytes a row's hash covers: every column but the hash itself, in a fixed form."""
    fields: dict[str, Any] = {
        "id": str(row.id),
        "seq": row.chain_seq,
        "at": row.at.isoformat(timespec="microseconds"),
        "actor": [row.actor_kind, row.actor_id, row.actor_label],
        "action": row.action,
        "subject": [row.subject_kind, row.subject_id],
        "result": row.result,
        "hospital": str(row.hospital_id) if row.hospital_id else None,
        "details": row.details,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def link(prev_hash: str, row: AuditEvent) -> str:
    return sm3_hex(prev_hash.encode() + b"|" + canonical(row))


def remember(session: AsyncSession, row: AuditEvent) -> None:
    """Queue a new row to be linked when its transaction commits."""
    session.sync_session.info.setdefault(PENDING_KEY, []).append(row)


@event.listens_for(Session, "before_commit")
def _link_pending(session: Session) -> None:
    pending: list[AuditEvent] = session.info.pop(PENDING_KEY, [])
    if not pending:
        return
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(LOCK_SQL)
    head = session.execute(
        select(AuditEvent.chain_seq, AuditEvent.row_hash)
        .where(AuditEvent.chain_seq.is_not(None))
        .order_by(AuditEvent.chain_seq.desc())
        .limit(1)
    ).first()
    seq: int = (head[0] or 0) if head else 0
    prev: str = str(head[1]) if head else GENESIS
    for row in pending:
        seq += 1
        row.chain_seq = seq
        row.prev_hash = prev
        row.row_hash = prev = link(prev, row)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


@dataclass
class ChainReport:
    """What :func:`verify` found."""

    rows: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def checkpoint_key(secret: str) -> bytes:
    return derive_key(secret, "audit-checkpoint")


def _checkpoint_mac(key: bytes, seq: int, row_hash: str) -> str:
    return hmac_sm3(key, f"{seq}:{row_hash}".encode()).hex()


async def checkpoint(session: AsyncSession, *, secret: str) -> AuditCheckpoint | None:
    """Sign the current chain head (run periodically: ``medcard audit checkpoint``)."""
    head = (
        await session.execute(
            select(AuditEvent.chain_seq, AuditEvent.row_hash)
            .where(AuditEvent.chain_seq.is_not(None))
            .order_by(AuditEvent.chain_seq.desc())
            .limit(1)
        )
    ).first()
    if head is None or head[0] is None or head[1] is None:
        return None
    seq, row_hash = int(head[0]), str(head[1])
    existing = await session.scalar(select(AuditCheckpoint).where(AuditCheckpoint.chain_seq == seq))
    if existing is not None:
        return existing
    mac = _checkpoint_mac(checkpoint_key(secret), seq, row_hash)
    mark = AuditCheckpoint(chain_seq=seq, row_hash=row_hash, mac=mac)
    session.add(mark)
    await session.flush()
    return mark


async def _check_checkpoints(session: AsyncSession, secret: str, report: ChainReport) -> None:
    key = checkpoint_key(secret)
    rows = (await session.execute(select(AuditEvent.chain_seq, AuditEvent.row_hash))).all()
    hashes: dict[int | None, str | None] = {row[0]: row[1] for row in rows}
    for mark in (await session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.chain_seq))).all():
        if not hmac.compare_digest(_checkpoint_mac(key, mark.chain_seq, mark.row_hash), mark.mac):
            report.problems.append(f"checkpoint at row {mark.chain_seq}: signature does not match (forged?)")
        elif hashes.get(mark.chain_seq) != mark.row_hash:
            report.problems.append(f"checkpoint at row {mark.chain_seq}: chain was rewritten since it was signed")
        report.checkpoints += 1


async def verify(session: AsyncSession, *, secret: str | None = None, batch: int = 2000) -> ChainReport:
    """Walk the whole chain in order and report every broken link, gap or unlinked row; with
    the deployment ``secret``, also check every signed checkpoint against the chain."""
    report = ChainReport()
    if secret is not None:
        await _check_checkpoints(session, secret, report)
    unlinked = await session.scalar(
        select(AuditEvent.id).where(AuditEvent.chain_seq.is_(None), AuditEvent.row_hash.is_(None)).limit(1)
    )
    expected_seq, prev = 1, GENESIS
    last_seq = 0
    while True:
        rows: Sequence[AuditEvent] = (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.chain_seq > last_seq)
                .order_by(AuditEvent.chain_seq)
                .limit(batch)
                .execution_options(populate_existing=True)
            )
        ).all()
        if not rows:
            break
        for row in rows:
            report.rows += 1
            seq = row.chain_seq or 0
            if seq != expected_seq:
                report.problems.append(f"rows {expected_seq}..{seq - 1} are missing (deleted?)")
            if row.prev_hash != prev:
                report.problems.append(f"row {seq}: previous-hash link broken")
            if link(row.prev_hash or "", row) != row.row_hash:
                report.problems.append(f"row {seq}: content does not match its hash (edited?)")
            prev, expected_seq, last_seq = row.row_hash or "", seq + 1, seq
    if unlinked is not None:
        report.problems.append("committed rows outside the chain")
    return report
