"""Every SQL statement of settlement: orders, channel payments, refunds, year-to-date sums."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import Table, and_, bindparam, exists, func, insert, inspect, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.sql.dml import ReturningInsert
from sqlalchemy.sql.elements import NamedColumn

from medcard.auth.repository import AuthRepository
from medcard.db import among, driver_connection, insert_rows, shifted, transient
from medcard.ledger.repository import TRANSITION, LedgerRepository
from medcard.models import (
    Account,
    AuthSession,
    Card,
    ChannelPayment,
    Hospital,
    IdempotencyKey,
    InsuranceBinding,
    PaymentOrder,
    PaymentRefund,
    Person,
    Region,
)
from medcard.models.settlement import PENDING_ORDER

if TYPE_CHECKING:
    from medcard.settlement.steps import PaymentRow

_ORDER: Table = PaymentOrder.metadata.tables["payment_order"]
_PAYMENT: Table = PaymentOrder.metadata.tables["channel_payment"]
_ORDER_INSERTS: dict[tuple[bool, tuple[str, ...]], ReturningInsert[Any]] = {}


@functools.cache
def _order_columns() -> dict[str, NamedColumn[Any]]:
    """The order's mapped attributes and their columns."""
    return {prop.key: prop.columns[0] for prop in inspect(PaymentOrder).column_attrs}


