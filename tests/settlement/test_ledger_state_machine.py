"""A Hypothesis state machine over random settlement operations — pay (split over fund,
personal account, deposit, credit line and channel payments), a payment left pending when
the channel refuses, retry once the money arrived, refund (partial or full), expire,
reimburse a deferred scheme, top up the deposit, repay the credit line, and family mutual aid
(R-FAM-08: the relative's payments draw on the employee's personal account after his own —
paid, left pending, retried, expired, refunded, while the grant is revoked and bound again)
— checking after every step (R-PAY-01, R-PAY-04, R-PAY-06, R-CARD-09/10, R-INS-04, R-FAM-08):

* I1 the ledger sums to zero; every entry balances;
* I2 no personal account or deposit below zero, no credit line below −2,000 yuan;
* I4 every stored balance equals the sum of its posted postings, every held amount the sum
  of what the pending entries reserve;
* I7 refunds never exceed what each source gave to each order;
* I8 a mutual-aid grant's use this year is what its pending and paid orders of the year took
  less what was refunded, and equals what the ledger's family_mutual_aid legs took from the
  employee's personal account (held or posted, less refunds); never above the yearly limit.

It runs on a SQLite database of its own (its rows are committed), in a thread with its own
event loop, because Hypothesis drives the steps synchronously."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from medcard.adapters import Adapters, sandbox_adapters
from medcard.adapters.insurance import SandboxInsurancePlatform
from medcard.audit.service import Actor
from medcard.config import Settings
from medcard.db import make_engine, make_sessionmaker, unit_of_work
from medcard.errors import MedCardError
from medcard.jobs.worker import Worker
from medcard.kit.clock import CHINA, clock
from medcard.ledger import rules as ledger_rules
from medcard.ledger.repository import LedgerRepository
from medcard.migrate import upgrade
from medcard.models import (
    Card,
    FamilyMember,
    JournalEntry,
    LedgerAccount,
    MutualAidGrant,
    PaymentOrder,
)
from medcard.policy.service import load_shipped
from medcard.settlement import refunds, rules, service, wallet
from tests.card.conftest import issue_card
from tests.factories import demo, resident_id, verified_account
from tests.settlement.conftest import bind_row, channel, his

ACTOR = Actor.system("state-machine")
START = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
"""A fixed start (10:00 in China) so every example replays the same way."""


@dataclass
class World:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    adapters: Adapters
    cards: list[Card]
    grant_id: Any = None
    """R-FAM-08: the employee (card 0) lets his relative (card 2, insured in Guangzhou with an empty
    personal account) pay from his personal account."""


async def _world(settings_: Settings, loop: asyncio.AbstractEventLoop) -> World:
    await loop.run_in_executor(None, upgrade, settings_)
    engine = make_engine(settings_)
    sessions = make_sessionmaker(engine)
    adapters = sandbox_adapters(settings_)
    platform = adapters.insurance
    assert isinstance(platform, SandboxInsurancePlatform)
    cards = []
    async with unit_of_work(sessions) as session:
        where = await demo(session)
        await load_shipped(session)
        people = (
            (5, "甲职工", "110105", "110000"),
            (45, "乙居民", "110105", "110000"),
            (6, "丙共济", "440106", "440100"),
        )
        for sequence, name, home, insured in people:
            birth = date(1961, 2, 3)
            number = resident_id(region=home, birth=birth, sequence=sequence)
            account = await verified_account(session, name=name, document_number=number, birth=birth)
            card = await issue_card(session, adapters, account, where.hospital)
            person_number = await bind_row(session, adapters, card, name, number, insured)
            if insured != "110000":  # R-FAM-08: the relative's own personal account is empty
                platform.balances[person_number] = 0
            cards.append(card)
        grant_id = await _grant(session, principal=cards[0], beneficiary=cards[2])
    return World(engine, sessions, adapters, cards, grant_id)


async def _grant(session: AsyncSession, *, principal: Card, beneficiary: Card) -> Any:
    """A family relation and a mutual-aid grant row (unit step: the bind path has its API tests)."""
    member = FamilyMember(account_id=principal.account_id, patient_person_id=beneficiary.person_id, relation="parent",
                          proof_kind="household_register", status="active")  # fmt: skip
    session.add(member)
    await session.flush()
    grant = MutualAidGrant(principal_account_id=principal.account_id, principal_person_id=principal.person_id,
                           member_id=member.id, beneficiary_person_id=beneficiary.person_id, region_code="440100",
                           per_payment_limit_fen=30_000, per_year_limit_fen=80_000, used_year=2026)  # fmt: skip
    session.add(grant)
    await session.flush()
    return grant.id


class Settlement(RuleBasedStateMachine):
    """Random operations on three patients (employee, resident, the employee's relative insured in
    Guangzhou, where mutual aid is allowed) at one hospital in Beijing."""

    world: World

    loop: asyncio.AbstractEventLoop
    directory: Path
    base: Settings
    examples = 0
    seen: ClassVar[dict[str, int]] = {}

    def __init__(self) -> None:
        super().__init__()
        self.keys = 0
        clock.freeze(START)
        Settlement.examples += 1
        url = f"sqlite+aiosqlite:///{self.directory / f'ledger-{Settlement.examples}.db'}"
        self.world = self.run(_world(self.base.model_copy(update={"database_url": url}), self.loop))

    def teardown(self) -> None:
        self.run(self.world.engine.dispose())

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def saw(self, outcome: str, count: int = 1) -> None:
        Settlement.seen[outcome] = Settlement.seen.get(outcome, 0) + count

    def key(self) -> str:
        self.keys += 1
        return f"sm-{self.keys}"

    async def _pay(self, card: Card, items: list[tuple[str, int]], wallet_fen: int) -> None:
        lines = [(f"S{i}", f"项目{i}", category, 1500 if category == "B" else 0, amount, 1)
                 for i, (category, amount) in enumerate(items)]  # fmt: skip
        from medcard.adapters.his import BillItem

        bill = his(self.world.adapters).add_bill(hospital_code="H110001", patient_id=card.his_patient_id,
                                                 kind="outpatient", items=[BillItem(*line) for line in lines])  # type: ignore[arg-type]  # fmt: skip
        account = await self._openid(card)
        channel(self.world.adapters).set_wallet(account, wallet_fen)
        try:
            async with unit_of_work(self.world.sessions) as session:
                order = await service.pay(session, card=card, bill_number=bill.bill_no, scenario="online",
                                          key=self.key(), actor=ACTOR, adapters=self.world.adapters)  # fmt: skip
            self.saw(f"order_{order.state}")
            if int(order.funding.get("family_mutual_aid_fen", 0)):
                self.saw(f"mutual_aid_{order.state}")
        except MedCardError as refused:
            self.saw(refused.code)  # refused (e.g. insufficient funds on a source): nothing may have moved

    async def _openid(self, card: Card) -> str:
        async with self.world.sessions() as session:
            from medcard.models import Account

            account = await session.get(Account, card.account_id)
            assert account is not None
            return account.openid

    @rule(
        who=st.integers(0, 2),
        items=st.lists(st.tuples(st.sampled_from("ABC"), st.integers(1, 250_000)), min_size=1, max_size=3),
        rich=st.booleans(),
    )
    def pay(self, who: int, items: list[tuple[str, int]], rich: bool) -> None:
        self.run(self._pay(self.world.cards[who], items, 10_000_000 if rich else 0))

    @rule(amount=st.integers(200_001, 600_000))
    def pay_beyond_credit_with_an_empty_wallet(self, amount: int) -> None:
        """The relative's bill is larger than mutual aid and the credit line together and the
        channel has no money: the order stays pending with its holds (R-PAY-04, R-FAM-08)."""
        self.run(self._pay(self.world.cards[2], [("C", amount)], 0))

    @rule(who=st.integers(0, 2), amount=st.integers(1, 90_000))
    def pay_one_item(self, who: int, amount: int) -> None:
        """A second, simpler payment rule: payments are the operation most worth repeating."""
        self.run(self._pay(self.world.cards[who], [("A", amount)], 10_000_000))

    @rule()
    def money_arrives_and_pending_orders_retry(self) -> None:
        async def go() -> None:
            async with unit_of_work(self.world.sessions) as session:
                pending = (await session.scalars(select(PaymentOrder).where(PaymentOrder.state == "pending"))).all()
            for order in pending:
                channel(self.world.adapters).set_wallet(await self._openid(await self._card(order)), 10_000_000)
                async with unit_of_work(self.world.sessions) as session:
                    fresh = await session.get(PaymentOrder, order.id)
                    assert fresh is not None
                    await service.retry(session, order=fresh, adapters=self.world.adapters)

        self.run(go())

    async def _count(self, state: str) -> int:
        async with self.world.sessions() as session:
            orders = (await session.scalars(select(PaymentOrder.id).where(PaymentOrder.state == state))).all()
        return len(orders)

    async def _card(self, order: PaymentOrder) -> Card:
        return next(card for card in self.world.cards if card.id == order.card_id)

    @rule(pick=st.integers(0, 50), share=st.sampled_from([None, 1, 3, 10, 50, 99]))
    def refund(self, pick: int, share: int | None) -> None:
        async def go() -> None:
            async with self.world.sessions() as session:
                paid = (await session.scalars(select(PaymentOrder).where(PaymentOrder.state == "paid"))).all()
            if not paid:
                return
            order = paid[pick % len(paid)]
            room = sum(refunds.refundable(order).values())
            amount = None if share is None or room == 0 else max(1, room * share // 100)
            try:
                async with unit_of_work(self.world.sessions) as session:
                    fresh = await session.get(PaymentOrder, order.id)
                    assert fresh is not None
                    await refunds.refund(session, order=fresh, amount_fen=amount, key=self.key(), reason="",
                                         actor=ACTOR, adapters=self.world.adapters)  # fmt: skip
                self.saw("refund")
            except MedCardError as refused:
                self.saw(refused.code)

        self.run(go())

    @rule()
    def expire(self) -> None:
        """16 minutes pass and the durable job worker runs, as ``medcard worker --once`` does:
        this period's periodic jobs (the expiry sweep among them), then every job due (R-PAY-04)."""

        async def go() -> None:
            clock.freeze(clock.now() + timedelta(minutes=16))
            pending = await self._count("pending")
            worker = Worker(self.world.sessions, settings=self.base, adapters=self.world.adapters)
            await worker.schedule_periodic(force=True)
            await worker.drain()
            self.saw("expired", pending - await self._count("pending"))

        self.run(go())

    @rule()
    def reimburse(self) -> None:
        """Nine days pass and the worker runs the deferred reimbursements that are due (R-INS-04)."""

        async def go() -> None:
            clock.freeze(clock.now() + timedelta(days=9))
            await Worker(self.world.sessions, settings=self.base, adapters=self.world.adapters).drain()

        self.run(go())

    @rule(who=st.integers(0, 2), amount=st.integers(1, 80_000))
    def top_up(self, who: int, amount: int) -> None:
        async def go() -> None:
            card = self.world.cards[who]
            channel(self.world.adapters).set_wallet(await self._openid(card), 10_000_000)
            async with unit_of_work(self.world.sessions) as session:
                await wallet.top_up(session, card=card, amount_fen=amount, key=self.key(), actor=ACTOR,
                                    adapters=self.world.adapters)  # fmt: skip

        self.run(go())

    @rule(who=st.integers(0, 2), share=st.integers(1, 100))
    def repay(self, who: int, share: int) -> None:
        async def go() -> None:
            card = self.world.cards[who]
            async with self.world.sessions() as session:
                owed = (await wallet.wallet(session, card=card)).credit_owed_fen
            if owed == 0:
                return
            channel(self.world.adapters).set_wallet(await self._openid(card), 10_000_000)
            async with unit_of_work(self.world.sessions) as session:
                await wallet.repay_credit(session, card=card, amount_fen=max(1, owed * share // 100),
                                          key=self.key(), actor=ACTOR, adapters=self.world.adapters)  # fmt: skip

        self.run(go())

    @rule(amount=st.integers(1, 60_000), rich=st.booleans())
    def mutual_aid_pay(self, amount: int, rich: bool) -> None:
        """R-FAM-08: the relative pays; after his own (empty) personal account the employee's
        pays within the grant's limits; with an empty wallet the rest may leave it pending."""
        self.run(self._pay(self.world.cards[2], [("C", amount)], 10_000_000 if rich else 0))

    @rule()
    def mutual_aid_revoke_or_bind_again(self) -> None:
        """Revocation while uses are pending: they still post or void whole later."""

        async def go() -> None:
            async with unit_of_work(self.world.sessions) as session:
                grant = await session.get(MutualAidGrant, self.world.grant_id)
                assert grant is not None
                grant.status = "active" if grant.status == "revoked" else "revoked"
            self.saw("mutual_aid_toggled")

        self.run(go())

    @invariant()
    def mutual_aid_use(self) -> None:
        self.run(check_mutual_aid(self.world.sessions, self.world.grant_id))

    @invariant()
    def books(self) -> None:
        self.run(check_books(self.world.sessions))


async def check_books(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        repository = LedgerRepository(session)
        assert await repository.total() == 0  # I1
        assert await repository.unbalanced_entries() == []
        assert await repository.drift() == []  # I4
        accounts = (await session.scalars(select(LedgerAccount))).all()
        for account in accounts:  # I2
            available = account.balance_fen - account.held_fen
            if account.kind in ("personal_account", "deposit"):
                assert available >= 0, account.key
            if account.kind == "credit_line":
                assert available >= -200_000, account.key
        pending = (await session.scalars(select(JournalEntry.id).where(JournalEntry.state == "pending"))).all()
        floored = {a.id for a in accounts if a.floor_fen is not None}
        reserved: dict[Any, int] = {}
        for legs in (await repository.legs(list(pending))).values():
            for account_id, amount in ledger_rules.reservations(legs).items():
                if account_id in floored:  # a hold reserves only where there is a floor (ADR 0012)
                    reserved[account_id] = reserved.get(account_id, 0) + amount
        assert {a.id: a.held_fen for a in accounts if a.held_fen} == reserved  # holds match pending entries
        for order in (await session.scalars(select(PaymentOrder))).all():  # I7
            reimbursed = order.deferred_fund_fen if order.reimbursed_at is not None else 0
            gave = rules.effective_captured(order.funding, reimbursed_fen=reimbursed)
            assert all(0 <= int(order.refunded.get(s, 0)) <= gave[s] for s in rules.SOURCES), order.id


async def check_mutual_aid(sessions: async_sessionmaker[AsyncSession], grant_id: Any) -> None:
    """I8: the grant's use of its year is what its pending and paid orders of that year took
    less their refunds; the ledger's family_mutual_aid legs (held or posted, refunds back) agree."""
    async with sessions() as session:
        grant = await session.get(MutualAidGrant, grant_id)
        assert grant is not None
        orders = (await session.scalars(select(PaymentOrder).where(PaymentOrder.mutual_aid_grant_id == grant_id))).all()
        live = [o for o in orders if o.state in ("pending", "paid")]
        taken = {
            o.id: int(o.funding["family_mutual_aid_fen"]) - int(o.refunded.get("family_mutual_aid", 0)) for o in live
        }
        this_year = [o.id for o in live if o.created_at.astimezone(CHINA).year == grant.used_year]
        assert grant.used_fen == sum(taken[i] for i in this_year)
        assert grant.per_year_limit_fen is None or grant.used_fen <= grant.per_year_limit_fen
        entries = (
            await session.scalars(
                select(JournalEntry.id).where(
                    JournalEntry.state.in_(("pending", "posted")), JournalEntry.reference_id.in_([o.id for o in orders])
                )
            )
        ).all()
        legs = await LedgerRepository(session).legs(list(entries))
        in_ledger = -sum(
            leg.amount_fen for found in legs.values() for leg in found if leg.source == "family_mutual_aid"
        )
        assert in_ledger == sum(taken.values())


def test_r_pay_01_random_operations_keep_the_books(tmp_path: Path, settings: Settings) -> None:
    """R-PAY-01, R-PAY-04, R-PAY-06, R-CARD-09/10, R-INS-04, R-FAM-08: see the module docstring."""

    def drive() -> None:
        loop = asyncio.new_event_loop()
        Settlement.loop, Settlement.directory, Settlement.base = loop, tmp_path, settings
        try:
            machine = Settlement.TestCase
            machine.settings = settings_profile
            machine().runTest()
        finally:
            clock.unfreeze()
            loop.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(drive).result()
    seen = Settlement.seen
    # The run reached the states it claims to check (a machine that never pays proves nothing).
    assert all(seen.get(outcome, 0) > 0 for outcome in ("order_paid", "order_pending", "refund", "expired")), str(seen)
    assert all(seen.get(outcome, 0) > 0 for outcome in ("mutual_aid_paid", "mutual_aid_pending")), str(seen)


settings_profile = settings(
    max_examples=15,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
