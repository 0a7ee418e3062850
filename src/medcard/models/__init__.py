"""Every ORM table, re-exported so ``Base.metadata`` knows them all."""

from medcard.models.account import STAFF_ROLES, Account, AuthSession, LoginFailure, StaffUser
from medcard.models.audit import AuditEvent
from medcard.models.base import Base
from medcard.models.card import Card, CardDraft, PhysicalCard
from medcard.models.codes import PaymentCode
from medcard.models.family import (
    FAMILY_RELATIONS,
    FAMILY_STATUSES,
    PROOF_DOCUMENTS,
    FamilyMember,
    FamilyProof,
    MutualAidGrant,
)
from medcard.models.idempotency import IdempotencyKey
from medcard.models.insurance import (
    BindingAttempt,
    DiseaseMaterial,
    InsuranceBinding,
    OutOfRegionFiling,
    SpecialDiseaseApplication,
)
from medcard.models.job import JOB_STATES, Job
from medcard.models.kiosk import KioskServiceRequest
from medcard.models.ledger import JournalEntry, LedgerAccount, Posting
from medcard.models.person import DOCUMENT_TYPES, Guardianship, Person
from medcard.models.policy import PolicyVersion
from medcard.models.reconciliation import DIFFERENCE_KINDS, ReconciliationDifference, ReconciliationReport
from medcard.models.region import Hospital, Region
from medcard.models.security import (
    BILL_VISIBILITY,
    FAMILY_SCOPES,
    AuditCheckpoint,
    Device,
    SecurityProfile,
    WebAuthnCredential,
)
from medcard.models.settlement import ChannelPayment, PaymentOrder, PaymentRefund
from medcard.models.verification import VERIFICATION_METHODS, SmsCode, VerificationSession

__all__ = [
    "BILL_VISIBILITY",
    "DIFFERENCE_KINDS",
    "DOCUMENT_TYPES",
    "FAMILY_RELATIONS",
    "FAMILY_SCOPES",
    "FAMILY_STATUSES",
    "JOB_STATES",
    "PROOF_DOCUMENTS",
    "STAFF_ROLES",
    "VERIFICATION_METHODS",
    "Account",
    "AuditCheckpoint",
    "AuditEvent",
    "AuthSession",
    "Base",
    "BindingAttempt",
    "Card",
    "CardDraft",
    "ChannelPayment",
    "Device",
    "DiseaseMaterial",
    "FamilyMember",
    "FamilyProof",
    "Guardianship",
    "Hospital",
    "IdempotencyKey",
    "InsuranceBinding",
    "Job",
    "JournalEntry",
    "KioskServiceRequest",
    "LedgerAccount",
    "LoginFailure",
    "MutualAidGrant",
    "OutOfRegionFiling",
    "PaymentCode",
    "PaymentOrder",
    "PaymentRefund",
    "Person",
    "PhysicalCard",
    "PolicyVersion",
    "Posting",
    "ReconciliationDifference",
    "ReconciliationReport",
    "Region",
    "SecurityProfile",
    "SmsCode",
    "SpecialDiseaseApplication",
    "StaffUser",
    "VerificationSession",
    "WebAuthnCredential",
]
