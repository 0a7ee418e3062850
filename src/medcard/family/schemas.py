"""Family API shapes: a relative claimed in, family members, proxies and patients out (masked)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from medcard.family import rules
from medcard.identity.schemas import ClaimedIdentity, PersonRead
from medcard.kit.masking import mask_name
from medcard.models import Account, FamilyMember, FamilyProof, Person

FamilyRelation = Literal["child", "parent", "spouse", "guardian"]
FamilyProofKind = Literal["household_register", "birth_certificate", "marriage_certificate", "guardianship_certificate"]
ProofDocument = Literal["relation_proof", "holder_id_photo", "patient_id_photo", "holder_with_id"]


class FamilyMemberCreate(ClaimedIdentity):
    """A relative the holder wants to act for (R-FAM-01…03)."""

    relation: FamilyRelation = Field(
        description="What the patient is to you: child 子女 · parent 父母 · spouse 配偶 · guardian 被监护人"
    )
    proof_kind: FamilyProofKind = Field(
        description="household_register 户口本 · birth_certificate 出生医学证明 · marriage_certificate 结婚证 · "
        "guardianship_certificate 监护证明"
    )
    birth_certificate_number: str | None = Field(
        default=None, max_length=16, description="出生医学证明编号; required for a child under 14 (R-FAM-03)"
    )


class FamilyMemberRead(BaseModel):
    """One family member of the account and the state of the relation."""

    id: uuid.UUID
    patient: PersonRead
    age: int
    relation: FamilyRelation
    proof_kind: str
    status: str
    ends_on: date | None
    documents: list[str]
    created_at: datetime
    reviewed_at: datetime | None
    ended_at: datetime | None
    ended_by: str | None

    @classmethod
    def of(cls, member: FamilyMember, proofs: list[FamilyProof], *, today: date) -> FamilyMemberRead:
        return cls(
            id=member.id,
            patient=PersonRead.of(member.patient),
            age=rules.age_on(member.patient.birth_date, today),
            relation=member.relation,
            proof_kind=member.proof_kind,
            status=rules.shown_status(member.status, member.ends_on, today),
            ends_on=member.ends_on,
            documents=[proof.document for proof in proofs],
            created_at=member.created_at,
            reviewed_at=member.reviewed_at,
            ended_at=member.ended_at,
            ended_by=member.ended_by,
        )


class ProxyRead(BaseModel):
    """An account that acts for me (seen by the patient, R-FAM-06)."""

    id: uuid.UUID
    proxy_name_masked: str
    relation: FamilyRelation
    status: str
    since: datetime
    may_dissolve: bool

    @classmethod
    def of(cls, member: FamilyMember, proxy: Account, *, may_dissolve: bool) -> ProxyRead:
        name = proxy.person.name if proxy.person else proxy.nickname
        return cls(
            id=member.id,
            proxy_name_masked=mask_name(name) if name else "",
            relation=member.relation,
            status=member.status,
            since=member.created_at,
            may_dissolve=may_dissolve,
        )


class PatientChoice(BaseModel):
    """One of the patients the session can switch to (切换就诊人)."""

    id: uuid.UUID
    name_masked: str
    is_self: bool
    current: bool

    @classmethod
    def of(cls, person: Person, *, holder: Person | None, current: Person) -> PatientChoice:
        return cls(
            id=person.id,
            name_masked=mask_name(person.name),
            is_self=holder is not None and person.id == holder.id,
            current=person.id == current.id,
        )


class SwitchPatient(BaseModel):
    """The patient to act for from now on in this session; ``null`` = myself."""

    person_id: uuid.UUID | None = None


class ReviewDecision(BaseModel):
    """A reviewer's decision on a binding's proof."""

    approve: bool
    note: str = Field(default="", max_length=200)


class MutualAidBind(BaseModel):
    """Let a current family member pay from my personal account (R-FAM-08); limits in fen."""

    member_id: uuid.UUID
    per_payment_limit_fen: int | None = Field(default=None, ge=0, le=100_000_000)
    per_year_limit_fen: int | None = Field(default=None, ge=0, le=100_000_000)


class MutualAidLimits(BaseModel):
    per_payment_limit_fen: int | None = Field(default=None, ge=0, le=100_000_000)
    per_year_limit_fen: int | None = Field(default=None, ge=0, le=100_000_000)


class MutualAidRead(BaseModel):
    """One mutual-aid grant; fields the principal's sharing scope hides are null (R-SEC-07)."""

    id: uuid.UUID
    status: str
    member_id: uuid.UUID
    beneficiary_name: str
    principal_name: str | None
    per_payment_limit_fen: int | None
    per_year_limit_fen: int | None
    used_this_year_fen: int
    personal_account_fen: int | None


class MutualAidOverview(BaseModel):
    granted: list[MutualAidRead]
    """Relatives I let pay from my personal account."""
    received: list[MutualAidRead]
    """Insured relatives whose personal account may pay for me."""
