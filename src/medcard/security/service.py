"""Security operations: payment password (R-SEC-03), freeze / loss report / reactivation
(R-SEC-05), limits (R-SEC-06) and permission settings (R-SEC-07).

The payment password is stored as HMAC-SM3(pepper, salt || pin). The pepper is derived from
the deployment secret and never written to the database, so a dump alone cannot be brute
forced even though a 6-digit space is small. Services flush, never commit.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.audit.repository import AuditRepository
from medcard.audit.service import Actor, record
from medcard.auth.service import actor_for_account, actor_for_staff
from medcard.card import rules as card_rules
from medcard.codes.repository import CodeRepository
from medcard.config import Settings
from medcard.devices import service as devices
from medcard.errors import present
from medcard.kit import keys
from medcard.kit.clock import clock
from medcard.kit.crypto import derive_key, hmac_sm3
from medcard.kit.keys import KeyRing
from medcard.models import Account, AuthSession, SecurityProfile, StaffUser
from medcard.security import rules
from medcard.security.errors import (
    AccountNotVerified,
    LossReportRefused,
    NotFrozen,
    PinFormatInvalid,
    PinLocked,
    PinNotSet,
    PinWrong,
    ReverificationRequired,
)
from medcard.security.repository import LossReportFacts, SecurityRepository


def pin_digest(settings: Settings, salt: str, pin: str) -> str:
    """The stored form of a PIN: HMAC-SM3 under the server-side pepper."""
    return hmac_sm3(derive_key(settings.secret_key, "payment-pin-pepper"), f"{salt}:{pin}".encode()).hex()


async def profile_of(session: AsyncSession, account: Account, *, lock: bool = False) -> SecurityProfile:
    """The account's security profile, created on first use."""
    repository = SecurityRepository(session)
    profile = await repository.profile(account.id, lock=lock)
    if profile is None:
        profile = SecurityProfile(account_id=account.id)
        session.add(profile)
        await session.flush()
    return profile


def purposes_for(purpose: str) -> tuple[str, ...]:
    """The verifications that count for ``purpose``: a re-verification done for it, or the account's
    own real-name verification (which counts only when it is fresh enough, e.g. just after login)."""
    return ("identity", purpose)


async def latest_verification_id(session: AsyncSession, account: Account, *, purpose: str) -> uuid.UUID | None:
    """The account's most recent passed verification for ``purpose`` (pages pass it; the service
    checks freshness)."""
    return await SecurityRepository(session).latest_passed_verification_id(account, purposes=purposes_for(purpose))


async def _require_fresh_verification(
    session: AsyncSession,
    account: Account,
    verification_id: uuid.UUID | None,
    *,
    not_before: datetime | None,
    purpose: str,
) -> None:
    repository = SecurityRepository(session)
    verification = (
        await repository.passed_verification(account, verification_id, purposes=purposes_for(purpose))
        if verification_id
        else None
    )
    if verification is None or not rules.verification_is_fresh(verification.finished_at, clock.now(), not_before):
        raise ReverificationRequired(field="verification_id")


async def set_pin(
    session: AsyncSession, *, account: Account, pin: str, settings: Settings, verification_id: uuid.UUID | None
) -> SecurityProfile:
    """Set the first PIN (verified account), or reset it after a fresh identity verification,
    which also lifts a lock."""
    if account.person_id is None:
        raise AccountNotVerified()
    if not rules.pin_shape_ok(pin):
        raise PinFormatInvalid(field="pin")
    profile = await profile_of(session, account, lock=True)
    resetting = profile.pin_hash is not None
    if resetting:
        await _require_fresh_verification(
            session, account, verification_id, not_before=profile.pin_set_at, purpose="pin_reset"
        )
    profile.pin_salt = secrets.token_hex(16)
    profile.pin_hash = pin_digest(settings, profile.pin_salt, pin)
    profile.pin_set_at = clock.now()
    profile.pin_failures = 0
    profile.pin_locked_until = None
    await record(
        session,
        actor=actor_for_account(account),
        action="security.pin_reset" if resetting else "security.pin_set",
        subject=profile,
    )
    return profile


