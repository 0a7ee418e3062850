"""Every statement on the idempotency key table."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.db import among, driver_connection, insert_rows, json_text
from medcard.kit.ids import new_id
from medcard.models import IdempotencyKey


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self, *, actor: str, key: str, fingerprint: str, method: str, path: str, now: datetime
    ) -> uuid.UUID | None:
        """Insert the key locked by this request; ``None`` when it already exists. One statement
        (``INSERT … ON CONFLICT DO NOTHING``): two first requests cannot both win."""
        dialect = self.session.bind.dialect.name if self.session.bind else "sqlite"
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        values: dict[str, Any] = {
            "id": new_id(),
            "created_at": now,
            "actor": actor,
            "key": key,
            "fingerprint": fingerprint,
            "method": method,
            "path": path,
            "locked_at": now,
            "recovery_point": "started",
        }
        statement = (
            insert(IdempotencyKey)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["actor", "key"])
            .returning(IdempotencyKey.id)
        )
        claimed: uuid.UUID | None = (await self.session.execute(statement)).scalar_one_or_none()
        return claimed

    async def claim_all(self, rows: list[dict[str, Any]]) -> None:
        """:meth:`claim` for a batch whose keys nobody holds (the batch checked them when it read
        its facts): one plain INSERT — on PostgreSQL a write kept for its
        :func:`medcard.db.together` block — that fails on a key another request claimed
        meanwhile (the batch then fails before its first commit, and each request is paid alone).
        Each row is a key's columns (``id``, ``actor``, ``key``, ``fingerprint``, …)."""
        if not rows:
            return
        driver = await driver_connection(self.session)
        if driver is not None:
            await insert_rows(driver, _KEYS, rows)
            return
        await self.session.execute(insert(IdempotencyKey), rows)

    async def find(self, *, actor: str, key: str) -> IdempotencyKey | None:
        statement = select(IdempotencyKey).where(IdempotencyKey.actor == actor, IdempotencyKey.key == key)
        return (await self.session.execute(statement.execution_options(populate_existing=True))).scalar_one_or_none()

    async def reclaim(self, key_id: uuid.UUID, *, now: datetime, stale_before: datetime) -> bool:
        """Take over a key nobody holds (released) or whose holder crashed (lock older than
        ``stale_before``); a conditional UPDATE, so only one retry wins."""
        statement = (
            update(IdempotencyKey)
            .where(
                IdempotencyKey.id == key_id,
                IdempotencyKey.status_code.is_(None),
                (IdempotencyKey.locked_at.is_(None)) | (IdempotencyKey.locked_at < stale_before),
            )
            .values(locked_at=now)
        )
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0))

    async def advance(self, key_id: uuid.UUID, point: str) -> None:
        await self.session.execute(
            update(IdempotencyKey).where(IdempotencyKey.id == key_id).values(recovery_point=point)
        )

    async def finish(self, key_id: uuid.UUID, *, status_code: int, body: Any, now: datetime) -> None:
        statement = (
            update(IdempotencyKey)
            .where(IdempotencyKey.id == key_id)
            .values(
                status_code=status_code, response_body=body, locked_at=None, recovery_point="finished", finished_at=now
            )
        )
        await self.session.execute(statement)

    async def finish_many(self, bodies: dict[uuid.UUID, Any], *, status_code: int, now: datetime) -> None:
        """:meth:`finish` for a batch (one UPDATE)."""
        if not bodies:
            return
        driver = await driver_connection(self.session)
        if driver is not None:
            ids, texts = list(bodies), [json_text(body) for body in bodies.values()]
            await driver.write(_FINISH_MANY, ids, status_code, texts, now)
            return
        table = _KEYS
        statement = (
            update(table)
            .where(table.c.id == bindparam("key_id"))
            .values(
                status_code=status_code,
                response_body=bindparam("body"),
                locked_at=None,
                recovery_point="finished",
                finished_at=now,
            )
        )
        await self.session.execute(statement, [{"key_id": key_id, "body": body} for key_id, body in bodies.items()])

    async def unlock(self, key_ids: Collection[uuid.UUID]) -> None:
        """Let go of keys at their recovery point: the client's retry with the same key resumes."""
        if key_ids and (driver := await driver_connection(self.session)) is not None:
            await driver.write(_UNLOCK, list(key_ids))
        elif key_ids:
            await self.session.execute(
                update(IdempotencyKey).where(among(self.session, IdempotencyKey.id, key_ids)).values(locked_at=None)
            )

    async def release(self, key_id: uuid.UUID) -> None:
        """Give the key up after a failed attempt: forgotten if nothing was committed under it,
        else unlocked at its recovery point for a retry to resume."""
        await self.session.execute(
            delete(IdempotencyKey).where(IdempotencyKey.id == key_id, IdempotencyKey.recovery_point == "started")
        )
        await self.session.execute(update(IdempotencyKey).where(IdempotencyKey.id == key_id).values(locked_at=None))

    async def purge(self, *, finished_before: datetime) -> int:
        """Delete the keys finished before ``finished_before``, found by ``created_at`` (indexed:
        a key is created before it finishes), so that a key still running is kept."""
        result = await self.session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.created_at < finished_before, IdempotencyKey.finished_at < finished_before
            )
        )
        return int(getattr(result, "rowcount", 0))


_KEYS = IdempotencyKey.metadata.tables["idempotency_key"]
_FINISH_MANY = (
    "UPDATE idempotency_key k SET status_code = $2, response_body = f.body, locked_at = NULL,"
    " recovery_point = 'finished', finished_at = $4"
    " FROM unnest($1::uuid[], $3::jsonb[]) AS f(id, body) WHERE k.id = f.id"
)
_UNLOCK = "UPDATE idempotency_key SET locked_at = NULL WHERE id = ANY($1::uuid[])"
