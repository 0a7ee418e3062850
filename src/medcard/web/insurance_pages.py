"""Patient pages for medical insurance: my e-voucher, bind (R-INS-01/02/03, refusals per
R-INS-09), out-of-region filing (R-INS-06) and special-disease applications (R-INS-07)."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.insurance import SandboxInsurancePlatform
from medcard.card import qr
from medcard.card.repository import CardRepository
from medcard.db import attempt
from medcard.deps import AccountDep, AdaptersDep, PatientSessionDep, SessionDep, SettingsDep, settings_of
from medcard.errors import MedCardError, present
from medcard.family import service as family
from medcard.i18n import N_, translate
from medcard.insurance import service
from medcard.insurance.repository import InsuranceRepository
from medcard.kit.uploads import read_limited
from medcard.models import Account
from medcard.policy import rules
from medcard.web.feedback import validation_view
from medcard.web.render import error_view, language, page

router = APIRouter(prefix="/insurance", include_in_schema=False)
VOUCHER_QR = N_("Insurance code QR")
"""The accessible name of the 医保码 QR (translated by the page)."""
APP_CLIENT_VERSION = "7.1.0"
"""The messaging-app version MedCard's pages are built for, sent when the browser names none."""
TextForm = Annotated[str, Form(max_length=40)]
SCHEMES = [
    ("employee", "城镇职工", "Urban employee"),
    ("resident", "城乡居民", "Resident"),
    ("new_rural", "新农合", "New rural"),
]
LOCATIONS = [
    ("110000", "北京市", "Beijing"),
    ("310000", "上海市", "Shanghai"),
    ("440100", "广州市", "Guangzhou"),
    ("440300", "深圳市", "Shenzhen"),
    ("510100", "成都市", "Chengdu"),
    ("650100", "乌鲁木齐市", "Urumqi"),
]
FILING_REASONS = [
    ("temporary", "临时外出就医（180 天）", "Temporary care elsewhere (180 days)"),
    ("long_term_residence", "异地长期居住（365 天）", "Living elsewhere (365 days)"),
    ("referral", "转诊转院（90 天）", "Referral (90 days)"),
]


def _sandbox_hint(adapters: Adapters, account: Account) -> dict[str, str] | None:
    """In the sandbox, show the test person's card number and scheme so the demo can be followed."""
    platform = adapters.insurance
    if not isinstance(platform, SandboxInsurancePlatform) or account.person is None:
        return None
    truth = platform.person(account.person.document_number, account.person.name)
    return {"card_number": truth.card_number, "scheme": truth.scheme_code or "-", "case": truth.case}


@router.get("", response_class=HTMLResponse)
async def my_voucher(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    auth: PatientSessionDep,
    bound: Annotated[bool, Query()] = False,
) -> Response:
    """The current patient's e-vouchers (switch patient above them, R-FAM-01)."""
    bindings = list(await InsuranceRepository(session).bindings_of(account))
    context: dict[str, Any] = {"account": account, "bound": bound, "switch_next": "/insurance", "patients": []}
    if account.person is not None:
        patient = await family.current_patient(session, account=account, auth=auth)
        bindings = [b for b in bindings if b.person_id == patient.id]
        context["patients"] = await family.patient_choices(session, account=account, auth=auth)
        await family.note_proxy_access(
            session, account=account, patient_id=patient.id, subject=patient, what="insurance"
        )
    context["bindings"] = bindings
    context["schemes"] = {b.id: rules.scheme_from(b.scheme_code, b.scheme_policy_version.data) for b in bindings}
    return page(request, "insurance/index.html", context)


def _field_errors(shown: dict[str, Any] | None) -> dict[str, str]:
    """Each refused field's text, to show next to the field."""
    if not shown:
        return {}
    if shown.get("fields"):
        return {str(f["field"]): str(f["text"]) for f in shown["fields"]}
    return {str(shown["field"]): str(shown["text"])} if shown.get("field") else {}


async def _bind_page(
    request: Request,
    session: AsyncSession,
    account: Account,
    adapters: Adapters,
    *,
    values: dict[str, Any] | None = None,
    error: MedCardError | None = None,
    invalid: dict[str, Any] | None = None,
) -> Response:
    cards = await CardRepository(session).for_account(account)
    shown: dict[str, Any] | None = invalid or (error_view(error, language(request)) if error else None)
    context = {
        "account": account,
        "cards": cards,
        "schemes": SCHEMES,
        "locations": LOCATIONS,
        "values": values or {"region_code": "110000"},
        "sandbox": _sandbox_hint(adapters, account) if settings_of(request).sandbox else None,
        "error": shown,
        "field_errors": _field_errors(shown),
    }
    status = 422 if invalid else (error.status if error else 200)
    return page(request, "insurance/bind.html", context, status_code=status)


