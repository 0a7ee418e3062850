"""PostgreSQL: family mutual aid (R-FAM-08) and the principal's own payments race on one
personal account and never overdraw it; revoking a member while his payments are pending
completes or releases each of them whole, never half."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from medcard.adapters import sandbox_adapters
from medcard.audit.service import Actor
from medcard.config import Settings
from medcard.db import make_sessionmaker, unit_of_work
from medcard.family import mutual_aid, service
from medcard.family.errors import MutualAidExhausted, MutualAidNotActive
from medcard.family.schemas import FamilyMemberCreate
from medcard.ledger import service as ledger
from medcard.ledger.errors import InsufficientFunds
from medcard.ledger.repository import LedgerRepository
from medcard.ledger.rules import Leg
from medcard.models import Account, FamilyMember, JournalEntry, MutualAidGrant
from tests.factories import verified_account
from tests.family.helpers import PROOF, person

pytestmark = pytest.mark.postgres

START_FEN = 10_000
YEAR_LIMIT_FEN = 6_000


async def _setup(engine: AsyncEngine, settings: Settings) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID]:
    """A principal with one active relation, a grant (unit step: the bind path is the API
    test's), a funded personal account and a receiver; (account, grant, personal, receiver)."""
    sessions = make_sessionmaker(engine)
    async with unit_of_work(sessions) as session:
        account = await verified_account(session, name="陈共济", birth=date(1980, 1, 1))
        claim = FamilyMemberCreate(
            document_number=person(settings, "陈父", date(1950, 1, 1)),
            name="陈父",
            relation="parent",
            proof_kind="household_register",
        )
        member = await service.add_member(
            session,
            account=account,
            claim=claim,
            documents={"relation_proof": PROOF},
            adapters=sandbox_adapters(settings),
            settings=settings,
        )
        await session.execute(update(FamilyMember).where(FamilyMember.id == member.id).values(status="active"))
        assert account.person_id is not None
        grant = MutualAidGrant(
            principal_account_id=account.id,
            principal_person_id=account.person_id,
            member_id=member.id,
            beneficiary_person_id=member.patient_person_id,
            region_code="440100",
            per_year_limit_fen=YEAR_LIMIT_FEN,
            used_year=2026,
        )
        session.add(grant)
        tag = uuid.uuid4()
        specs = [
            ledger.personal_account(account.person_id),
            ledger.AccountSpec("world", f"world:pg:{tag}"),
            ledger.AccountSpec("hospital_receivable", f"hospital_receivable:pg:{tag}"),
        ]
        ids = await ledger.ensure(session, specs)
        personal, world, hospital = (ids[spec.key] for spec in specs)
        legs = [Leg(world, -START_FEN, "world"), Leg(personal, START_FEN, "personal_account")]
        await ledger.post(session, kind="top_up", legs=legs)
        await session.flush()
        return account.id, grant.id, personal, hospital


async def test_r_fam_08_mutual_aid_and_own_payments_race_and_never_overdraw_the_personal_account(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    """20 of the principal's own 700-fen payments and 20 of his relative's mutual-aid payments
    hit a 10,000-fen personal account at once (hold, then post): the account ends ≥ 0 with
    nothing held, exactly what succeeded left it, and mutual aid stays within its yearly 6,000."""
    _, grant_id, personal, hospital = await _setup(isolated_engine, settings)
    sessions = make_sessionmaker(isolated_engine)
    start = asyncio.Event()

    async def own() -> tuple[str, int]:
        await start.wait()
        try:
            async with unit_of_work(sessions) as session:
                legs = [Leg(personal, -700, "personal_account"), Leg(hospital, 700, "hospital")]
                entry = await ledger.hold(session, kind="payment", legs=legs)
                await ledger.resolve(session, entry, post_it=True)
        except InsufficientFunds:
            return "own", 0
        return "own", 700

    async def aid() -> tuple[str, int]:
        await start.wait()
        try:
            async with unit_of_work(sessions) as session:
                entry, amount = await mutual_aid.hold_payment(
                    session, grant_id=grant_id, wanted_fen=700, receiver_account_id=hospital
                )
                await mutual_aid.resolve_payment(session, entry, post_it=True)
        except (InsufficientFunds, MutualAidExhausted):
            return "aid", 0
        return "aid", amount

    tasks = [asyncio.create_task(own() if i % 2 else aid()) for i in range(40)]
    start.set()
    results = await asyncio.gather(*tasks)
    paid_own = sum(amount for who, amount in results if who == "own")
    paid_aid = sum(amount for who, amount in results if who == "aid")
    async with sessions() as session:
        state = (await LedgerRepository(session).balances([personal]))[personal]
        grant = await session.get(MutualAidGrant, grant_id)
        assert grant is not None
        assert state.balance_fen >= 0 and state.held_fen == 0
        assert state.balance_fen == START_FEN - paid_own - paid_aid
        assert paid_aid <= YEAR_LIMIT_FEN and grant.used_fen == paid_aid
        assert paid_own + paid_aid > 0
        assert await LedgerRepository(session).total() == 0


async def test_r_fam_08_revoking_while_payments_are_pending_completes_or_releases_each_whole(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    """Six pending mutual-aid payments; the principal revokes while each is posted or voided
    concurrently: every hold ends posted or voided as a whole, the account moved by exactly
    the posted ones, nothing stays held, and no new payment starts after the revocation."""
    account_id, grant_id, personal, hospital = await _setup(isolated_engine, settings)
    sessions = make_sessionmaker(isolated_engine)
    entries: list[tuple[uuid.UUID, int]] = []
    for _ in range(6):
        async with unit_of_work(sessions) as session:
            entries.append(
                await mutual_aid.hold_payment(session, grant_id=grant_id, wanted_fen=500, receiver_account_id=hospital)
            )
    start = asyncio.Event()

    async def revoke() -> None:
        await start.wait()
        async with unit_of_work(sessions) as session:
            account = await session.get(Account, account_id)
            assert account is not None
            await mutual_aid.revoke(session, account=account, grant_id=grant_id, actor=Actor.system("test"))

    async def resolve(entry_id: uuid.UUID, post_it: bool) -> None:
        await start.wait()
        async with unit_of_work(sessions) as session:
            await mutual_aid.resolve_payment(session, entry_id, post_it=post_it)

    tasks = [asyncio.create_task(revoke())]
    tasks += [asyncio.create_task(resolve(entry, index % 2 == 0)) for index, (entry, _) in enumerate(entries)]
    start.set()
    await asyncio.gather(*tasks)

    async with unit_of_work(sessions) as session:
        with pytest.raises(MutualAidNotActive):
            await mutual_aid.hold_payment(session, grant_id=grant_id, wanted_fen=1, receiver_account_id=hospital)
    async with sessions() as session:
        states = {}
        for entry_id, _ in entries:
            found = await session.get(JournalEntry, entry_id)
            assert found is not None
            states[entry_id] = found.state
        assert set(states.values()) <= {"posted", "voided"}
        posted = sum(amount for entry_id, amount in entries if states[entry_id] == "posted")
        assert posted == 3 * 500
        state = (await LedgerRepository(session).balances([personal]))[personal]
        assert (state.balance_fen, state.held_fen) == (START_FEN - posted, 0)
        grant = await session.get(MutualAidGrant, grant_id)
        assert grant is not None and grant.status == "revoked" and grant.used_fen == posted
        assert await LedgerRepository(session).total() == 0
