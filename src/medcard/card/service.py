"""Card operations: draft autosave, photo prefill, submission, existing-patient binding,
personal-information updates, staff changes of immutable fields and the display code.

Services flush, never commit (the request's unit of work commits once). Calls to the HIS
that must follow the commit are queued with :mod:`medcard.kit.side_effects`.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.his import HisPatient, HisUnavailable
from medcard.audit.service import Actor, record
from medcard.auth.service import actor_for_account, actor_for_staff
from medcard.card import qr, rules
from medcard.card.errors import (
    CardAccountNotVerified,
    CardAlreadyIssued,
    CardDocumentTaken,
    CardExistingRecordMismatch,
    CardExistingRecordNotFound,
    CardFieldImmutable,
    CardFieldInvalid,
    CardHisUnavailable,
    CardIdentityMismatch,
    CardMinorNeedsGuardian,
    CardNotActive,
    CardNumberInvalid,
    CardNumberOccupied,
    CardPhotoUnreadable,
    CardQrInvalid,
    CardQrStale,
)
from medcard.card.repository import CardRepository
from medcard.config import Settings
from medcard.errors import MedCardError, NotFound, present
from medcard.family.service import note_proxy_access
from medcard.i18n import DEFAULT_LANGUAGE, N_, Msg, translate
from medcard.identity import rules as identity_rules
from medcard.identity.sms import check_code, pending_code, send_code
from medcard.kit import side_effects
from medcard.kit.clock import clock
from medcard.kit.ids import new_id
from medcard.kit.masking import mask_document, mask_phone
from medcard.kit.uploads import check_image
from medcard.models import Account, Card, CardDraft, Hospital, Person, Region, StaffUser

SELF = "self"
CARD_NUMBER_TRIES = 8
MIN_REASON_LENGTH = 4


# --- who and where -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """Whom a card is for: the account holder (``self``) or a ward he guards (key = ward's person id)."""

    key: str
    person: Person


async def hospital_by_code(session: AsyncSession, code: str) -> Hospital:
    """The hospital with this code (404 naming the ``hospital`` field)."""
    hospital = await CardRepository(session).hospital_by_code(code.strip())
    if hospital is None:
        raise NotFound(field="hospital")
    return hospital


async def resolve_subject(session: AsyncSession, *, account: Account, subject_key: str) -> Subject:
    """``self`` (needs a verified account) or a relative this account currently acts for (else 404)."""
    holder = account.person
    if holder is None or holder.verified_at is None:
        raise CardAccountNotVerified()
    if subject_key in ("", SELF):
        # Every route to a card passes here: under 14 only a guardian's account applies (R-ID-07),
        # whatever verified the account (a verification from before the rule, a staff change).
        if not identity_rules.may_verify_self(holder.birth_date, clock.today_in_china()):
            raise CardMinorNeedsGuardian()
        return Subject(SELF, holder)
    try:
        ward_id = uuid.UUID(subject_key)
    except ValueError:
        raise NotFound(field="subject") from None
    ward = await CardRepository(session).ward_of(account=account, ward_id=ward_id)
    if ward is None:
        raise NotFound(field="subject")
    return Subject(str(ward.id), ward)


def identity_of(person: Person) -> rules.IdentityFacts:
    return rules.IdentityFacts(
        name=person.name,
        gender=person.gender,
        birth_date=person.birth_date,
        document_type=person.document_type,
        document_number=person.document_number,
        nationality=person.nationality,
    )


def _field_error(error: type[MedCardError], field: str) -> MedCardError:
    """``error`` naming ``field``, with the field's label (a catalog message) for its text."""
    return error(field=field, label=rules.FIELD_LABELS.get(field, Msg(field)))


# --- drafts (R-CARD-04) --------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftView:
    """The form as the patient resumes it: verified identity, autosaved values, the last saved field."""

    hospital: Hospital
    subject: Subject
    fields: dict[str, str]
    last_field: str | None
    revision: int
    updated_at: datetime | None

    @property
    def missing(self) -> list[str]:
        """Required fields still empty (what stands between the patient and submitting)."""
        _form, problems = rules.validate_form(self.fields, today=clock.today_in_china())
        return [p.field for p in problems if p.reason in ("required", "required for employed people")]


def _draft_view(hospital: Hospital, subject: Subject, draft: CardDraft | None, phone: str | None) -> DraftView:
    fields = dict.fromkeys(rules.ALL_FIELDS, "")
    if phone:
        fields["phone"] = phone
    if draft is not None:
        fields.update({k: str(v) for k, v in draft.data.items() if k in fields})
    fields.update(identity_of(subject.person).as_fields())
    return DraftView(
        hospital=hospital,
        subject=subject,
        fields=fields,
        last_field=draft.last_field if draft else None,
        revision=draft.revision if draft else 0,
        updated_at=draft.updated_at if draft else None,
    )


def _contact_phone(account: Account, subject: Subject) -> str | None:
    return subject.person.phone or (account.person.phone if account.person else None)


async def get_draft(session: AsyncSession, *, account: Account, hospital: Hospital, subject: Subject) -> DraftView:
    """The saved draft merged over the verified identity. Nothing saved yet for this hospital but
    a card of the same person at another one: its details prefill the form (a second hospital's
    form is not typed twice)."""
    repository = CardRepository(session)
    draft = await repository.draft(account=account, hospital=hospital, subject_key=subject.key)
    view = _draft_view(hospital, subject, draft, _contact_phone(account, subject))
    if draft is None:
        earlier = [c for c in await repository.for_account(account) if c.person_id == subject.person.id]
        if earlier:
            copied = {f: v for f, v in card_form(earlier[0]).items() if f in PREFILL_FROM_CARD and v}
            view.fields.update(copied)
    return view


PREFILL_FROM_CARD = frozenset(rules.ALL_FIELDS) - frozenset(rules.IDENTITY_FIELDS)


async def existing_record_at(adapters: Adapters, *, hospital: Hospital, subject: Subject) -> bool:
    """Does ``hospital``'s HIS already hold a record of this person? Asked as soon as the patient
    picks the hospital, so a returning patient links that record instead of filling the form.
    An unavailable HIS answers "don't know" (False): the form still works and submit asks again."""
    try:
        return await _his_record(adapters, hospital, subject.person) is not None
    except CardHisUnavailable:
        return False


def _clean_against_identity(fields: Mapping[str, str], subject: Subject) -> dict[str, str]:
    """Cleaned values; refuses malformed fields and identity fields that differ from the verified person."""
    cleaned, problems = rules.clean_fields(
        fields, today=clock.today_in_china(), document_type=subject.person.document_type
    )
    if problems:
        raise CardFieldInvalid(problems)
    mismatches = rules.identity_mismatches(cleaned, identity_of(subject.person))
    if mismatches:
        raise _field_error(CardIdentityMismatch, mismatches[0])
    return cleaned


async def save_draft(
    session: AsyncSession,
    *,
    account: Account,
    hospital: Hospital,
    subject: Subject,
    fields: Mapping[str, str],
    last_field: str | None = None,
    source: str = "form",
) -> DraftView:
    """Autosave one or several fields (all or nothing). ``last_field`` defaults to the last one given;
    the patient resumes there after a lost connection."""
    cleaned = _clean_against_identity(fields, subject)
    repository = CardRepository(session)
    draft = await repository.draft(account=account, hospital=hospital, subject_key=subject.key, for_update=True)
    if draft is None:
        draft = CardDraft(account_id=account.id, hospital_id=hospital.id, subject_key=subject.key, data={})
        session.add(draft)
    stored = {k: v for k, v in cleaned.items() if k not in rules.IDENTITY_FIELDS}
    draft.data = {**draft.data, **stored}
    if last_field is None and source == "form" and fields:
        last_field = list(fields)[-1]
    if last_field in rules.ALL_FIELDS:
        draft.last_field = last_field
    draft.revision = (draft.revision or 0) + 1
    draft.updated_at = clock.now()
    await session.flush()
    await record(
        session,
        actor=actor_for_account(account),
        action="card.draft_save",
        subject=draft,
        hospital_id=hospital.id,
        details={"fields": sorted(cleaned), "revision": draft.revision, "source": source},
    )
    return _draft_view(hospital, subject, draft, _contact_phone(account, subject))


async def prefill_from_photo(
    session: AsyncSession,
    *,
    account: Account,
    hospital: Hospital,
    subject: Subject,
    image: bytes,
    adapters: Adapters,
    settings: Settings,
) -> tuple[DraftView, list[str]]:
    """Read the ID photo (R-CARD-01) and save what it shows into the draft. The image is not kept.

    Returns the draft and the fields that were filled in. A photo of somebody else's document is refused.
    """
    check_image(image, max_bytes=settings.max_upload_bytes, field="photo")
    result = await adapters.identity.ocr_document(image)  # the image goes to the provider only
    if not result.readable:
        raise CardPhotoUnreadable(field="photo")
    read = {k: v for k, v in result.fields.items() if k in rules.ALL_FIELDS and v.strip()}
    cleaned, problems = rules.clean_fields(
        read, today=clock.today_in_china(), document_type=subject.person.document_type
    )
    misread = {p.field for p in problems}
    usable = {k: v for k, v in cleaned.items() if k not in misread}
    mismatches = rules.identity_mismatches(usable, identity_of(subject.person))
    if mismatches:
        raise _field_error(CardIdentityMismatch, mismatches[0])
    prefilled = [f for f in rules.ALL_FIELDS if f in usable]
    view = await save_draft(session, account=account, hospital=hospital, subject=subject, fields=usable, source="ocr")
    return view, prefilled


# --- submission (R-CARD-01, R-CARD-05, R-CARD-06) ------------------------------------------------


async def _complete_form(
    session: AsyncSession,
    *,
    account: Account,
    hospital: Hospital,
    subject: Subject,
    fields: Mapping[str, str] | None,
) -> tuple[dict[str, str], CardDraft | None]:
    """The draft with ``fields`` on top, every field valid and the identity the verified one;
    also the stored draft (removed once the card exists)."""
    given = dict(fields or {})
    draft = await CardRepository(session).draft(account=account, hospital=hospital, subject_key=subject.key)
    view = _draft_view(hospital, subject, draft, _contact_phone(account, subject))
    form, problems = rules.validate_form({**view.fields, **given}, today=clock.today_in_china())
    unknown = [rules.FieldProblem(f, N_("not a field of the form")) for f in given if f not in form]
    if unknown or problems:
        raise CardFieldInvalid(unknown + problems)
    mismatches = rules.identity_mismatches(form, identity_of(subject.person))
    if mismatches:
        raise _field_error(CardIdentityMismatch, mismatches[0])
    return form, draft


async def region_of(session: AsyncSession, hospital: Hospital) -> Region:
    """The hospital's region (from the identity map when already loaded)."""
    region = await session.get(Region, hospital.region_id)
    if region is None:
        raise NotFound(field="hospital")
    return region


async def _reserve(session: AsyncSession, *, hospital: Hospital, person: Person) -> tuple[str, str]:
    """The card's scope and a free card number (R-CARD-06); refuses a second card in the scope
    (R-CARD-05). Both are asked in one query; a taken number (rare) just draws another."""
    region = await region_of(session, hospital)
    scope = rules.card_scope(hospital_code=hospital.code, region_code=region.code, region_card_scope=region.card_scope)
    repository = CardRepository(session)
    for _ in range(CARD_NUMBER_TRIES):
        number = rules.make_card_number(region.code, secrets.randbelow(10**rules.SERIAL_DIGITS))
        scope_taken, number_taken = await repository.issuance_conflicts(scope=scope, person=person, card_number=number)
        if scope_taken:
            regional = scope.startswith("R:")
            raise CardAlreadyIssued(
                scope_zh=region.name_zh if regional else hospital.name_zh,
                scope_en=region.name_en if regional else hospital.name_en,
            )
        if not number_taken:
            return scope, number
    raise RuntimeError("no free card number after several tries; the serial space is nearly full")


async def _his_record(adapters: Adapters, hospital: Hospital, person: Person) -> HisPatient | None:
    try:
        return await adapters.his.find_patient(
            hospital_code=hospital.code, document_type=person.document_type, document_number=person.document_number
        )
    except HisUnavailable as error:
        raise CardHisUnavailable() from error


def _new_card(
    form: Mapping[str, str], *, account: Account, hospital: Hospital, person: Person, scope: str, number: str
) -> Card:
    pending = hospital.requires_kiosk_activation
    values: dict[str, object] = {f: form[f] or None for f in rules.OPTIONAL_FIELDS}
    values.update({f: form[f] for f in rules.BASIC_FIELDS if f != "birth_date"})
    return Card(
        card_number=number,
        hospital_id=hospital.id,
        hospital=hospital,
        scope=scope,
        person_id=person.id,
        person=person,
        account_id=account.id,
        status="pending_activation" if pending else "active",
        activated_at=None if pending else clock.now(),
        qr_version=1,
        birth_date=person.birth_date,
        **values,
    )


async def _store_card(
    session: AsyncSession,
    card: Card,
    *,
    hospital: Hospital,
    draft: CardDraft | None,
    actor: Actor,
    action: str,
    details: dict[str, object],
) -> None:
    """Insert the card with its audit row and remove the draft, in one flush."""
    card.id = new_id()  # known before the flush, so the audit row goes into the same flush
    session.add(card)
    if draft is not None:
        await session.delete(draft)
    try:
        await record(session, actor=actor, action=action, subject=card, hospital_id=hospital.id, details=details)
    except IntegrityError as error:  # a concurrent submission for the same person won the race
        raise CardAlreadyIssued(scope_zh=hospital.name_zh, scope_en=hospital.name_en) from error


async def submit(
    session: AsyncSession,
    *,
    account: Account,
    hospital: Hospital,
    subject: Subject,
    adapters: Adapters,
    fields: Mapping[str, str] | None = None,
) -> Card:
    """Issue the card: validate the form, one card per person per scope, refuse if the HIS already
    knows the person (``CARD_NUMBER_OCCUPIED`` → existing-patient binding), else register the patient
    in the HIS under the new card number. Pending activation when the hospital asks for a kiosk visit."""
    form, draft = await _complete_form(session, account=account, hospital=hospital, subject=subject, fields=fields)
    person = subject.person
    scope, number = await _reserve(session, hospital=hospital, person=person)
    if await _his_record(adapters, hospital, person) is not None:
        raise CardNumberOccupied(field="document_number", hospital_zh=hospital.name_zh, hospital_en=hospital.name_en)
    try:
        # Inline, not after commit: the card needs the HIS patient id. If our commit then fails, the
        # HIS keeps a record and a retry is routed to existing-patient binding, which links it.
        his = await adapters.his.register_patient(
            hospital_code=hospital.code,
            document_type=person.document_type,
            document_number=person.document_number,
            name=person.name,
            gender=person.gender,
            birth_date=person.birth_date.isoformat(),
            phone=form["phone"],
            card_number=number,
        )
    except HisUnavailable as error:
        raise CardHisUnavailable() from error
    card = _new_card(form, account=account, hospital=hospital, person=person, scope=scope, number=number)
    card.his_patient_id = his.patient_id
    await _store_card(
        session,
        card,
        hospital=hospital,
        draft=draft,
        actor=actor_for_account(account),
        action="card.issue",
        details={"card_number": number, "scope": scope, "status": card.status, "for": subject.key},
    )
    return card


# --- existing-patient binding (老用户绑定，R-CARD-05) ------------------------------------------------


@dataclass(frozen=True)
class ExistingRecordChallenge:
    """An SMS code was sent to the phone in the hospital's record; shown masked."""

    hospital: Hospital
    masked_phone: str
    expires_in_seconds: int


def _binding_purpose(hospital: Hospital) -> str:
    return f"exist:{hospital.code}"[:24]


async def _matching_record(adapters: Adapters, hospital: Hospital, person: Person) -> HisPatient:
    his = await _his_record(adapters, hospital, person)
    if his is None:
        raise CardExistingRecordNotFound(hospital_zh=hospital.name_zh, hospital_en=hospital.name_en)
    if his.name.replace(" ", "") != person.name.replace(" ", ""):
        raise CardExistingRecordMismatch(field="name")
    return his


async def start_existing_binding(
    session: AsyncSession,
    *,
    account: Account,
    hospital: Hospital,
    subject: Subject,
    adapters: Adapters,
    settings: Settings,
    client_ip: str,
    fields: Mapping[str, str] | None = None,
) -> ExistingRecordChallenge:
    """Find the HIS record by document number, check the verified name, and text a code to the phone
    on that record (only its holder can prove the record is his)."""
    await _complete_form(session, account=account, hospital=hospital, subject=subject, fields=fields)
    await _reserve(session, hospital=hospital, person=subject.person)
    his = await _matching_record(adapters, hospital, subject.person)
    await send_code(
        session,
        phone=his.phone,
        purpose=_binding_purpose(hospital),
        client_ip=client_ip,
        actor=actor_for_account(account),
        adapters=adapters,
        settings=settings,
        template="existing_record",
        template_params={"hospital": hospital.name_zh},
        account=account,
    )
    return ExistingRecordChallenge(
        hospital=hospital, masked_phone=mask_phone(his.phone), expires_in_seconds=settings.sms_code_ttl_seconds
    )


async def pending_existing_challenge(
    session: AsyncSession, *, account: Account, hospital: Hospital
) -> ExistingRecordChallenge | None:
    """The code this account was just texted for ``hospital``'s record, shown again by the page
    after the send (Post/Redirect/Get); ``None`` once used or expired."""
    sms = await pending_code(session, account=account, purpose=_binding_purpose(hospital))
    if sms is None:
        return None
    left = -(-int((sms.expires_at - clock.now()).total_seconds()) // 60) * 60  # whole minutes, rounded up
    return ExistingRecordChallenge(hospital=hospital, masked_phone=mask_phone(sms.phone), expires_in_seconds=left)


async def confirm_existing_binding(
    session: AsyncSession,
    *,
    account: Account,
    hospital: Hospital,
    subject: Subject,
    code: str,
    adapters: Adapters,
    settings: Settings,
    fields: Mapping[str, str] | None = None,
) -> Card:
    """Check the SMS code, then issue a card linked to the existing HIS record (never a second record)."""
    form, draft = await _complete_form(session, account=account, hospital=hospital, subject=subject, fields=fields)
    scope, number = await _reserve(session, hospital=hospital, person=subject.person)
    his = await _matching_record(adapters, hospital, subject.person)
    actor = actor_for_account(account)
    await check_code(
        session, phone=his.phone, purpose=_binding_purpose(hospital), code=code, actor=actor, settings=settings
    )
    card = _new_card(form, account=account, hospital=hospital, person=subject.person, scope=scope, number=number)
    card.his_patient_id = his.patient_id
    card.linked_existing_record = True
    await _store_card(
        session,
        card,
        hospital=hospital,
        draft=draft,
        actor=actor,
        action="card.bind_existing",
        details={"card_number": number, "scope": scope, "his_patient_id": his.patient_id, "for": subject.key},
    )
    side_effects.after_commit(
        session,
        partial(adapters.his.link_card, hospital_code=hospital.code, patient_id=his.patient_id, card_number=number),
    )
    return card


# --- reading and changing issued cards (R-CARD-03, R-CARD-07) ------------------------------------


async def card_of_account(
    session: AsyncSession, *, account: Account, card_id: uuid.UUID, for_update: bool = False
) -> Card:
    """A card this account manages; anyone else's card is 404 (never 403, so ids reveal nothing)."""
    card = await CardRepository(session).of_account(account, card_id)
    if card is None:
        raise NotFound()
    await note_proxy_access(session, account=account, patient_id=card.person_id, subject=card, what="card")
    if for_update:
        card = await CardRepository(session).by_id(card.id, for_update=True) or card
    return card


def card_form(card: Card) -> dict[str, str]:
    """The card's fields as the form's text values."""
    values = {f: getattr(card, f) for f in rules.ALL_FIELDS}
    values["birth_date"] = card.birth_date.isoformat()
    return {f: "" if v is None else str(v) for f, v in values.items()}


def _bump_qr(card: Card) -> None:
    """Every change of personal data issues a new display code; older ones are refused at once."""
    card.qr_version += 1
    card.updated_at = clock.now()


async def update_personal_info(
    session: AsyncSession, *, account: Account, card: Card, changes: Mapping[str, str]
) -> Card:
    """Change address, occupation, emergency contact, allergies, … (R-CARD-07: new QR version).

    Identity fields, the document number and the phone are refused (``CARD_FIELD_IMMUTABLE``, R-CARD-03).
    """
    for field in changes:
        if field in rules.IDENTITY_FIELDS or field in rules.STAFF_ONLY_FIELDS:
            raise _field_error(CardFieldImmutable, field)
    if card.status == "cancelled":
        raise CardNotActive(status=rules.STATUS_LABELS["cancelled"])
    current = card_form(card)
    form, problems = rules.validate_form({**current, **changes}, today=clock.today_in_china())
    if problems:
        raise CardFieldInvalid(problems)
    changed = sorted(f for f in changes if f in rules.ALL_FIELDS and form[f] != current[f])
    if not changed:
        return card
    for field in changed:
        setattr(card, field, form[field] or None if field in rules.OPTIONAL_FIELDS else form[field])
    _bump_qr(card)
    await record(
        session,
        actor=actor_for_account(account),
        action="card.update",
        subject=card,
        hospital_id=card.hospital_id,
        details={"fields": changed, "qr_version": card.qr_version},
    )
    return card


def _masked(field: str, value: str) -> str:
    return mask_document(value) if field == "document_number" else mask_phone(value)


async def find_card_for_staff(session: AsyncSession, *, staff: StaffUser, card_number: str) -> Card:
    """Look a card up by its number (mistyped numbers are refused by the check digit)."""
    number = rules.normalize_card_number(card_number)
    if not rules.card_number_valid(number):
        raise CardNumberInvalid(field="card_number")
    # Scope first, on columns that need no decryption: a card of another hospital costs exactly
    # what a missing number costs (one query), so neither answer nor work tells them apart.
    repository = CardRepository(session)
    found = await repository.hospital_of_number(number)
    if found is None or not rules.staff_sees_card(staff_hospital_id=staff.hospital_id, card_hospital_id=found[1]):
        raise NotFound(field="card_number")
    return present(await repository.by_id(found[0]), "card")


LOOKUP_KINDS = ("document", "phone", "name")
LOOKUP_LIMIT = 20


async def search_cards_for_staff(session: AsyncSession, *, staff: StaffUser, kind: str, value: str) -> list[Card]:
    """Cards found by ID number, phone or exact name through their blind indexes (no decryption),
    within the staff member's hospital (R-CARD-03 scope, :func:`rules.staff_sees_card`)."""
    if kind not in LOOKUP_KINDS:
        raise NotFound(field="by")
    if not value.strip():
        return []
    cards = await CardRepository(session).by_blind_index(kind, value, hospital_id=staff.hospital_id, limit=LOOKUP_LIMIT)
    return [
        card
        for card in cards
        if rules.staff_sees_card(staff_hospital_id=staff.hospital_id, card_hospital_id=card.hospital_id)
    ]


async def reveal_name_for_staff(session: AsyncSession, *, staff: StaffUser, card_id: uuid.UUID) -> Card:
    """The unmasked name for the in-person check, one audit row per showing (R-SEC-08)."""
    card = await card_for_staff(session, staff=staff, card_id=card_id)
    await record(
        session,
        actor=actor_for_staff(staff),
        action="card.show_name",
        subject=card,
        hospital_id=card.hospital_id,
        details={"purpose": "in_person_check"},
    )
    return card


async def card_for_staff(session: AsyncSession, *, staff: StaffUser, card_id: uuid.UUID) -> Card:
    """A card a staff member may work on (his hospital's; an admin without a hospital sees all)."""
    card = await CardRepository(session).by_id(card_id, for_update=True)
    if card is None or not rules.staff_sees_card(
        staff_hospital_id=staff.hospital_id, card_hospital_id=card.hospital_id
    ):
        raise NotFound()
    return card


async def change_immutable_field(
    session: AsyncSession, *, staff: StaffUser, card: Card, field: str, new_value: str, reason: str
) -> Card:
    """A staff member changes the document number or phone (R-CARD-03), with a reason, audited with the
    masked before/after values; the display code is renewed."""
    if field not in rules.STAFF_ONLY_FIELDS:
        raise CardFieldInvalid([rules.FieldProblem("field", N_("document_number or phone only"))])
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise CardFieldInvalid([rules.FieldProblem("reason", N_("give a reason (4+ characters)"))])
    value, problem = rules.clean_field(field, new_value, today=clock.today_in_china(), document_type=card.document_type)
    if problem is None and not value:
        problem = rules.FieldProblem(field, N_("required"))
    if problem is not None:
        raise CardFieldInvalid([problem])
    before = str(getattr(card, field))
    if value == before:
        raise CardFieldInvalid([rules.FieldProblem(field, N_("same as the current value"))])
    if field == "document_number" and await CardRepository(session).document_taken_in_scope(
        scope=card.scope, document_number=value, except_card=card
    ):
        raise CardDocumentTaken(field=field)
    setattr(card, field, value)
    _bump_qr(card)
    await record(
        session,
        actor=actor_for_staff(staff),
        action="card.staff_change",
        subject=card,
        hospital_id=card.hospital_id,
        details={
            "field": field,
            "before": _masked(field, before),
            "after": _masked(field, value),
            "reason": reason.strip()[:200],
            "qr_version": card.qr_version,
        },
    )
    return card


# --- the display code (R-CARD-07) ----------------------------------------------------------------


@dataclass(frozen=True)
class DisplayCodeView:
    """The current display code of a card, as text and as an inline SVG."""

    text: str
    svg: str
    version: int


def display_code(card: Card, *, settings: Settings, title: str | None = None) -> DisplayCodeView:
    """The card's QR now; ``title`` names it for screen readers (the page's language; zh-CN if None)."""
    text = qr.issue(
        secret=settings.secret_key,
        card_number=card.card_number,
        version=card.qr_version,
        issued_at=int(clock.now().timestamp()),
    )
    return DisplayCodeView(
        text=text, svg=qr.svg(text, title=title or translate(DEFAULT_LANGUAGE, qr.CARD_QR)), version=card.qr_version
    )


async def resolve_display_code(
    session: AsyncSession, *, text: str, settings: Settings, allow_pending_activation: bool = False
) -> Card:
    """The card a scanned display code stands for (kiosk, window).

    Forged or altered → ``CARD_QR_INVALID``; an older QR version (personal data changed since) →
    ``CARD_QR_STALE``; a card that is not active → ``CARD_NOT_ACTIVE``. A kiosk activating a card
    (R-ID-06) passes ``allow_pending_activation=True`` to accept a card still pending activation.
    """
    claims = qr.read(secret=settings.secret_key, text=text)
    if claims is None:
        raise CardQrInvalid(field="code")
    card = await CardRepository(session).by_number(claims.card_number)
    if card is None:
        raise CardQrInvalid(field="code")
    if claims.version != card.qr_version:
        raise CardQrStale(field="code")
    if card.status != "active" and not (allow_pending_activation and card.status == "pending_activation"):
        raise CardNotActive(field="code", status=rules.STATUS_LABELS.get(card.status, Msg(card.status)))
    return card
