"""The code gateway (docs/adr/0005): concurrent payment-code requests share one transaction.

A POS redeem or a patient issue over the API costs a fixed set of statements when it runs alone —
redeem 6 (the login lookup, the code lookup with the security profile lock, the consume with the
card facts, the payments so far, the amounts, the audit rows), issue 3, plus BEGIN and COMMIT —
and each statement costs a fixed ~300 µs of driver and SQLAlchemy CPU. ``issue_many``
and ``redeem_many`` already do any number of codes for that same fixed set of statements; the
gateway feeds them. Requests queue per operation; whenever a transaction finishes the next one
takes every request waiting, up to ``max_batch`` (group commit). An idle gateway adds no wait: a
lone request starts at once, as a batch of one, so latency at low load is that of a single
transaction. Further transactions run beside it (up to ``max_in_flight``) once ``overlap_from``
requests are waiting, which overlaps database round trips without shrinking batches to a size
where their fixed cost dominates.

The batch also resolves the callers' logins (one statement for all bearer tokens) and checks
what the endpoints' dependencies checked, in the same order and with the same errors: a dead
or unknown token is 401, a POS without a paying role 403, a frozen patient account 403, a login
awaiting step-up 403, another account's card 404. Every request gets its own result; a refusal
after a consume keeps the code used, as in ``redeem`` (the batch commits).

A batch that fails as a whole (a database error, a bug) is rolled back and its requests are
retried one per transaction, so one bad request cannot fail its neighbours.

A request whose caller goes away (a POS timing out, a dropped connection) stays in its batch
and is committed with it: as with any payment, a POS that gave up waiting learns the outcome from
the code's status (a retry answers ``PAYMENT_CODE_USED``), never from the absence of an answer.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.auth.errors import AccountFrozen
from medcard.auth.repository import AuthRepository
from medcard.codes import rules, service
from medcard.codes.repository import CodeRepository
from medcard.codes.service import IssuedCode, IssueFacts, IssueRequest, RedeemRequest, Redemption
from medcard.config import Settings
from medcard.devices.errors import StepUpRequired
from medcard.devices.rules import needs_step_up
from medcard.errors import Forbidden, MedCardError, NotAuthenticated, NotFound
from medcard.kit.clock import clock
from medcard.kit.crypto import sm3_hex

POS_ROLES = frozenset({"cashier", "pharmacy", "admin"})
"""Who may redeem: the endpoint's ``require_role("cashier", "pharmacy")`` (admin always passes)."""

UnitOfWork = Callable[[], AbstractAsyncContextManager[AsyncSession]]
Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(frozen=True)
class RedeemCall:
    """One POS request as the endpoint received it: the bearer token and the body."""

    token: str
    text: str
    amount_fen: int
    pin: str | None = None


@dataclass(frozen=True)
class IssueCall:
    """One patient page asking for a code: the bearer token and the card."""

    token: str
    card_id: uuid.UUID


@dataclass
class _Lane(Generic[Item, Result]):
    """Requests of one kind waiting for a transaction, and the transactions running."""

    run: Callable[[AsyncSession, Sequence[Item]], Awaitable[list[Result | MedCardError]]]
    waiting: list[tuple[Item, asyncio.Future[Result | MedCardError]]] = field(default_factory=list)
    running: int = 0