async def check_pin(session: AsyncSession, *, account: Account, pin: str, settings: Settings, actor: Actor) -> None:
    """Check the PIN under a row lock, so concurrent guesses are counted one at a time and
    no more than five are ever evaluated before the lock. A wrong PIN commits its count."""
    profile = await profile_of(session, account, lock=True)
    now = clock.now()
    if profile.pin_hash is None or profile.pin_salt is None:
        raise PinNotSet(field="pin")
    if rules.is_locked(profile.pin_locked_until, now):
        raise PinLocked(field="pin")
    if hmac.compare_digest(pin_digest(settings, profile.pin_salt, pin), profile.pin_hash):
        profile.pin_failures = 0
        profile.pin_locked_until = None
        await session.flush()
        return
    outcome = rules.after_wrong_pin(profile.pin_failures, now)
    profile.pin_failures = outcome.failures
    profile.pin_locked_until = outcome.locked_until
    await record(
        session,
        actor=actor,
        action="security.pin_wrong",
        subject=profile,
        result="refused",
        details={"failures": outcome.failures, "locked": outcome.locked_until is not None},
    )
    if outcome.locked_until is not None:
        raise PinLocked(field="pin", keep_changes=True)
    raise PinWrong(field="pin", attempts_left=outcome.attempts_left, keep_changes=True)


async def _freeze(
    session: AsyncSession, account: Account, *, reason: str, by: str, keep_session: uuid.UUID | None, actor: Actor
) -> SecurityProfile:
    profile = await profile_of(session, account, lock=True)
    now = clock.now()
    if profile.frozen_at is None:
        profile.frozen_at = now
    profile.frozen_reason = reason
    profile.frozen_by = by
    revoked = await CodeRepository(session).revoke_live(account.id, now=now)
    await SecurityRepository(session).revoke_sessions(account, keep=keep_session, now=now)
    await record(
        session,
        actor=actor,
        action="security.freeze",
        subject=profile,
        details={"reason": reason, "codes_revoked": revoked},
    )
    return profile


async def freeze_self(session: AsyncSession, *, account: Account, current_session_id: uuid.UUID) -> SecurityProfile:
    """Freeze from another logged-in device: every code is refused and the other sessions end."""
    return await _freeze(
        session,
        account,
        reason="self_freeze",
        by="self",
        keep_session=current_session_id,
        actor=actor_for_account(account),
    )


def _last4(value: str | None) -> str:
    return (value or "")[-4:].upper()


_DUMMY_ANSWERS: tuple[KeyRing, tuple[str, str, str]] | None = None


def _dummy_answers() -> tuple[str, str, str]:
    """Name, document and phone of no card, decrypted like a found card's three columns, so a
    missing card number costs the same work as a found one (no enumeration by timing, R-SEC-06).
    Encrypted once per key ring; each use only decrypts."""
    global _DUMMY_ANSWERS
    ring = keys.active()
    if _DUMMY_ANSWERS is None or _DUMMY_ANSWERS[0] is not ring:
        values = ("无此人", "000000000000000000", "00000000000")
        columns = ("card.name", "card.document_number", "card.phone")
        stored = tuple(ring.encrypt(value.encode(), column) for value, column in zip(values, columns, strict=True))
        _DUMMY_ANSWERS = (ring, (stored[0], stored[1], stored[2]))
    name, document, phone = _DUMMY_ANSWERS[1]
    return (
        ring.decrypt(name, "card.name").decode(),
        ring.decrypt(document, "card.document_number").decode(),
        ring.decrypt(phone, "card.phone").decode(),
    )


