"""Issuing and redeeming dynamic payment codes; the POS verification code (R-SEC-01/02).

Design (docs/adr/0005): the backend issues each code (18 random digits, 60 s) and keeps only
its keyed hash; the POS sends what it scanned, the backend consumes it with one conditional
UPDATE and hands back a verification code (核验码) signed with HMAC-SM3, bound to the code,
card, merchant and an amount ceiling. Services flush, never commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.audit.service import record
from medcard.auth.service import actor_for_account, actor_for_staff
from medcard.codes import rules
from medcard.codes.errors import (
    AuthorisationAmountExceeded,
    AuthorisationExpired,
    AuthorisationInvalid,
    AuthorisationOtherMerchant,
    CodeCardNotUsable,
    DisplayCodeNotPayment,
    PaymentCodeExpired,
    PaymentCodeInvalid,
    PaymentCodeRevoked,
    PaymentCodeUsed,
    PinRequired,
)
from medcard.codes.repository import CodeRepository
from medcard.config import Settings
from medcard.errors import MedCardError, RateLimited
from medcard.kit.clock import CHINA, clock
from medcard.kit.crypto import derive_key, hmac_sm3, sign_token, verify_token
from medcard.kit.masking import mask_name
from medcard.models import Account, Card, PaymentCode, StaffUser
from medcard.security import rules as security_rules
from medcard.security import service as security
from medcard.security.errors import LimitExceeded, VelocityExceeded

AUTHORISATION_PREFIX = "MCVA1"
LIMIT_LABELS = {"per_transaction": ("单笔限额", "per-transaction limit"), "daily": ("单日限额", "daily limit")}


def code_hash(settings: Settings, code: str) -> str:
    return hmac_sm3(derive_key(settings.secret_key, "payment-code"), code.encode()).hex()


def _authorisation_key(settings: Settings) -> bytes:
    return derive_key(settings.secret_key, "pos-verification-code")


def merchant_of(staff: StaffUser) -> str:
    return str(staff.hospital_id) if staff.hospital_id else "platform"


@dataclass(frozen=True)
class IssuedCode:
    """A fresh payment code as the patient's page shows it."""

    code: str
    card: Card
    issued_at: datetime
    expires_at: datetime


async def issue(session: AsyncSession, *, account: Account, card: Card, settings: Settings) -> IssuedCode:
    """A new 60-second payment code for one of the account's active cards (≤ 10 a minute per card)."""
    now = clock.now()
    if card.status != "active":
        raise CodeCardNotUsable(field="card_id")
    await security.ensure_not_frozen(session, account.id, lock=False)
    repository = CodeRepository(session)
    if rules.issue_rate_exceeded(await repository.issued_since(card.id, now - rules.ISSUE_WINDOW)):
        raise RateLimited(retry_after=60)
    await security.profile_of(session, account)
    code = rules.PAYMENT_CODE_PREFIX + "".join(secrets.choice("0123456789") for _ in range(16))
    row = PaymentCode(
        code_hash=code_hash(settings, code),
        card_id=card.id,
        account_id=account.id,
        issued_at=now,
        expires_at=now + rules.PAYMENT_CODE_TTL,
    )
    session.add(row)
    await session.flush()
    await record(session, actor=actor_for_account(account), action="code.issue", subject=row)
    return IssuedCode(code=code, card=card, issued_at=now, expires_at=row.expires_at)


@dataclass(frozen=True)
class Redemption:
    """What the POS gets back: the signed verification code and what it may show."""

    verification_code: str
    card_number: str
    holder: str
    amount_fen: int
    expires_at: datetime


