"""Card pages: apply (HTMX autosave per field, ID-photo prefill), existing-patient binding,
my card with its QR, personal-information edit; the staff console's card search and changes.

Pages call the same service functions as the API. A refusal is rolled back here exactly as the
unit of work would (unless it must keep its changes) and shown on the page.
"""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.card import rules, service
from medcard.card.errors import CardAlreadyIssued, CardFieldInvalid, CardNumberOccupied
from medcard.card.qr import CARD_QR
from medcard.card.repository import CardRepository
from medcard.config import Settings
from medcard.db import attempt
from medcard.deps import AccountDep, AdaptersDep, ClientIpDep, SessionDep, SettingsDep, require_role
from medcard.errors import MedCardError
from medcard.i18n import translate
from medcard.kit.clock import CHINA, clock
from medcard.kit.uploads import read_limited
from medcard.models import Account, Card, Hospital, StaffUser
from medcard.web.render import error_view, language, page

router = APIRouter(include_in_schema=False)
StaffCardDep = Annotated[StaffUser, Depends(require_role("cashier", "hotline"))]
HospitalQuery = Annotated[str, Query(min_length=1, max_length=16)]
SubjectQuery = Annotated[str, Query(min_length=1, max_length=40)]
MAX_AUTOSAVE_FIELDS = 4

INPUT_KINDS: dict[str, dict[str, str]] = {
    "phone": {"type": "tel", "inputmode": "numeric", "autocomplete": "tel", "maxlength": "11"},
    "emergency_phone": {"type": "tel", "inputmode": "tel", "maxlength": "13"},
    "region_code": {"inputmode": "numeric", "maxlength": "6", "placeholder": "110101"},
    "postal_code": {"inputmode": "numeric", "maxlength": "6", "autocomplete": "postal-code"},
    "address": {"maxlength": "200", "autocomplete": "street-address"},
    "employer": {"maxlength": "100", "autocomplete": "organization"},
    "emergency_name": {"maxlength": "64"},
    "allergy_history": {"maxlength": "500"},
}


def form_fields(names: tuple[str, ...]) -> list[dict[str, Any]]:
    """What a template needs to draw each input: label, kind, choices and attributes."""
    result = []
    for name in names:
        zh, en = rules.FIELD_LABELS[name]
        choices: list[tuple[str, str, str]] = []
        if name == "ethnicity":
            choices = [(e.code, e.name_zh, e.name_en) for e in rules.ETHNICITIES]
        elif name in rules.CHOICES_BY_FIELD:
            choices = [(value, z, e) for value, (z, e) in rules.CHOICES_BY_FIELD[name].items()]
        result.append(
            {
                "name": name,
                "label_zh": zh,
                "label_en": en,
                "choices": choices,
                "attrs": INPUT_KINDS.get(name, {}),
                "optional": name in rules.MAY_BE_EMPTY,
                "note": ("在职人员必填", "required if employed") if name == "employer" else ("选填", "optional"),
                "textarea": name == "allergy_history",
            }
        )
    return result


APPLY_FIELDS = tuple(f for f in rules.ALL_FIELDS if f not in rules.IDENTITY_FIELDS)


def _field_errors(error: MedCardError, lang: str) -> dict[str, str]:
    if isinstance(error, CardFieldInvalid):
        return {p.field: (p.reason_zh if lang == "zh" else p.reason_en) for p in error.problems}
    return {error.field: error.text(lang)} if error.field else {}


def _sandbox(settings: Settings) -> bool:
    return settings.sandbox


def _where_query(hospital: Hospital, subject: service.Subject) -> str:
    return urlencode({"hospital": hospital.code, "subject": subject.key})


async def _where(
    session: AsyncSession, account: Account, hospital: str, subject: str
) -> tuple[Hospital, service.Subject]:
    where = await service.hospital_by_code(session, hospital)
    return where, await service.resolve_subject(session, account=account, subject_key=subject)


# --- apply -------------------------------------------------------------------------------------


