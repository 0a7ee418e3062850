"""Family mutual aid (家庭共济, R-FAM-08): an insured employee lets up to 5 relatives of his
current family relations pay from his personal account, within limits he sets; he revokes it.

Money: :func:`hold_payment` locks the grant row, then the principal's personal account and the
receiver (in id order, like every ledger operation), takes what the limits and the available
balance allow and places **one** ledger hold — personal account −a (source
``family_mutual_aid``), receiver +a — whose memo names the beneficiary and the grant. The hold
is later posted or voided whole by :func:`resolve_payment` (a voided one gives its amount back
to the year's use). Revoking only stops new payments: a pending payment completes or is
released, never half. The principal's own payments lock the same personal-account row, so the
two never overdraw it (the ledger's floor check runs on the locked row).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.audit.service import Actor, record
from medcard.errors import NotFound
from medcard.family import rules
from medcard.family.errors import (
    FamilyHolderNotVerified,
    MutualAidExhausted,
    MutualAidLimitReached,
    MutualAidNotActive,
    MutualAidRegionNotAllowed,
    MutualAidRelationNotCurrent,
    MutualAidSchemeNotEligible,
)
from medcard.family.repository import FamilyRepository
from medcard.kit.clock import CHINA, clock
from medcard.ledger import service as ledger
from medcard.ledger.repository import LedgerRepository
from medcard.ledger.rules import Leg
from medcard.models import Account, InsuranceBinding, JournalEntry, MutualAidGrant, Person, SecurityProfile
from medcard.policy import service as policy

REFUSALS = {
    "region": MutualAidRegionNotAllowed,
    "scheme": MutualAidSchemeNotEligible,
    "relation": MutualAidRelationNotCurrent,
}


@dataclass(frozen=True)
class GrantView:
    """A grant as one side sees it; ``None`` where the sharing scope hides it (R-SEC-07)."""

    id: uuid.UUID
    status: str
    member_id: uuid.UUID
    beneficiary_name: str
    principal_name: str | None
    per_payment_limit_fen: int | None
    per_year_limit_fen: int | None
    used_this_year_fen: int
    personal_account_fen: int | None


def _year() -> int:
    return clock.now().astimezone(CHINA).year


async def _employee_binding(session: AsyncSession, person_id: uuid.UUID) -> InsuranceBinding | None:
    """The principal's active insurance binding, an employee scheme with a personal account first."""
    query = select(InsuranceBinding).where(InsuranceBinding.person_id == person_id, InsuranceBinding.status == "active")
    bindings = list((await session.scalars(query)).unique().all())
    bindings.sort(key=lambda b: b.scheme_code not in rules.MUTUAL_AID_SCHEMES)
    return bindings[0] if bindings else None


async def _active_count(session: AsyncSession, principal_person_id: uuid.UUID) -> int:
    query = select(func.count()).where(
        MutualAidGrant.principal_person_id == principal_person_id, MutualAidGrant.status == "active"
    )
    return int(await session.scalar(query) or 0)


async def _grant(session: AsyncSession, grant_id: uuid.UUID, *, for_update: bool = False) -> MutualAidGrant | None:
    query = select(MutualAidGrant).where(MutualAidGrant.id == grant_id)
    if for_update:
        query = query.with_for_update()
    return (await session.scalars(query)).first()


async def _own_grant(session: AsyncSession, account: Account, grant_id: uuid.UUID) -> MutualAidGrant:
    grant = await _grant(session, grant_id, for_update=True)
    if grant is None or grant.principal_account_id != account.id:
        raise NotFound()
    return grant


