"""Card routes: drafts and photo prefill, submission, existing-patient binding, my cards, the
display code; staff look-up and changes of the immutable fields."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.card import service
from medcard.card.repository import CardRepository
from medcard.card.schemas import (
    CardRead,
    CardSubmit,
    DisplayCodeRead,
    DraftRead,
    DraftSave,
    ExistingChallengeRead,
    ExistingConfirm,
    ExistingStart,
    ImmutableFieldChange,
    PersonalInfoUpdate,
    PhotoPrefillRead,
)
from medcard.deps import AccountDep, AdaptersDep, ClientIpDep, SessionDep, SettingsDep, require_role
from medcard.kit.uploads import read_limited
from medcard.models import Account, Hospital, StaffUser

patient_router = APIRouter(prefix="/cards", tags=["card"])
staff_router = APIRouter(prefix="/staff/cards", tags=["card", "staff"])
StaffCardDep = Annotated[StaffUser, Depends(require_role("cashier", "hotline"))]


async def _where(
    session: AsyncSession, account: Account, hospital_code: str, subject_key: str
) -> tuple[Hospital, service.Subject]:
    hospital = await service.hospital_by_code(session, hospital_code)
    return hospital, await service.resolve_subject(session, account=account, subject_key=subject_key)


@patient_router.get("/drafts", response_model=DraftRead)
async def get_draft(
    session: SessionDep,
    account: AccountDep,
    hospital: Annotated[str, Query(min_length=1, max_length=16)],
    subject: Annotated[str, Query(min_length=1, max_length=40)] = "self",
) -> DraftRead:
    """The autosaved form; resume at ``last_field`` (R-CARD-04)."""
    where, who = await _where(session, account, hospital, subject)
    return DraftRead.of(await service.get_draft(session, account=account, hospital=where, subject=who))


@patient_router.put("/drafts", response_model=DraftRead)
async def save_draft(body: DraftSave, session: SessionDep, account: AccountDep) -> DraftRead:
    """Autosave one or several fields (all or nothing)."""
    where, who = await _where(session, account, body.hospital, body.subject)
    view = await service.save_draft(
        session, account=account, hospital=where, subject=who, fields=body.fields, last_field=body.last_field
    )
    return DraftRead.of(view)


@patient_router.post("/drafts/ocr", response_model=PhotoPrefillRead)
async def prefill_from_photo(
    session: SessionDep,
    account: AccountDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
    photo: Annotated[UploadFile, File()],
    hospital: Annotated[str, Form(min_length=1, max_length=16)],
    subject: Annotated[str, Form(min_length=1, max_length=40)] = "self",
) -> PhotoPrefillRead:
    """Read an ID photo and prefill the draft (R-CARD-01); the image is not stored."""
    image = await read_limited(photo, max_bytes=settings.max_upload_bytes, field="photo")
    where, who = await _where(session, account, hospital, subject)
    view, prefilled = await service.prefill_from_photo(
        session, account=account, hospital=where, subject=who, image=image, adapters=adapters, settings=settings
    )
    return PhotoPrefillRead(draft=DraftRead.of(view), prefilled=prefilled)


@patient_router.post("/existing/start", response_model=ExistingChallengeRead)
async def start_existing_binding(
    body: ExistingStart,
    session: SessionDep,
    account: AccountDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
    client_ip: ClientIpDep,
) -> ExistingChallengeRead:
    """Existing-patient binding (老用户绑定): text a code to the phone in the hospital's record."""
    where, who = await _where(session, account, body.hospital, body.subject)
    challenge = await service.start_existing_binding(
        session,
        account=account,
        hospital=where,
        subject=who,
        adapters=adapters,
        settings=settings,
        client_ip=client_ip,
        fields=body.fields,
    )
    return ExistingChallengeRead.of(challenge)


@patient_router.post("/existing/confirm", response_model=CardRead, status_code=status.HTTP_201_CREATED)
async def confirm_existing_binding(
    body: ExistingConfirm, session: SessionDep, account: AccountDep, adapters: AdaptersDep, settings: SettingsDep
) -> CardRead:
    """Confirm the code: a card linked to the existing record, no second HIS record."""
    where, who = await _where(session, account, body.hospital, body.subject)
    card = await service.confirm_existing_binding(
        session,
        account=account,
        hospital=where,
        subject=who,
        code=body.code,
        adapters=adapters,
        settings=settings,
        fields=body.fields,
    )
    return CardRead.of(card)


@patient_router.get("", response_model=list[CardRead])
async def my_cards(session: SessionDep, account: AccountDep) -> list[CardRead]:
    """The cards this account manages (its own and its wards')."""
    return [CardRead.of(card) for card in await CardRepository(session).for_account(account)]


@patient_router.post("", response_model=CardRead, status_code=status.HTTP_201_CREATED)
async def submit(body: CardSubmit, session: SessionDep, account: AccountDep, adapters: AdaptersDep) -> CardRead:
    """Submit the application (R-CARD-01). ``409 CARD_NUMBER_OCCUPIED`` routes to existing-patient binding."""
    where, who = await _where(session, account, body.hospital, body.subject)
    card = await service.submit(
        session, account=account, hospital=where, subject=who, adapters=adapters, fields=body.fields
    )
    return CardRead.of(card)


@patient_router.get("/{card_id}", response_model=CardRead)
async def get_card(card_id: uuid.UUID, session: SessionDep, account: AccountDep) -> CardRead:
    return CardRead.of(await service.card_of_account(session, account=account, card_id=card_id))


@patient_router.patch("/{card_id}", response_model=CardRead)
async def update_personal_info(
    card_id: uuid.UUID, body: PersonalInfoUpdate, session: SessionDep, account: AccountDep
) -> CardRead:
    """Change personal information; a new display code is issued and the old one stops working."""
    card = await service.card_of_account(session, account=account, card_id=card_id, for_update=True)
    card = await service.update_personal_info(session, account=account, card=card, changes=body.changes())
    return CardRead.of(card)


@patient_router.get("/{card_id}/qr", response_model=DisplayCodeRead)
async def display_code(
    card_id: uuid.UUID, session: SessionDep, account: AccountDep, settings: SettingsDep
) -> DisplayCodeRead:
    """The card's current display code (R-CARD-07)."""
    card = await service.card_of_account(session, account=account, card_id=card_id)
    return DisplayCodeRead.of(card, service.display_code(card, settings=settings))


@staff_router.get("", response_model=CardRead)
async def find_card(
    session: SessionDep, staff: StaffCardDep, card_number: Annotated[str, Query(min_length=1, max_length=32)]
) -> CardRead:
    """Find a card by its number; a mistyped number fails the check digit."""
    return CardRead.of(await service.find_card_for_staff(session, staff=staff, card_number=card_number))


@staff_router.post("/{card_id}/immutable-fields", response_model=CardRead)
async def change_immutable_field(
    card_id: uuid.UUID, body: ImmutableFieldChange, session: SessionDep, staff: StaffCardDep
) -> CardRead:
    """Change the document number or phone with a reason (R-CARD-03); audited with masked values."""
    card = await service.card_for_staff(session, staff=staff, card_id=card_id)
    card = await service.change_immutable_field(
        session, staff=staff, card=card, field=body.field, new_value=body.new_value, reason=body.reason
    )
    return CardRead.of(card)


router = APIRouter()
router.include_router(patient_router)
router.include_router(staff_router)
