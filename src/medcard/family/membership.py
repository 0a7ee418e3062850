"""Recording a family relation once its proof is checked: the place among the account's patients
(R-FAM-01), the proofs stored encrypted (R-FAM-02), review or not, the relation's end.

Used by :mod:`medcard.family.service` and by the identity slice's children route (R-ID-07), so
every route to someone else's card goes through the same limit and the same records."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.audit.service import Actor, record
from medcard.family import rules
from medcard.family.errors import FamilyLimitReached, FamilyProofMissing
from medcard.family.repository import FamilyRepository
from medcard.i18n import N_, Msg
from medcard.kit.clock import clock
from medcard.kit.crypto import sm3_hex
from medcard.kit.masking import mask_document
from medcard.kit.uploads import sniff_image
from medcard.models import Account, FamilyMember, FamilyProof, Person

DOCUMENT_LABELS: dict[str, Msg] = {
    "relation_proof": N_("photo of the relation proof"),
    "holder_id_photo": N_("your ID photo"),
    "patient_id_photo": N_("the patient's ID photo"),
    "holder_with_id": N_("photo of you holding your ID"),
}


@dataclass(frozen=True)
class Enrolment:
    """What a checked relation records."""

    relation: str
    proof_kind: str
    birth_certificate_number: str | None
    provider_reference: str | None
    authority_confirmed: bool


async def ensure_room(session: AsyncSession, *, account: Account, today: date) -> None:
    """Refuse a new family member beyond :data:`rules.MAX_PATIENTS` (R-FAM-01). Locks the account
    row first, so two concurrent additions count one after the other."""
    repository = FamilyRepository(session)
    await repository.lock_account(account)
    if not rules.has_room(await repository.open_count(account, today)):
        raise FamilyLimitReached(max_patients=rules.MAX_PATIENTS)


def ensure_documents(relation: str, documents: Mapping[str, bytes]) -> None:
    """Refuse a binding whose uploads are incomplete (R-FAM-02)."""
    missing = rules.missing_documents(relation, {name for name, data in documents.items() if data})
    if missing:
        raise FamilyProofMissing(
            field=missing[0],
            documents=tuple(DOCUMENT_LABELS[m] for m in missing),
        )


async def enrol(
    session: AsyncSession,
    *,
    account: Account,
    patient: Person,
    enrolment: Enrolment,
    documents: Mapping[str, bytes],
    review_all: bool,
    actor: Actor,
) -> FamilyMember:
    """Record (or renew, after it ended) the relation ``account`` → ``patient`` with its proofs."""
    today = clock.today_in_china()
    repository = FamilyRepository(session)
    member = await repository.pair(account, patient)
    review = rules.needs_review(
        enrolment.relation, authority_confirmed=enrolment.authority_confirmed, review_all=review_all
    )
    if member is None:
        member = FamilyMember(account_id=account.id, patient_person_id=patient.id, patient=patient)
        session.add(member)
    member.relation = enrolment.relation
    member.proof_kind = enrolment.proof_kind
    member.birth_certificate_number = enrolment.birth_certificate_number
    member.provider_reference = enrolment.provider_reference
    member.status = "pending_review" if review else "active"
    member.ends_on = rules.relation_ends_on(enrolment.relation, patient.birth_date, today)
    member.reviewed_by_staff_id = member.reviewed_at = member.review_note = None
    member.ended_at = member.ended_by = None
    await session.flush()
    for name, data in documents.items():
        if data:
            await _store_proof(session, member, name, data)
    await record(
        session,
        actor=actor,
        action="family.member_add",
        subject=member,
        details={
            "relation": member.relation,
            "proof_kind": member.proof_kind,
            "status": member.status,
            "patient": mask_document(patient.document_number),
            "documents": sorted(name for name, data in documents.items() if data),
        },
    )
    return member


async def _store_proof(session: AsyncSession, member: FamilyMember, document: str, data: bytes) -> None:
    proof = await FamilyRepository(session).proof(member, document)
    if proof is None:
        proof = FamilyProof(member_id=member.id, document=document)
        session.add(proof)
    proof.content_type = sniff_image(data) or "application/octet-stream"
    proof.digest = sm3_hex(data)
    proof.data = base64.b64encode(data).decode()
    proof.purged_at = None


PERSONAL_PHOTOS = ("holder_id_photo", "patient_id_photo", "holder_with_id")
"""ID photos and the guardian's face with his ID: kept only until a reviewer has looked (R-ID-04's
spirit: no face kept longer than its purpose); the relation proof stays while the relation does."""


async def purge_proofs(session: AsyncSession, member: FamilyMember, *, only: tuple[str, ...] | None = None) -> None:
    """Erase stored images (all, or the ``only`` documents) of a relation; the digests stay."""
    for proof in await FamilyRepository(session).proofs(member):
        if proof.data is not None and (only is None or proof.document in only):
            proof.data = None
            proof.purged_at = clock.now()