class CodeGateway:
    """Groups concurrent issue and redeem requests into shared transactions (group commit)."""

    def __init__(
        self,
        unit_of_work: UnitOfWork,
        settings: Settings,
        *,
        max_batch: int = 200,
        max_in_flight: int = 8,
        overlap_from: int = 8,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.settings = settings
        self.max_batch = max_batch
        self.max_in_flight = max_in_flight
        self.overlap_from = overlap_from
        self._redeem: _Lane[RedeemCall, Redemption] = _Lane(self._redeem_batch)
        self._issue: _Lane[IssueCall, IssuedCode] = _Lane(self._issue_batch)
        self._tasks: set[asyncio.Task[None]] = set()

    async def redeem(self, call: RedeemCall) -> Redemption:
        """Redeem one scan; raises its refusal like :func:`medcard.codes.service.redeem`."""
        result: Redemption | MedCardError = await self._submit(self._redeem, call)
        return _one(result)

    async def issue(self, call: IssueCall) -> IssuedCode:
        """Issue one code; raises its refusal like :func:`medcard.codes.service.issue`."""
        result: IssuedCode | MedCardError = await self._submit(self._issue, call)
        return _one(result)

    async def _submit(self, lane: _Lane[Item, Result], item: Item) -> Result | MedCardError:
        future: asyncio.Future[Result | MedCardError] = asyncio.get_running_loop().create_future()
        lane.waiting.append((item, future))
        # The first transaction starts at once; another one starts beside it only for a batch
        # worth its fixed cost (``overlap_from`` waiting), else the waiting requests ride on the
        # next batch of a running one: small overlapping batches would spend the CPU that
        # grouping saves.
        if lane.running == 0 or (lane.running < self.max_in_flight and len(lane.waiting) >= self.overlap_from):
            lane.running += 1
            task = asyncio.create_task(self._drain(lane))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _drain(self, lane: _Lane[Item, Result]) -> None:
        try:
            while lane.waiting:
                taken, lane.waiting = lane.waiting[: self.max_batch], lane.waiting[self.max_batch :]
                await self._settle(lane, taken)
        finally:
            lane.running -= 1

    async def _settle(
        self, lane: _Lane[Item, Result], taken: list[tuple[Item, asyncio.Future[Result | MedCardError]]]
    ) -> None:
        items = [item for item, _ in taken]
        try:
            async with self.unit_of_work() as session:
                results = await lane.run(session, items)
        except Exception as error:  # noqa: BLE001 - handed to the waiting requests, or retried alone
            if len(taken) > 1:
                for one in taken:
                    await self._settle(lane, [one])
                return
            _, future = taken[0]
            if not future.done():
                future.set_exception(error)
            return
        for (_, future), result in zip(taken, results, strict=True):
            if not future.done():
                future.set_result(result)

    async def _redeem_batch(
        self, session: AsyncSession, calls: Sequence[RedeemCall]
    ) -> list[Redemption | MedCardError]:
        staff = await AuthRepository(session).live_staff_by_token_hashes(
            {sm3_hex(call.token) for call in calls}, now=clock.now()
        )
        results: list[Redemption | MedCardError | None] = []
        requests: list[RedeemRequest] = []
        for call in calls:
            user = staff.get(sm3_hex(call.token))
            if user is None or not user.active:
                results.append(NotAuthenticated())
            elif user.role not in POS_ROLES:
                results.append(Forbidden())
            else:
                results.append(None)
                requests.append(RedeemRequest(staff=user, text=call.text, amount_fen=call.amount_fen, pin=call.pin))
        redeemed = iter(await service.redeem_many(session, requests, settings=self.settings) if requests else [])
        return [result if result is not None else next(redeemed) for result in results]

    async def _issue_batch(self, session: AsyncSession, calls: Sequence[IssueCall]) -> list[IssuedCode | MedCardError]:
        now = clock.now()
        logins = await CodeRepository(session).patient_logins(
            {sm3_hex(call.token) for call in calls},
            {call.card_id for call in calls},
            now=now,
            issued_since=now - rules.ISSUE_WINDOW,
        )
        results: list[IssuedCode | MedCardError | None] = []
        requests: list[IssueRequest] = []
        known = IssueFacts(frozen=set(), without_profile=set(), counts={})
        for call in calls:
            login = logins.get(sm3_hex(call.token))
            if login is None:
                results.append(NotAuthenticated())
                continue
            account = login.account
            card = login.cards.get(call.card_id)
            if account.status == "frozen":
                results.append(AccountFrozen())
            elif needs_step_up(login.auth.step_up_reasons, login.auth.stepped_up_at):
                results.append(StepUpRequired())
            elif card is None:
                results.append(NotFound())  # another account's card, or none: never 403 (ids reveal nothing)
            else:
                results.append(None)
                requests.append(IssueRequest(account=account, card=card))
                if login.frozen:
                    known.frozen.add(account.id)
                if not login.has_profile:
                    known.without_profile.add(account.id)
                known.counts[card.id] = login.issued[card.id]
        issued = iter(
            await service.issue_many(session, requests, settings=self.settings, known=known) if requests else []
        )
        return [result if result is not None else next(issued) for result in results]


def _one(result: Result | MedCardError) -> Result:
    if isinstance(result, MedCardError):
        raise result
    return result
