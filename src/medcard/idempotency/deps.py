"""FastAPI dependencies: an endpoint takes ``PatientIdempotencyDep`` (or the staff one) and
wraps its service call in ``idempotency.run(...)``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from medcard.deps import PatientSessionDep, SessionDep, StaffSessionDep, settings_of
from medcard.idempotency.errors import IdempotencyKeyMissing
from medcard.idempotency.service import IdempotentRequest, begin

HEADER = "Idempotency-Key"


def idempotency(actor: Callable[..., Any]) -> Any:
    """A dependency claiming the request's ``Idempotency-Key`` for the caller ``actor`` names
    (a dependency returning e.g. ``account:<id>``)."""

    # ``who`` takes its dependency as a default: annotations are strings here and ``actor`` is local.
    async def dependency(request: Request, session: SessionDep, who: str = Depends(actor)) -> IdempotentRequest:
        key = request.headers.get(HEADER)
        if key is None:
            raise IdempotencyKeyMissing(field=HEADER)
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return await begin(
            session,
            actor=who,
            key=key,
            method=request.method,
            path=path,
            body=await request.body(),
            lock_seconds=settings_of(request).idempotency_lock_seconds,
        )

    return Depends(dependency)


async def patient_actor(auth: PatientSessionDep) -> str:
    return f"account:{auth.account_id}"


async def staff_actor(auth: StaffSessionDep) -> str:
    return f"staff:{auth.staff_id}"


PatientIdempotencyDep = Annotated[IdempotentRequest, idempotency(patient_actor)]
StaffIdempotencyDep = Annotated[IdempotentRequest, idempotency(staff_actor)]
