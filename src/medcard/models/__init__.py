"""Every ORM table, re-exported so ``Base.metadata`` knows them all."""

from medcard.models.account import STAFF_ROLES, Account, AuthSession, StaffUser
from medcard.models.audit import AuditEvent
from medcard.models.base import Base
from medcard.models.card import Card, CardDraft, PhysicalCard
from medcard.models.insurance import BindingAttempt, InsuranceBinding, OutOfRegionFiling, SpecialDiseaseApplication
from medcard.models.kiosk import KioskServiceRequest
from medcard.models.person import DOCUMENT_TYPES, Guardianship, Person
from medcard.models.policy import PolicyVersion
from medcard.models.region import Hospital, Region
from medcard.models.verification import VERIFICATION_METHODS, SmsCode, VerificationSession

__all__ = [
    "DOCUMENT_TYPES",
    "STAFF_ROLES",
    "VERIFICATION_METHODS",
    "Account",
    "AuditEvent",
    "AuthSession",
    "Base",
    "BindingAttempt",
    "Card",
    "CardDraft",
    "Guardianship",
    "Hospital",
    "InsuranceBinding",
    "KioskServiceRequest",
    "OutOfRegionFiling",
    "Person",
    "PhysicalCard",
    "PolicyVersion",
    "Region",
    "SmsCode",
    "SpecialDiseaseApplication",
    "StaffUser",
    "VerificationSession",
]
