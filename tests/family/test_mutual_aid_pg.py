"""PostgreSQL: family mutual aid (R-FAM-08) through the real payment service. Many payments —
the employee's own and his relative's mutual-aid ones — race on one personal account and never
overdraw it; revoking the relative while his payments are pending completes or releases each
of them whole, never half."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from medcard.adapters import Adapters, sandbox_adapters
from medcard.adapters.his import BillItem, SandboxHis
from medcard.adapters.insurance import SandboxInsurancePlatform
from medcard.audit.service import Actor
from medcard.config import Settings
from medcard.db import make_sessionmaker, unit_of_work
from medcard.errors import MedCardError
from medcard.family import mutual_aid
from medcard.kit.clock import clock
from medcard.ledger import service as ledger
from medcard.ledger.repository import LedgerRepository
from medcard.models import (
    Account,
    Card,
    FamilyMember,
    JournalEntry,
    MutualAidGrant,
    PaymentOrder,
    Person,
)
from medcard.policy.service import load_shipped
from medcard.settlement import facts, jobs, service
from tests.card.conftest import issue_card
from tests.factories import demo, resident_id, verified_account
from tests.settlement.conftest import bind_row, channel

pytestmark = pytest.mark.postgres

START_FEN = 10_000
YEAR_LIMIT_FEN = 6_000
ACTOR = Actor.system("test")


@dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    adapters: Adapters
    principal: Card
    member: Card
    grant_id: uuid.UUID
    personal: uuid.UUID
    principal_number: str


async def world(engine: AsyncEngine, settings: Settings, *, per_year_fen: int | None = YEAR_LIMIT_FEN) -> World:
    """An employee (310) and his father (a resident, 390), both insured in Guangzhou, each with a
    card at the demo hospital; the father's relation and grant as rows (unit steps: the API
    tests cover adding and binding); the employee's personal account holds START_FEN on the
    platform and, mirrored, in the ledger."""
    sessions = make_sessionmaker(engine)
    adapters = sandbox_adapters(settings)
    platform = adapters.insurance
    assert isinstance(platform, SandboxInsurancePlatform)
    async with unit_of_work(sessions) as session:
        where = await demo(session)
        await load_shipped(session)
        cards, numbers = [], []
        for sequence, name, birth in ((5, "陈共济", date(1980, 1, 1)), (45, "陈父", date(1950, 1, 1))):
            document = resident_id(region="440106", birth=birth, sequence=sequence)
            account = await verified_account(session, name=name, document_number=document, birth=birth)
            card = await issue_card(session, adapters, account, where.hospital)
            cards.append(card)
            numbers.append(await bind_row(session, adapters, card, name, document, "440100"))
        principal, member = cards
        platform.balances[numbers[0]], platform.balances[numbers[1]] = START_FEN, 0
        relation = FamilyMember(account_id=principal.account_id, patient_person_id=member.person_id,
                                relation="parent", proof_kind="household_register", status="active")  # fmt: skip
        session.add(relation)
        await session.flush()
        grant = MutualAidGrant(principal_account_id=principal.account_id, principal_person_id=principal.person_id,
                               member_id=relation.id, beneficiary_person_id=member.person_id, region_code="440100",
                               per_year_limit_fen=per_year_fen, used_year=clock.now().year)  # fmt: skip
        session.add(grant)
        await session.flush()
        ids = await ledger.ensure(session, [ledger.personal_account(principal.person_id), ledger.WORLD])
        personal = ids[f"personal_account:{principal.person_id}"]
        person = await session.get(Person, principal.person_id)
        assert person is not None
        await facts.mirror_personal_account(session, person, personal, ids["world"], platform)
        for card in cards:
            account = await session.get(Account, card.account_id)
            assert account is not None
            channel(adapters).set_wallet(account.openid, 100_000_000)
    return World(sessions, adapters, principal, member, grant.id, personal, numbers[0])


def bill(adapters: Adapters, card: Card, amount: int, kind: str = "outpatient") -> str:
    his = adapters.his
    assert isinstance(his, SandboxHis)
    line = BillItem("T001", "测试项目", "C", 0, amount, 1)  # type: ignore[arg-type]
    return his.add_bill(hospital_code="H110001", patient_id=card.his_patient_id, kind=kind, items=[line]).bill_no  # type: ignore[arg-type]


async def pay(w: World, card: Card, bill_number: str, key: str) -> PaymentOrder:
    async with unit_of_work(w.sessions) as session:
        fresh = await session.get(Card, card.id)
        assert fresh is not None
        return await service.pay(session, card=fresh, bill_number=bill_number, scenario="online", key=key,
                                 actor=ACTOR, adapters=w.adapters)  # fmt: skip


async def test_r_fam_08_mutual_aid_and_own_payments_race_and_never_overdraw_the_personal_account(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    """20 of the employee's own 700-yuan-cent payments and 20 of his father's hit a 100-yuan
    personal account at once through the payment service: every order is paid (the rest of a
    bill goes to the next sources), the account ends ≥ 0 with nothing held, down by exactly
    what its legs took, the platform agrees, and mutual aid stays within its yearly 60 yuan."""
    w = await world(isolated_engine, settings)
    jobs_ = [(w.principal if i % 2 else w.member, bill(w.adapters, w.principal if i % 2 else w.member, 700))
             for i in range(40)]  # fmt: skip
    start = asyncio.Event()

    async def one(card: Card, number: str, index: int) -> PaymentOrder | str:
        await start.wait()
        try:
            return await pay(w, card, number, f"race-{index}")
        except MedCardError as refused:
            return refused.code

    tasks = [asyncio.create_task(one(card, number, i)) for i, (card, number) in enumerate(jobs_)]
    start.set()
    results = await asyncio.gather(*tasks)
    orders = [r for r in results if isinstance(r, PaymentOrder)]
    assert len(orders) == 40, [r for r in results if not isinstance(r, PaymentOrder)]
    assert all(order.state == "paid" for order in orders)
    own = sum(int(o.funding["personal_account_fen"]) for o in orders if o.card_id == w.principal.id)
    aid = sum(int(o.funding["family_mutual_aid_fen"]) for o in orders if o.card_id == w.member.id)
    assert own > 0 and aid > 0
    async with w.sessions() as session:
        state = (await LedgerRepository(session).balances([w.personal]))[w.personal]
        grant = await session.get(MutualAidGrant, w.grant_id)
        assert grant is not None
        assert state.balance_fen >= 0 and state.held_fen == 0
        assert state.balance_fen == START_FEN - own - aid
        assert aid <= YEAR_LIMIT_FEN and grant.used_fen == aid
        platform = w.adapters.insurance
        assert isinstance(platform, SandboxInsurancePlatform)
        assert platform.balance(w.principal_number) == state.balance_fen
        assert await LedgerRepository(session).total() == 0
        assert await LedgerRepository(session).drift() == []


async def test_r_fam_08_revoking_while_payments_are_pending_completes_or_releases_each_whole(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    """Six of the father's prescription-drug payments made by his son's account wait for the
    guardian's second confirmation (R-FAM-04), each holding mutual aid. The son revokes the
    grant while, concurrently, three are confirmed (they complete) and three expire (they are
    released): each ends paid or expired as a whole, the personal account moved by exactly the
    paid ones, nothing stays held, the grant counts only them, and the next payment has none."""
    w = await world(isolated_engine, settings, per_year_fen=None)

    # The father's card under the son's account: the son pays for him (a proxied patient).
    async with unit_of_work(w.sessions) as session:
        card = await session.get(Card, w.member.id)
        assert card is not None
        card.account_id = w.principal.account_id
    pending = []
    for index in range(6):
        order = await pay(w, w.member, bill(w.adapters, w.member, 500, kind="drug"), f"drug-{index}")
        assert order.guardian_confirmation == "awaiting" and order.state == "pending"
        assert int(order.funding["family_mutual_aid_fen"]) == 500
        pending.append(order.id)
    start = asyncio.Event()

    async def revoke() -> None:
        await start.wait()
        async with unit_of_work(w.sessions) as session:
            account = await session.get(Account, w.principal.account_id)
            assert account is not None
            await mutual_aid.revoke(session, account=account, grant_id=w.grant_id, actor=ACTOR)

    async def confirm(order_id: uuid.UUID) -> None:
        await start.wait()
        async with unit_of_work(w.sessions) as session:
            account = await session.get(Account, w.principal.account_id)
            assert account is not None
            await service.confirm_for_relative(
                session, account=account, order_id=order_id, actor=ACTOR, adapters=w.adapters
            )

    async def expire(order_id: uuid.UUID) -> None:
        await start.wait()
        async with unit_of_work(w.sessions) as session:
            await jobs.expire_order(session, order_id=order_id, adapters=w.adapters,
                                    now=clock.now() + timedelta(minutes=16))  # fmt: skip

    tasks = [asyncio.create_task(revoke())]
    tasks += [asyncio.create_task(confirm(o) if i % 2 == 0 else expire(o)) for i, o in enumerate(pending)]
    start.set()
    await asyncio.gather(*tasks)

    async with w.sessions() as session:
        orders = (await session.scalars(select(PaymentOrder).where(PaymentOrder.id.in_(pending)))).all()
        assert sorted(o.state for o in orders) == ["expired"] * 3 + ["paid"] * 3
        for order in orders:
            entry = await session.get(JournalEntry, order.hold_entry_id)
            assert entry is not None and entry.state == ("posted" if order.state == "paid" else "voided")
        state = (await LedgerRepository(session).balances([w.personal]))[w.personal]
        assert (state.balance_fen, state.held_fen) == (START_FEN - 3 * 500, 0)
        grant = await session.get(MutualAidGrant, w.grant_id)
        assert grant is not None and grant.status == "revoked" and grant.used_fen == 3 * 500
        assert await LedgerRepository(session).total() == 0
    after = await pay(w, w.member, bill(w.adapters, w.member, 500), "after-revoke")
    assert int(after.funding["family_mutual_aid_fen"]) == 0