async def bind(
    session: AsyncSession,
    *,
    account: Account,
    member_id: uuid.UUID,
    per_payment_limit_fen: int | None,
    per_year_limit_fen: int | None,
    actor: Actor,
) -> MutualAidGrant:
    """Let a current family member pay from my personal account (R-FAM-08); binding him again
    updates the limits (and re-activates a revoked grant)."""
    repository = FamilyRepository(session)
    member = await repository.member(account, member_id)
    if member is None:
        raise NotFound()
    principal = account.person_id
    if principal is None:
        raise FamilyHolderNotVerified()
    binding = await _employee_binding(session, principal)
    region_allows = False
    if binding is not None:
        today = clock.now().astimezone(CHINA).date()
        resolved = await policy.region_policy(session, binding.insured_region_code, on=today)
        region_allows = resolved.policy.family_mutual_aid
    await repository.lock_account(account)  # serialise binds: the 5-member limit under races
    existing = (
        await session.scalars(
            select(MutualAidGrant).where(
                MutualAidGrant.principal_person_id == account.person_id,
                MutualAidGrant.beneficiary_person_id == member.patient_person_id,
            )
        )
    ).first()
    refusal = rules.mutual_aid_refusal(
        region_allows=region_allows,
        scheme_code=binding.scheme_code if binding else None,
        relation_status=member.status,
        active_grants=await _active_count(session, principal),
        already_bound=existing is not None and existing.status == "active",
    )
    if refusal == "limit":
        raise MutualAidLimitReached(max_members=rules.MUTUAL_AID_MAX_MEMBERS)
    if refusal is not None:
        raise REFUSALS[refusal]()
    if binding is None:  # the refusal above already answered "scheme"
        raise MutualAidSchemeNotEligible()
    grant = existing or MutualAidGrant(
        principal_account_id=account.id,
        principal_person_id=principal,
        beneficiary_person_id=member.patient_person_id,
        member_id=member.id,
        used_year=_year(),
        used_fen=0,
    )
    grant.member_id = member.id
    grant.region_code = binding.insured_region_code
    grant.per_payment_limit_fen = per_payment_limit_fen
    grant.per_year_limit_fen = per_year_limit_fen
    grant.status, grant.revoked_at = "active", None
    session.add(grant)
    await session.flush()
    await record(session, actor=actor, action="family.mutual_aid_bound", subject=grant,
                 details={"member_id": str(member.id), "per_payment_limit_fen": per_payment_limit_fen,
                          "per_year_limit_fen": per_year_limit_fen})  # fmt: skip
    return grant


async def set_limits(
    session: AsyncSession,
    *,
    account: Account,
    grant_id: uuid.UUID,
    per_payment_limit_fen: int | None,
    per_year_limit_fen: int | None,
    actor: Actor,
) -> MutualAidGrant:
    grant = await _own_grant(session, account, grant_id)
    if grant.status != "active":
        raise MutualAidNotActive()
    grant.per_payment_limit_fen, grant.per_year_limit_fen = per_payment_limit_fen, per_year_limit_fen
    await session.flush()
    await record(session, actor=actor, action="family.mutual_aid_limits", subject=grant,
                 details={"per_payment_limit_fen": per_payment_limit_fen,
                          "per_year_limit_fen": per_year_limit_fen})  # fmt: skip
    return grant


async def revoke(session: AsyncSession, *, account: Account, grant_id: uuid.UUID, actor: Actor) -> MutualAidGrant:
    """Stop a relative's mutual aid at once for new payments (a pending one completes or is released)."""
    grant = await _own_grant(session, account, grant_id)
    if grant.status == "active":
        grant.status, grant.revoked_at = "revoked", clock.now()
        await session.flush()
        await record(session, actor=actor, action="family.mutual_aid_revoked", subject=grant)
    return grant


async def _views(session: AsyncSession, grants: Sequence[MutualAidGrant], *, as_principal: bool) -> list[GrantView]:
    year = _year()
    result = []
    for grant in grants:
        principal = await session.get(Person, grant.principal_person_id)
        beneficiary = await session.get(Person, grant.beneficiary_person_id)
        scope = "cards_and_bills"
        if not as_principal:
            profile = (
                await session.scalars(
                    select(SecurityProfile).where(SecurityProfile.account_id == grant.principal_account_id)
                )
            ).first()
            scope = profile.family_scope if profile else "none"
        view = rules.mutual_aid_view(scope)
        balance = None
        if view.balance:
            pa = await ledger.ensure(session, [ledger.personal_account(grant.principal_person_id)])
            states = await LedgerRepository(session).balances(list(pa.values()))
            balance = next((s.available_fen for s in states.values()), 0)
        result.append(
            GrantView(
                id=grant.id,
                status=grant.status,
                member_id=grant.member_id,
                beneficiary_name=beneficiary.name if beneficiary else "",
                principal_name=(principal.name if principal else "") if view.principal_name else None,
                per_payment_limit_fen=grant.per_payment_limit_fen,
                per_year_limit_fen=grant.per_year_limit_fen,
                used_this_year_fen=rules.used_this_year(grant.used_year, grant.used_fen, year),
                personal_account_fen=balance,
            )
        )
    return result


