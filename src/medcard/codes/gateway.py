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

import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TypeVar

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
from medcard.kit.batching import Lane
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
        self._redeem: Lane[RedeemCall, Redemption] = Lane(
            self._in_transaction(self._redeem_batch),
            max_batch=max_batch, max_in_flight=max_in_flight, overlap_from=overlap_from,
        )  # fmt: skip
        self._issue: Lane[IssueCall, IssuedCode] = Lane(
            self._in_transaction(self._issue_batch),
            max_batch=max_batch, max_in_flight=max_in_flight, overlap_from=overlap_from,
        )  # fmt: skip

    async def redeem(self, call: RedeemCall) -> Redemption:
        """Redeem one scan; raises its refusal like :func:`medcard.codes.service.redeem`."""
        return await self._redeem.submit(call)

    async def issue(self, call: IssueCall) -> IssuedCode:
        """Issue one code; raises its refusal like :func:`medcard.codes.service.issue`."""
        return await self._issue.submit(call)

    def _in_transaction(
        self, batch: Callable[[AsyncSession, Sequence[Item]], Awaitable[Sequence[Result | MedCardError]]]
    ) -> Callable[[Sequence[Item]], Awaitable[Sequence[Result | MedCardError]]]:
        async def run(items: Sequence[Item]) -> Sequence[Result | MedCardError]:
            async with self.unit_of_work() as session:
                return await batch(session, items)

        return run

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
