"""Family mutual aid (家庭共济, R-FAM-08): an insured employee lets up to 5 relatives of his
current family relations pay from his personal account, within limits he sets; he revokes it.

Money goes through the ordinary payment (``settlement.service``): when the paying patient is
insured in a region whose policy has mutual aid and a relative granted it to him,
:func:`offer_for` names the grant and the principal's personal-account ledger account. The
payment then, in this order, locks the grant row (:func:`lock_grant`), locks every account it
touches — the principal's personal account among them — in id order (the order every ledger
operation uses), caps what that account may give by the grant's limits (:func:`within_limits`)
and places **one** hold whose mutual-aid leg is a posting from the principal's personal account
(source ``family_mutual_aid``) and whose memo names the beneficiary and the grant
(:func:`hold_memo`); :func:`record_use` counts it in the year's use. The hold is posted or
voided whole with the order; an expired order or a refunded mutual-aid share gives its amount
back to the year's use (:func:`give_back`, grant row locked before any account). Revoking only
stops new payments: a pending payment completes or is released, never half. The principal's
own payments lock the same personal-account row, so the two never overdraw it (the ledger's
floor check runs on the locked row).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters.insurance import InsurancePlatform
from medcard.audit.service import Actor, record
from medcard.errors import NotFound
from medcard.family import rules
from medcard.family.errors import (
    FamilyHolderNotVerified,
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
from medcard.models import Account, InsuranceBinding, MutualAidGrant, PaymentOrder, Person, SecurityProfile
from medcard.policy import service as policy
from medcard.settlement import facts
from medcard.settlement import rules as settlement_rules

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
    if for_update:  # the locked row's values, not the identity map's older copy
        query = query.with_for_update().execution_options(populate_existing=True)
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


@dataclass(frozen=True)
class Offer:
    """A relative's mutual aid that may pay part of one payment (R-FAM-08)."""

    grant_id: uuid.UUID
    beneficiary_person_id: uuid.UUID
    account_id: uuid.UUID
    """The principal's personal account in the ledger (the mutual-aid leg's account)."""
    person_number: str
    """The principal's person number on the insurance platform (6202 ``acctMulaidPsnNo``)."""


async def active_grant_for(
    session: AsyncSession, beneficiary_person_id: uuid.UUID, *, lock: bool = False
) -> MutualAidGrant | None:
    """The oldest active grant for a beneficiary (one indexed read; ``lock``: FOR UPDATE)."""
    query = (
        select(MutualAidGrant)
        .where(MutualAidGrant.beneficiary_person_id == beneficiary_person_id, MutualAidGrant.status == "active")
        .order_by(MutualAidGrant.created_at)
        .limit(1)
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(query)).first()


async def offer_for(
    session: AsyncSession, payer_person_id: uuid.UUID, *, world_id: uuid.UUID, platform: InsurancePlatform
) -> Offer | None:
    """The mutual aid a paying patient may use (the caller asks only where his insured region's
    policy has it): an active grant of an employee still insured with a personal account, whose
    ledger account is first brought to the platform's balance (1101); ``None`` otherwise.
    The grant row is locked first: the mirror entry then locks that personal account, and the
    fixed order — grant, then accounts — holds for the whole payment."""
    grant = await active_grant_for(session, payer_person_id, lock=True)
    if grant is None or grant.principal_person_id == payer_person_id:
        return None
    binding = await _employee_binding(session, grant.principal_person_id)
    principal = await session.get(Person, grant.principal_person_id)
    if binding is None or binding.scheme_code not in rules.MUTUAL_AID_SCHEMES or principal is None:
        return None
    ids = await ledger.ensure(session, [ledger.personal_account(grant.principal_person_id)])
    account_id = next(iter(ids.values()))
    await facts.mirror_personal_account(session, principal, account_id, world_id, platform)
    return Offer(grant.id, payer_person_id, account_id, binding.platform_person_number)


async def principal_binding(session: AsyncSession, grant_id: uuid.UUID) -> InsuranceBinding | None:
    """The principal's insurance binding behind a grant (his platform person number, for 1101 / 6202)."""
    grant = await session.get(MutualAidGrant, grant_id)
    return await _employee_binding(session, grant.principal_person_id) if grant is not None else None


async def lock_grant(session: AsyncSession, grant_id: uuid.UUID) -> MutualAidGrant | None:
    """Lock the grant row — always before any ledger account (the fixed lock order)."""
    return await _grant(session, grant_id, for_update=True)


def within_limits(balances: settlement_rules.Balances, grant: MutualAidGrant | None) -> settlement_rules.Balances:
    """``balances`` with the mutual-aid room (the principal's available personal account) cut
    to the grant's per-payment limit and what is left of its yearly one; nothing once revoked."""
    if grant is None or grant.status != "active":
        return replace(balances, family_mutual_aid_fen=0)
    room = max(0, balances.family_mutual_aid_fen)
    allowance = rules.mutual_aid_allowance(
        room,
        available_fen=room,
        per_payment_limit_fen=grant.per_payment_limit_fen,
        per_year_limit_fen=grant.per_year_limit_fen,
        used_this_year_fen=rules.used_this_year(grant.used_year, grant.used_fen, _year()),
    )
    return replace(balances, family_mutual_aid_fen=allowance)


def hold_memo(offer: Offer) -> dict[str, Any]:
    """What the payment's ledger entry records about the mutual-aid leg: the beneficiary and the grant."""
    return {"beneficiary_person_id": str(offer.beneficiary_person_id), "mutual_aid_grant_id": str(offer.grant_id)}


async def record_use(session: AsyncSession, grant: MutualAidGrant, amount_fen: int) -> None:
    """Count a held mutual-aid share in the grant's use this year (the grant row is locked)."""
    year = _year()
    grant.used_year, grant.used_fen = year, rules.used_this_year(grant.used_year, grant.used_fen, year) + amount_fen
    await session.flush()


async def give_back(session: AsyncSession, order: PaymentOrder, amount_fen: int) -> None:
    """A released or refunded mutual-aid share of ``order`` goes back to its grant's use — of
    the year the order was made (a share of last year does not lower this year's count). Locks
    the grant row first (before any account)."""
    if order.mutual_aid_grant_id is None or amount_fen <= 0:
        return
    grant = await lock_grant(session, order.mutual_aid_grant_id)
    if grant is not None and grant.used_year == order.created_at.astimezone(CHINA).year:
        grant.used_fen = max(0, grant.used_fen - amount_fen)
        await session.flush()


async def order_account(session: AsyncSession, order: PaymentOrder) -> dict[str, uuid.UUID]:
    """``{"family_mutual_aid": principal's personal account}`` for an order a relative's mutual
    aid paid part of (refunds give that share back there), else empty."""
    grant = await session.get(MutualAidGrant, order.mutual_aid_grant_id) if order.mutual_aid_grant_id else None
    if grant is None:
        return {}
    ids = await ledger.ensure(session, [ledger.personal_account(grant.principal_person_id)])
    return {"family_mutual_aid": next(iter(ids.values()))}