@router.get("/bind", response_class=HTMLResponse)
async def bind_form(request: Request, session: SessionDep, account: AccountDep, adapters: AdaptersDep) -> Response:
    return await _bind_page(request, session, account, adapters)


def client_version(request: Request) -> str:
    """The messaging app's version (R-INS-01 minimum), read from its User-Agent
    (``MicroMessenger/8.0.47``); the version MedCard's pages are built for elsewhere. Never typed."""
    found = re.search(r"MicroMessenger/(\d+(?:\.\d+){1,3})", request.headers.get("user-agent", ""))
    return found.group(1) if found else APP_CLIENT_VERSION


def _bind_problems(
    card_id: str, card_number: str, scheme: str, region_code: str, face_image: UploadFile | None
) -> list[dict[str, Any]]:
    """Every missing or unusable field of the bind form at once (pydantic-shaped, see feedback)."""
    problems: list[dict[str, Any]] = []
    try:
        uuid.UUID(card_id)
    except ValueError:
        problems.append({"loc": ("card_id",), "type": "missing" if not card_id else "uuid_parsing"})
    if not card_number.strip():
        problems.append({"loc": ("card_number",), "type": "missing"})
    if scheme not in {code for code, _zh, _en in SCHEMES}:
        problems.append({"loc": ("scheme",), "type": "missing" if not scheme else "enum"})
    if region_code not in {code for code, _zh, _en in LOCATIONS}:
        problems.append({"loc": ("region_code",), "type": "missing" if not region_code else "enum"})
    if face_image is None or not face_image.filename:
        problems.append({"loc": ("face_image",), "type": "missing"})
    return problems


@router.post("/bind", response_class=HTMLResponse)
async def bind(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    adapters: AdaptersDep,
    card_id: TextForm = "",
    card_number: TextForm = "",
    scheme: TextForm = "",
    region_code: TextForm = "",
    face_image: Annotated[UploadFile | None, File()] = None,
) -> Response:
    values = {"card_id": card_id, "card_number": card_number, "scheme": scheme, "region_code": region_code}
    problems = _bind_problems(card_id, card_number, scheme, region_code, face_image)
    if problems or face_image is None:
        view = validation_view(problems, language(request), on_form=True)
        return await _bind_page(request, session, account, adapters, values=values, invalid=view)
    image = await read_limited(face_image, max_bytes=5_000_000, field="face_image")
    card_uuid = uuid.UUID(card_id)
    request_data = service.BindRequest(card_number, scheme, region_code, client_version(request), image)

    async def run() -> object:
        card = await service.card_of(session, account=account, card_id=card_uuid)
        return await service.bind(
            session, platform=adapters.insurance, account=account, card=card, request=request_data
        )

    binding, error = await attempt(session, run)
    if error is not None or binding is None:
        return await _bind_page(request, session, account, adapters, values=values, error=error)
    return RedirectResponse("/insurance?bound=1", status_code=303)


@router.post("/{binding_id}/unbind", response_class=HTMLResponse)
async def unbind(binding_id: uuid.UUID, session: SessionDep, account: AccountDep) -> Response:
    binding = await service.binding_of(session, account=account, binding_id=binding_id)
    await service.unbind(session, account=account, binding=binding)
    return RedirectResponse("/insurance", status_code=303)


async def _filings_page(
    request: Request, session: AsyncSession, account: Account, *, error: MedCardError | None = None
) -> Response:
    repository = InsuranceRepository(session)
    bindings = [b for b in await repository.bindings_of(account) if b.status == "active"]
    context = {
        "bindings": bindings,
        "filings": await repository.filings_of(account),
        "reasons": FILING_REASONS,
        "locations": LOCATIONS,
        "error": error_view(error, language(request)) if error else None,
    }
    return page(request, "insurance/filings.html", context, status_code=error.status if error else 200)


@router.get("/filings", response_class=HTMLResponse)
async def filings(request: Request, session: SessionDep, account: AccountDep) -> Response:
    return await _filings_page(request, session, account)