async def _consume(session: AsyncSession, *, text: str, staff: StaffUser, settings: Settings) -> PaymentCode:
    if rules.is_display_code(text):
        raise DisplayCodeNotPayment(field="code")
    if not rules.is_payment_code_shape(text):
        raise PaymentCodeInvalid(field="code")
    digest = code_hash(settings, rules.normalise(text))
    repository = CodeRepository(session)
    row = await repository.by_hash(digest)
    if row is None:
        raise PaymentCodeInvalid(field="code")
    # Lock the account's profile first: a concurrent freeze either commits before us (we see
    # it and refuse) or waits until we commit.
    await security.ensure_not_frozen(session, row.account_id, lock=True)
    now = clock.now()
    if await repository.consume(digest, now=now, merchant_id=merchant_of(staff)) is None:
        row = await repository.by_hash(digest)
        status = row.status if row else "issued"
        raise {"consumed": PaymentCodeUsed, "revoked": PaymentCodeRevoked}.get(status, PaymentCodeExpired)(field="code")
    fresh = await repository.by_hash(digest)
    assert fresh is not None
    return fresh


async def _refuse(session: AsyncSession, code: PaymentCode, staff: StaffUser, error: MedCardError) -> MedCardError:
    """The code stays consumed although the payment is refused (single use, R-SEC-02)."""
    await record(
        session,
        actor=actor_for_staff(staff),
        action="code.redeem_refused",
        subject=code,
        result="refused",
        details={"code": error.code},
    )
    error.keep_changes = True
    return error


async def _check_risk(session: AsyncSession, code: PaymentCode, amount_fen: int) -> None:
    profile = await security.profile_of(session, await _account(session, code))
    now = clock.now()
    repository = CodeRepository(session)
    recent, _ = await repository.payments_since(code.account_id, now - security_rules.VELOCITY_WINDOW, exclude=code.id)
    if security_rules.velocity_exceeded(recent):
        raise VelocityExceeded(field="code")
    midnight = now.astimezone(CHINA).replace(hour=0, minute=0, second=0, microsecond=0)
    _, spent = await repository.payments_since(code.account_id, midnight, exclude=code.id)
    breach = security_rules.limit_breach(
        amount_fen,
        spent_today_fen=spent,
        per_transaction_fen=profile.per_transaction_limit_fen,
        daily_fen=profile.daily_limit_fen,
    )
    if breach is not None:
        zh, en = LIMIT_LABELS[breach.kind]
        raise LimitExceeded(field="amount_fen", limit_zh=zh, limit_en=en, limit_yuan=f"{breach.limit_fen / 100:.2f}")


async def _account(session: AsyncSession, code: PaymentCode) -> Account:
    account = await session.get(Account, code.account_id)
    assert account is not None
    return account


async def redeem(
    session: AsyncSession, *, staff: StaffUser, text: str, amount_fen: int, pin: str | None, settings: Settings
) -> Redemption:
    """A POS scanned ``text`` for ``amount_fen``: consume the code atomically, apply the
    card, risk and PIN checks, and sign the verification code (核验码)."""
    if amount_fen > rules.PIN_FREE_LIMIT_FEN and not pin and rules.is_payment_code_shape(text):
        raise PinRequired(field="pin")
    code = await _consume(session, text=text, staff=staff, settings=settings)
    card = await session.get(Card, code.card_id)
    try:
        if card is None or card.status != "active":
            raise CodeCardNotUsable(field="code")
        await _check_risk(session, code, amount_fen)
        if amount_fen > rules.PIN_FREE_LIMIT_FEN and pin is not None:
            await security.check_pin(
                session, account=await _account(session, code), pin=pin, settings=settings, actor=actor_for_staff(staff)
            )
    except MedCardError as error:
        raise await _refuse(session, code, staff, error) from None
    code.amount_fen = amount_fen
    expires = clock.now() + rules.AUTHORISATION_TTL
    claims = rules.AuthorisationClaims(
        code_id=str(code.id),
        card_number=card.card_number,
        merchant_id=merchant_of(staff),
        ceiling_fen=amount_fen,
        expires_epoch=int(expires.timestamp()),
    )
    await record(
        session,
        actor=actor_for_staff(staff),
        action="code.redeem",
        subject=code,
        details={"amount_fen": amount_fen, "merchant": claims.merchant_id},
    )
    token = sign_token(_authorisation_key(settings), AUTHORISATION_PREFIX, dict(claims.as_payload()))
    return Redemption(
        verification_code=token,
        card_number=card.card_number,
        holder=mask_name(card.name),
        amount_fen=amount_fen,
        expires_at=expires,
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
