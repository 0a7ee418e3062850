"""The payment gateway (docs/adr/0012, "The payment gateway"): concurrent online payments share
transactions (group commit), as payment codes do through the code gateway (ADR 0005).

A payment alone costs about twenty statements in three transactions, each statement a fixed
cost of driver and ORM CPU. The gateway queues ``POST /settlement/orders`` requests
(:class:`medcard.kit.batching.Lane`); a batch pays every waiting request with one fixed set of
statements, in the two phases a single payment has (:mod:`medcard.settlement.service`):

1. **Open** (one transaction, its commit every order's recovery point): the logins, the cards
   with their holders and hospitals, whether each bill is already paid or being paid and each
   idempotency key already used (one statement), the HIS bills (called concurrently); then the
   keys claimed (at recovery point ``order_open``) with **every payer's own (floored) accounts
   locked in one id-ordered ``SELECT … FOR UPDATE``** (one statement), the split and funding
   decided by the pure rules (two payments of one patient draw on the locked balances in turn),
   and the orders, channel payments, holds with their postings and audit rows written (one
   statement on PostgreSQL, ``db.together``).
2. **Outside**: the channel charges, order by order concurrently (each order's payments in
   turn, as :func:`medcard.settlement.steps.channel_step` does).
3. **Post** (one transaction): the channel payments' states, the audit rows, the stored answers,
   the paid orders and their posted holds (one statement on PostgreSQL: all of them moved, or
   the posting rolls back), the HIS told, then one balance UPDATE per account — the hot shared
   accounts (hospital receivable, channel clearing) once per batch with the batch's sum, not
   once per payment. An order whose charge failed stays pending with its failure code and its
   key released (402 ``PAYMENT_PENDING``, exactly as alone: the retry resumes it).

The batch takes the common case: a patient paying for his own card, not insured (self-pay,
deposit, credit line), with a new idempotency key for an unpaid bill. Any other request — a bad
or stepped-down login, a relative's card, an insured payer (the 1101 mirror, 6201/6202 and the
policy facts run per payment), a key the key store refuses (400) or has seen before (a replay,
409, 422 or a resumed payment), a bill not found or already paid — is paid **alone**, through
the very code the endpoint ran before the gateway existed, after the batch commits; so every
refusal and every rule keeps its one implementation and its tests. A request that takes a key or
a bill of the batch between its read and its writes (a race: the facts said both were free)
fails the batch's unique indexes: a batch that fails before its first commit is retried one
request at a time alone. One that fails after it (an order resolved elsewhere meanwhile, a
database error) releases its keys and hands every request to the alone path, which resumes the
opened orders (R-PAY-07).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.his import HisBill
from medcard.audit.service import Actor, Entry, record_many
from medcard.auth.service import actor_for_account, authenticate, patient_account
from medcard.card import service as card_service
from medcard.config import Settings
from medcard.db import commit_and_begin, together
from medcard.devices.rules import needs_step_up
from medcard.devices.service import require_step_up
from medcard.errors import NotAuthenticated, present
from medcard.idempotency.repository import IdempotencyRepository
from medcard.idempotency.service import begin, fingerprint, valid_key
from medcard.kit.batching import ALONE, Alone, Lane
from medcard.kit.clock import clock
from medcard.kit.crypto import sm3_hex
from medcard.kit.ids import new_id
from medcard.ledger import service as ledger
from medcard.ledger.rules import AccountState, reservations, with_reserved
from medcard.models import Account
from medcard.settlement import facts, rules, service, steps
from medcard.settlement.errors import PaymentPending
from medcard.settlement.facts import Payer, PayerAccounts
from medcard.settlement.repository import SettlementRepository
from medcard.settlement.schemas import OrderRead

UnitOfWork = Callable[[], AbstractAsyncContextManager[AsyncSession]]
SCENARIO = "online"


@dataclass(frozen=True)
class PaymentCall:
    """One ``POST /settlement/orders`` as the endpoint received it."""

    token: str
    card_id: uuid.UUID
    bill_number: str
    key: str
    path: str
    body: bytes


@dataclass
class _Payment:
    """A request of the batch on its way through the phases."""

    index: int
    call: PaymentCall
    account: Account
    payer: Payer
    bill: HisBill | None = None
    key_id: uuid.UUID | None = None
    order: dict[str, Any] | None = None
    """The order row's values by attribute (:func:`medcard.settlement.service.order_values`)."""
    payments: list[steps.PaymentRow] = field(default_factory=list)
    hold: ledger.Hold | None = None

    @property
    def actor(self) -> str:
        return f"account:{self.account.id}"


