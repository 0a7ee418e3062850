"""Device binding at login, abnormal-login step-up, WebAuthn (R-SEC-04/05/06).

Each browser carries a random device key in an HttpOnly cookie (API clients send it in the
``X-Device-Key`` header); only its HMAC-SM3 is stored. A login is matched to the account's
devices and to its earlier trusted logins; an abnormal one (new device, new region, impossible
travel) opens a session that must step up before sensitive actions: with the platform
authenticator registered on this device (WebAuthn, fingerprint / face ID), or with a fresh
identity verification (R-ID-02) where the device has none. Services flush, never commit.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorAttachment,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from medcard.audit.service import Actor, record
from medcard.config import Settings
from medcard.devices import rules
from medcard.devices.errors import (
    AuthenticatorRegistrationFailed,
    ChallengeMissing,
    NoAuthenticatorOnDevice,
    SignCountRegressed,
    StepUpFailed,
    StepUpRequired,
)
from medcard.devices.repository import DeviceRepository
from medcard.errors import NotFound
from medcard.kit.clock import clock
from medcard.kit.crypto import b64url_decode, derive_key, hmac_sm3, random_token
from medcard.models import Account, AuthSession, Device, VerificationSession, WebAuthnCredential
from medcard.security.errors import ReverificationRequired

CHALLENGE_TTL = timedelta(minutes=5)
RP_NAME = "MedCard 电子健康卡"


def key_hash(settings: Settings, device_key: str) -> str:
    return hmac_sm3(derive_key(settings.secret_key, "device-key"), device_key.encode()).hex()


@dataclass(frozen=True)
class Recognition:
    """The device a login came from and why the login looks abnormal (empty: it does not)."""

    device: Device
    device_key: str
    reasons: tuple[str, ...]


async def recognise(
    session: AsyncSession,
    *,
    account: Account,
    device_key: str | None,
    user_agent: str,
    region: str,
    settings: Settings,
    actor: Actor,
) -> Recognition:
    """Bind (or recognise) the login's device and judge the login (R-SEC-06). An unknown or
    missing key gets a new random key; the account's very first device is trusted at once."""
    repository = DeviceRepository(session)
    # One login of an account at a time: a double-submitted login must find the device the
    # other one bound, and of two simultaneous first logins only one is the trusted first device.
    await repository.lock_account(account)
    now = clock.now()
    device_key = device_key if device_key and 16 <= len(device_key) <= 128 else random_token()
    device = await repository.by_key(account, key_hash(settings, device_key))
    previous = await repository.latest_trusted_login(account)
    facts = rules.LoginFacts(
        first_device=not await repository.has_any(account),
        trusted_device=device is not None and device.revoked_at is None and device.trusted_at is not None,
        region=region,
        known_regions=await repository.trusted_regions(account),
        previous=rules.PreviousLogin(previous.region, previous.created_at) if previous else None,
        now=now,
    )
    reasons = rules.abnormal_login_reasons(facts)
    if device is None:
        device = Device(account_id=account.id, key_hash=key_hash(settings, device_key))
        session.add(device)
    if device.revoked_at is not None:  # an unbound device logging in again starts over
        device.revoked_at = None
        device.trusted_at = None
    if facts.first_device:
        device.trusted_at = now
    device.label = rules.device_label(user_agent)[:64]
    device.last_seen_at = now
    device.last_region = region
    await session.flush()
    if not facts.trusted_device:
        await record(session, actor=actor, action="device.bind", subject=device, details={"region": region})
    return Recognition(device=device, device_key=device_key, reasons=reasons)


def require_step_up(auth: AuthSession) -> None:
    """Refuse a sensitive action in a session whose login looked abnormal and has not stepped up."""
    if rules.needs_step_up(auth.step_up_reasons, auth.stepped_up_at):
        raise StepUpRequired()


async def devices_of(session: AsyncSession, account: Account) -> Sequence[Device]:
    """The account's bound devices, most recently seen first."""
    return await DeviceRepository(session).of_account(account)


async def has_authenticator(session: AsyncSession, account: Account, auth: AuthSession) -> bool:
    if auth.device_id is None:
        return False
    return bool(await DeviceRepository(session).credentials(account, device_id=auth.device_id))


async def unbind(session: AsyncSession, *, account: Account, device_id: uuid.UUID, actor: Actor) -> Device:
    """Unbind one device: its sessions end and its authenticators are revoked."""
    repository = DeviceRepository(session)
    device = await repository.device(account, device_id)
    if device is None or device.revoked_at is not None:
        raise NotFound(field="device_id")
    await repository.revoke([device.id], now=clock.now())
    await record(session, actor=actor, action="device.unbind", subject=device)
    return device


async def keep_only(session: AsyncSession, *, account: Account, auth: AuthSession, actor: Actor) -> int:
    """Reactivation (R-SEC-05): every device but this session's is unbound, with its sessions and
    authenticators; this one becomes trusted. Returns how many devices were unbound."""
    repository = DeviceRepository(session)
    others = [device.id for device in await repository.of_account(account) if device.id != auth.device_id]
    await repository.revoke(others, now=clock.now())
    await _stepped_up(session, auth, method="verification", actor=actor)
    return len(others)


async def _stepped_up(session: AsyncSession, auth: AuthSession, *, method: str, actor: Actor) -> None:
    now = clock.now()
    auth.stepped_up_at = now
    auth.step_up_method = method
    device = await session.get(Device, auth.device_id) if auth.device_id else None
    if device is not None and device.trusted_at is None:
        device.trusted_at = now
    await record(session, actor=actor, action="device.step_up", subject=auth, details={"method": method})