async def report_loss(
    session: AsyncSession, *, staff: StaffUser, card_number: str, name: str, document_last4: str, phone_last4: str
) -> LossReportFacts:
    """Hotline temporary loss report (临时挂失) after the identity questions. An unknown card, a
    card of another hospital (R-CARD-05: staff act only on their hospital's cards) and wrong
    answers get one answer after the same work: one query, three decryptions, three
    constant-time comparisons (R-SEC-06)."""
    facts = await SecurityRepository(session).loss_report_facts(card_number.strip())
    expected = (facts.name, facts.document_number, facts.phone) if facts is not None else _dummy_answers()
    matches = [
        hmac.compare_digest(expected[0].encode(), name.strip().encode()),
        hmac.compare_digest(_last4(expected[1]).encode(), document_last4.strip().upper().encode()),
        hmac.compare_digest(_last4(expected[2]).encode(), phone_last4.strip().encode()),
    ]
    visible = facts is not None and card_rules.staff_sees_card(
        staff_hospital_id=staff.hospital_id, card_hospital_id=facts.hospital_id
    )
    if facts is None or not visible or not all(matches):
        raise LossReportRefused(field="card_number")
    account = present(await session.get(Account, facts.account_id), "account")
    await _freeze(
        session, account, reason="loss_report", by=f"staff:{staff.id}", keep_session=None, actor=actor_for_staff(staff)
    )
    return facts


async def reactivate(
    session: AsyncSession, *, account: Account, verification_id: uuid.UUID | None, auth: AuthSession
) -> SecurityProfile:
    """Lift a freeze after a fresh identity verification, which is also this session's step-up.
    Every other device is unbound with its sessions and authenticators (R-SEC-05)."""
    profile = await profile_of(session, account, lock=True)
    if profile.frozen_at is None:
        raise NotFrozen()
    await _require_fresh_verification(
        session, account, verification_id, not_before=profile.frozen_at, purpose="reactivation"
    )
    now = clock.now()
    profile.frozen_at = None
    profile.frozen_reason = None
    profile.frozen_by = None
    await SecurityRepository(session).revoke_sessions(account, keep=auth.id, now=now)
    actor = actor_for_account(account)
    unbound = await devices.keep_only(session, account=account, auth=auth, actor=actor)
    await record(
        session, actor=actor, action="security.reactivate", subject=profile, details={"devices_unbound": unbound}
    )
    return profile


async def update_settings(session: AsyncSession, *, account: Account, changes: dict[str, object]) -> SecurityProfile:
    """Permission settings and limits (R-SEC-06/07); the values are validated by the schema."""
    profile = await profile_of(session, account, lock=True)
    changed = {}
    for name, value in changes.items():
        if getattr(profile, name) != value:
            setattr(profile, name, value)
            changed[name] = value
    if changed:
        await record(
            session, actor=actor_for_account(account), action="security.settings", subject=profile, details=changed
        )
    return profile


@dataclass(frozen=True)
class RiskSignal:
    """One audit row that is a risk signal, as the monitor lists it (no personal data)."""

    at: datetime
    kind: str
    actor: str
    subject: str
    details: dict[str, Any]


@dataclass(frozen=True)
class RiskMonitor:
    """Counts of each risk kind in the last 15 minutes and 24 hours, and the latest signals."""

    recent: dict[str, int]
    day: dict[str, int]
    latest: list[RiskSignal]
    truncated: bool
    """More rows than the monitor reads matched the day: the day counts are lower bounds."""


MONITOR_ROW_CAP = 20_000


async def risk_monitor(session: AsyncSession, *, hospital_id: uuid.UUID | None, latest: int = 50) -> RiskMonitor:
    """Real-time risk monitoring (R-SEC-06) over the audit log: velocity and limit refusals,
    wrong and locked PINs, abnormal and refused logins, freezes, suspected cloned authenticators."""
    now = clock.now()
    rows = await AuditRepository(session).since(
        rules.RISK_ACTIONS, now - rules.MONITOR_DAY, hospital_id=hospital_id, limit=MONITOR_ROW_CAP
    )
    recent = dict.fromkeys(rules.RISK_KINDS, 0)
    day = dict.fromkeys(rules.RISK_KINDS, 0)
    signals: list[RiskSignal] = []
    for row in rows:
        kind = rules.risk_kind(row.action, row.details)
        if kind is None:
            continue
        day[kind] += 1
        if row.at >= now - rules.MONITOR_RECENT:
            recent[kind] += 1
        if len(signals) < latest:
            actor = f"{row.actor_kind}:{row.actor_label or row.actor_id[:8]}"
            signals.append(RiskSignal(row.at, kind, actor, f"{row.subject_kind}:{row.subject_id[:8]}", row.details))
    return RiskMonitor(recent=recent, day=day, latest=signals, truncated=len(rows) >= MONITOR_ROW_CAP)
