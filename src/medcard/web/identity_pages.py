"""Identity pages: start a real-name verification (/verify), do its method step (/verify/{id}),
and manage children under guardianship (/wards). Same service functions as the API.

A refused step is undone inside a savepoint exactly as the unit of work would undo it (a counted
face attempt keeps its changes) and the form is shown again with the message next to its field.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.account.rules import needs_consent
from medcard.adapters import Adapters
from medcard.adapters.identity import PASS_RATES, SandboxIdentityAuthority
from medcard.card.repository import CardRepository
from medcard.config import Settings
from medcard.db import attempt
from medcard.deps import AccountDep, AdaptersDep, ClientIpDep, SessionDep, SettingsDep
from medcard.errors import MedCardError
from medcard.identity import rules, service
from medcard.identity.errors import FieldRequired, SmsCodeInvalid
from medcard.identity.schemas import (
    BankCardConfirm,
    InsuranceConfirm,
    SmsConfirm,
    VerificationRead,
    VerificationStart,
    WardCreate,
)
from medcard.kit.clock import clock
from medcard.models import Account, VerificationSession
from medcard.web.render import error_view, language, page

router = APIRouter(include_in_schema=False)
OptionalText = Annotated[str, Form(max_length=64)]

METHODS = [
    ("face", "人脸识别", "Face recognition", "拍一张自拍，约 20 秒", "Take a selfie, about 20 s"),
    ("bank_card", "银行卡验证", "Bank card", "本人银行卡 + 预留手机号", "Your bank card and its phone number"),
    ("sms", "手机短信验证码", "SMS code", "本人实名手机号接收验证码", "A code sent to your phone"),
    ("insurance", "医保参保信息", "Insurance record", "核对医保参保记录", "Matched with your insurance record"),
]
DOCUMENT_TYPES = [
    ("resident_id", "居民身份证", "Resident ID card"),
    ("hmt_permit", "港澳台居民居住证", "HK/Macau/Taiwan residence permit"),
    ("foreign_passport", "外国人护照 + 永久居留身份证", "Foreign passport + permanent resident ID"),
]
RELATIONS = [("parent", "父母", "Parent"), ("guardian", "其他法定监护人", "Other legal guardian")]
PROOF_KINDS = [
    ("household_register", "户口本（户主页和儿童页）", "Household register"),
    ("birth_certificate", "出生医学证明", "Birth certificate"),
]
FAILURE_TEXTS = {
    "FACE_NOT_LIVE": ("未检测到活体，请勿翻拍照片或屏幕", "No live face detected; do not photograph a photo or screen"),
    "FACE_MISMATCH": ("人脸与证件照片不一致", "The face does not match the document photo"),
    "NAME_NUMBER_MISMATCH": ("姓名与证件号码不一致", "Name and document number do not match"),
    "BANK_CARD_MISMATCH": ("银行卡信息与身份不一致", "The bank card does not match the identity"),
    "NO_INSURANCE_RECORD": ("未查到医保参保记录", "No insurance record found"),
    "SESSION_EXPIRED": ("超过时限未完成", "Not finished in time"),
    "IDENTITY_HELD_BY_ANOTHER_ACCOUNT": ("该身份已绑定其他账号", "Held by another account"),
}


PURPOSES = {
    "step_up": ("新设备二次验证", "second verification of a new device"),
    "pin_reset": ("重置支付密码", "resetting the payment password"),
    "reactivation": ("解冻账户", "reactivating the account"),
}


def _purpose(raw: str | None) -> str:
    return raw if raw in PURPOSES else ""


def _again_query(purpose: str, next_path: str | None) -> str:
    """The query that starts the same kind of verification again (purpose and way back kept)."""
    if not purpose:
        return ""
    return urlencode({"purpose": purpose, "next": next_path or ""})


def _after_pass(verification: VerificationSession) -> RedirectResponse:
    """Back to the task a re-verification was started for, else to the patient's home."""
    return RedirectResponse(rules.safe_return_path(verification.return_to) or "/me", status_code=303)