async def step_up_with_verification(
    session: AsyncSession, *, account: Account, auth: AuthSession, verification_id: uuid.UUID | None, actor: Actor
) -> AuthSession:
    """Fallback step-up for a device without a platform authenticator: a fresh identity
    verification (face, SMS, …) passed after this login."""
    verification = await session.get(VerificationSession, verification_id) if verification_id else None
    if (
        verification is None
        or verification.account_id != account.id
        or verification.status != "passed"
        or verification.purpose not in ("identity", "step_up")
        or not rules.verification_counts_as_step_up(
            verification.finished_at, session_opened_at=auth.created_at, now=clock.now()
        )
    ):
        raise ReverificationRequired(field="verification_id")
    await _stepped_up(session, auth, method="verification", actor=actor)
    return auth


def _new_challenge(auth: AuthSession, challenge: bytes) -> None:
    auth.challenge = bytes_to_base64url(challenge)
    auth.challenge_expires_at = clock.now() + CHALLENGE_TTL


def _take_challenge(auth: AuthSession) -> bytes:
    """The pending challenge, consumed: each one answers a single verify call."""
    challenge, expires = auth.challenge, auth.challenge_expires_at
    auth.challenge = None
    auth.challenge_expires_at = None
    if challenge is None or expires is None or expires <= clock.now():
        raise ChallengeMissing()
    return b64url_decode(challenge)


async def registration_options(
    session: AsyncSession, *, account: Account, auth: AuthSession, settings: Settings
) -> dict[str, Any]:
    """``navigator.credentials.create()`` options for this device's platform authenticator.
    Only a trusted session on a bound device may register one (else a thief could enrol his own)."""
    require_step_up(auth)
    if auth.device_id is None:
        raise AuthenticatorRegistrationFailed()
    rp_id, _origins = settings.relying_party
    existing = await DeviceRepository(session).credentials(account)
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=RP_NAME,
        user_id=account.id.bytes,
        user_name=account.nickname or "medcard",
        authenticator_selection=AuthenticatorSelectionCriteria(
            authenticator_attachment=AuthenticatorAttachment.PLATFORM,
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=b64url_decode(c.credential_id)) for c in existing],
    )
    _new_challenge(auth, options.challenge)
    await session.flush()
    return _as_json(options)


async def register(
    session: AsyncSession,
    *,
    account: Account,
    auth: AuthSession,
    credential: dict[str, Any],
    settings: Settings,
    actor: Actor,
) -> WebAuthnCredential:
    """Check the authenticator's answer and keep its credential id, public key and counter."""
    require_step_up(auth)
    challenge = _take_challenge(auth)
    rp_id, origins = settings.relying_party
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origins,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise AuthenticatorRegistrationFailed(keep_changes=True) from error
    credential_id = bytes_to_base64url(verified.credential_id)
    repository = DeviceRepository(session)
    if auth.device_id is None or await repository.credential_id_taken(credential_id):
        raise AuthenticatorRegistrationFailed(keep_changes=True)
    row = WebAuthnCredential(
        account_id=account.id,
        device_id=auth.device_id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
    )
    session.add(row)
    await session.flush()
    await record(session, actor=actor, action="device.webauthn_register", subject=row)
    return row


async def authentication_options(
    session: AsyncSession, *, account: Account, auth: AuthSession, settings: Settings
) -> dict[str, Any]:
    """``navigator.credentials.get()`` options naming this device's authenticators only: a
    platform authenticator never leaves its device, so step-up proves this device."""
    credentials = await DeviceRepository(session).credentials(account, device_id=auth.device_id)
    if auth.device_id is None or not credentials:
        raise NoAuthenticatorOnDevice()
    rp_id, _origins = settings.relying_party
    options = generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=[PublicKeyCredentialDescriptor(id=b64url_decode(c.credential_id)) for c in credentials],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _new_challenge(auth, options.challenge)
    await session.flush()
    return _as_json(options)


async def authenticate(
    session: AsyncSession,
    *,
    account: Account,
    auth: AuthSession,
    credential: dict[str, Any],
    settings: Settings,
    actor: Actor,
) -> AuthSession:
    """Verify a WebAuthn assertion from this device's authenticator and step the session up.
    A counter that did not grow is refused (and the refusal is audited)."""
    challenge = _take_challenge(auth)
    stored = await DeviceRepository(session).credential(account, str(credential.get("id", "")))
    if stored is None or stored.device_id != auth.device_id:
        raise StepUpFailed(keep_changes=True)
    rp_id, origins = settings.relying_party
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origins,
            credential_public_key=stored.public_key,
            credential_current_sign_count=0,  # the counter is judged below, after the signature
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise StepUpFailed(keep_changes=True) from error
    if not rules.sign_count_ok(verified.new_sign_count, stored.sign_count):
        await record(
            session,
            actor=actor,
            action="device.webauthn_clone_suspected",
            subject=stored,
            result="refused",
            details={"stored": stored.sign_count, "presented": verified.new_sign_count},
        )
        raise SignCountRegressed(keep_changes=True)
    stored.sign_count = verified.new_sign_count
    stored.last_used_at = clock.now()
    await _stepped_up(session, auth, method="webauthn", actor=actor)
    return auth


def _as_json(options: Any) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(options_to_json(options))
    return result