async def _apply_page(
    request: Request,
    session: AsyncSession,
    account: Account,
    settings: Settings,
    hospital: Hospital,
    subject: service.Subject,
    *,
    error: MedCardError | None = None,
    overrides: dict[str, str] | None = None,
    prefilled: list[str] | None = None,
    status_code: int = 200,
) -> Response:
    view = await service.get_draft(session, account=account, hospital=hospital, subject=subject)
    lang = language(request)
    context = {
        "hospital": hospital,
        "subject": subject,
        "draft": view,
        "values": {**view.fields, **(overrides or {})},
        "fields": form_fields(APPLY_FIELDS),
        "where": _where_query(hospital, subject),
        "error": error_view(error, lang) if error else None,
        "field_errors": _field_errors(error, lang) if error else {},
        "occupied": isinstance(error, CardNumberOccupied),
        "prefilled": [rules.FIELD_LABELS[f][0 if lang == "zh" else 1] for f in prefilled or []],
        "sandbox": _sandbox(settings),
        "ethnicities": rules.ETHNICITY_BY_CODE,
        "genders": rules.GENDERS,
        "document_types": rules.DOCUMENT_TYPES,
    }
    return page(request, "card/apply.html", context, status_code=status_code)


@router.get("/cards/apply", response_class=HTMLResponse)
async def apply_page(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    hospital: Annotated[str | None, Query(max_length=16)] = None,
    subject: SubjectQuery = service.SELF,
    prefilled: Annotated[str, Query(max_length=300)] = "",
    form: bool = False,
) -> Response:
    """Choose a hospital (and whom for), then the form, resumed at the last saved field."""
    if not hospital:
        await service.resolve_subject(session, account=account, subject_key=service.SELF)
        repository = CardRepository(session)
        context = {"hospitals": await repository.hospitals(), "wards": await repository.wards(account)}
        return page(request, "card/choose.html", context)
    where, who = await _where(session, account, hospital, subject)
    if not form and await service.existing_record_at(adapters, hospital=where, subject=who):
        # A returning patient of this hospital links the record instead of typing 13 fields.
        return RedirectResponse(f"/cards/existing?{_where_query(where, who)}&found=1", status_code=303)
    shown = [f for f in prefilled.split(",") if f in rules.ALL_FIELDS]
    return await _apply_page(request, session, account, settings, where, who, prefilled=shown)


@router.put("/cards/apply/field", response_class=HTMLResponse)
async def autosave_field(
    request: Request, session: SessionDep, account: AccountDep, hospital: HospitalQuery, subject: SubjectQuery
) -> Response:
    """HTMX autosave of the field that changed; answers with the "saved" indicator (R-CARD-04)."""
    where, who = await _where(session, account, hospital, subject)
    submitted = await request.form()
    fields = {k: v for k, v in list(submitted.items())[:MAX_AUTOSAVE_FIELDS] if isinstance(v, str)}
    trigger = request.headers.get("hx-trigger-name") or next(iter(fields), "")
    context: dict[str, Any] = {"fields": list(fields), "field_errors": {}, "saved_at": None}
    view, error = await attempt(
        session,
        lambda: service.save_draft(
            session, account=account, hospital=where, subject=who, fields=fields, last_field=trigger
        ),
    )
    if error is not None:
        lang = language(request)
        context.update(field_errors=_field_errors(error, lang), failed=error_view(error, lang))
    elif view is not None:
        context.update(saved_at=clock.now().astimezone(CHINA).strftime("%H:%M:%S"), revision=view.revision)
    return page(request, "card/_autosave.html", context)


