"""Kiosk operations. Each one reads the patient's display QR again, so a code that went stale
between scan and button press is still refused. Refusals come before any change; the one
refusal that keeps its audit row (a wrong ID card) is raised with ``keep_changes``."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.audit.service import record
from medcard.auth.errors import AccountFrozen
from medcard.auth.service import actor_for_staff
from medcard.card.rules import staff_sees_card
from medcard.card.service import resolve_display_code
from medcard.config import Settings
from medcard.errors import NotFound
from medcard.kiosk import rules
from medcard.kiosk.errors import (
    ActivationDocumentMismatch,
    CardNotFound,
    FeePaymentRequired,
    KioskServiceUnknown,
    PhysicalCardRequired,
)
from medcard.kiosk.repository import KioskRepository
from medcard.kit.clock import clock
from medcard.kit.masking import mask_document
from medcard.models import Card, KioskServiceRequest, PhysicalCard, StaffUser
from medcard.settlement import card_fee
from medcard.settlement.card_fee import FeePayment


@dataclass(frozen=True)
class KioskCard:
    """What the kiosk shows after a scan: the card (with its hospital) and its physical card."""

    card: Card
    physical_card: PhysicalCard | None


@dataclass(frozen=True)
class Issuance:
    """A physical card just issued, and the one it replaced, if any."""

    card: Card
    physical_card: PhysicalCard
    replaced: PhysicalCard | None


async def _card_at_kiosk(
    session: AsyncSession, *, staff: StaffUser, settings: Settings, text: str, purpose: rules.Purpose
) -> Card:
    """The card behind a scanned display code, if this staff member's hospital holds it and
    its state allows ``purpose``. Forged, stale (R-CARD-07), frozen and cancelled cards are
    refused by :func:`resolve_display_code`."""
    card = await resolve_display_code(session, text=text, settings=settings, allow_pending_activation=True)
    if staff.hospital_id is not None and card.hospital_id != staff.hospital_id:
        raise CardNotFound(field="code")
    refusal = rules.status_refusal(card.status, purpose)
    if refusal is not None:
        raise refusal
    if await KioskRepository(session).account_status(card) == "frozen":
        raise AccountFrozen()
    return card


async def scan(session: AsyncSession, *, staff: StaffUser, settings: Settings, text: str) -> KioskCard:
    """Identify the card behind a scanned display code (R-CARD-08's first step)."""
    card = await _card_at_kiosk(session, staff=staff, settings=settings, text=text, purpose="scan")
    return KioskCard(card=card, physical_card=await KioskRepository(session).issued_physical_card(card))


async def _new_serial(repository: KioskRepository) -> str:
    while True:
        serial = rules.serial(day=clock.today_in_china(), random_digits=f"{secrets.randbelow(10**8):08d}")
        if not await repository.serial_taken(serial):
            return serial


async def issue_physical_card(
    session: AsyncSession,
    *,
    staff: StaffUser,
    settings: Settings,
    text: str,
    adapters: Adapters,
    fee_payment: FeePayment | None = None,
    reason: str | None = None,
) -> Issuance:
    """R-CARD-08: issue a physical card for the e-card behind ``text``. The fee comes from the
    hospital's setting and is settled before the card leaves the machine: paid through the
    channel or the deposit, or deliberately deferred to the window (``fee_payment``; required
    unless the card is free, ``waived``). A card already in use is marked ``replaced``, which
    needs a ``reason``."""
    card = await _card_at_kiosk(session, staff=staff, settings=settings, text=text, purpose="issue")
    if card.hospital.physical_card_fee_fen and fee_payment is None:
        raise FeePaymentRequired(field="fee_payment")
    repository = KioskRepository(session)
    await repository.lock(card)
    current = await repository.issued_physical_card(card)
    refusal = rules.reissue_refusal(has_issued_card=current is not None, reason=reason)
    if refusal is not None:
        raise refusal
    actor = actor_for_staff(staff)
    if current is not None:
        current.status = "replaced"
        await session.flush()
        await record(
            session,
            actor=actor,
            action="physical_card.replace",
            subject=current,
            hospital_id=card.hospital_id,
            details={"serial": current.serial, "reason": reason, "before": "issued", "after": "replaced"},
        )
    fee_fen = card.hospital.physical_card_fee_fen
    physical_card = PhysicalCard(
        card_id=card.id,
        serial=await _new_serial(repository),
        issued_by_staff_id=staff.id,
        fee_fen=fee_fen,
        fee_status=rules.fee_status(fee_fen),
        status="issued",
    )
    session.add(physical_card)
    await session.flush()
    physical_card.fee_status = await card_fee.collect(
        session, card=card, physical_card=physical_card, how=fee_payment or "window", adapters=adapters
    )
    await session.flush()
    await record(
        session,
        actor=actor,
        action="physical_card.issue",
        subject=physical_card,
        hospital_id=card.hospital_id,
        details={
            "card_id": str(card.id),
            "serial": physical_card.serial,
            "fee_fen": fee_fen,
            "fee_status": physical_card.fee_status,
            "fee_payment": fee_payment if fee_fen else None,
            "replaces": current.serial if current else None,
        },
    )
    return Issuance(card=card, physical_card=physical_card, replaced=current)


async def issuance_for_staff(session: AsyncSession, *, staff: StaffUser, physical_card_id: uuid.UUID) -> Issuance:
    """A physical card issued at this staff member's hospital, for the page after the issue
    (Post/Redirect/Get); another hospital's answers like a missing one."""
    repository = KioskRepository(session)
    physical_card = await repository.physical_card(physical_card_id)
    card = await repository.card(physical_card.card_id) if physical_card else None
    if (
        physical_card is None
        or card is None
        or not staff_sees_card(staff_hospital_id=staff.hospital_id, card_hospital_id=card.hospital_id)
    ):
        raise NotFound()
    return Issuance(card=card, physical_card=physical_card, replaced=await repository.replaced_by(physical_card))


async def activate(
    session: AsyncSession, *, staff: StaffUser, settings: Settings, text: str, document_number: str
) -> Card:
    """R-ID-06: activate a pending card after the kiosk's reader read the original ID card.
    A different document is refused; the refused attempt stays in the audit log."""
    card = await _card_at_kiosk(session, staff=staff, settings=settings, text=text, purpose="activate")
    actor = actor_for_staff(staff)
    if not rules.document_matches(card.document_number, document_number):
        await record(
            session,
            actor=actor,
            action="card.activate",
            subject=card,
            result="refused",
            hospital_id=card.hospital_id,
            details={"method": "kiosk_id_card", "reason": "document_mismatch", "read": mask_document(document_number)},
        )
        raise ActivationDocumentMismatch(field="document_number", keep_changes=True)
    card.status = "active"
    card.activated_at = clock.now()
    await session.flush()
    await record(
        session,
        actor=actor,
        action="card.activate",
        subject=card,
        hospital_id=card.hospital_id,
        details={"method": "kiosk_id_card", "before": "pending_activation", "after": "active"},
    )
    return card


async def request_service(
    session: AsyncSession, *, staff: StaffUser, settings: Settings, text: str, service: str
) -> KioskServiceRequest:
    """R-CARD-11: record a request for a service that needs the physical card (printing records,
    special exam registration, the insurance fee list); refused without an issued physical card."""
    if service not in rules.SERVICES:
        raise KioskServiceUnknown(field="service")
    name_zh, name_en = rules.SERVICES[service]
    card = await _card_at_kiosk(session, staff=staff, settings=settings, text=text, purpose="service")
    physical_card = await KioskRepository(session).issued_physical_card(card)
    if physical_card is None:
        raise PhysicalCardRequired(field="code", service_zh=name_zh, service_en=name_en)
    request = KioskServiceRequest(
        card_id=card.id,
        physical_card_id=physical_card.id,
        hospital_id=card.hospital_id,
        service=service,
        requested_by_staff_id=staff.id,
    )
    session.add(request)
    await session.flush()
    await record(
        session,
        actor=actor_for_staff(staff),
        action="kiosk.service_request",
        subject=request,
        hospital_id=card.hospital_id,
        details={"service": service, "card_id": str(card.id), "serial": physical_card.serial},
    )
    return request