def _form_error(error: ValidationError, values: dict[str, str]) -> MedCardError:
    """The first invalid form field as a bilingual error naming it."""
    field = str(error.errors()[0]["loc"][0]) if error.errors() and error.errors()[0]["loc"] else "form"
    if field == "code" and values.get("code"):
        return SmsCodeInvalid(field="code")
    return FieldRequired(field=field, **rules.labels(field))


def _sandbox(settings: Settings, adapters: Adapters) -> bool:
    return settings.sandbox and isinstance(adapters.identity, SandboxIdentityAuthority)


def _sandbox_sample(adapters: Adapters) -> dict[str, str] | None:
    """A fresh identity the sandbox authority passes for every method, so a newcomer can finish."""
    if not isinstance(adapters.identity, SandboxIdentityAuthority):
        return None
    chance = adapters.identity.behaviour.chance
    name, phone = "张三", "13800138000"
    for _ in range(500):
        birth = date(1970, 1, 1) + timedelta(days=secrets.randbelow(365 * 30))
        body = f"110101{birth:%Y%m%d}{secrets.randbelow(1000):03d}"
        number = body + rules.check_character(body)
        if chance("name_number", number, name) >= PASS_RATES["name_number"][0]:
            continue
        if chance("insurance", number, name) >= PASS_RATES["insurance"][0]:
            continue
        card = _passing_bank_card(adapters.identity, number, phone)
        return {"name": name, "document_number": number, "phone": phone, "bank_card_number": card}
    return None


def _sample_card(adapters: Adapters, verification: VerificationSession) -> str:
    """For the sandbox hint: a card number the simulated 4-factor check passes for this session."""
    if (
        verification.method != "bank_card"
        or not verification.phone
        or not isinstance(adapters.identity, SandboxIdentityAuthority)
    ):
        return ""
    return _passing_bank_card(adapters.identity, verification.document_number, verification.phone)


def _passing_bank_card(identity: SandboxIdentityAuthority, number: str, phone: str) -> str:
    for body in range(622202020000000, 622202020001000):
        card = next(f"{body}{d}" for d in range(10) if rules.luhn_valid(f"{body}{d}"))
        if identity.behaviour.chance("bank_card", number, card, phone) < PASS_RATES["bank_card"][0]:
            return card
    return ""


def _field_errors(error: MedCardError | None, lang: str) -> dict[str, str]:
    return {error.field: error.text(lang)} if error is not None and error.field else {}


def _verify_form(
    request: Request,
    account: Account,
    settings: Settings,
    adapters: Adapters,
    *,
    values: dict[str, str],
    error: MedCardError | None = None,
) -> Response:
    lang = language(request)
    purpose = _purpose(values.get("purpose")) if account.person is not None else ""
    context = {
        "account": account,
        "purpose": purpose,
        "purpose_label": PURPOSES.get(purpose),
        "next_path": rules.safe_return_path(values.get("next")) or "",
        "methods": [m for m in METHODS if not purpose or m[0] != "insurance"],
        "document_types": DOCUMENT_TYPES,
        "values": values,
        "error": error_view(error, lang) if error else None,
        "field_errors": _field_errors(error, lang),
        "sandbox": _sandbox(settings, adapters),
        "sample": _sandbox_sample(adapters) if _sandbox(settings, adapters) else None,
    }
    return page(request, "identity/verify.html", context, status_code=error.status if error else 200)


