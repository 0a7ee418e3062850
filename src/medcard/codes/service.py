"""Issuing and redeeming dynamic payment codes; the POS verification code (R-SEC-01/02).

Design (docs/adr/0005): the backend issues each code (18 random digits, 60 s) and keeps only
its keyed hash; the POS sends what it scanned, the backend consumes it with one conditional
UPDATE and hands back a verification code (核验码) signed with HMAC-SM3, bound to the code,
card, merchant and an amount ceiling. Services flush, never commit.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.audit.service import Entry, record_many
from medcard.auth.service import actor_for_account, actor_for_staff
from medcard.codes import rules
from medcard.codes.errors import (
    AuthorisationAmountExceeded,
    AuthorisationExpired,
    AuthorisationInvalid,
    AuthorisationOtherMerchant,
    CardNotAcceptedHere,
    CodeCardNotUsable,
    DisplayCodeNotPayment,
    PaymentCodeExpired,
    PaymentCodeInvalid,
    PaymentCodeRevoked,
    PaymentCodeUsed,
    PinRequired,
    PinRetryExpired,
    PosPinWrong,
)
from medcard.codes.repository import CardFacts, CodeRepository, CodeRow, ProfileFacts
from medcard.config import Settings
from medcard.errors import Inconsistent, MedCardError, NotFound, RateLimited, present
from medcard.hospital.repository import HospitalRepository
from medcard.i18n import N_
from medcard.kit.clock import CHINA, clock
from medcard.kit.crypto import derive_key, hmac_sm3, sign_token, verify_token
from medcard.kit.ids import new_id
from medcard.kit.masking import mask_name
from medcard.models import Account, Card, PaymentCode, SecurityProfile, StaffUser
from medcard.models.security import DEFAULT_DAILY_LIMIT_FEN, DEFAULT_PER_TRANSACTION_LIMIT_FEN
from medcard.security import rules as security_rules
from medcard.security import service as security
from medcard.security.errors import LimitExceeded, PaymentsFrozen, PinWrong, VelocityExceeded
from medcard.security.repository import SecurityRepository

T = TypeVar("T")
AUTHORISATION_PREFIX = "MCVA1"
PIN_RETRY_PREFIX = "MCPR1"
LIMIT_LABELS = {"per_transaction": N_("per-transaction limit"), "daily": N_("daily limit")}


def code_hash(settings: Settings, code: str) -> str:
    return hmac_sm3(derive_key(settings.secret_key, "payment-code"), code.encode()).hex()


def _authorisation_key(settings: Settings) -> bytes:
    return derive_key(settings.secret_key, "pos-verification-code")


def _pin_retry_key(settings: Settings) -> bytes:
    return derive_key(settings.secret_key, "pos-pin-retry")


def merchant_of(staff: StaffUser) -> str:
    return str(staff.hospital_id) if staff.hospital_id else "platform"


@dataclass(frozen=True)
class IssuedCode:
    """A fresh payment code as the patient's page shows it."""

    code: str
    card: Card
    issued_at: datetime
    expires_at: datetime
    id: uuid.UUID
    """The code's row, for the page that polls its status (the digits are never stored)."""


@dataclass(frozen=True)
class IssueRequest:
    """One patient page asking for a code for one of the account's cards (ownership checked)."""

    account: Account
    card: Card


@dataclass(frozen=True)
class Redemption:
    """What the POS gets back: the signed verification code and what it may show."""

    verification_code: str
    card_number: str
    holder: str
    amount_fen: int
    expires_at: datetime


@dataclass(frozen=True)
class RedeemRequest:
    """One POS scan: the scanned text, the amount and, above the PIN-free limit, the PIN."""

    staff: StaffUser
    text: str
    amount_fen: int
    pin: str | None = None


def _one(result: T | MedCardError) -> T:
    if isinstance(result, MedCardError):
        raise result
    return result


async def issue(session: AsyncSession, *, account: Account, card: Card, settings: Settings) -> IssuedCode:
    """A new 60-second payment code for one of the account's active cards (≤ 10 a minute per card)."""
    return _one((await issue_many(session, [IssueRequest(account, card)], settings=settings))[0])


