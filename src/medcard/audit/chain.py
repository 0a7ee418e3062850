"""The tamper-evident audit log (R-SEC-08): an SM3 hash chain over ``audit_event`` rows.

Transactions insert audit rows *unsealed* (``chain_seq``, ``prev_hash`` and ``row_hash``
NULL) and commit without touching the chain, so audited commits no longer queue behind one
lock. A **sealer** (封存，:func:`seal`; run in the app by :mod:`medcard.audit.sealer` every
``MEDCARD_AUDIT_SEAL_INTERVAL_SECONDS`` and by ``medcard audit seal``) later links committed
unsealed rows in batches: under the chain lock (a PostgreSQL advisory transaction lock;
SQLite's ``BEGIN IMMEDIATE`` already serialises writers) it reads the chain head, takes the
oldest unsealed rows by ``at`` then id, and appends them:
``row_hash = SM3(prev_hash || canonical(row))`` with a contiguous ``chain_seq``.

The sealer only ever appends: sealed rows are never re-ordered or re-hashed. A row that
commits after a batch with an earlier ``at`` (a long transaction) is simply appended by a
later batch, so ``chain_seq`` is the order of sealing, which follows ``at`` only within a batch.

:func:`verify` recomputes every link of the sealed chain: an edited row changes its hash, a
deleted row leaves a gap in ``chain_seq`` and a broken ``prev_hash``. Unsealed rows are reported
as *pending* (counted, not a fault); one pending longer than the grace period
(``MEDCARD_AUDIT_SEAL_GRACE_SECONDS``) is reported as *stale*: the sealer is not running.
**The window**: a row edited or deleted before it is sealed leaves no trace in the chain; the
sealer keeps that window to about one interval, and ``stale`` shows when it grows.

Because SM3 is unkeyed, someone with write access could recompute every later hash after an
edit; signed checkpoints (:func:`checkpoint`, HMAC-SM3 under a key derived from the deployment
secret, never stored in the database) pin the sealed head at intervals, so such a rewrite is
detected too.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.audit.repository import AuditRepository
from medcard.kit.clock import clock
from medcard.kit.crypto import derive_key, hmac_sm3, sm3_hex
from medcard.models import AuditCheckpoint, AuditEvent

GENESIS = "0" * 64
SEAL_BATCH = 500
YIELD_EVERY = 50
"""Rows hashed between two returns to the event loop (a slice costs a few milliseconds)."""
_AUDIT: Table = AuditEvent.metadata.tables["audit_event"]
LOCK_SQL = text("SELECT pg_advisory_xact_lock(hashtext('medcard-audit-chain'))")


class ChainRow(Protocol):
    """What a row's hash covers: an :class:`AuditEvent` or a Core row of ``audit_event``."""

    @property
    def id(self) -> Any: ...
    @property
    def chain_seq(self) -> int | None: ...
    @property
    def at(self) -> datetime: ...
    @property
    def actor_kind(self) -> str: ...
    @property
    def actor_id(self) -> str: ...
    @property
    def actor_label(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def subject_kind(self) -> str: ...
    @property
    def subject_id(self) -> str: ...
    @property
    def result(self) -> str: ...
    @property
    def hospital_id(self) -> Any: ...
    @property
    def details(self) -> Any: ...


_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode


def canonical(row: ChainRow, *, seq: int | None = None) -> bytes:
    """The bytes a row's hash covers: every column but the hash itself, in a fixed form
    (``seq``: the position being given to a row not sealed yet)."""
    fields: dict[str, Any] = {
        "id": str(row.id),
        "seq": row.chain_seq if seq is None else seq,
        "at": row.at.isoformat(timespec="microseconds"),
        "actor": [row.actor_kind, row.actor_id, row.actor_label],
        "action": row.action,
        "subject": [row.subject_kind, row.subject_id],
        "result": row.result,
        "hospital": str(row.hospital_id) if row.hospital_id else None,
        "details": row.details,
    }
    return _CANONICAL_JSON(fields).encode()


def link(prev_hash: str, row: ChainRow, *, seq: int | None = None) -> str:
    return sm3_hex(prev_hash.encode() + b"|" + canonical(row, seq=seq))


async def seal(session: AsyncSession, *, batch: int = SEAL_BATCH) -> int:
    """Link up to ``batch`` committed unsealed rows onto the chain head, in ``at`` then id
    order; returns how many. The caller commits (one batch per transaction keeps the lock short)."""
    if session.get_bind().dialect.name == "postgresql":
        # Taken before reading the head: a second sealer waits here, then (READ COMMITTED, each
        # statement a fresh snapshot) sees the first one's rows as sealed.
        await session.execute(LOCK_SQL)
    repository = AuditRepository(session)
    head = await repository.head()
    seq, prev = head if head else (0, GENESIS)
    rows = await repository.unsealed_rows(limit=batch)
    links: list[tuple[Any, int, str, str]] = []
    for index, row in enumerate(rows, 1):
        seq += 1
        row_hash = link(prev, row, seq=seq)
        links.append((row.id, seq, prev, row_hash))
        prev = row_hash
        if index % YIELD_EVERY == 0:
            await asyncio.sleep(0)  # the sealer shares the app's event loop: requests go on between slices
    await repository.link(links)
    return len(rows)


@dataclass
class ChainReport:
    """What :func:`verify` found: ``problems`` are evidence of tampering with sealed rows or
    checkpoints; ``pending`` rows are not sealed yet (normal for about one sealer interval);
    ``stale`` of them have waited longer than the grace period (the sealer is not running)."""

    rows: int = 0
    """Sealed rows read and checked by this walk."""
    start: int = 0
    """The walk began after this ``chain_seq`` (0: from the first row; else a signed checkpoint)."""
    checkpoints: int = 0
    pending: int = 0
    stale: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def healthy(self) -> bool:
        """Intact, and nothing has waited for the sealer longer than the grace period."""
        return self.intact and not self.stale


def checkpoint_key(secret: str) -> bytes:
    return derive_key(secret, "audit-checkpoint")


def _checkpoint_mac(key: bytes, seq: int, row_hash: str) -> str:
    return hmac_sm3(key, f"{seq}:{row_hash}".encode()).hex()


async def checkpoint(session: AsyncSession, *, secret: str) -> AuditCheckpoint | None:
    """Sign the current sealed head (run periodically: ``medcard audit checkpoint``, which
    seals first). Unsealed rows are not covered until a later checkpoint."""
    head = await AuditRepository(session).head()
    if head is None:
        return None
    seq, row_hash = head
    existing = await session.scalar(select(AuditCheckpoint).where(AuditCheckpoint.chain_seq == seq))
    if existing is not None:
        return existing
    mac = _checkpoint_mac(checkpoint_key(secret), seq, row_hash)
    mark = AuditCheckpoint(chain_seq=seq, row_hash=row_hash, mac=mac)
    session.add(mark)
    await session.flush()
    return mark


async def seal_and_checkpoint(session: AsyncSession, *, secret: str) -> AuditCheckpoint | None:
    """Seal every pending row in this transaction, then sign the new head (the console's button;
    the CLI seals in separate batches first, which suits a large backlog better)."""
    while await seal(session) == SEAL_BATCH:
        pass
    return await checkpoint(session, secret=secret)


async def _check_checkpoints(session: AsyncSession, secret: str, report: ChainReport) -> tuple[int, str] | None:
    """Check every signed checkpoint (its signature, and that the chain still has the signed hash
    at its row: one indexed read of those rows only); return the newest one that holds."""
    key = checkpoint_key(secret)
    marks = (await session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.chain_seq))).all()
    seqs = [mark.chain_seq for mark in marks]
    rows = await session.execute(select(_AUDIT.c.chain_seq, _AUDIT.c.row_hash).where(_AUDIT.c.chain_seq.in_(seqs)))
    hashes: dict[int | None, str | None] = {row[0]: row[1] for row in rows} if seqs else {}
    newest: tuple[int, str] | None = None
    for mark in marks:
        if not hmac.compare_digest(_checkpoint_mac(key, mark.chain_seq, mark.row_hash), mark.mac):
            report.problems.append(f"checkpoint at row {mark.chain_seq}: signature does not match (forged?)")
        elif hashes.get(mark.chain_seq) != mark.row_hash:
            report.problems.append(f"checkpoint at row {mark.chain_seq}: chain was rewritten since it was signed")
        else:
            newest = (mark.chain_seq, mark.row_hash)
        report.checkpoints += 1
    return newest


