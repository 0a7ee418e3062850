"""Family routes: my family members (add with proof, remove), who acts for me (end it, R-FAM-06),
the session's current patient (switch patient), and the staff review of proofs."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response

from medcard.auth.service import actor_for_account
from medcard.deps import (
    AccountDep,
    AdaptersDep,
    PatientSessionDep,
    SessionDep,
    SettingsDep,
    SteppedUpAccountDep,
    require_role,
)
from medcard.family import mutual_aid, service
from medcard.family.schemas import (
    FamilyMemberCreate,
    FamilyMemberRead,
    FamilyProofKind,
    FamilyRelation,
    MutualAidBind,
    MutualAidLimits,
    MutualAidOverview,
    MutualAidRead,
    PatientChoice,
    ProofDocument,
    ProxyRead,
    ReviewDecision,
    SwitchPatient,
)
from medcard.identity.schemas import DocumentType, PersonRead
from medcard.identity.service import read_image
from medcard.kit.masking import mask_name
from medcard.models import StaffUser
from medcard.settlement import service as settlement
from medcard.settlement.schemas import OrderRead

router = APIRouter(prefix="/family", tags=["family"])
staff_router = APIRouter(prefix="/family", tags=["family"])
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ReviewerDep = Annotated[StaffUser, Depends(require_role("reviewer"))]


@router.post(
    "/members",
    status_code=201,
    response_model=FamilyMemberRead,
    summary="Add a family member I act for",
    description=(
        "Multipart form: the relative's document and name, `relation` (what he is to me), `proof_kind` and the "
        "`relation_proof` photo; a `guardian` also uploads `holder_id_photo`, `patient_id_photo` and "
        "`holder_with_id` (R-FAM-02). A child under 14 needs `birth_certificate_number` (R-FAM-03). At most 5 "
        "patients per account, the holder included (R-FAM-01): the 5th family member is 409 FAMILY_LIMIT_REACHED."
    ),
    responses={400: PROBLEM, 403: PROBLEM, 409: PROBLEM, 413: PROBLEM, 415: PROBLEM},
)
async def add_member(
    session: SessionDep,
    account: AccountDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
    document_number: Annotated[str, Form(min_length=1, max_length=40)],
    name: Annotated[str, Form(min_length=1, max_length=64)],
    relation: Annotated[FamilyRelation, Form()],
    proof_kind: Annotated[FamilyProofKind, Form()],
    relation_proof: Annotated[UploadFile, File(description="Register or certificate photo")],
    holder_id_photo: Annotated[UploadFile | None, File()] = None,
    patient_id_photo: Annotated[UploadFile | None, File()] = None,
    holder_with_id: Annotated[UploadFile | None, File()] = None,
    document_type: Annotated[DocumentType, Form()] = "resident_id",
    birth_certificate_number: Annotated[str | None, Form(max_length=16)] = None,
) -> FamilyMemberRead:
    claim = FamilyMemberCreate(
        document_type=document_type,
        document_number=document_number,
        name=name,
        relation=relation,
        proof_kind=proof_kind,
        birth_certificate_number=birth_certificate_number or None,
    )
    uploads = {
        "relation_proof": relation_proof,
        "holder_id_photo": holder_id_photo,
        "patient_id_photo": patient_id_photo,
        "holder_with_id": holder_with_id,
    }
    documents = {
        field: await read_image(upload, settings=settings, field=field)
        for field, upload in uploads.items()
        if upload is not None and upload.filename
    }
    member = await service.add_member(
        session, account=account, claim=claim, documents=documents, adapters=adapters, settings=settings
    )
    return await service.member_read(session, member)


@router.get("/members", response_model=list[FamilyMemberRead], summary="My family members and their status")
async def list_members(session: SessionDep, account: AccountDep) -> list[FamilyMemberRead]:
    return await service.members(session, account=account)


@router.delete(
    "/members/{member_id}",
    response_model=FamilyMemberRead,
    summary="Stop acting for a family member",
    responses={404: PROBLEM, 409: PROBLEM},
)
async def remove_member(session: SessionDep, account: AccountDep, member_id: uuid.UUID) -> FamilyMemberRead:
    member = await service.remove_member(session, account=account, member_id=member_id)
    return await service.member_read(session, member)


@router.get("/proxies", response_model=list[ProxyRead], summary="The accounts that act for me")
async def list_proxies(session: SessionDep, account: AccountDep) -> list[ProxyRead]:
    return await service.proxies(session, account=account)


@router.post(
    "/proxies/{member_id}/dissolve",
    response_model=ProxyRead,
    summary="End a proxy relationship over me (aged 16 or over, R-FAM-06)",
    responses={403: PROBLEM, 404: PROBLEM, 409: PROBLEM},
)
async def dissolve_proxy(session: SessionDep, account: AccountDep, member_id: uuid.UUID) -> ProxyRead:
    return await service.dissolve_proxy(session, account=account, member_id=member_id)


@router.get("/patients", response_model=list[PatientChoice], summary="Patients this session can switch to")
async def patients(session: SessionDep, account: AccountDep, auth: PatientSessionDep) -> list[PatientChoice]:
    return await service.patient_choices(session, account=account, auth=auth)


@router.put("/current", response_model=PersonRead, summary="Switch patient (切换就诊人)", responses={404: PROBLEM})
async def switch(session: SessionDep, account: AccountDep, auth: PatientSessionDep, body: SwitchPatient) -> PersonRead:
    person = await service.switch_patient(session, account=account, auth=auth, person_id=body.person_id)
    return PersonRead.of(person)


@staff_router.get("/reviews", response_model=list[FamilyMemberRead], summary="Family bindings waiting for review")
async def pending_reviews(session: SessionDep, staff: ReviewerDep) -> list[FamilyMemberRead]:
    return await service.pending_reviews(session)


@staff_router.get(
    "/reviews/{member_id}/proofs/{document}", summary="A stored proof image (audited)", responses={404: PROBLEM}
)
async def proof_image(
    session: SessionDep, staff: ReviewerDep, member_id: uuid.UUID, document: ProofDocument
) -> Response:
    content_type, data = await service.proof_image(session, staff=staff, member_id=member_id, document=document)
    return Response(data, media_type=content_type, headers={"Cache-Control": "no-store"})


@staff_router.post(
    "/reviews/{member_id}",
    response_model=FamilyMemberRead,
    summary="Accept or reject a binding's proof",
    responses={404: PROBLEM, 409: PROBLEM},
)
async def decide(
    session: SessionDep, staff: ReviewerDep, member_id: uuid.UUID, body: ReviewDecision
) -> FamilyMemberRead:
    member = await service.review(session, staff=staff, member_id=member_id, approve=body.approve, note=body.note)
    return await service.member_read(session, member)


@router.get(
    "/confirmations",
    response_model=list[OrderRead],
    summary="Payments for relatives waiting for my second confirmation (R-FAM-04)",
)
async def confirmations(session: SessionDep, account: AccountDep) -> list[OrderRead]:
    return [OrderRead.of(order) for order in await settlement.awaiting_confirmation(session, account=account)]


@router.post(
    "/confirmations/{order_id}",
    response_model=OrderRead,
    summary="Confirm a prescription-drug payment for a relative (R-FAM-04)",
    description="The order's outside steps run now; after its 15 minutes the order is expired and nothing is paid.",
    responses={404: PROBLEM, 409: PROBLEM},
)
async def confirm(
    session: SessionDep, account: SteppedUpAccountDep, adapters: AdaptersDep, order_id: uuid.UUID
) -> OrderRead:
    order = await settlement.confirm_for_relative(
        session, account=account, order_id=order_id, actor=actor_for_account(account), adapters=adapters
    )
    return OrderRead.of(settlement.settled(order))


# --- family mutual aid (家庭共济, R-FAM-08) --------------------------------------------------------


def _aid_read(view: mutual_aid.GrantView) -> MutualAidRead:
    return MutualAidRead(
        id=view.id, status=view.status, member_id=view.member_id, beneficiary_name=mask_name(view.beneficiary_name),
        principal_name=mask_name(view.principal_name) if view.principal_name is not None else None,
        per_payment_limit_fen=view.per_payment_limit_fen, per_year_limit_fen=view.per_year_limit_fen,
        used_this_year_fen=view.used_this_year_fen, personal_account_fen=view.personal_account_fen,
    )  # fmt: skip


async def _aid_of(session: SessionDep, account: AccountDep, grant_id: uuid.UUID) -> MutualAidRead:
    views = await mutual_aid.granted(session, account=account)
    return _aid_read(next(view for view in views if view.id == grant_id))


@router.get("/mutual-aid", response_model=MutualAidOverview, summary="Family mutual aid: given and received")
async def mutual_aid_overview(session: SessionDep, account: AccountDep) -> MutualAidOverview:
    granted = await mutual_aid.granted(session, account=account)
    received = await mutual_aid.received(session, account=account)
    return MutualAidOverview(granted=[_aid_read(v) for v in granted], received=[_aid_read(v) for v in received])


@router.post(
    "/mutual-aid",
    status_code=201,
    response_model=MutualAidRead,
    summary="Let a family member pay from my personal account (家庭共济, R-FAM-08)",
    description=(
        "Only where the insured region's policy allows it (e.g. Guangdong), for an employee scheme with a "
        "personal account (310), for a current family member; at most 5 members (409 MUTUAL_AID_LIMIT_REACHED). "
        "Binding a member again updates his limits."
    ),
    responses={404: PROBLEM, 409: PROBLEM},
)
async def bind_mutual_aid(session: SessionDep, account: SteppedUpAccountDep, body: MutualAidBind) -> MutualAidRead:
    grant = await mutual_aid.bind(
        session, account=account, member_id=body.member_id, per_payment_limit_fen=body.per_payment_limit_fen,
        per_year_limit_fen=body.per_year_limit_fen, actor=actor_for_account(account),
    )  # fmt: skip
    return await _aid_of(session, account, grant.id)


@router.put(
    "/mutual-aid/{grant_id}",
    response_model=MutualAidRead,
    summary="Change a member's mutual-aid limits",
    responses={404: PROBLEM, 409: PROBLEM},
)
async def mutual_aid_limits(
    session: SessionDep, account: SteppedUpAccountDep, grant_id: uuid.UUID, body: MutualAidLimits
) -> MutualAidRead:
    await mutual_aid.set_limits(
        session, account=account, grant_id=grant_id, per_payment_limit_fen=body.per_payment_limit_fen,
        per_year_limit_fen=body.per_year_limit_fen, actor=actor_for_account(account),
    )  # fmt: skip
    return await _aid_of(session, account, grant_id)


@router.delete(
    "/mutual-aid/{grant_id}",
    response_model=MutualAidRead,
    summary="Revoke a member's mutual aid",
    responses={404: PROBLEM},
)
async def revoke_mutual_aid(session: SessionDep, account: AccountDep, grant_id: uuid.UUID) -> MutualAidRead:
    await mutual_aid.revoke(session, account=account, grant_id=grant_id, actor=actor_for_account(account))
    return await _aid_of(session, account, grant_id)