@dataclass(frozen=True)
class IssueFacts:
    """What issuing reads before it writes, when the caller already read it (the code gateway
    reads it with the logins, in one statement): frozen accounts, accounts with no security
    profile yet, and each card's codes in the rate window."""

    frozen: set[uuid.UUID]
    without_profile: set[uuid.UUID]
    counts: dict[uuid.UUID, int]


async def issue_many(
    session: AsyncSession, requests: Sequence[IssueRequest], *, settings: Settings, known: IssueFacts | None = None
) -> list[IssuedCode | MedCardError]:
    """Issue codes for many requests with a fixed number of statements (frozen accounts, the
    per-card rate counters — both skipped when ``known`` carries them —, one INSERT of codes,
    one of audit rows); each request gets its code or the refusal that applies to it alone.
    A missing security profile is created here, so later payments always have a row to lock."""
    now = clock.now()
    repository = CodeRepository(session)
    if known is None:
        frozen = await SecurityRepository(session).ensure_profiles({request.account.id for request in requests})
        counts = await repository.issued_counts({request.card.id for request in requests}, now - rules.ISSUE_WINDOW)
    else:
        await SecurityRepository(session).create_profiles(known.without_profile)
        frozen, counts = known.frozen, dict(known.counts)
    results: list[IssuedCode | MedCardError] = []
    rows: list[dict[str, Any]] = []
    entries: list[Entry] = []
    for request in requests:
        card, account = request.card, request.account
        issued = counts.get(card.id, 0)
        if card.status != "active":
            results.append(CodeCardNotUsable(field="card_id"))
        elif account.id in frozen:
            results.append(PaymentsFrozen())
        elif rules.issue_rate_exceeded(issued):
            results.append(RateLimited(retry_after=60))
        else:
            counts[card.id] = issued + 1
            code = rules.PAYMENT_CODE_PREFIX + f"{secrets.randbelow(10**16):016d}"
            code_id = new_id()
            expires = now + rules.PAYMENT_CODE_TTL
            rows.append(
                {
                    "id": code_id,
                    "created_at": now,
                    "code_hash": code_hash(settings, code),
                    "card_id": card.id,
                    "account_id": account.id,
                    "issued_at": now,
                    "expires_at": expires,
                    "status": "issued",
                }
            )
            entries.append(Entry(actor_for_account(account), "code.issue", PaymentCode.__tablename__, code_id))
            results.append(IssuedCode(code=code, card=card, issued_at=now, expires_at=expires, id=code_id))
    await repository.insert(rows)
    await record_many(session, entries)
    return results


async def redeem(
    session: AsyncSession, *, staff: StaffUser, text: str, amount_fen: int, pin: str | None, settings: Settings
) -> Redemption:
    """A POS scanned ``text`` for ``amount_fen``: consume the code atomically, apply the
    card, risk and PIN checks, and sign the verification code (核验码). A refusal after the
    consume keeps the code used (``keep_changes``)."""
    request = RedeemRequest(staff=staff, text=text, amount_fen=amount_fen, pin=pin)
    return _one((await redeem_many(session, [request], settings=settings))[0])


def _screen(request: RedeemRequest, settings: Settings) -> str | MedCardError:
    """The code's keyed hash, or the refusal that needs no database."""
    if rules.is_display_code(request.text):
        return DisplayCodeNotPayment(field="code")
    if not rules.is_payment_code_shape(request.text):
        return PaymentCodeInvalid(field="code")
    if request.amount_fen > rules.PIN_FREE_LIMIT_FEN and not request.pin:
        return PinRequired(field="pin")
    return code_hash(settings, rules.normalise(request.text))