class SettlementRepository:
    """Orders (optionally row-locked), their payments and refunds."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert_order(self, order: PaymentOrder) -> bool:
        """Write a new order row unless another order already holds its bill or its key
        (``INSERT … ON CONFLICT DO NOTHING RETURNING``: the unique indexes decide, and a racing
        payment of the same bill waits there holding nothing). On success ``order`` joins the
        session as the persistent row, its defaults filled from what the database returned;
        False (and ``order`` left out of the session) when the row was not written. One
        statement, where a flush inside a savepoint took three (ADR 0012, third round)."""
        await self.session.flush()  # what the ORM holds goes first, as a flush of the order did
        postgres = self.session.get_bind().dialect.name == "postgresql"
        columns = _order_columns()
        loaded = order.__dict__
        values = {column.key: loaded[key] for key, column in columns.items() if key in loaded}
        missing = tuple(key for key in columns if key not in loaded)
        statement = _ORDER_INSERTS.get((postgres, missing))
        if statement is None:  # built once per dialect and shape: compiled once, then cached
            insert = (postgresql.insert if postgres else sqlite.insert)(_ORDER).on_conflict_do_nothing()
            statement = insert.returning(_ORDER.c.id, *(columns[key] for key in missing))
            _ORDER_INSERTS[(postgres, missing)] = statement
        returned = (await self.session.execute(statement, values)).first()
        if returned is None:
            return False
        for key in missing:
            setattr(order, key, returned._mapping[columns[key].key])
        make_transient_to_detached(order)
        self.session.add(order)
        return True

    async def insert_orders(self, orders: Sequence[Mapping[str, Any]]) -> None:
        """Write new order rows in one statement (on PostgreSQL a write kept for its
        :func:`medcard.db.together` block). Another order holding a bill or a key fails it: the
        payment batch checked both when it read its facts, so that is a race it loses as a whole
        (each request is then paid alone). ``orders``: values by attribute, every one with the
        same keys (the payment gateway's rows)."""
        if not orders:
            return
        columns = _order_columns()
        keys = [key for key in columns if key in orders[0]]
        rows = [{columns[key].key: order[key] for key in keys} for order in orders]
        driver = await driver_connection(self.session)
        if driver is not None:
            await insert_rows(driver, _ORDER, rows)
            return
        await self.session.execute(insert(_ORDER), rows)

    async def open_bills(self, bills: Collection[tuple[uuid.UUID, str]]) -> set[tuple[uuid.UUID, str]]:
        """Those of ``(hospital, bill number)`` another order has paid or is paying."""
        query = select(PaymentOrder.hospital_id, PaymentOrder.bill_number).where(
            among(self.session, PaymentOrder.bill_number, {number for _, number in bills}),
            PaymentOrder.state.in_(("pending", "paid")),
        )
        return {(row[0], row[1]) for row in await self.session.execute(query)} & set(bills)

    async def payment_facts(
        self, requests: Sequence[tuple[str, uuid.UUID, str, str]], *, now: datetime
    ) -> dict[int, PaymentFacts]:
        """For each ``(token hash, card id, bill number, idempotency key)`` of a payment batch, by
        its index: the live login and its account, the card with its holder, hospital and whether
        an insurance binding is active on it, whether another order has paid or is paying the bill
        there, and whether the account has used the key before. Requests whose login or card is
        not found are left out. One statement on PostgreSQL (transient objects holding the columns
        a payment without insurance reads); four elsewhere."""
        driver = await driver_connection(self.session)
        if driver is not None:
            hashes, cards, bills, keys = (list(column) for column in zip(*requests, strict=True))
            rows = await driver.fetch(_FACTS, hashes, cards, bills, keys, now)
            return {row[0] - 1: _facts_row(row[1:]) for row in rows}
        logins = await AuthRepository(self.session).live_patients_by_token_hashes({r[0] for r in requests}, now=now)
        found = {card.id: (card, person, hospital, bound) for card, person, hospital, bound in (
            await self.payers({r[1] for r in requests}))}  # fmt: skip
        taken = await self.open_bills({(found[card][2].id, bill) for _, card, bill, _ in requests if card in found})
        query = select(IdempotencyKey.actor, IdempotencyKey.key).where(
            among(self.session, IdempotencyKey.key, {key for *_, key in requests})
        )
        seen = {(row[0], row[1]) for row in await self.session.execute(query)}
        facts = {}
        for index, (token_hash, card_id, bill, key) in enumerate(requests):
            login, payer = logins.get(token_hash), found.get(card_id)
            if login is not None and payer is not None:
                (auth, account), (card, person, hospital, bound) = login, payer
                used = (f"account:{account.id}", key) in seen
                facts[index] = PaymentFacts(auth, account, card, person, hospital, bound, (hospital.id, bill) in taken,
                                            used)  # fmt: skip
        return facts

    async def payers(self, card_ids: Collection[uuid.UUID]) -> list[tuple[Card, Person, Hospital, bool]]:
        """Each card with its holder, its hospital (and region) and whether an insurance binding
        is active on it, in one statement. Nothing encrypted is read: the card and its holder
        are transient objects carrying only the columns a payment without insurance uses (never
        added to a session)."""
        bound = exists().where(InsuranceBinding.card_id == Card.id, InsuranceBinding.status == "active")
        query = (
            select(Card.id, Card.account_id, Card.person_id, Card.hospital_id, Card.his_patient_id, Card.status,
                   Hospital, bound)
            .join(Hospital, Hospital.id == Card.hospital_id)
            .where(among(self.session, Card.id, card_ids))
        )  # fmt: skip
        found = []
        for row in await self.session.execute(query):
            card_id, account_id, person_id, hospital_id, his_patient_id, status, hospital, flag = row
            card = transient(Card, id=card_id, account_id=account_id, person_id=person_id, hospital_id=hospital_id,
                             his_patient_id=his_patient_id, status=status)  # fmt: skip
            found.append((card, transient(Person, id=person_id), hospital, bool(flag)))
        return found

    async def insert_payments(self, rows: Sequence[PaymentRow]) -> None:
        """Channel payment rows, one INSERT for all (the payment gateway's batch); the columns'
        defaults fill the rest."""
        if rows:
            values = [row.values() for row in rows]
            driver = await driver_connection(self.session)
            if driver is not None:
                await insert_rows(driver, _PAYMENT, values)
                return
            await self.session.execute(insert(_PAYMENT), values)

    async def set_payment_states(self, states: Mapping[uuid.UUID, str]) -> None:
        """Each channel payment's state after the channel answered (one UPDATE)."""
        if states and (driver := await driver_connection(self.session)) is not None:
            await driver.write(_PAYMENT_STATES, list(states), list(states.values()))
        elif states:
            statement = update(_PAYMENT).where(_PAYMENT.c.id == bindparam("payment")).values(state=bindparam("to"))
            await self.session.execute(statement, [{"payment": key, "to": state} for key, state in states.items()])

    async def set_failures(self, failures: Mapping[uuid.UUID, str]) -> None:
        """Each pending order's failure code (the order stays pending for a retry, R-PAY-07)."""
        if failures:
            statement = update(_ORDER).where(_ORDER.c.id == bindparam("order")).values(failure_code=bindparam("code"))
            await self.session.execute(statement, [{"order": order, "code": code} for order, code in failures.items()])

    async def set_paid(self, order_ids: Collection[uuid.UUID], *, now: datetime) -> set[uuid.UUID]:
        """``pending`` → ``paid`` once, for many orders: the ids this UPDATE moved."""
        driver = await driver_connection(self.session)
        if driver is not None:
            return {row[0] for row in await driver.fetch(_SET_PAID, now, list(order_ids))}
        result = await self.session.execute(
            update(_ORDER)
            .where(among(self.session, _ORDER.c.id, order_ids), _ORDER.c.state == "pending")
            .values(state="paid", paid_at=now, failure_code=None)
            .returning(_ORDER.c.id)
        )
        return set(result.scalars())

    async def pay_and_post(self, holds: Mapping[uuid.UUID, uuid.UUID], *, now: datetime) -> bool:
        """Orders (id → their hold's entry id) ``pending`` → ``paid`` and their holds ``pending``
        → ``posted``: True when every one of both moved; else another transaction resolved one
        first and the caller rolls back. On PostgreSQL one statement, sent with the kept writes
        of a :func:`medcard.db.together` block (the balance moves among them)."""
        driver = await driver_connection(self.session)
        if driver is not None:
            rows = await driver.fetch_beside(
                _PAID_AND_POSTED, now, list(holds), "posted", now, list(holds.values()),
                touches=("payment_order", "journal_entry"), ctes=(_PAID, _POSTED),
            )  # fmt: skip
            return {row[0] for row in rows} == {*holds, *holds.values()}
        paid = await self.set_paid(holds, now=now)
        posted = await LedgerRepository(self.session).transition(holds.values(), to="posted", now=now)
        return paid == set(holds) and posted == set(holds.values())

    async def order_by_key(self, account_id: uuid.UUID, key: str) -> PaymentOrder | None:
        return await self.session.scalar(
            select(PaymentOrder).where(PaymentOrder.account_id == account_id, PaymentOrder.request_key == key)
        )

    async def order_or_open_bill(
        self, account_id: uuid.UUID, key: str, hospital_id: uuid.UUID, bill_number: str
    ) -> tuple[PaymentOrder | None, bool]:
        """One statement for both checks a new payment starts with: the account's order of this
        key (a retry), and whether another order of this bill is paid or still pending."""
        keyed = and_(PaymentOrder.account_id == account_id, PaymentOrder.request_key == key)
        open_bill = and_(
            PaymentOrder.hospital_id == hospital_id,
            PaymentOrder.bill_number == bill_number,
            PaymentOrder.state.in_(("pending", "paid")),
        )
        found = (await self.session.scalars(select(PaymentOrder).where(or_(keyed, open_bill)))).all()
        mine = next((o for o in found if o.account_id == account_id and o.request_key == key), None)
        return mine, any(o is not mine for o in found)

    async def order(self, order_id: uuid.UUID, *, lock: bool = False) -> PaymentOrder | None:
        query = select(PaymentOrder).where(PaymentOrder.id == order_id).execution_options(populate_existing=True)
        return await self.session.scalar(query.with_for_update() if lock else query)

    async def orders_of(self, account: Account, *, limit: int = 50) -> Sequence[PaymentOrder]:
        return (
            await self.session.scalars(
                select(PaymentOrder)
                .where(PaymentOrder.account_id == account.id)
                .order_by(PaymentOrder.created_at.desc())
                .limit(limit)
            )
        ).all()

    async def year_to_date(self, person_id: uuid.UUID, *, since: datetime, visit_type: str) -> tuple[int, int, int]:
        """(fund paid, outpatient fund paid, deductible borne for ``visit_type``) this year, net
        of refunds: what a refund gave back to the fund is not paid, and the deductible of a
        bill refunded in full was not borne."""
        paid = (PaymentOrder.person_id == person_id, PaymentOrder.state == "paid", PaymentOrder.paid_at >= since)
        outpatient = PaymentOrder.visit_type == "outpatient"
        same_visit = and_(PaymentOrder.visit_type == visit_type, PaymentOrder.refunded_fen < PaymentOrder.total_fen)
        fund = PaymentOrder.fund_fen - PaymentOrder.fund_refunded_fen
        row = (
            await self.session.execute(
                select(
                    func.coalesce(func.sum(fund), 0),
                    func.coalesce(func.sum(fund).filter(outpatient), 0),
                    func.coalesce(func.sum(PaymentOrder.deductible_fen).filter(same_visit), 0),
                ).where(*paid)
            )
        ).one()
        return int(row[0]), int(row[1]), int(row[2])

    async def set_state(self, order_id: uuid.UUID, *, before: str, after: str, **values: Any) -> bool:
        """``before`` → ``after`` once: True only for the caller whose UPDATE matched."""
        result = await self.session.execute(
            update(PaymentOrder)
            .where(PaymentOrder.id == order_id, PaymentOrder.state == before)
            .values(state=after, **values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def claim_reimbursement(self, order_id: uuid.UUID, *, now: datetime) -> bool:
        result = await self.session.execute(
            update(PaymentOrder)
            .where(PaymentOrder.id == order_id, PaymentOrder.reimbursed_at.is_(None))
            .values(reimbursed_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def cancel_reimbursement(self, order_id: uuid.UUID) -> bool:
        """A fully refunded deferred order owes the patient nothing more: the fund's share is
        dropped before the job pays it. False when the job paid it first."""
        result = await self.session.execute(
            update(PaymentOrder)
            .where(PaymentOrder.id == order_id, PaymentOrder.reimbursed_at.is_(None))
            .values(reimburse_on=None, deferred_fund_fen=0)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def payments(self, order_id: uuid.UUID) -> Sequence[ChannelPayment]:
        return (
            await self.session.scalars(
                select(ChannelPayment)
                .where(ChannelPayment.order_id == order_id)
                .order_by(ChannelPayment.out_trade_no)
                .execution_options(populate_existing=True)
            )
        ).all()

    async def payment_by_number(self, out_trade_no: str) -> ChannelPayment | None:
        return await self.session.scalar(select(ChannelPayment).where(ChannelPayment.out_trade_no == out_trade_no))

    async def expired_pending(self, now: datetime, *, limit: int = 100) -> list[uuid.UUID]:
        """Pending orders past their 15 minutes, claimed so two workers never take the same."""
        query = (
            select(PaymentOrder.id)
            .where(PENDING_ORDER, PaymentOrder.expires_at <= now)
            .order_by(PaymentOrder.expires_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.scalars(query)).all())

    async def reimbursements_due(self, today: date, *, limit: int = 100) -> list[uuid.UUID]:
        query = (
            select(PaymentOrder.id)
            .where(
                PaymentOrder.state == "paid",
                PaymentOrder.reimburse_on <= today,
                PaymentOrder.reimbursed_at.is_(None),
            )
            .order_by(PaymentOrder.reimburse_on)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.scalars(query)).all())

    async def refund_by_key(self, order_id: uuid.UUID, key: str) -> PaymentRefund | None:
        return await self.session.scalar(
            select(PaymentRefund).where(PaymentRefund.order_id == order_id, PaymentRefund.request_key == key)
        )

    async def refunds(self, order_id: uuid.UUID) -> Sequence[PaymentRefund]:
        return (
            await self.session.scalars(
                select(PaymentRefund).where(PaymentRefund.order_id == order_id).order_by(PaymentRefund.created_at)
            )
        ).all()

    async def hospital(self, hospital_id: uuid.UUID) -> Hospital | None:
        return await self.session.get(Hospital, hospital_id)


# PostgreSQL: the payment gateway's statements straight to asyncpg, one prepared statement each
# whatever the batch (ADR 0012, fifth round); the SQLAlchemy forms above stay for SQLite.
_SET_PAID = (
    "UPDATE payment_order SET state = 'paid', paid_at = $1, failure_code = NULL"
    " WHERE id = ANY($2::uuid[]) AND state = 'pending' RETURNING id"
)
_PAID = f"paid AS ({_SET_PAID})"
_POSTED = f"posted AS ({shifted(TRANSITION, 2)})"
_PAID_AND_POSTED = "SELECT id FROM paid UNION ALL SELECT id FROM posted"
""":meth:`SettlementRepository.pay_and_post`: the orders and their holds resolved by one statement
(the ids of both that moved; order and entry ids never collide)."""
_PAYMENT_STATES = (
    "UPDATE channel_payment p SET state = s.state FROM unnest($1::uuid[], $2::text[]) AS s(id, state) WHERE p.id = s.id"
)
_FACTS = """
SELECT r.i, s.token_hash, s.step_up_reasons, s.stepped_up_at, a.id, a.status, a.person_id, a.openid, a.nickname,
       c.id, c.account_id, c.person_id, c.hospital_id, c.his_patient_id, c.status,
       h.code, h.name_zh, h.level, h.is_county, h.credit_enabled, h.credit_limit_fen, rg.id, rg.code,
       EXISTS (SELECT 1 FROM insurance_binding b WHERE b.card_id = c.id AND b.status = 'active'),
       EXISTS (SELECT 1 FROM payment_order o WHERE o.hospital_id = c.hospital_id AND o.bill_number = r.bill
               AND o.state IN ('pending', 'paid')),
       EXISTS (SELECT 1 FROM idempotency_key k WHERE k.actor = 'account:' || a.id::text AND k.key = r.key)
FROM unnest($1::text[], $2::uuid[], $3::text[], $4::text[]) WITH ORDINALITY AS r(token_hash, card_id, bill, key, i)
JOIN auth_session s ON s.token_hash = r.token_hash AND s.revoked_at IS NULL AND s.expires_at > $5
JOIN account a ON a.id = s.account_id
JOIN card c ON c.id = r.card_id
JOIN hospital h ON h.id = c.hospital_id
JOIN region rg ON rg.id = h.region_id"""


class PaymentFacts(NamedTuple):
    """What a payment batch reads of one request before it writes (:meth:`payment_facts`)."""

    auth: AuthSession
    account: Account
    card: Card
    person: Person
    hospital: Hospital
    bound: bool
    """An insurance binding is active on the card."""
    bill_taken: bool
    """Another order has paid or is paying the bill at the card's hospital."""
    key_seen: bool
    """The account has used the request's idempotency key before (a replay or a resumption)."""


def _facts_row(row: Any) -> PaymentFacts:
    """Transient objects (never added to a session) holding the columns the payment reads."""
    (token_hash, reasons, stepped_up_at, account_id, account_status, account_person, openid, nickname,
     card_id, card_account, person_id, hospital_id, his_patient_id, status,
     code, name, level, is_county, credit_enabled, credit_limit_fen, region_id, region_code,
     bound, taken, seen) = row  # fmt: skip
    auth = transient(AuthSession, token_hash=token_hash, account_id=account_id, step_up_reasons=reasons,
                     stepped_up_at=stepped_up_at)  # fmt: skip
    account = transient(Account, id=account_id, status=account_status, person_id=account_person, openid=openid,
                        nickname=nickname)  # fmt: skip
    card = transient(Card, id=card_id, account_id=card_account, person_id=person_id, hospital_id=hospital_id,
                     his_patient_id=his_patient_id, status=status)  # fmt: skip
    hospital = transient(Hospital, id=hospital_id, code=code, name_zh=name, level=level, is_county=is_county,
                         credit_enabled=credit_enabled, credit_limit_fen=credit_limit_fen, region_id=region_id,
                         region=transient(Region, id=region_id, code=region_code))  # fmt: skip
    return PaymentFacts(auth, account, card, transient(Person, id=person_id), hospital, bool(bound), bool(taken),
                        bool(seen))  # fmt: skip