@router.post("/filings", response_class=HTMLResponse)
async def create_filing(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    binding_id: Annotated[uuid.UUID, Form()],
    destination_region_code: Annotated[str, Form(pattern=r"^\d{6}$")],
    reason: TextForm,
) -> Response:
    async def run() -> object:
        binding = await service.binding_of(session, account=account, binding_id=binding_id)
        return await service.file_out_of_region(
            session, account=account, binding=binding, destination=destination_region_code, reason=reason
        )

    _filing, error = await attempt(session, run)
    if error is not None:
        return await _filings_page(request, session, account, error=error)
    return RedirectResponse("/insurance/filings", status_code=303)


@router.post("/filings/{filing_id}/cancel", response_class=HTMLResponse)
async def cancel_filing(filing_id: uuid.UUID, session: SessionDep, account: AccountDep) -> Response:
    filing = await service.filing_of(session, account=account, filing_id=filing_id)
    await service.cancel_filing(session, account=account, filing=filing)
    return RedirectResponse("/insurance/filings", status_code=303)


async def _diseases_page(
    request: Request, session: AsyncSession, account: Account, *, error: MedCardError | None = None
) -> Response:
    repository = InsuranceRepository(session)
    context = {
        "bindings": [b for b in await repository.bindings_of(account) if b.status == "active"],
        "applications": await repository.applications_of(account),
        "diseases": service.SPECIAL_DISEASES,
        "error": error_view(error, language(request)) if error else None,
    }
    return page(request, "insurance/special_diseases.html", context, status_code=error.status if error else 200)


@router.get("/special-diseases", response_class=HTMLResponse)
async def special_diseases(request: Request, session: SessionDep, account: AccountDep) -> Response:
    return await _diseases_page(request, session, account)


@router.post("/special-diseases", response_class=HTMLResponse)
async def apply_special_disease(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    settings: SettingsDep,
    binding_id: Annotated[uuid.UUID, Form()],
    disease_code: Annotated[str, Form(max_length=16)],
    materials: Annotated[list[UploadFile], File()],
) -> Response:
    """Submit the materials (PDF / JPEG / PNG, stored encrypted for the reviewer, R-INS-07); a
    refused file is named next to the form in zh-CN and English."""
    limit = settings.max_upload_bytes

    async def run() -> object:
        files = [
            (u.filename or "material", await read_limited(u, max_bytes=limit, field="materials")) for u in materials
        ]
        binding = await service.binding_of(session, account=account, binding_id=binding_id)
        return await service.apply_special_disease(
            session,
            account=account,
            binding=binding,
            disease_code=disease_code,
            files=[(name, content) for name, content in files if content],
            max_bytes=limit,
        )

    _application, error = await attempt(session, run)
    if error is not None:
        return await _diseases_page(request, session, account, error=error)
    return RedirectResponse("/insurance/special-diseases", status_code=303)


@router.get("/{binding_id}/code", response_class=HTMLResponse)
async def voucher_code_page(
    request: Request, binding_id: uuid.UUID, session: SessionDep, account: AccountDep
) -> Response:
    """出示医保码: the e-voucher's dynamic QR, fetched from the insurance platform by the fragment
    below on load, when it runs out and on 刷新."""
    binding = await service.binding_of(session, account=account, binding_id=binding_id)
    return page(
        request, "insurance/code.html", {"binding": binding, "scheme": service.scheme_names(binding.scheme_code)}
    )


@router.get("/{binding_id}/code/fresh", response_class=HTMLResponse)
async def voucher_code_fragment(
    request: Request, binding_id: uuid.UUID, session: SessionDep, account: AccountDep, adapters: AdaptersDep
) -> Response:
    """HTMX: a new 医保码 (server-rendered SVG, no inline style) with its lifetime and the balance;
    another account's binding is a 404, a refusal is said in place of the code."""
    await service.binding_of(session, account=account, binding_id=binding_id)
    code, error = await attempt(
        session,
        lambda: service.voucher_code(session, account=account, binding_id=binding_id, platform=adapters.insurance),
    )
    if code is None:
        return page(
            request, "insurance/_code.html", {"error": error_view(present(error, "refusal"), language(request))}
        )
    values = {"code": code, "qr_svg": qr.svg(code.text, scale=5, title=translate(language(request), VOUCHER_QR))}
    return page(request, "insurance/_code.html", values)


@router.get("/{binding_id}/balance", response_class=HTMLResponse)
async def balance_fragment(
    request: Request, binding_id: uuid.UUID, session: SessionDep, account: AccountDep, adapters: AdaptersDep
) -> Response:
    """HTMX: the personal-account balance, asked of the platform only when the patient taps."""
    balance = await service.personal_balance(
        session, account=account, binding_id=binding_id, platform=adapters.insurance
    )
    return page(request, "insurance/_balance.html", {"balance": balance})