async def redeem_many(
    session: AsyncSession, requests: Sequence[RedeemRequest], *, settings: Settings
) -> list[Redemption | MedCardError]:
    """Redeem many scans with a fixed number of statements.

    Order of work: look the codes up and lock their holders' security profiles in account order,
    in one statement (a concurrent freeze either committed before — we see it and refuse — or
    waits for us, and no two batches deadlock); consume with one conditional UPDATE that also
    reads the cards (exactly one of any number of concurrent redeemers of a code gets it); then
    card, velocity, limit and PIN checks per code,
    counting earlier payments of the same batch; one UPDATE of amounts and one INSERT of audit
    rows. A refusal after the consume leaves the code used (single use, R-SEC-02)."""
    results: list[Redemption | MedCardError | None] = [None] * len(requests)
    hashes: dict[int, str] = {}
    for index, request in enumerate(requests):
        screened = _screen(request, settings)
        if isinstance(screened, MedCardError):
            results[index] = screened
        else:
            hashes[index] = screened
    repository = CodeRepository(session)
    known, profiles = await repository.lock_holders(set(hashes.values())) if hashes else ({}, {})
    now = clock.now()
    merchants: dict[str, str] = {}
    for index, digest in hashes.items():
        row = known.get(digest)
        if row is None:
            results[index] = PaymentCodeInvalid(field="code")
        elif (profile := profiles.get(row.account_id)) is not None and profile.frozen_at is not None:
            results[index] = PaymentsFrozen()
        else:
            merchants.setdefault(digest, merchant_of(requests[index].staff))
    consumed, cards = await repository.consume(merchants, now=now) if merchants else ({}, {})
    winners: dict[str, int] = {}
    losers: dict[int, str] = {}
    for index, digest in hashes.items():
        if results[index] is None:
            if digest in consumed and digest not in winners:
                winners[digest] = index
            else:
                losers[index] = digest
    if losers:
        current = await repository.by_hashes(set(losers.values()))
        for index, digest in losers.items():
            status = current[digest].status if digest in current else "issued"
            refusal = {"consumed": PaymentCodeUsed, "revoked": PaymentCodeRevoked}.get(status, PaymentCodeExpired)
            results[index] = refusal(field="code")
    if winners:
        await _authorise(session, requests, winners, consumed, cards, profiles, results, settings, now)
    return [result if result is not None else PaymentCodeInvalid(field="code") for result in results]


async def _authorise(
    session: AsyncSession,
    requests: Sequence[RedeemRequest],
    winners: dict[str, int],
    consumed: dict[str, CodeRow],
    cards: Mapping[uuid.UUID, CardFacts],
    profiles: Mapping[uuid.UUID, ProfileFacts | SecurityProfile],
    results: list[Redemption | MedCardError | None],
    settings: Settings,
    now: datetime,
) -> None:
    """Card, risk and PIN checks of consumed codes, then the signed verification codes."""
    repository = CodeRepository(session)
    rows = [consumed[digest] for digest in winners]
    midnight = now.astimezone(CHINA).replace(hour=0, minute=0, second=0, microsecond=0)
    paid = await repository.payments(
        {row.account_id for row in rows}, recent_since=now - security_rules.VELOCITY_WINDOW, day_since=midnight
    )
    regions = await _merchant_regions(repository, requests, winners, consumed, cards)
    amounts: dict[uuid.UUID, int] = {}
    entries: list[Entry] = []
    key = _authorisation_key(settings)
    expires = now + rules.AUTHORISATION_TTL
    for digest, index in winners.items():
        row, request = consumed[digest], requests[index]
        actor = actor_for_staff(request.staff)
        card = cards.get(row.card_id)
        try:
            if card is None or card.status != "active":
                raise CodeCardNotUsable(field="code")
            merchant_hospital = request.staff.hospital_id
            if not rules.card_pays_at(
                card_scope=card.scope,
                card_hospital_id=card.hospital_id,
                merchant_hospital_id=merchant_hospital,
                merchant_region_code=regions.get(merchant_hospital) if merchant_hospital else None,
            ):
                raise CardNotAcceptedHere(field="code")
            recent, spent = paid.get(row.account_id, (0, 0))
            _check_risk(profiles.get(row.account_id), request.amount_fen, recent=recent, spent_today=spent)
            if request.amount_fen > rules.PIN_FREE_LIMIT_FEN and request.pin is not None:
                account = present(await session.get(Account, row.account_id), "account")
                await security.check_pin(session, account=account, pin=request.pin, settings=settings, actor=actor)
        except MedCardError as refusal:
            error = _with_pin_retry(refusal, row, request, key=_pin_retry_key(settings), window_ends=expires)
            error.keep_changes = True
            refused = {"code": error.code}
            entries.append(Entry(actor, "code.redeem_refused", PaymentCode.__tablename__, row.id, "refused", refused))
            results[index] = error
            continue
        paid[row.account_id] = (recent + 1, spent + request.amount_fen)
        amounts[row.id] = request.amount_fen
        claims = rules.AuthorisationClaims(
            code_id=str(row.id),
            card_number=card.card_number,
            merchant_id=merchant_of(request.staff),
            ceiling_fen=request.amount_fen,
            expires_epoch=int(expires.timestamp()),
        )
        details: dict[str, Any] = {"amount_fen": request.amount_fen, "merchant": claims.merchant_id}
        entries.append(Entry(actor, "code.redeem", PaymentCode.__tablename__, row.id, details=details))
        results[index] = Redemption(
            verification_code=sign_token(key, AUTHORISATION_PREFIX, dict(claims.as_payload())),
            card_number=card.card_number,
            holder=mask_name(card.name),
            amount_fen=request.amount_fen,
            expires_at=expires,
        )
    await repository.set_amounts(amounts)
    await record_many(session, entries)