async def verify(
    session: AsyncSession,
    *,
    secret: str | None = None,
    grace: timedelta | None = None,
    batch: int = 2000,
    full: bool = False,
) -> ChainReport:
    """Walk the sealed chain in order and report every broken link or gap; with the deployment
    ``secret``, also check every signed checkpoint. Unsealed rows are counted as pending, and
    as stale when older than ``grace``. Read-only: it never seals.

    With the ``secret`` and not ``full``, the walk starts after the newest checkpoint that holds
    (its signature is right and the chain still has the signed hash there): the rows before it
    were pinned when it was signed, so the cost follows the rows written since, not the whole
    log. ``full`` walks from the first row (run it periodically: an edit of an old row that
    leaves its stored hash alone is found only by a full walk)."""
    report = ChainReport()
    start: tuple[int, str] | None = None
    if secret is not None:
        start = await _check_checkpoints(session, secret, report)
    if full or start is None:
        start = (0, GENESIS)
    state = await AuditRepository(session).seal_state()
    report.pending = state.pending
    if grace is not None and state.oldest_pending_at is not None and state.oldest_pending_at < clock.now() - grace:
        report.stale = await AuditRepository(session).pending_before(clock.now() - grace)
    last_seq, prev = start
    report.start = last_seq
    expected_seq = last_seq + 1
    while True:
        # Core tuples, not ORM objects: no identity map, no instance state per row.
        rows = (
            await session.execute(
                select(_AUDIT).where(_AUDIT.c.chain_seq > last_seq).order_by(_AUDIT.c.chain_seq).limit(batch)
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
    unsealed_with_hash = await AuditRepository(session).unsealed_with_hash()
    if unsealed_with_hash:
        report.problems.append(
            f"{unsealed_with_hash} rows carry a hash but no chain position (taken out of the chain?)"
        )
    return report