async def granted(session: AsyncSession, *, account: Account) -> list[GrantView]:
    """The relatives I let pay from my personal account (active and revoked)."""
    query = (
        select(MutualAidGrant)
        .where(MutualAidGrant.principal_account_id == account.id)
        .order_by(MutualAidGrant.created_at)
    )
    return await _views(session, (await session.scalars(query)).all(), as_principal=True)


async def received(session: AsyncSession, *, account: Account) -> list[GrantView]:
    """Whose personal account may pay for me, as much as each principal's sharing scope shows."""
    query = (
        select(MutualAidGrant)
        .where(MutualAidGrant.beneficiary_person_id == account.person_id, MutualAidGrant.status == "active")
        .order_by(MutualAidGrant.created_at)
    )
    return await _views(session, (await session.scalars(query)).all(), as_principal=False)


async def active_grant_for(session: AsyncSession, beneficiary_person_id: uuid.UUID) -> MutualAidGrant | None:
    query = (
        select(MutualAidGrant)
        .where(MutualAidGrant.beneficiary_person_id == beneficiary_person_id, MutualAidGrant.status == "active")
        .order_by(MutualAidGrant.created_at)
    )
    return (await session.scalars(query)).first()


async def hold_payment(
    session: AsyncSession,
    *,
    grant_id: uuid.UUID,
    wanted_fen: int,
    receiver_account_id: uuid.UUID,
    reference: tuple[str, uuid.UUID] | None = None,
) -> tuple[uuid.UUID, int]:
    """Reserve what the grant may pay of ``wanted_fen`` from the principal's personal account
    towards ``receiver_account_id``: one pending ledger entry recording the beneficiary.
    Returns (entry id, amount); refuses a revoked grant and an exhausted one."""
    grant = await _grant(session, grant_id, for_update=True)
    if grant is None:
        raise NotFound()
    if grant.status != "active":
        raise MutualAidNotActive()
    ids = await ledger.ensure(session, [ledger.personal_account(grant.principal_person_id)])
    personal = next(iter(ids.values()))
    states = await LedgerRepository(session).lock([personal, receiver_account_id])  # id order
    state = states[personal]
    year = _year()
    used = rules.used_this_year(grant.used_year, grant.used_fen, year)
    amount = rules.mutual_aid_allowance(
        wanted_fen,
        available_fen=state.available_fen - (state.floor_fen or 0),
        per_payment_limit_fen=grant.per_payment_limit_fen,
        per_year_limit_fen=grant.per_year_limit_fen,
        used_this_year_fen=used,
    )
    if amount <= 0:
        raise MutualAidExhausted()
    legs = [Leg(personal, -amount, "family_mutual_aid"), Leg(receiver_account_id, amount, "hospital")]
    memo = {"beneficiary_person_id": str(grant.beneficiary_person_id), "mutual_aid_grant_id": str(grant.id)}
    entry_id = await ledger.hold(session, kind="payment", legs=legs, reference=reference, memo=memo)
    grant.used_year, grant.used_fen = year, used + amount
    await session.flush()
    return entry_id, amount


async def resolve_payment(session: AsyncSession, entry_id: uuid.UUID, *, post_it: bool) -> bool:
    """Post or void a mutual-aid hold whole, exactly once (also after the grant was revoked);
    a voided hold gives its amount back to the grant's use this year."""
    entry = await session.get(JournalEntry, entry_id)
    grant_id = (entry.memo or {}).get("mutual_aid_grant_id") if entry else None
    grant = await _grant(session, uuid.UUID(grant_id), for_update=True) if grant_id else None
    if not await ledger.resolve(session, entry_id, post_it=post_it):
        return False
    if grant is not None and not post_it and entry is not None:
        legs = (await LedgerRepository(session).legs([entry_id]))[entry_id]
        amount = -sum(leg.amount_fen for leg in legs if leg.source == "family_mutual_aid")
        if grant.used_year == _year():
            grant.used_fen = max(0, grant.used_fen - amount)
        await session.flush()
    return True
