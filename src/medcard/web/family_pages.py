"""Family pages: my family members (add with proof, status, remove), the accounts acting for me
(end one, R-FAM-06), switch patient (切换就诊人) and the staff review of proofs. Same services as
the API; a refused addition shows the form again with the message next to its field."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.auth.service import actor_for_account
from medcard.config import Settings
from medcard.db import attempt
from medcard.deps import (
    AccountDep,
    AdaptersDep,
    PatientSessionDep,
    SessionDep,
    SettingsDep,
    SteppedUpAccountDep,
    require_role,
)
from medcard.errors import MedCardError, NotFound
from medcard.family import bill_pdf, charts, mutual_aid, service
from medcard.family.bill import CATEGORIES, SOURCES, FamilyBill
from medcard.family.errors import MutualAidLimitInvalid as LimitInvalid
from medcard.family.membership import DOCUMENT_LABELS
from medcard.family.schemas import FamilyMemberCreate, ProofDocument
from medcard.i18n import N_, NC_, Msg, translate
from medcard.identity.errors import FieldRequired
from medcard.identity.rules import safe_return_path
from medcard.identity.service import read_image
from medcard.kit.clock import clock
from medcard.kit.masking import mask_name
from medcard.kit.money import fen_from_yuan
from medcard.models import Account, AuthSession, Person, StaffUser
from medcard.settlement import service as settlement
from medcard.web.identity_pages import DOCUMENT_TYPES, _sandbox
from medcard.web.render import error_view, language, page

router = APIRouter(include_in_schema=False)
ReviewerDep = Annotated[StaffUser, Depends(require_role("reviewer"))]

RELATIONS = [
    ("parent", N_("Parent")),
    ("child", N_("Child")),
    ("spouse", N_("Spouse")),
    ("guardian", N_("Ward (I am the legal guardian)")),
]
PROOF_KINDS = [
    ("household_register", N_("Household register")),
    ("birth_certificate", N_("Birth certificate")),
    ("marriage_certificate", N_("Marriage certificate")),
    ("guardianship_certificate", N_("Guardianship certificate")),
]
STATUSES = {
    "pending_review": N_("Waiting for review"),
    "active": NC_("web/family_pages", "Active"),
    "rejected": NC_("web/family_pages", "Rejected"),
    "dissolved": N_("Ended"),
    "expired": NC_("web/family_pages", "Expired"),
}
UPLOADS = ("relation_proof", "holder_id_photo", "patient_id_photo", "holder_with_id")


async def _family_page(
    request: Request,
    session: AsyncSession,
    account: Account,
    auth: AuthSession,
    settings: Settings,
    adapters: Adapters,
    *,
    values: dict[str, str] | None = None,
    error: MedCardError | None = None,
    notice: str = "",
    aid_error: MedCardError | None = None,
) -> Response:
    lang = language(request)
    context: dict[str, Any] = {
        "aid_granted": await mutual_aid.granted(session, account=account),
        "aid_received": await mutual_aid.received(session, account=account),
        "aid_error": error_view(aid_error, lang) if aid_error else None,
        "account": account,
        "members": await service.members(session, account=account),
        "proxies": await service.proxies(session, account=account),
        "confirmations": await settlement.awaiting_confirmation(session, account=account),
        "patients": await service.patient_choices(session, account=account, auth=auth) if account.person else [],
        "document_types": DOCUMENT_TYPES,
        "relations": RELATIONS,
        "relation_labels": dict(RELATIONS),
        "proof_kinds": PROOF_KINDS,
        "statuses": STATUSES,
        "uploads": [(name, DOCUMENT_LABELS[name]) for name in UPLOADS],
        "values": values or {"document_type": "resident_id", "relation": "parent", "proof_kind": "household_register"},
        "error": error_view(error, lang) if error else None,
        "field_errors": {error.field: error.text(lang)} if error is not None and error.field else {},
        "notice": notice,
        "sandbox": _sandbox(settings, adapters),
    }
    failed = error or aid_error
    return page(request, "family/index.html", context, status_code=failed.status if failed else 200)


NOTICES = {
    key: key for key in ("added", "removed", "dissolved", "confirmed", "unconfirmed", "aid_bound", "aid_revoked")
}


@router.get("/family", response_class=HTMLResponse)
async def family_page(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    auth: PatientSessionDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    done: str = "",
) -> Response:
    notice = NOTICES.get(done, "")
    return await _family_page(request, session, account, auth, settings, adapters, notice=notice)


@router.post("/family", response_class=HTMLResponse)
async def add_member(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    auth: PatientSessionDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    document_type: Annotated[str, Form(max_length=24)] = "resident_id",
    document_number: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=64)] = "",
    relation: Annotated[str, Form(max_length=16)] = "",
    proof_kind: Annotated[str, Form(max_length=32)] = "",
    birth_certificate_number: Annotated[str, Form(max_length=16)] = "",
    relation_proof: Annotated[UploadFile | None, File()] = None,
    holder_id_photo: Annotated[UploadFile | None, File()] = None,
    patient_id_photo: Annotated[UploadFile | None, File()] = None,
    holder_with_id: Annotated[UploadFile | None, File()] = None,
) -> Response:
    values = {
        "document_type": document_type,
        "document_number": document_number,
        "name": name,
        "relation": relation,
        "proof_kind": proof_kind,
        "birth_certificate_number": birth_certificate_number,
    }
    try:
        claim = FamilyMemberCreate.model_validate({k: v or None for k, v in values.items()})
    except ValidationError as invalid:
        field = str(invalid.errors()[0]["loc"][0]) if invalid.errors() and invalid.errors()[0]["loc"] else "form"
        required = FieldRequired(field=field, label=Msg(field))
        return await _family_page(request, session, account, auth, settings, adapters, values=values, error=required)
    uploads = dict(zip(UPLOADS, (relation_proof, holder_id_photo, patient_id_photo, holder_with_id), strict=True))

    async def add() -> object:
        documents = {
            field: await read_image(upload, settings=settings, field=field)
            for field, upload in uploads.items()
            if upload is not None and upload.filename
        }
        return await service.add_member(
            session, account=account, claim=claim, documents=documents, adapters=adapters, settings=settings
        )

    done, error = await attempt(session, add)
    if done is None:
        return await _family_page(request, session, account, auth, settings, adapters, values=values, error=error)
    return RedirectResponse("/family?done=added", status_code=303)


@router.post("/family/members/{member_id}/remove")
async def remove_member(session: SessionDep, account: AccountDep, member_id: uuid.UUID) -> Response:
    await service.remove_member(session, account=account, member_id=member_id)
    return RedirectResponse("/family?done=removed", status_code=303)


@router.post("/family/proxies/{member_id}/dissolve")
async def dissolve_proxy(session: SessionDep, account: AccountDep, member_id: uuid.UUID) -> Response:
    await service.dissolve_proxy(session, account=account, member_id=member_id)
    return RedirectResponse("/family?done=dissolved", status_code=303)


@router.post("/family/confirmations/{order_id}")
async def confirm_payment(
    session: SessionDep, account: SteppedUpAccountDep, adapters: AdaptersDep, order_id: uuid.UUID
) -> Response:
    """The guardian's second confirmation of a relative's prescription-drug payment (R-FAM-04)."""
    order = await settlement.confirm_for_relative(
        session, account=account, order_id=order_id, actor=actor_for_account(account), adapters=adapters
    )
    return RedirectResponse(f"/family?done={'confirmed' if order.state == 'paid' else 'unconfirmed'}", status_code=303)


def _limit(text: str) -> int | None:
    """A limit typed in yuan as fen; empty: no limit."""
    if not text.strip():
        return None
    try:
        fen = fen_from_yuan(text.strip())
    except (ValueError, ArithmeticError) as error:
        raise LimitInvalid() from error
    if not 0 <= fen <= 100_000_000:
        raise LimitInvalid()
    return fen


async def _aid_action(
    request: Request, session: AsyncSession, account: Account, auth: AuthSession, settings: Settings,
    adapters: Adapters, work: Any, done: str,
) -> Response:  # fmt: skip
    result, error = await attempt(session, work)
    if result is None:
        return await _family_page(request, session, account, auth, settings, adapters, aid_error=error)
    return RedirectResponse(f"/family?done={done}#mutual-aid", status_code=303)


@router.post("/family/mutual-aid", response_class=HTMLResponse)
async def bind_mutual_aid(
    request: Request,
    session: SessionDep,
    account: SteppedUpAccountDep,
    auth: PatientSessionDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    member_id: Annotated[uuid.UUID, Form()],
    per_payment_yuan: Annotated[str, Form(max_length=12)] = "",
    per_year_yuan: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Family mutual aid (R-FAM-08): let a current family member pay from my personal account."""

    async def bind() -> object:
        return await mutual_aid.bind(
            session, account=account, member_id=member_id, per_payment_limit_fen=_limit(per_payment_yuan),
            per_year_limit_fen=_limit(per_year_yuan), actor=actor_for_account(account),
        )  # fmt: skip

    return await _aid_action(request, session, account, auth, settings, adapters, bind, "aid_bound")