async def _merchant_regions(
    repository: CodeRepository,
    requests: Sequence[RedeemRequest],
    winners: dict[str, int],
    consumed: dict[str, CodeRow],
    cards: Mapping[uuid.UUID, CardFacts],
) -> dict[uuid.UUID, str]:
    """Region codes of the POS hospitals, read (one statement per batch) only when a regional
    card is paid at a hospital other than its own."""
    needed = set()
    for digest, index in winners.items():
        card, hospital = cards.get(consumed[digest].card_id), requests[index].staff.hospital_id
        if card is not None and hospital is not None and card.hospital_id != hospital and card.scope.startswith("R:"):
            needed.add(hospital)
    return await repository.hospital_regions(needed) if needed else {}


def _with_pin_retry(
    error: MedCardError, row: CodeRow, request: RedeemRequest, *, key: bytes, window_ends: datetime
) -> MedCardError:
    """A wrong PIN does not burn the payment: the refusal carries a signed token with which the
    same merchant may try the PIN again for the same code and amount until ``window_ends``."""
    if not isinstance(error, PinWrong):
        return error
    retry = PosPinWrong(field=error.field, **error.params, window_minutes=int(rules.AUTHORISATION_TTL.seconds // 60))
    claims = rules.AuthorisationClaims(
        code_id=str(row.id),
        card_number="",
        merchant_id=merchant_of(request.staff),
        ceiling_fen=request.amount_fen,
        expires_epoch=int(window_ends.timestamp()),
    )
    retry.retry_token = sign_token(key, PIN_RETRY_PREFIX, dict(claims.as_payload()))
    return retry


async def retry_pin(session: AsyncSession, *, staff: StaffUser, token: str, pin: str, settings: Settings) -> Redemption:
    """The patient re-enters the payment password for a code the POS scanned and a wrong PIN
    refused (R-SEC-03): same code, merchant and amount, within the code's authorisation window.
    The PIN lock still counts every wrong try; once locked, or once paid, the code is refused."""
    payload = verify_token(_pin_retry_key(settings), PIN_RETRY_PREFIX, token)
    claims = rules.AuthorisationClaims.from_payload(payload) if payload is not None else None
    if claims is None:
        raise AuthorisationInvalid(field="retry_token")
    if claims.merchant_id != merchant_of(staff):
        raise AuthorisationOtherMerchant(field="retry_token")
    if clock.now() >= datetime.fromtimestamp(claims.expires_epoch, tz=CHINA):
        raise PinRetryExpired(field="retry_token")
    repository = CodeRepository(session)
    code = await repository.code(uuid.UUID(claims.code_id))
    if code is None:
        raise AuthorisationInvalid(field="retry_token")
    profiles = await SecurityRepository(session).lock_profiles({code.account_id})
    # re-read under the holder's lock: a parallel retry may have paid
    code = present(await repository.code(code.id), "payment code")
    if code.status != "consumed" or code.amount_fen is not None:
        raise PaymentCodeUsed(field="code")
    if (profile := profiles.get(code.account_id)) is not None and profile.frozen_at is not None:
        raise PaymentsFrozen()
    row = CodeRow(code.id, code.code_hash, code.card_id, code.account_id, code.status, code.expires_at)
    request = RedeemRequest(staff=staff, text="", amount_fen=claims.ceiling_fen, pin=pin)
    results: list[Redemption | MedCardError | None] = [None]
    cards = await repository.cards({row.card_id})
    await _authorise(
        session, [request], {row.code_hash: 0}, {row.code_hash: row}, cards, profiles, results, settings, clock.now()
    )
    result = results[0]
    if isinstance(result, PosPinWrong):
        result.retry_token = token  # the window is the first scan's, not extended by each try
    if result is None:
        raise Inconsistent(what="redemption")
    return _one(result)


@dataclass(frozen=True)
class CodeStatus:
    """One of the patient's codes as the open payment page shows it (R-SEC-02)."""

    state: str
    amount_fen: int | None
    merchant: tuple[str, str] | None
    """(zh, en) name of where it was used."""
    used_at: datetime | None


async def code_status(session: AsyncSession, *, account: Account, code_id: uuid.UUID) -> CodeStatus:
    """Whether a code the patient is showing is still live, was paid (amount, where, when), waits
    for the payment password or was used without paying; another account's code answers 404."""
    code = await CodeRepository(session).code(code_id)
    if code is None or code.account_id != account.id:
        raise NotFound(field="code_id")
    state = rules.code_state(
        code.status,
        amount_fen=code.amount_fen,
        consumed_at=code.consumed_at,
        expires_at=code.expires_at,
        now=clock.now(),
    )
    merchant = None
    if code.merchant_id:
        hospital_id = None if code.merchant_id == "platform" else uuid.UUID(code.merchant_id)
        hospital = await HospitalRepository(session).get(hospital_id) if hospital_id else None
        merchant = (hospital.name_zh, hospital.name_en) if hospital else ("MedCard 平台", "MedCard platform")
    return CodeStatus(state=state, amount_fen=code.amount_fen, merchant=merchant, used_at=code.consumed_at)


def _check_risk(
    profile: ProfileFacts | SecurityProfile | None, amount_fen: int, *, recent: int, spent_today: int
) -> None:
    """Velocity, then the per-transaction and daily limits (R-SEC-06)."""
    if security_rules.velocity_exceeded(recent):
        raise VelocityExceeded(field="code")
    breach = security_rules.limit_breach(
        amount_fen,
        spent_today_fen=spent_today,
        per_transaction_fen=profile.per_transaction_limit_fen if profile else DEFAULT_PER_TRANSACTION_LIMIT_FEN,
        daily_fen=profile.daily_limit_fen if profile else DEFAULT_DAILY_LIMIT_FEN,
    )
    if breach is not None:
        raise LimitExceeded(
            field="amount_fen", limit=LIMIT_LABELS[breach.kind], limit_yuan=f"{breach.limit_fen / 100:.2f}"
        )


def check_verification_code(
    *, staff: StaffUser, token: str, amount_fen: int, settings: Settings
) -> rules.AuthorisationClaims:
    """Accept a verification code only unaltered, unexpired, at its merchant and within its ceiling."""
    payload = verify_token(_authorisation_key(settings), AUTHORISATION_PREFIX, token)
    claims = rules.AuthorisationClaims.from_payload(payload) if payload is not None else None
    if claims is None:
        raise AuthorisationInvalid(field="verification_code")
    if clock.now() >= datetime.fromtimestamp(claims.expires_epoch, tz=CHINA):
        raise AuthorisationExpired(field="verification_code")
    if claims.merchant_id != merchant_of(staff):
        raise AuthorisationOtherMerchant(field="verification_code")
    if amount_fen > claims.ceiling_fen:
        raise AuthorisationAmountExceeded(field="amount_fen")
    return claims