@router.get("/verify", response_class=HTMLResponse)
async def verify_page(
    request: Request,
    account: AccountDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    method: Annotated[str | None, Query(max_length=16)] = None,
    purpose: Annotated[str | None, Query(max_length=16)] = None,
    next: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The verification form; with ``purpose`` a verified patient re-proves his identity for a
    task (step-up, PIN reset, reactivation) and comes back to ``next`` (local paths only)."""
    if purpose is None and needs_consent(account.consent_version) and account.person_id is None:
        return RedirectResponse("/consent?" + urlencode({"next": request.url.path}), status_code=303)
    chosen = method if method in {m[0] for m in METHODS} else "face"
    values = {"method": chosen or "face", "document_type": "resident_id", "purpose": _purpose(purpose)}
    values["next"] = rules.safe_return_path(next) or ""
    return _verify_form(request, account, settings, adapters, values=values)


@router.post("/verify", response_class=HTMLResponse)
async def verify_start(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    method: Annotated[str, Form(max_length=16)] = "",
    document_type: Annotated[str, Form(max_length=24)] = "resident_id",
    document_number: Annotated[str, Form(max_length=40)] = "",
    name: OptionalText = "",
    nationality: Annotated[str, Form(max_length=8)] = "",
    residence_permit_number: Annotated[str, Form(max_length=40)] = "",
    phone: Annotated[str, Form(max_length=20)] = "",
    purpose: Annotated[str, Form(max_length=16)] = "",
    next: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    values = {
        "purpose": _purpose(purpose),
        "method": method,
        "document_type": document_type,
        "document_number": document_number,
        "name": name,
        "nationality": nationality,
        "residence_permit_number": residence_permit_number,
        "phone": phone,
    }
    try:
        body = VerificationStart.model_validate({k: v or None for k, v in values.items()})
    except ValidationError as invalid:
        values["next"] = next
        return _verify_form(request, account, settings, adapters, values=values, error=_form_error(invalid, values))
    verification, error = await attempt(
        session, lambda: service.start(session, account=account, request=body, settings=settings, return_to=next)
    )
    if verification is None:
        values["next"] = next
        return _verify_form(request, account, settings, adapters, values=values, error=error)
    return RedirectResponse(f"/verify/{verification.id}", status_code=303)


async def _step_page(
    request: Request,
    session: AsyncSession,
    account: Account,
    settings: Settings,
    adapters: Adapters,
    verification_id: uuid.UUID,
    *,
    error: MedCardError | None = None,
    sent: bool = False,
) -> Response:
    verification = await service.get(session, account=account, verification_id=verification_id)
    view = VerificationRead.of(verification, now=clock.now())
    lang = language(request)
    context: dict[str, Any] = {
        "view": view,
        "method": next(m for m in METHODS if m[0] == view.method),
        "failure": FAILURE_TEXTS.get(view.failure_code or "", (view.failure_code or "", view.failure_code or "")),
        "error": error_view(error, lang) if error else None,
        "field_errors": _field_errors(error, lang),
        "sent": sent,
        "sandbox": _sandbox(settings, adapters),
        "sample_card": _sample_card(adapters, verification) if _sandbox(settings, adapters) else "",
        "minutes_left": max(int((view.expires_at - clock.now()).total_seconds() // 60), 0),
        "purpose_label": PURPOSES.get(verification.purpose),
        "return_to": rules.safe_return_path(verification.return_to) or "/me",
        "again": _again_query(_purpose(verification.purpose), verification.return_to),
    }
    return page(request, "identity/step.html", context, status_code=error.status if error else 200)


@router.get("/verify/{verification_id}", response_class=HTMLResponse)
async def step_page(
    request: Request,
    verification_id: uuid.UUID,
    session: SessionDep,
    account: AccountDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    sent: Annotated[str | None, Query(max_length=4)] = None,
) -> Response:
    return await _step_page(request, session, account, settings, adapters, verification_id, sent=bool(sent))


@router.post("/verify/{verification_id}/face", response_class=HTMLResponse)
async def face_step(
    request: Request,
    verification_id: uuid.UUID,
    session: SessionDep,
    account: AccountDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    image: Annotated[UploadFile | None, File()] = None,
) -> Response:
    async def submit() -> object:
        if image is None or not image.filename:
            raise FieldRequired(field="image", **rules.labels("image"))
        data = await service.read_image(image, settings=settings, field="image")
        return await service.submit_face(
            session, account=account, verification_id=verification_id, image=data, adapters=adapters, settings=settings
        )

    done, error = await attempt(session, submit)
    if not isinstance(done, VerificationSession):
        return await _step_page(request, session, account, settings, adapters, verification_id, error=error)
    return _after_pass(done)


@router.post("/verify/{verification_id}/sms-code", response_class=HTMLResponse)
async def sms_code_step(
    request: Request,
    verification_id: uuid.UUID,
    session: SessionDep,
    account: AccountDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    client_ip: ClientIpDep,
) -> Response:
    code, error = await attempt(
        session,
        lambda: service.send_sms_code(
            session,
            account=account,
            verification_id=verification_id,
            client_ip=client_ip,
            adapters=adapters,
            settings=settings,
        ),
    )
    if code is None:
        return await _step_page(request, session, account, settings, adapters, verification_id, error=error)
    return RedirectResponse(f"/verify/{verification_id}?sent=1", status_code=303)


@router.post("/verify/{verification_id}/confirm", response_class=HTMLResponse)
async def confirm_step(
    request: Request,
    verification_id: uuid.UUID,
    session: SessionDep,
    account: AccountDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    method: Annotated[str, Form(max_length=16)] = "",
    code: Annotated[str, Form(max_length=12)] = "",
    bank_card_number: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    values = {"method": method, "code": code.strip(), "bank_card_number": bank_card_number}
    answer: SmsConfirm | BankCardConfirm | InsuranceConfirm
    try:
        if method == "sms":
            answer = SmsConfirm.model_validate({"method": "sms", "code": values["code"]})
        elif method == "bank_card":
            answer = BankCardConfirm.model_validate({"method": "bank_card", "bank_card_number": bank_card_number})
        else:
            answer = InsuranceConfirm.model_validate({"method": method})
    except ValidationError as invalid:
        error: MedCardError | None = _form_error(invalid, values)
        return await _step_page(request, session, account, settings, adapters, verification_id, error=error)
    done, error = await attempt(
        session,
        lambda: service.confirm(
            session,
            account=account,
            verification_id=verification_id,
            answer=answer,
            adapters=adapters,
            settings=settings,
        ),
    )
    if done is None:
        return await _step_page(request, session, account, settings, adapters, verification_id, error=error)
    return _after_pass(done)


async def _wards_page(
    request: Request,
    session: AsyncSession,
    account: Account,
    settings: Settings,
    adapters: Adapters,
    *,
    values: dict[str, str] | None = None,
    error: MedCardError | None = None,
    added: bool = False,
) -> Response:
    lang = language(request)
    context = {
        "account": account,
        "wards": await service.wards(session, account=account),
        "document_types": DOCUMENT_TYPES,
        "relations": RELATIONS,
        "proof_kinds": PROOF_KINDS,
        "values": values or {"document_type": "resident_id", "relation": "parent", "proof_kind": "birth_certificate"},
        "error": error_view(error, lang) if error else None,
        "field_errors": _field_errors(error, lang),
        "added": added,
        "sandbox": _sandbox(settings, adapters),
    }
    return page(request, "identity/wards.html", context, status_code=error.status if error else 200)


@router.get("/wards", response_class=HTMLResponse)
async def wards_page(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    added: Annotated[str | None, Query(max_length=4)] = None,
) -> Response:
    return await _wards_page(request, session, account, settings, adapters, added=bool(added))


@router.post("/wards", response_class=HTMLResponse)
async def add_ward(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    document_type: Annotated[str, Form(max_length=24)] = "resident_id",
    document_number: Annotated[str, Form(max_length=40)] = "",
    name: OptionalText = "",
    nationality: Annotated[str, Form(max_length=8)] = "",
    residence_permit_number: Annotated[str, Form(max_length=40)] = "",
    relation: Annotated[str, Form(max_length=16)] = "",
    proof_kind: Annotated[str, Form(max_length=24)] = "",
    birth_certificate_number: Annotated[str, Form(max_length=16)] = "",
    proof: Annotated[UploadFile | None, File()] = None,
) -> Response:
    values = {
        "document_type": document_type,
        "document_number": document_number,
        "name": name,
        "nationality": nationality,
        "residence_permit_number": residence_permit_number,
        "relation": relation,
        "proof_kind": proof_kind,
        "birth_certificate_number": birth_certificate_number,
    }
    try:
        ward = WardCreate.model_validate({k: v or None for k, v in values.items()})
    except ValidationError as invalid:
        return await _wards_page(
            request, session, account, settings, adapters, values=values, error=_form_error(invalid, values)
        )

    async def add() -> object:
        if proof is None or not proof.filename:
            raise FieldRequired(field="proof", **rules.labels("proof"))
        data = await service.read_image(proof, settings=settings, field="proof")
        return await service.add_ward(
            session, account=account, ward=ward, proof=data, adapters=adapters, settings=settings
        )

    done, error = await attempt(session, add)
    if done is None:
        return await _wards_page(request, session, account, settings, adapters, values=values, error=error)
    return RedirectResponse("/wards?added=1", status_code=303)


async def _phone_page(
    request: Request,
    session: AsyncSession,
    account: Account,
    settings: Settings,
    adapters: Adapters,
    *,
    phone: str,
    next_path: str,
    sent: bool = False,
    error: MedCardError | None = None,
) -> Response:
    lang = language(request)
    context = {
        "account": account,
        "values": {"phone": phone},
        "next_path": rules.safe_return_path(next_path) or "",
        "sent": sent,
        "error": error_view(error, lang) if error else None,
        "field_errors": _field_errors(error, lang),
        "sandbox": _sandbox(settings, adapters),
    }
    return page(request, "identity/phone.html", context, status_code=error.status if error else 200)


@router.get("/me/phone", response_class=HTMLResponse)
async def phone_page(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    next_path: Annotated[str, Query(max_length=200, alias="next")] = "",
    sent: bool = False,
) -> Response:
    """Add or change the verified person's phone (a face verification stores none; binding the
    insurance e-voucher needs one, R-INS-01). Offers the phone on the patient's health card;
    after a code was sent (``sent=1``) shows the code form for the phone it went to."""
    pending = await service.pending_phone(session, account=account) if sent else None
    if pending is not None:
        return await _phone_page(
            request, session, account, settings, adapters, phone=pending, next_path=next_path, sent=True
        )
    person = account.person
    cards = await CardRepository(session).for_account(account)
    suggested = (person.phone if person else None) or next((c.phone for c in cards if c.phone), "")
    return await _phone_page(request, session, account, settings, adapters, phone=suggested, next_path=next_path)


@router.post("/me/phone/code", response_class=HTMLResponse)
async def phone_code(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    client_ip: ClientIpDep,
    phone: Annotated[str, Form(max_length=20)] = "",
    next: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Text a code to the phone (R-ID-05 limits), then show the code form (Post/Redirect/Get: a
    reload never sends a second SMS)."""
    _, error = await attempt(
        session,
        lambda: service.send_phone_code(
            session, account=account, phone=phone, client_ip=client_ip, adapters=adapters, settings=settings
        ),
    )
    if error is not None:
        return await _phone_page(
            request, session, account, settings, adapters, phone=phone, next_path=next, error=error
        )
    back = rules.safe_return_path(next)
    return RedirectResponse("/me/phone?" + urlencode({"sent": 1, **({"next": back} if back else {})}), status_code=303)


@router.post("/me/phone", response_class=HTMLResponse)
async def phone_confirm(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    phone: Annotated[str, Form(max_length=20)] = "",
    code: Annotated[str, Form(max_length=12)] = "",
    next: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Confirm the phone with the texted code, then back to the task (e.g. the insurance bind page)."""
    done, error = await attempt(
        session,
        lambda: service.confirm_phone(session, account=account, phone=phone, code=code.strip(), settings=settings),
    )
    if done is None:
        return await _phone_page(
            request, session, account, settings, adapters, phone=phone, next_path=next, sent=True, error=error
        )
    return RedirectResponse(rules.safe_return_path(next) or "/me", status_code=303)
