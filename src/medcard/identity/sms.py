"""One-time SMS codes (R-ID-05): 6 digits, single use, expire, rate-limited per phone and IP.

Only an HMAC-SM3 of the code is stored (a leaked table cannot be brute-forced without the
server key). At most 5 wrong tries per code, then it is burnt.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.audit.service import Actor, record
from medcard.config import Settings
from medcard.identity.errors import SmsCodeInvalid, SmsCodeNotSent, SmsCodeWrong, SmsRateLimited
from medcard.identity.repository import IdentityRepository
from medcard.kit import side_effects
from medcard.kit.clock import clock
from medcard.kit.crypto import derive_key, hmac_sm3
from medcard.kit.masking import mask_phone
from medcard.models import Account, SmsCode

MAX_TRIES_PER_CODE = 5


def _code_hash(settings: Settings, phone: str, code: str) -> str:
    return hmac_sm3(derive_key(settings.secret_key, "sms-code"), f"{phone}:{code}".encode()).hex()


async def send_code(
    session: AsyncSession,
    *,
    phone: str,
    purpose: str,
    client_ip: str,
    actor: Actor,
    adapters: Adapters,
    settings: Settings,
    template: str = "verify_code",
    template_params: dict[str, str] | None = None,
    account: Account | None = None,
) -> SmsCode:
    """Create a code for ``phone`` (asked for by ``account``) and send it after the transaction commits."""
    repository = IdentityRepository(session)
    hour_ago = clock.now() - timedelta(hours=1)
    if await repository.sms_codes_since(since=hour_ago, phone=phone) >= settings.sms_per_phone_per_hour:
        raise SmsRateLimited(field="phone", retry_after=3600)
    if await repository.sms_codes_since(since=hour_ago, client_ip=client_ip) >= settings.sms_per_ip_per_hour:
        raise SmsRateLimited(field="phone", retry_after=3600)
    code = f"{secrets.randbelow(1_000_000):06d}"
    sms = SmsCode(
        phone=phone,
        purpose=purpose,
        code_hash=_code_hash(settings, phone, code),
        client_ip=client_ip,
        expires_at=clock.now() + timedelta(seconds=settings.sms_code_ttl_seconds),
        account_id=account.id if account else None,
    )
    session.add(sms)
    await record(
        session, actor=actor, action="sms.send", subject=sms, details={"phone": mask_phone(phone), "purpose": purpose}
    )
    params = {"code": code, "minutes": str(settings.sms_code_ttl_seconds // 60), **(template_params or {})}
    side_effects.after_commit(session, partial(adapters.sms.send, phone, template, params))
    return sms


async def pending_code(session: AsyncSession, *, account: Account, purpose: str) -> SmsCode | None:
    """The code ``account`` was sent for ``purpose`` and has not used yet, if still valid."""
    return await IdentityRepository(session).pending_sms_code(account=account, purpose=purpose, now=clock.now())


async def check_code(
    session: AsyncSession, *, phone: str, purpose: str, code: str, actor: Actor, settings: Settings
) -> SmsCode:
    """Consume the newest code for ``phone``/``purpose`` if ``code`` matches.

    A wrong code counts a try that is committed although the request fails (``keep_changes``).
    """
    sms = await IdentityRepository(session).latest_sms_code(phone=phone, purpose=purpose)
    now = clock.now()
    if sms is None:
        raise SmsCodeNotSent(field="code")
    if sms.used_at is not None or sms.expires_at <= now or sms.attempts >= MAX_TRIES_PER_CODE:
        raise SmsCodeInvalid(field="code")
    if not hmac.compare_digest(sms.code_hash, _code_hash(settings, phone, code)):
        sms.attempts += 1
        await record(session, actor=actor, action="sms.check", subject=sms, result="refused")
        left = MAX_TRIES_PER_CODE - sms.attempts
        if left > 0:
            raise SmsCodeWrong(field="code", keep_changes=True, attempts_left=left)
        raise SmsCodeInvalid(field="code", keep_changes=True)
    sms.used_at = now
    await record(session, actor=actor, action="sms.check", subject=sms)
    return sms