@router.post("/cards/apply/photo", response_class=HTMLResponse)
async def upload_photo(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
    hospital: HospitalQuery,
    subject: SubjectQuery,
    photo: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """ID photo → prefilled fields (R-CARD-01); the photo itself is not kept."""
    where, who = await _where(session, account, hospital, subject)

    async def prefill() -> list[str]:
        if photo is None or not photo.filename:
            raise CardFieldInvalid([rules.FieldProblem("photo", "请选择证件照片", "choose a photo of the ID")])
        image = await read_limited(photo, max_bytes=settings.max_upload_bytes, field="photo")
        _view, filled = await service.prefill_from_photo(
            session, account=account, hospital=where, subject=who, image=image, adapters=adapters, settings=settings
        )
        return filled

    filled, error = await attempt(session, prefill)
    if error is not None:
        return await _apply_page(request, session, account, settings, where, who, error=error, status_code=error.status)
    query = _where_query(where, who) + "&" + urlencode({"prefilled": ",".join(filled or [])})
    return RedirectResponse(f"/cards/apply?{query}#photo-result", status_code=303)


@router.post("/cards/apply", response_class=HTMLResponse)
async def submit_application(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
    hospital: HospitalQuery,
    subject: SubjectQuery,
) -> Response:
    """Submit the whole form; "card number occupied" offers existing-patient binding."""
    where, who = await _where(session, account, hospital, subject)
    submitted = await request.form()
    fields = {k: v for k, v in submitted.items() if isinstance(v, str) and k in APPLY_FIELDS}
    card, error = await attempt(
        session,
        lambda: service.submit(session, account=account, hospital=where, subject=who, adapters=adapters, fields=fields),
    )
    if isinstance(error, CardAlreadyIssued):
        # A double submit (a second tap, a resent request): the first one issued the card, so
        # the answer is its success page, not CARD_ALREADY_ISSUED (R-CARD-01, issue 9).
        just_issued = await _just_issued(session, account, where, who)
        if just_issued is not None:
            return RedirectResponse(f"/cards/{just_issued.id}?issued=1", status_code=303)
    if isinstance(error, CardNumberOccupied):
        # Keep what was typed (as autosave would have) so existing-patient binding can use it.
        await attempt(
            session, lambda: service.save_draft(session, account=account, hospital=where, subject=who, fields=fields)
        )
    if error is not None or card is None:
        return await _apply_page(
            request, session, account, settings, where, who, error=error, overrides=fields, status_code=_status(error)
        )
    return RedirectResponse(f"/cards/{card.id}?issued=1", status_code=303)


DOUBLE_SUBMIT_WINDOW = timedelta(minutes=10)


async def _just_issued(
    session: AsyncSession, account: Account, hospital: Hospital, who: service.Subject
) -> Card | None:
    """This account's card for ``who`` at ``hospital`` when it was issued moments ago."""
    for card in await CardRepository(session).for_account(account):
        created = card.created_at if card.created_at.tzinfo else card.created_at.replace(tzinfo=UTC)
        fresh = clock.now() - created <= DOUBLE_SUBMIT_WINDOW
        if card.hospital_id == hospital.id and card.person_id == who.person.id and fresh:
            return card
    return None


# --- existing-patient binding -------------------------------------------------------------------


def _status(error: MedCardError | None) -> int:
    return error.status if error else 200


def _existing_page(
    request: Request,
    hospital: Hospital,
    subject: service.Subject,
    settings: Settings,
    *,
    challenge: service.ExistingRecordChallenge | None = None,
    error: MedCardError | None = None,
    found: bool = False,
) -> Response:
    context = {
        "found": found,
        "hospital": hospital,
        "subject": subject,
        "where": _where_query(hospital, subject),
        "challenge": challenge,
        "sandbox": _sandbox(settings),
        "error": error_view(error, language(request)) if error else None,
    }
    return page(request, "card/existing.html", context, status_code=_status(error))


@router.get("/cards/existing", response_class=HTMLResponse)
async def existing_page(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    settings: SettingsDep,
    hospital: HospitalQuery,
    subject: SubjectQuery = service.SELF,
    found: bool = False,
    sent: bool = False,
) -> Response:
    """The hospital already has a record for the patient: text a code to its phone; after the send
    (``sent=1``) the same page shows the code form."""
    where, who = await _where(session, account, hospital, subject)
    challenge = await service.pending_existing_challenge(session, account=account, hospital=where) if sent else None
    return _existing_page(request, where, who, settings, found=found, challenge=challenge)


@router.post("/cards/existing/start", response_class=HTMLResponse)
async def existing_start(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
    client_ip: ClientIpDep,
    hospital: HospitalQuery,
    subject: SubjectQuery,
) -> Response:
    where, who = await _where(session, account, hospital, subject)
    challenge, error = await attempt(
        session,
        lambda: service.start_existing_binding(
            session,
            account=account,
            hospital=where,
            subject=who,
            adapters=adapters,
            settings=settings,
            client_ip=client_ip,
        ),
    )
    if error is not None:
        return _existing_page(request, where, who, settings, challenge=challenge, error=error)
    return RedirectResponse(f"/cards/existing?{_where_query(where, who)}&sent=1", status_code=303)


@router.post("/cards/existing/confirm", response_class=HTMLResponse)
async def existing_confirm(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
    hospital: HospitalQuery,
    subject: SubjectQuery,
    code: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    where, who = await _where(session, account, hospital, subject)
    card, error = await attempt(
        session,
        lambda: service.confirm_existing_binding(
            session,
            account=account,
            hospital=where,
            subject=who,
            code=code.strip(),
            adapters=adapters,
            settings=settings,
        ),
    )
    if error is not None or card is None:
        retry = service.ExistingRecordChallenge(hospital=where, masked_phone="", expires_in_seconds=0)
        return _existing_page(request, where, who, settings, challenge=retry, error=error)
    return RedirectResponse(f"/cards/{card.id}?linked=1", status_code=303)


# --- my card ------------------------------------------------------------------------------------


def _card_context(card: Card) -> dict[str, Any]:
    return {
        "card": card,
        "card_number": rules.format_card_number(card.card_number),
        "status": rules.STATUS_LABELS.get(card.status, (card.status, card.status)),
        "ethnicity": rules.ETHNICITY_BY_CODE.get(card.ethnicity),
        "physical_services": list(rules.PHYSICAL_CARD_SERVICES.values()),
        "choices": rules.CHOICES_BY_FIELD,
    }


@router.get("/cards/{card_id}", response_class=HTMLResponse)
async def card_page(
    request: Request,
    card_id: uuid.UUID,
    session: SessionDep,
    account: AccountDep,
    settings: SettingsDep,
    issued: bool = False,
    linked: bool = False,
    updated: bool = False,
) -> Response:
    """My card: hospital, numbers, status, QR, the hospital's physical-card fee, deposit and credit."""
    card = await service.card_of_account(session, account=account, card_id=card_id)
    code = service.display_code(card, settings=settings, title=translate(language(request), CARD_QR))
    context = _card_context(card) | {"code": code, "issued": issued, "linked": linked, "updated": updated}
    context["show_code_text"] = settings.sandbox
    return page(request, "card/detail.html", context)


async def _edit_page(
    request: Request, card: Card, *, error: MedCardError | None = None, values: dict[str, str] | None = None
) -> Response:
    lang = language(request)
    context = _card_context(card) | {
        "fields": form_fields(rules.PERSONAL_FIELDS),
        "values": {**service.card_form(card), **(values or {})},
        "error": error_view(error, lang) if error else None,
        "field_errors": _field_errors(error, lang) if error else {},
    }
    return page(request, "card/edit.html", context, status_code=_status(error))


@router.get("/cards/{card_id}/edit", response_class=HTMLResponse)
async def edit_page(request: Request, card_id: uuid.UUID, session: SessionDep, account: AccountDep) -> Response:
    return await _edit_page(request, await service.card_of_account(session, account=account, card_id=card_id))


@router.post("/cards/{card_id}/edit", response_class=HTMLResponse)
async def edit_submit(request: Request, card_id: uuid.UUID, session: SessionDep, account: AccountDep) -> Response:
    """Save personal information; a new QR is issued and the old one stops working (R-CARD-07)."""
    card = await service.card_of_account(session, account=account, card_id=card_id, for_update=True)
    submitted = await request.form()
    changes = {k: v for k, v in submitted.items() if isinstance(v, str) and k in rules.ALL_FIELDS}
    _card, error = await attempt(
        session, lambda: service.update_personal_info(session, account=account, card=card, changes=changes)
    )
    if error is not None:
        card = await service.card_of_account(session, account=account, card_id=card_id)
        return await _edit_page(request, card, error=error, values=changes)
    return RedirectResponse(f"/cards/{card.id}?updated=1", status_code=303)


# --- staff console ------------------------------------------------------------------------------


def _console_page(
    request: Request,
    staff: StaffUser,
    *,
    card: Card | None = None,
    card_number: str = "",
    error: MedCardError | None = None,
    changed: str | None = None,
    values: dict[str, str] | None = None,
    by: str = "card_number",
    q: str = "",
    matches: list[Card] | None = None,
    full_name: str | None = None,
) -> Response:
    context = {
        "by": by,
        "q": q,
        "matches": [(m, rules.format_card_number(m.card_number)) for m in matches] if matches is not None else None,
        "full_name": full_name,
        "staff": staff,
        "card": card,
        "card_number": card_number,
        "card_number_display": rules.format_card_number(card.card_number) if card else "",
        "status": rules.STATUS_LABELS.get(card.status, ("", "")) if card else ("", ""),
        "error": error_view(error, language(request)) if error else None,
        "changed": changed,
        "values": values or {},
    }
    return page(request, "console/cards.html", context, status_code=_status(error))


@router.get("/console/cards", response_class=HTMLResponse)
async def console_cards(
    request: Request,
    session: SessionDep,
    staff: StaffCardDep,
    card_number: Annotated[str, Query(max_length=32)] = "",
    card_id: Annotated[uuid.UUID | None, Query()] = None,
    changed: Annotated[str | None, Query(pattern="^(document_number|phone)$")] = None,
) -> Response:
    """Find a card by its (validated) number, or open it from an audit row by id (staff scope
    still applies: another hospital's card is not found). Searches by ID number, phone or name
    are POSTed (:func:`console_cards_search`), so personal data never stands in a URL or a log.
    ``changed`` names the field a change just saved (Post/Redirect/Get)."""
    if card_id is not None and not card_number.strip():
        found, error = await attempt(session, lambda: service.card_for_staff(session, staff=staff, card_id=card_id))
        if found is None:
            return _console_page(request, staff, error=error)
        return _console_page(request, staff, card=found, card_number=found.card_number, changed=changed)
    return await _find_by_number(request, session, staff, card_number)


async def _find_by_number(request: Request, session: SessionDep, staff: StaffUser, card_number: str) -> Response:
    if not card_number.strip():
        return _console_page(request, staff)
    card, error = await attempt(
        session, lambda: service.find_card_for_staff(session, staff=staff, card_number=card_number)
    )
    return _console_page(request, staff, card=card, card_number=card_number, error=error)


@router.post("/console/cards", response_class=HTMLResponse)
async def console_cards_search(
    request: Request,
    session: SessionDep,
    staff: StaffCardDep,
    by: Annotated[str, Form(max_length=16)] = "card_number",
    q: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    """Find cards by card number, ID number, phone (blind indexes) or exact name, within the
    staff member's hospital (R-SEC-08: the query travels in the body, never in the URL)."""
    if by == "card_number" or not q.strip():
        return await _find_by_number(request, session, staff, q)
    found_cards, error = await attempt(
        session, lambda: service.search_cards_for_staff(session, staff=staff, kind=by, value=q)
    )
    matches = found_cards or []
    if len(matches) == 1:
        return _console_page(request, staff, card=matches[0], card_number=matches[0].card_number, by=by, q=q)
    return _console_page(request, staff, error=error, by=by, q=q, matches=matches)


@router.post("/console/cards/{card_id}/show-name", response_class=HTMLResponse)
async def console_show_name(request: Request, card_id: uuid.UUID, session: SessionDep, staff: StaffCardDep) -> Response:
    """显示全名: the unmasked name for the in-person check, audited as ``card.show_name`` (R-SEC-08)."""
    card, error = await attempt(session, lambda: service.reveal_name_for_staff(session, staff=staff, card_id=card_id))
    if card is None:
        return _console_page(request, staff, error=error)
    return _console_page(request, staff, card=card, card_number=card.card_number, full_name=card.name)


@router.post("/console/cards/{card_id}/change", response_class=HTMLResponse)
async def console_change(
    request: Request,
    card_id: uuid.UUID,
    session: SessionDep,
    staff: StaffCardDep,
    field: Annotated[str, Form(max_length=32)],
    new_value: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Change the document number or phone with a reason (R-CARD-03)."""
    card = await service.card_for_staff(session, staff=staff, card_id=card_id)
    _changed, error = await attempt(
        session,
        lambda: service.change_immutable_field(
            session, staff=staff, card=card, field=field, new_value=new_value, reason=reason
        ),
    )
    if error is not None:
        card = await service.card_for_staff(session, staff=staff, card_id=card_id)
        values = {"field": field, "new_value": new_value, "reason": reason}
        return _console_page(request, staff, card=card, card_number=card.card_number, error=error, values=values)
    return RedirectResponse(f"/console/cards?card_id={card.id}&changed={field}", status_code=303)