class PaymentGateway:
    """Groups concurrent online payments into shared transactions (see the module's text)."""

    def __init__(
        self,
        unit_of_work: UnitOfWork,
        alone_unit_of_work: UnitOfWork,
        settings: Settings,
        adapters: Adapters,
        *,
        max_batch: int = 64,
        max_in_flight: int = 4,
        overlap_from: int = 16,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.alone_unit_of_work = alone_unit_of_work
        self.settings = settings
        self.adapters = adapters
        self._lane: Lane[PaymentCall, OrderRead] = Lane(
            self._batch, alone=self.alone,
            max_batch=max_batch, max_in_flight=max_in_flight, overlap_from=overlap_from,
        )  # fmt: skip

    async def pay(self, call: PaymentCall) -> OrderRead:
        """Pay one bill; raises its refusal as the single path would."""
        return await self._lane.submit(call)

    # --- the single path --------------------------------------------------------------------

    async def alone(self, call: PaymentCall) -> OrderRead:
        """One payment in its own transactions, as the endpoint's dependencies and body did
        before the gateway: the login, the account, the step-up, the idempotency key, the card
        (a relative's too), :func:`medcard.settlement.service.pay`."""
        async with self.alone_unit_of_work() as session:
            auth = await authenticate(session, call.token, with_holder=True)
            if auth is None or auth.account_id is None:
                raise NotAuthenticated()
            account = patient_account(await session.get(Account, auth.account_id))
            require_step_up(auth)
            idem = await begin(session, actor=f"account:{account.id}", key=call.key, method="POST", path=call.path,
                               body=call.body, lock_seconds=self.settings.idempotency_lock_seconds)  # fmt: skip

            async def work() -> OrderRead:
                card = await card_service.card_of_account(session, account=account, card_id=call.card_id)
                order = await service.pay(session, card=card, bill_number=call.bill_number, scenario=SCENARIO,
                                          key=call.key, actor=actor_for_account(account), adapters=self.adapters,
                                          checkpoint=idem.checkpoint)  # fmt: skip
                return OrderRead.of(service.settled(order))

            return await idem.run(work)

    # --- the batch ----------------------------------------------------------------------------

    async def _batch(self, calls: Sequence[PaymentCall]) -> list[OrderRead | Exception | Alone]:
        """The batch's answers: ``ALONE`` for a request to pay alone (after the commit)."""
        outcomes: list[OrderRead | Exception | Alone] = [ALONE] * len(calls)
        async with self.unit_of_work() as session:
            opened = await self._open(session, calls)
            if not opened:
                return outcomes
            # The recovery point of every opened order; the posting's transaction begins in the
            # same round trip.
            await commit_and_begin(session)
            try:
                await self._post(session, opened, outcomes)
                await session.commit()
            except Exception:  # noqa: BLE001 - the opened orders are resumed alone
                await session.rollback()
                await IdempotencyRepository(session).unlock([p.key_id for p in opened if p.key_id is not None])
                for payment in opened:
                    outcomes[payment.index] = ALONE  # resumed alone, from its recovery point
        return outcomes

    async def _open(self, session: AsyncSession, calls: Sequence[PaymentCall]) -> list[_Payment]:
        """Phase 1: the requests the batch takes, their orders and holds written (uncommitted)."""
        now = clock.now()
        hashes = [sm3_hex(call.token) for call in calls]
        requests = [
            (token_hash, call.card_id, call.bill_number, call.key)
            for call, token_hash in zip(calls, hashes, strict=True)
        ]
        known = await SettlementRepository(session).payment_facts(requests, now=now)
        ready: list[_Payment] = []
        for index, call in enumerate(calls):
            found = known.get(index)
            if found is None:
                continue
            auth, account, card = found.auth, found.account, found.card
            if account.status != "active" or needs_step_up(auth.step_up_reasons, auth.stepped_up_at):
                continue
            own = card.account_id == account.id and card.person_id == account.person_id
            new = not found.bound and not found.bill_taken and not found.key_seen and valid_key(call.key)
            if own and new:
                payer = Payer(account, card, found.person, found.hospital, None)
                ready.append(_Payment(index, call, account, payer))
        bills = await asyncio.gather(*(_unpaid_bill(p, self.adapters) for p in ready))
        for payment, bill in zip(ready, bills, strict=True):
            payment.bill = bill
        ready = _first_of_each_key([p for p in ready if p.bill is not None])
        if ready:
            await self._write(session, ready, now)
        return ready

    async def _write(self, session: AsyncSession, ready: list[_Payment], now: Any) -> None:
        """The keys claimed, the orders, their channel payments and holds, and the audit rows of
        the batch: on PostgreSQL the keys ride with the statement that locks the accounts, the
        rest is one statement. The facts said no other request holds a key or a bill of the
        batch; one that took either meanwhile fails a unique index, and with it the batch (before
        its first commit: each request is then paid alone, and refused there)."""
        repository = SettlementRepository(session)
        keys = [_key_row(p, now) for p in ready]
        for payment, key in zip(ready, keys, strict=True):
            payment.key_id = key["id"]
        wanted = {p.index: facts.specs(p.payer, None) for p in ready}
        # Every payer's own (floored) accounts locked in id order by the statement that reads
        # them, the shared ones read unlocked: the funding is decided once, from locked balances.
        own = {spec.key for specs in wanted.values() for s, spec in specs.items() if s in facts.OWN_SOURCES}
        async with together(session):
            await IdempotencyRepository(session).claim_all(keys)  # at the order's recovery point
            states = await ledger.ensure_states(
                session, [spec for specs in wanted.values() for spec in specs.values()], lock=own
            )  # fmt: skip
            ids = {key: state.id for key, state in states.items()}
            accounts = {
                index: PayerAccounts({s: ids[spec.key] for s, spec in specs.items()})
                for index, specs in wanted.items()
            }  # fmt: skip
            locked = {state.id: state for key, state in states.items() if key in own and state.floor_fen is not None}
            self._plan(ready, accounts, locked)
            await repository.insert_orders([_order(p) for p in ready])
            await repository.insert_payments([row for p in ready for row in p.payments])
            await ledger.hold_many(session, [present(p.hold, "hold") for p in ready], locked=locked)
            await record_many(session, [
                Entry(actor_for_account(p.account), "settlement.order_open", "payment_order", _order(p)["id"],
                      details={"total_fen": _order(p)["total_fen"], "funding": _order(p)["funding"],
                               "policy": _order(p)["policy_version"]}, hospital_id=p.payer.hospital.id)
                for p in ready
            ])  # fmt: skip

    @staticmethod
    def _plan(ready: list[_Payment], accounts: dict[int, PayerAccounts], locked: dict[uuid.UUID, AccountState]) -> None:
        """Each payment's order, funding, hold and channel payments, drawing on the locked
        balances in turn (two payments of one patient share his credit line)."""
        running = dict(locked)
        for payment in ready:
            quote = _quote(payment, _split(payment), accounts[payment.index], running)
            payment.order = service.order_values(payment.payer, quote, key=payment.call.key,
                                                 fingerprint=_digest(payment), scenario=SCENARIO,
                                                 staff_id=None)  # fmt: skip
            order = _order(payment)
            legs = service.payment_legs(quote.funding, accounts[payment.index], bill_kind=order["bill_kind"])
            payment.hold = ledger.Hold("payment", legs, ("payment_order", order["id"]), None, order["hold_entry_id"])
            running = with_reserved(running, reservations(legs))
            payment.payments = [
                steps.PaymentRow(new_id(), order["id"], payment.account.id, "bill",
                                 steps.out_trade_no(order["id"], seq, 0), amount)
                for seq, amount in enumerate(quote.payments)
            ]  # fmt: skip

    async def _post(self, session: AsyncSession, opened: list[_Payment], outcomes: list[Any]) -> None:
        """Phases 2 and 3: charge the channel, then post what was paid (committed by the caller).
        Raises :class:`_Raced` (the caller rolls back; every order is resumed alone) when another
        transaction resolved one of the paid orders first."""
        charged = await asyncio.gather(
            *(steps.charge_in_turn(p.payments, p.payer, self.adapters) for p in opened)
        )  # fmt: skip
        paid = [p for p, (failure, _) in zip(opened, charged, strict=True) if failure is None]
        failed = {_order(p)["id"]: failure for p, (failure, _) in zip(opened, charged, strict=True) if failure}
        repository = SettlementRepository(session)
        now = clock.now()
        # One statement on PostgreSQL: the writes nobody reads back and, as its main query, the
        # paid orders and their posted holds — each of them moved, or a rollback.
        async with together(session):
            # The channel payments' new states, and any replacement row the channel asked for.
            await repository.set_payment_states({row.id: row.state for p in opened for row in p.payments
                                                 if row.state != "created"})  # fmt: skip
            await repository.insert_payments([replacement for _, replacement in charged if replacement is not None])
            await repository.set_failures(failed)
            system = Actor.system("settlement")
            await record_many(session, [
                Entry(system, "settlement.order_paid", "payment_order", _order(p)["id"],
                      details={"total_fen": _order(p)["total_fen"]}, hospital_id=p.payer.hospital.id)
                for p in paid
            ])  # fmt: skip
            answers: dict[uuid.UUID, Any] = {}
            for payment in paid:
                order = _order(payment)
                order.update(state="paid", paid_at=now, failure_code=None)
                answer = OrderRead.of_row(order)
                answers[present(payment.key_id, "key_id")] = {"body": answer.model_dump(mode="json")}
                outcomes[payment.index] = answer
            keys = IdempotencyRepository(session)
            await keys.finish_many(answers, status_code=200, now=now)
            pending = [p for p in opened if _order(p)["id"] in failed]
            await keys.unlock([p.key_id for p in pending if p.key_id is not None])
            for payment in pending:
                outcomes[payment.index] = PaymentPending(failure_code=failed[_order(payment)["id"]])
            holds = {_order(p)["id"]: _order(p)["hold_entry_id"] for p in paid}
            if holds and not await repository.pay_and_post(holds, now=now):
                raise _Raced()
        await asyncio.gather(*(
            self.adapters.his.mark_paid(hospital_code=p.payer.hospital.code, bill_no=_order(p)["bill_number"],
                                        payment_reference=str(_order(p)["id"]))
            for p in paid
        ))  # fmt: skip
        # Posting moves the hot shared accounts (receivable, clearing), which every batch needs:
        # locked by the last statement before the commit (not across the HIS call), they are
        # held the least.
        await ledger.move_for_posting(session, [present(p.hold, "hold").legs for p in paid])


class _Raced(Exception):
    """Another transaction resolved an order of the batch between its two phases (it expired, or
    was resumed alone): the batch rolls back its posting and every order is resumed alone."""


def _bill(payment: _Payment) -> HisBill:
    return present(payment.bill, "bill")


def _order(payment: _Payment) -> dict[str, Any]:
    return present(payment.order, "order")


async def _unpaid_bill(payment: _Payment, adapters: Adapters) -> HisBill | None:
    """The bill when the HIS has it unpaid (otherwise the single path gives the refusal)."""
    try:
        return await service.his_bill(payment.payer, payment.call.bill_number, adapters)
    except Exception:  # noqa: BLE001 - not found, already paid, the HIS down: paid alone
        return None


def _first_of_each_key(ready: list[_Payment]) -> list[_Payment]:
    """One request per (caller, key) and per bill: a repeat waits for the first's answer alone."""
    keys: set[tuple[str, str]] = set()
    bills: set[tuple[uuid.UUID, str]] = set()
    kept = []
    for payment in ready:
        key, bill = (payment.actor, payment.call.key), (payment.payer.hospital.id, _bill(payment).bill_no)
        if key not in keys and bill not in bills:
            kept.append(payment)
        keys.add(key)
        bills.add(bill)
    return kept


def _key_row(payment: _Payment, now: Any) -> dict[str, Any]:
    """The idempotency key, claimed at the order's recovery point: it commits with the order."""
    call = payment.call
    return {
        "id": new_id(),
        "created_at": now,
        "actor": payment.actor,
        "key": call.key,
        "fingerprint": fingerprint("POST", call.path, call.body),
        "method": "POST",
        "path": call.path,
        "locked_at": now,
        "recovery_point": "order_open",
    }


def _digest(payment: _Payment) -> str:
    return service.digest(card=payment.payer.card.id, bill=payment.call.bill_number, scenario=SCENARIO)


def _split(payment: _Payment) -> rules.Split:
    """The split of an uninsured payer's bill (no fund share, nothing of the year to read)."""
    return rules.settle(service.rules_bill(_bill(payment), payment.payer, scenario=SCENARIO), None, rules.YearToDate())


def _quote(
    payment: _Payment, split: rules.Split, accounts: PayerAccounts, states: dict[uuid.UUID, AccountState]
) -> service.Quote:
    """The bill's funding from these account states (the split does not depend on them)."""
    his = _bill(payment)
    balances = rules.Balances() if his.kind == "inpatient_deposit" else facts.room(accounts, states)
    funding = rules.fund_order(split, balances)
    return service.Quote(his, split, funding, rules.channel_payments(funding.self_pay_fen), accounts)
