"""Idempotent requests in atomic phases (R-PAY-05, R-PAY-07), after Stripe's design as Brandur
Leach wrote it up for PostgreSQL.

1. **Claim** (:func:`begin`): ``INSERT … ON CONFLICT DO NOTHING`` the key, locked, and commit
   at once, so a concurrent request with the same key sees it in flight (409) instead of
   running too. An existing key answers by itself: another body ⇒ 422, finished ⇒ the stored
   response replayed, locked ⇒ 409, unlocked or locked longer than the lock timeout (its
   holder crashed) ⇒ taken over at its recovery point.
2. **Work** (:meth:`IdempotentRequest.run`): the service call and the stored response commit
   together in the request's unit of work, so an acknowledged effect always has its answer
   stored. Work that calls outside systems marks phases with
   :meth:`IdempotentRequest.checkpoint` (each commits); a resumed request reads
   ``recovery_point`` and continues from there.
3. **Failure**: the work rolls back and the key is released (forgotten if no phase was
   committed, else unlocked at its recovery point), so the client's retry with the same key
   runs again — the safe retry R-PAY-07 promises after a transient "insufficient balance".
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from fastapi.encoders import jsonable_encoder
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.errors import MedCardError
from medcard.idempotency.errors import (
    IdempotencyInFlight,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
    IdempotentReplay,
)
from medcard.idempotency.repository import IdempotencyRepository
from medcard.kit.clock import clock
from medcard.kit.crypto import sm3_hex

T = TypeVar("T")
MAX_KEY_LENGTH = 255


def fingerprint(method: str, path: str, body: bytes) -> str:
    """SM3 of method, path and body; a JSON body is canonicalised (key order, spacing)."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    return sm3_hex(method.upper().encode() + b"\n" + path.encode() + b"\n" + canonical)


def valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and all(33 <= ord(char) <= 126 for char in key)


@dataclass
class IdempotentRequest:
    """A request holding its idempotency key. ``resumed``: a retry took over a key whose
    first attempt crashed or failed after committing a phase (see ``recovery_point``)."""

    session: AsyncSession
    key_id: uuid.UUID
    recovery_point: str = "started"
    resumed: bool = False

    async def run(self, operation: Callable[[], Awaitable[T]], *, status_code: int = 200) -> T:
        """Run the request's work; store its response in the same transaction, or release the
        key when it fails. Return the endpoint's response model: it is what a retry replays."""
        repository = IdempotencyRepository(self.session)
        try:
            result = await operation()
        except MedCardError as error:
            await (self.session.commit() if error.keep_changes else self.session.rollback())
            await self._release(repository)
            raise
        except Exception:
            await self.session.rollback()
            await self._release(repository)
            raise
        body = {"body": jsonable_encoder(result)}
        await repository.finish(self.key_id, status_code=status_code, body=body, now=clock.now())
        return result

    async def checkpoint(self, point: str) -> None:
        """Commit the work so far as one atomic phase ending at ``point`` (before calling an
        outside system whose effect must not be repeated)."""
        await IdempotencyRepository(self.session).advance(self.key_id, point)
        await self.session.commit()
        self.recovery_point = point

    async def _release(self, repository: IdempotencyRepository) -> None:
        await repository.release(self.key_id)
        await self.session.commit()


async def begin(
    session: AsyncSession, *, actor: str, key: str, method: str, path: str, body: bytes, lock_seconds: int
) -> IdempotentRequest:
    """Claim ``key`` for this request (phase 1, committed) or answer from what is stored."""
    if not valid_key(key):
        raise IdempotencyKeyInvalid(field="Idempotency-Key")
    repository = IdempotencyRepository(session)
    signature = fingerprint(method, path, body)
    for _ in range(3):  # a key released between our INSERT and SELECT is claimed again
        now = clock.now()
        claimed = await repository.claim(actor=actor, key=key, fingerprint=signature, method=method, path=path, now=now)
        if claimed is not None:
            await session.commit()
            return IdempotentRequest(session=session, key_id=claimed)
        stored = await repository.find(actor=actor, key=key)
        if stored is None:
            continue
        if stored.fingerprint != signature:
            raise IdempotencyKeyReused(field="Idempotency-Key")
        if stored.status_code is not None:
            raise IdempotentReplay(stored.status_code, (stored.response_body or {}).get("body"))
        if await repository.reclaim(stored.id, now=now, stale_before=now - timedelta(seconds=lock_seconds)):
            await session.commit()
            return IdempotentRequest(
                session=session, key_id=stored.id, recovery_point=stored.recovery_point, resumed=True
            )
        raise IdempotencyInFlight(retry_after=1)
    raise IdempotencyInFlight(retry_after=1)


async def purge(session: AsyncSession, *, retention: timedelta) -> int:
    """Forget finished keys older than ``retention`` (a retry after that runs as new)."""
    return await IdempotencyRepository(session).purge(finished_before=clock.now() - retention)