@router.post("/family/mutual-aid/{grant_id}/limits", response_class=HTMLResponse)
async def mutual_aid_limits(
    request: Request,
    session: SessionDep,
    account: SteppedUpAccountDep,
    auth: PatientSessionDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    grant_id: uuid.UUID,
    per_payment_yuan: Annotated[str, Form(max_length=12)] = "",
    per_year_yuan: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    async def change() -> object:
        return await mutual_aid.set_limits(
            session, account=account, grant_id=grant_id, per_payment_limit_fen=_limit(per_payment_yuan),
            per_year_limit_fen=_limit(per_year_yuan), actor=actor_for_account(account),
        )  # fmt: skip

    return await _aid_action(request, session, account, auth, settings, adapters, change, "aid_bound")


@router.post("/family/mutual-aid/{grant_id}/revoke")
async def revoke_mutual_aid(session: SessionDep, account: AccountDep, grant_id: uuid.UUID) -> Response:
    await mutual_aid.revoke(session, account=account, grant_id=grant_id, actor=actor_for_account(account))
    return RedirectResponse("/family?done=aid_revoked#mutual-aid", status_code=303)


@router.post("/family/switch")
async def switch_patient(
    session: SessionDep,
    account: AccountDep,
    auth: PatientSessionDep,
    person_id: Annotated[str, Form(max_length=40)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=200)] = "/me",
) -> Response:
    """Switch patient (切换就诊人) and go back to the page it was chosen on."""
    chosen = uuid.UUID(person_id) if person_id and person_id != "self" else None
    await service.switch_patient(session, account=account, auth=auth, person_id=chosen)
    return RedirectResponse(safe_return_path(next_path) or "/me", status_code=303)


