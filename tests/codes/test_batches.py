"""The batched code paths (``issue_many`` / ``redeem_many``) give every request the answer it
would get alone, in request order (R-SEC-02, R-SEC-06); the API's single calls are batches of one."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.codes import service
from medcard.codes.errors import DisplayCodeNotPayment, PaymentCodeInvalid, PaymentCodeUsed, PinRequired
from medcard.codes.service import IssuedCode, IssueRequest, RedeemRequest, Redemption
from medcard.config import Settings
from medcard.errors import MedCardError, RateLimited
from medcard.models import AuditEvent, PaymentCode, SecurityProfile
from medcard.security import service as security
from medcard.security.errors import LimitExceeded, PaymentsFrozen, VelocityExceeded
from tests.card.conftest import issue_card
from tests.factories import Demo, verified_account


async def _holders(db: AsyncSession, adapters: Adapters, demo: Demo, count: int) -> list[IssueRequest]:
    requests = []
    for index in range(count):
        account = await verified_account(db, name="批量" + "甲乙丙丁戊"[index])
        requests.append(IssueRequest(account=account, card=await issue_card(db, adapters, account, demo.hospital)))
    return requests


def _codes(results: list[IssuedCode | MedCardError]) -> list[str]:
    assert all(isinstance(result, IssuedCode) for result in results), results
    return [result.code for result in results if isinstance(result, IssuedCode)]


async def test_r_sec_02_one_batch_issues_for_many_cards_and_audits_each(
    db: AsyncSession, adapters: Adapters, demo: Demo, settings: Settings
) -> None:
    requests = await _holders(db, adapters, demo, 3)
    codes = _codes(await service.issue_many(db, requests, settings=settings))
    assert len(set(codes)) == 3
    assert all(len(code) == 18 and code.startswith("29") for code in codes)
    stored = await db.scalar(select(func.count()).where(PaymentCode.card_id.in_([r.card.id for r in requests])))
    assert stored == 3
    audited = await db.scalar(select(func.count()).where(AuditEvent.action == "code.issue"))
    assert audited is not None and audited >= 3


async def test_r_sec_06_rate_limit_counts_codes_of_the_same_batch(
    db: AsyncSession, adapters: Adapters, demo: Demo, settings: Settings
) -> None:
    """Eleven requests for one card in one batch: ten codes, the eleventh is rate-limited."""
    (request,) = await _holders(db, adapters, demo, 1)
    results = await service.issue_many(db, [request] * 11, settings=settings)
    assert all(isinstance(result, IssuedCode) for result in results[:10])
    assert isinstance(results[10], RateLimited)


async def test_r_sec_05_frozen_holder_gets_no_code_in_a_batch_others_do(
    db: AsyncSession, adapters: Adapters, demo: Demo, settings: Settings
) -> None:
    requests = await _holders(db, adapters, demo, 2)
    profile = await security.profile_of(db, requests[0].account)
    profile.frozen_at = profile.created_at
    await db.flush()
    results = await service.issue_many(db, requests, settings=settings)
    assert isinstance(results[0], PaymentsFrozen)
    assert isinstance(results[1], IssuedCode)


async def test_r_sec_02_mixed_redeem_batch_answers_each_scan_in_order(
    db: AsyncSession, adapters: Adapters, demo: Demo, settings: Settings
) -> None:
    """Good codes, the same code twice, a display code, a malformed and an unknown code, a
    large amount without PIN: one batch, each answered as it would be alone."""
    requests = await _holders(db, adapters, demo, 2)
    first, second = _codes(await service.issue_many(db, requests, settings=settings))
    cashier = demo.staff["cashier"]
    scans = [
        RedeemRequest(cashier, first, 1_000),
        RedeemRequest(cashier, first, 1_000),
        RedeemRequest(cashier, "MCQR1.abc.def", 1_000),
        RedeemRequest(cashier, "12345", 1_000),
        RedeemRequest(cashier, "29" + "0" * 16, 1_000),
        RedeemRequest(cashier, second, 50_000),
        RedeemRequest(cashier, f" {second[:9]} {second[9:]}\n", 2_000),
    ]
    results = await service.redeem_many(db, scans, settings=settings)
    kinds = [type(result) for result in results]
    assert kinds == [
        Redemption,
        PaymentCodeUsed,
        DisplayCodeNotPayment,
        PaymentCodeInvalid,
        PaymentCodeInvalid,
        PinRequired,
        Redemption,
    ]
    hashes = {service.code_hash(settings, first): "first", service.code_hash(settings, second): "second"}
    rows = await db.scalars(select(PaymentCode).where(PaymentCode.code_hash.in_(hashes)))
    assert {hashes[row.code_hash]: (row.status, row.amount_fen) for row in rows} == {
        "first": ("consumed", 1_000),
        "second": ("consumed", 2_000),
    }


async def test_r_sec_06_velocity_and_daily_limit_count_earlier_payments_of_the_batch(
    db: AsyncSession, adapters: Adapters, demo: Demo, settings: Settings
) -> None:
    """Six codes of one holder paid in one batch: the sixth trips the velocity rule; with a
    daily limit of 25 yuan, the third 10-yuan payment of a batch breaks it."""
    (request,) = await _holders(db, adapters, demo, 1)
    cashier = demo.staff["cashier"]
    codes = _codes(await service.issue_many(db, [request] * 6, settings=settings))
    results = await service.redeem_many(db, [RedeemRequest(cashier, c, 100) for c in codes], settings=settings)
    assert [type(r) for r in results] == [Redemption] * 5 + [VelocityExceeded]

    (other,) = await _holders(db, adapters, demo, 1)
    profile = await security.profile_of(db, other.account)
    profile.daily_limit_fen = 2_500
    await db.flush()
    codes = _codes(await service.issue_many(db, [other] * 3, settings=settings))
    results = await service.redeem_many(db, [RedeemRequest(cashier, c, 1_000) for c in codes], settings=settings)
    assert [type(r) for r in results] == [Redemption, Redemption, LimitExceeded]
    assert all(r.keep_changes for r in results if isinstance(r, MedCardError))


async def test_r_sec_06_first_code_creates_the_profile_later_payments_lock(
    db: AsyncSession, adapters: Adapters, demo: Demo, settings: Settings
) -> None:
    """Limits and velocity are counted under the holder's profile lock, so the profile must
    exist before the first payment: the first code issue creates it (once, even in a batch)."""
    (request,) = await _holders(db, adapters, demo, 1)
    owned = select(func.count()).where(SecurityProfile.account_id == request.account.id)
    assert await db.scalar(owned) == 0
    _codes(await service.issue_many(db, [request, request], settings=settings))
    assert await db.scalar(owned) == 1


async def test_r_sec_02_a_code_whose_holder_has_no_profile_is_still_found_and_paid(
    db: AsyncSession, adapters: Adapters, demo: Demo, settings: Settings
) -> None:
    """R-SEC-02/06: the redeem looks codes up together with the holder's profile lock; a code
    whose holder has no profile row (none to lock) is found by the fallback lookup and paid
    under the default limits, beside a code whose holder has one."""
    requests = await _holders(db, adapters, demo, 2)
    codes = _codes(await service.issue_many(db, requests, settings=settings))
    await db.execute(delete(SecurityProfile).where(SecurityProfile.account_id == requests[0].account.id))
    cashier = demo.staff["cashier"]
    results = await service.redeem_many(db, [RedeemRequest(cashier, code, 1_000) for code in codes], settings=settings)
    assert [type(result) for result in results] == [Redemption, Redemption]
