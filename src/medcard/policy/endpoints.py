"""Policy routes: read the policy in force and its history; admins add versions."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Path, status

from medcard.auth.service import actor_for_staff
from medcard.deps import SessionDep, require_role
from medcard.kit.clock import clock
from medcard.models import StaffUser
from medcard.policy import service
from medcard.policy.schemas import PolicyKind, PolicyVersionCreate, PolicyVersionRead, RegionPolicyRead

router = APIRouter(prefix="/policy", tags=["policy"])
staff_router = APIRouter(prefix="/staff/policy", tags=["policy", "staff"])
AdminDep = Annotated[StaffUser, Depends(require_role("admin"))]
KEY = Path(pattern=r"^[0-9a-z_]{2,16}$")


@router.get("/regions/{region_code}", response_model=RegionPolicyRead)
async def region_policy(session: SessionDep, region_code: Annotated[str, Path(pattern=r"^\d{6}$")]) -> RegionPolicyRead:
    """The e-voucher policy in force today for a region (R-INS-03), defaults filled in."""
    resolved = await service.region_policy(session, region_code, on=clock.now().date())
    return RegionPolicyRead(
        region_code=region_code,
        policy=asdict(resolved.policy),
        policy_key=resolved.version.key,
        policy_version=resolved.version.version,
    )


@router.get("/{kind}/{key}/versions", response_model=list[PolicyVersionRead])
async def history(session: SessionDep, kind: PolicyKind, key: Annotated[str, KEY]) -> list[PolicyVersionRead]:
    """Every version of one document, newest first, with who/when/why."""
    return [PolicyVersionRead.of(v) for v in await service.history(session, kind, key)]


@staff_router.post("/{kind}/{key}/versions", response_model=PolicyVersionRead, status_code=status.HTTP_201_CREATED)
async def add_version(
    body: PolicyVersionCreate,
    session: SessionDep,
    staff: AdminDep,
    kind: PolicyKind,
    key: Annotated[str, KEY],
) -> PolicyVersionRead:
    """A new version taking effect on ``effective_from`` (today or later)."""
    version = await service.add_version(
        session,
        kind=kind,
        key=key,
        data=body.data,
        effective_from=body.effective_from,
        reason=body.reason,
        actor=actor_for_staff(staff),
        today=clock.now().date(),
    )
    return PolicyVersionRead.of(version)