# --- staff review ---------------------------------------------------------------------------------


@router.get("/console/family/reviews", response_class=HTMLResponse)
async def review_page(request: Request, session: SessionDep, staff: ReviewerDep) -> Response:
    values = {
        "staff": staff,
        "pending": await service.pending_reviews(session),
        "relation_labels": dict(RELATIONS),
        "labels": DOCUMENT_LABELS,
    }
    return page(request, "console/family_reviews.html", values)


@router.get("/console/family/reviews/{member_id}/proofs/{document}")
async def review_proof(
    session: SessionDep, staff: ReviewerDep, member_id: uuid.UUID, document: ProofDocument
) -> Response:
    content_type, data = await service.proof_image(session, staff=staff, member_id=member_id, document=document)
    return Response(data, media_type=content_type, headers={"Cache-Control": "no-store"})


@router.post("/console/family/reviews/{member_id}")
async def review_decide(
    session: SessionDep,
    staff: ReviewerDep,
    member_id: uuid.UUID,
    decision: Annotated[str, Form(max_length=8)],
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    await service.review(session, staff=staff, member_id=member_id, approve=decision == "approve", note=note)
    return RedirectResponse("/console/family/reviews", status_code=303)


# --- monthly family bill (R-FAM-07) ---------------------------------------------------------------

MonthPath = Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
CHARTS = ("member", "category", "source")
CHART_TITLES = {"member": N_("By member"), "category": N_("By category"), "source": N_("By source")}
CHART_TITLES = {
    "member": N_("By member"),
    "category": N_("By category"),
    "source": N_("By source"),
}


def _month(text: str | None) -> date:
    return date.fromisoformat(f"{text}-01") if text else clock.today_in_china().replace(day=1)


def _labelled(bill: FamilyBill, chart: str, lang: str) -> dict[str, int]:
    """The chart's values with their labels in the page language."""
    if chart == "member":
        return dict(bill.by_member)
    if chart == "category":
        return {translate(lang, CATEGORIES.get(k, Msg(k))): v for k, v in bill.by_category.items()}
    return {translate(lang, SOURCES[k][1]): v for k, v in bill.by_source.items()}


@router.get("/family/bill", response_class=HTMLResponse)
async def bill_page(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    month: Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")] = None,
) -> Response:
    """亲情账单: the month's spending of the family with server-side charts and an analysis."""
    chosen = _month(month)
    bill = await service.family_bill(session, account=account, month=chosen)
    lang = language(request)
    values = {
        "bill": bill,
        "month": f"{chosen:%Y-%m}",
        "tables": {chart: _labelled(bill, chart, lang) for chart in CHARTS},
        "charts": CHARTS if bill.total_fen else (),
    }
    return page(request, "family/bill.html", values)


@router.get("/family/bill/{month}.pdf")
async def bill_pdf_download(session: SessionDep, account: AccountDep, month: MonthPath) -> Response:
    """The month's family bill as PDF, with its charts (reportlab graphics) and tables."""
    bill = await service.family_bill(session, account=account, month=_month(month))
    holder = await session.get(Person, account.person_id) if account.person_id else None
    content = bill_pdf.family_bill_pdf(bill, month=month, holder=mask_name(holder.name) if holder else "")
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="family-bill-{month}.pdf"'})  # fmt: skip


@router.get("/family/bill/{month}/{chart}.svg")
async def bill_chart(
    request: Request, session: SessionDep, account: AccountDep, month: MonthPath, chart: str
) -> Response:
    """One chart of the family bill, drawn by pygal (SVG, no script)."""
    if chart not in CHARTS:
        raise NotFound()
    bill = await service.family_bill(session, account=account, month=_month(month))
    lang = language(request)
    title = translate(lang, CHART_TITLES[chart])
    values = _labelled(bill, chart, lang)
    svg = charts.pie(title, values) if chart == "source" else charts.bars(title, values)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})
